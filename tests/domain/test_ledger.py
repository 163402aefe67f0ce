"""PAY-4: the payment ledger's state machine."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain.ledger import (
    FINAL_STATES,
    MONEY_TAKEN_STATES,
    TRANSITIONS,
    Flow,
    IllegalTransition,
    LedgerState as S,
    check_transition,
    due_for_reconciliation,
    event_type,
    is_final,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)


def test_pay4_every_unfinished_state_has_a_way_to_a_final_state():
    def reaches_final(state, seen=frozenset()):
        if state in FINAL_STATES:
            return True
        return any(reaches_final(nxt, seen | {state}) for nxt in TRANSITIONS.get(state, ()) if nxt not in seen)

    assert all(reaches_final(state) for state in S)


def test_pay4_final_states_never_change():
    for state in FINAL_STATES:
        for target in S:
            with pytest.raises(IllegalTransition):
                check_transition(state, target)


@pytest.mark.parametrize("current,target", [(S.CREATED, S.CHARGED), (S.CHARGED, S.APPLIED),
                                            (S.CHARGED, S.PENDING_APPLY), (S.PENDING_APPLY, S.REFUNDED),
                                            (S.CREATED, S.APPLIED), (S.PAID, S.APPLIED)])
def test_pay4_allowed_transitions(current, target):
    check_transition(current, target)  # does not raise

    assert target in TRANSITIONS[current]


@pytest.mark.parametrize("current,target", [(S.CREATED, S.VOIDED), (S.CHARGED, S.DECLINED),
                                            (S.PAID, S.VOIDED), (S.CHARGED, S.CREATED)])
def test_pay4_money_is_never_given_back_before_it_is_taken_nor_taken_back_once_applied(current, target):
    with pytest.raises(IllegalTransition):
        check_transition(current, target)


def test_pm5_declined_failed_and_returned_payments_do_not_hold_the_payment_window():
    assert MONEY_TAKEN_STATES.isdisjoint({S.DECLINED, S.FAILED, S.VOIDED, S.REFUNDED})


def test_not1_rst5_events_of_each_state():
    assert event_type(Flow.RESTART, S.APPLIED) == "RESTARTSUBSCRIPTION"
    assert event_type(Flow.ONE_TIME, S.APPLIED) == "PAYMENT"
    assert event_type(Flow.ONE_TIME, S.VOIDED) == "PAYMENTVOIDED"


def test_pay4_reconciliation_leaves_running_requests_alone():
    recent, old = NOW - timedelta(seconds=5), NOW - timedelta(minutes=10)
    grace = timedelta(minutes=5)

    assert not due_for_reconciliation(S.CHARGED, recent, NOW, grace)
    assert due_for_reconciliation(S.CHARGED, old, NOW, grace)
    assert due_for_reconciliation(S.PENDING_APPLY, recent, NOW, grace)
    assert not due_for_reconciliation(S.APPLIED, old, NOW, grace)


def test_pay4_an_attempt_exactly_stale_is_due_for_reconciliation():
    stale_after = timedelta(minutes=5)

    assert due_for_reconciliation(S.CHARGED, NOW - stale_after, NOW, stale_after) is True
    assert due_for_reconciliation(S.CHARGED, NOW - stale_after + timedelta(seconds=1), NOW, stale_after) is False


def test_pay4_an_illegal_transition_says_which():
    with pytest.raises(IllegalTransition) as caught:
        check_transition(S.APPLIED, S.REFUNDED)

    assert str(caught.value) == "a payment cannot go from APPLIED to REFUNDED"


@pytest.mark.parametrize("state", list(S))
def test_pay4_is_final_names_exactly_the_final_states(state):
    final = state in {S.APPLIED, S.DECLINED, S.FAILED, S.VOIDED, S.REFUNDED}

    assert is_final(state) is final
    assert is_final(state.value) is final  # as stored: the state's name
