"""STP-1, STP-2: the temporary-stop rules at their boundaries (pure functions)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.servicing import (
    ServicingRuleError, StopPeriod, check_cancel, check_new_stop, check_print_subscription, check_restart_change,
    tenant_today,
)

TODAY = date(2026, 6, 1)
OFFERED = [TODAY + timedelta(days=n) for n in range(1, 91)]
EXISTING = StopPeriod("A", date(2026, 6, 10), date(2026, 6, 15))  # suspended 10..14, delivered again on 15


def code(call, *args) -> str | None:
    try:
        call(*args)
    except ServicingRuleError as error:
        return error.code
    return None


def test_stp_1_overlap_by_one_day_is_refused_back_to_back_is_not():
    assert code(check_new_stop, date(2026, 6, 14), date(2026, 6, 20), TODAY, OFFERED, [EXISTING]) == "OVERLAPPING_STOP"
    assert code(check_new_stop, date(2026, 6, 5), date(2026, 6, 11), TODAY, OFFERED, [EXISTING]) == "OVERLAPPING_STOP"
    assert code(check_new_stop, date(2026, 6, 15), date(2026, 6, 20), TODAY, OFFERED, [EXISTING]) is None
    assert code(check_new_stop, date(2026, 6, 5), date(2026, 6, 10), TODAY, OFFERED, [EXISTING]) is None


def test_stp_1_an_open_ended_stop_overlaps_what_follows():
    open_ended = StopPeriod("B", date(2026, 6, 20), None)
    assert code(check_new_stop, date(2026, 8, 1), None, TODAY, OFFERED, [open_ended]) == "OVERLAPPING_STOP"
    assert code(check_new_stop, date(2026, 6, 18), None, TODAY, OFFERED, [open_ended]) == "OVERLAPPING_STOP"
    assert code(check_new_stop, date(2026, 6, 18), date(2026, 6, 20), TODAY, OFFERED, [open_ended]) is None


def test_stp_1_restart_must_be_after_start():
    assert code(check_new_stop, date(2026, 6, 5), date(2026, 6, 5), TODAY, OFFERED, []) == "RESTART_NOT_AFTER_START"
    assert code(check_new_stop, date(2026, 6, 5), date(2026, 6, 6), TODAY, OFFERED, []) is None


def test_stp_1_start_before_today_then_outside_offered_dates():
    assert code(check_new_stop, TODAY - timedelta(days=1), None, TODAY, OFFERED, []) == "DATE_IN_PAST"
    assert code(check_new_stop, TODAY, None, TODAY, OFFERED, []) == "DATE_NOT_OFFERED"
    assert code(check_new_stop, OFFERED[-1], None, TODAY, OFFERED, []) is None
    assert code(check_new_stop, OFFERED[-1] + timedelta(days=1), None, TODAY, OFFERED, []) == "DATE_NOT_OFFERED"
    assert code(check_new_stop, OFFERED[0], OFFERED[-1] + timedelta(days=1), TODAY, OFFERED, []) == "DATE_NOT_OFFERED"


def test_stp_1_print_only():
    assert code(check_print_subscription, True, "ACTIVE") == "DIGITAL_SUBSCRIPTION"
    assert code(check_print_subscription, False, "STOPPED") == "SUBSCRIPTION_STOPPED"
    assert code(check_print_subscription, False, "IN_GRACE") is None


def test_stp_2_restart_today_is_accepted_yesterday_is_not():
    started = StopPeriod("A", TODAY - timedelta(days=3), None)
    assert code(check_restart_change, started, TODAY, TODAY, OFFERED, [started]) is None
    assert code(check_restart_change, started, TODAY - timedelta(days=1), TODAY, OFFERED, []) == "DATE_IN_PAST"


def test_stp_2_restart_must_stay_after_start_and_not_overlap():
    stop = StopPeriod("A", date(2026, 6, 10), date(2026, 6, 15))
    later = StopPeriod("B", date(2026, 6, 20), None)
    assert code(check_restart_change, stop, date(2026, 6, 10), TODAY, OFFERED, []) == "RESTART_NOT_AFTER_START"
    assert code(check_restart_change, stop, date(2026, 6, 21), TODAY, OFFERED, [stop, later]) == "OVERLAPPING_STOP"
    assert code(check_restart_change, stop, date(2026, 6, 20), TODAY, OFFERED, [stop, later]) is None


def test_cancel_only_before_the_stop_starts():
    assert code(check_cancel, StopPeriod("A", TODAY, None), TODAY) == "STOP_ALREADY_STARTED"
    assert code(check_cancel, StopPeriod("A", TODAY + timedelta(days=1), None), TODAY) is None


@pytest.mark.parametrize(("utc", "expected"), [
    (datetime(2026, 6, 2, 3, 59, tzinfo=UTC), date(2026, 6, 1)),  # 23:59 EDT
    (datetime(2026, 6, 2, 4, 0, tzinfo=UTC), date(2026, 6, 2)),  # 00:00 EDT
])
def test_stp_2_today_is_the_tenant_day_at_midnight(utc, expected):
    assert tenant_today(utc, "America/New_York") == expected


def test_cmp_2_eedition_access_lasts_like_a_day_pass():
    from domain.servicing import day_pass_expiry

    ends = day_pass_expiry(date(2026, 6, 1), "America/New_York")
    assert ends.astimezone(UTC) == datetime(2026, 6, 3, 4, 0, tzinfo=UTC)  # 00:00 EDT on 3 June


def test_cmp_1_delivery_date_today_accepted_tomorrow_refused():
    from domain.servicing import check_complaint

    def complaint(delivery):
        return code(lambda: check_complaint(delivery, TODAY, redelivery=False, digital=True))

    assert complaint(TODAY) is None
    assert complaint(TODAY + timedelta(days=1)) == "DATE_IN_FUTURE"


def test_cmp_3_redelivery_print_today_once():
    from domain.servicing import check_complaint

    def redelivery(delivery, digital=False, done=()):
        return code(lambda: check_complaint(delivery, TODAY, redelivery=True, digital=digital, redelivered_dates=done))

    assert redelivery(TODAY) is None
    assert redelivery(TODAY, digital=True) == "DIGITAL_SUBSCRIPTION"
    assert redelivery(TODAY - timedelta(days=1)) == "REDELIVERY_TODAY_ONLY"
    assert redelivery(TODAY, done=[TODAY]) == "REDELIVERY_ALREADY_REQUESTED"


def test_stp_3_stop_saver_steps():
    from domain.servicing import stop_saver_steps

    assert stop_saver_steps(digital=False, temporary_stop_loaded=True) == ["TEMPORARY_STOP", "DOWNGRADE", "CANCEL"]
    assert stop_saver_steps(digital=True, temporary_stop_loaded=True) == ["DOWNGRADE", "CANCEL"]
    assert stop_saver_steps(digital=False, temporary_stop_loaded=False) == ["DOWNGRADE", "CANCEL"]


# the StopSaver state machine and downgrade offers (STP-4) ---------------------------------------------------
def test_stp_4_state_walks_the_steps_in_order_and_an_outcome_ends_it():
    from domain.servicing import StopSaverState

    steps = ["TEMPORARY_STOP", "DOWNGRADE", "CANCEL"]
    assert StopSaverState.from_events(steps, []).current == "TEMPORARY_STOP"
    passed = StopSaverState.from_events(steps, [("STOPSAVERSTEP", {"step": "TEMPORARY_STOP"})])
    assert (passed.current, passed.passed) == ("DOWNGRADE", ("TEMPORARY_STOP",))
    ended = StopSaverState.from_events(steps, [("STOPSAVERSTEP", {"step": "TEMPORARY_STOP"}),
                                               ("DOWNGRADESUBSCRIPTION", {})])
    assert (ended.current, ended.outcome) == (None, "DOWNGRADED")
    assert StopSaverState.from_events(steps, [("TEMPSTOP", {})]).outcome == "TEMPORARY_STOP"


def test_stp_4_only_the_current_step_acts_cancel_is_last_and_an_ended_flow_refuses():
    from domain.servicing import ServicingRuleError, StopSaverState, check_pass_step, check_step_is_current

    def code(call, *args) -> str:
        with pytest.raises(ServicingRuleError) as refused:
            call(*args)
        return refused.value.code

    state = StopSaverState(("DOWNGRADE", "CANCEL"))
    check_step_is_current(state, "DOWNGRADE")
    assert code(check_step_is_current, state, "CANCEL") == "STEP_NOT_CURRENT"
    assert code(check_pass_step, StopSaverState(("DOWNGRADE", "CANCEL"), ("DOWNGRADE",)), "CANCEL") == "LAST_STEP"
    assert code(check_step_is_current, StopSaverState(("CANCEL",), (), "CANCELLED"), "CANCEL") == "STOP_SAVER_ENDED"


def test_stp_4_downgrade_offers_lower_rate_same_group_valid_today():
    from decimal import Decimal

    from domain.servicing import OfferRate, downgrade_offer_ids

    today = date(2026, 6, 1)
    current = OfferRate(1, 10, Decimal("10.00"), date(2026, 1, 1), None)
    candidates = [
        current,
        OfferRate(2, 10, Decimal("9.99"), date(2026, 1, 1), None),  # a cent lower: a downgrade
        OfferRate(3, 10, Decimal("10.00"), date(2026, 1, 1), None),  # the same rate: not lower
        OfferRate(4, 10, Decimal("5.00"), date(2026, 6, 1), date(2026, 6, 1)),  # valid today only: yes
        OfferRate(5, 10, Decimal("4.00"), date(2026, 1, 1), date(2026, 5, 31)),  # ended yesterday
        OfferRate(6, 10, Decimal("4.00"), date(2026, 6, 2), None),  # starts tomorrow
        OfferRate(7, 11, Decimal("1.00"), date(2026, 1, 1), None),  # another group
        OfferRate(8, 10, None, date(2026, 1, 1), None),  # no commercial term
    ]
    assert downgrade_offer_ids(current, candidates, today) == [4, 2]
    assert downgrade_offer_ids(OfferRate(1, 10, None, date(2026, 1, 1), None), candidates, today) == []


def test_stp_4_state_counts_a_step_once_keeps_the_first_outcome_and_ignores_other_events():
    from domain.servicing import FLOW_EVENT, OUTCOME_OF_EVENT, STEP_EVENT, STEP_OF_OUTCOME, StopSaverState

    assert (FLOW_EVENT, STEP_EVENT) == ("STOPSAVER", "STOPSAVERSTEP")
    assert OUTCOME_OF_EVENT == {"TEMPSTOP": "TEMPORARY_STOP", "DOWNGRADESUBSCRIPTION": "DOWNGRADED",
                                "CANCELSUBSCRIPTION": "CANCELLED"}
    assert STEP_OF_OUTCOME == {"TEMPORARY_STOP": "TEMPORARY_STOP", "DOWNGRADED": "DOWNGRADE", "CANCELLED": "CANCEL"}
    steps = ["TEMPORARY_STOP", "DOWNGRADE", "CANCEL"]
    state = StopSaverState.from_events(steps, [("STOPSAVERSTEP", {"step": "TEMPORARY_STOP"}), ("NOTE", {}),
                                               ("STOPSAVERSTEP", {"step": "TEMPORARY_STOP"}),
                                               ("STOPSAVERSTEP", {"step": "DOWNGRADE"})])
    assert (state.passed, state.current, state.outcome) == (("TEMPORARY_STOP", "DOWNGRADE"), "CANCEL", None)
    ended = StopSaverState.from_events(steps, [("CANCELSUBSCRIPTION", {}), ("TEMPSTOP", {}), ("NOTE", {})])
    assert ended.outcome == "CANCELLED"


def test_stp_4_refusals_say_why_on_which_field_citing_stp_4():
    from domain.servicing import ServicingRuleError, StopSaverState, check_pass_step, check_step_is_current

    def refusal(call, *args):
        with pytest.raises(ServicingRuleError) as refused:
            call(*args)
        error = refused.value
        return error.code, str(error), error.field, error.rule

    assert refusal(check_pass_step, StopSaverState(("DOWNGRADE", "CANCEL"), ("DOWNGRADE",)), "CANCEL") == (
        "LAST_STEP", "CANCEL is the last step: cancel, or leave the flow to keep the subscription", ["step"], "STP-4")
    for call in (check_pass_step, check_step_is_current):
        assert refusal(call, StopSaverState(("CANCEL",), (), "CANCELLED"), "CANCEL") == (
            "STOP_SAVER_ENDED", "The flow has ended (CANCELLED)", ["stopSaverId"], "STP-4")
        assert refusal(call, StopSaverState(("DOWNGRADE", "CANCEL")), "CANCEL") == (
            "STEP_NOT_CURRENT", "The step shown now is DOWNGRADE, not CANCEL", ["stopSaverId"], "STP-4")
    check_pass_step(StopSaverState(("DOWNGRADE", "CANCEL")), "DOWNGRADE")
