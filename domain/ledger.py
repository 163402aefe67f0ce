"""The payment ledger's state machine (PAY-4, NOT-1): pure, no I/O.

Every money-moving or auto-pay mutation records one attempt, a `payment` row, before it calls any
upstream, and moves it through these states; each move is written together with its event in one
database transaction (NOT-1), and only from the state the writer last saw (a compare-and-set), so a
request and a reconciliation run can never both act on one step.

    CREATED ──sale──────────▶ CHARGED ──apply──▶ APPLIED                       (final: money applied)
       │  │                      │  └──apply 1 of 2──▶ PAID ──apply 2 of 2──▶ APPLIED
       │  │                      ├──refused, give back──▶ VOIDED | REFUNDED      (final: money returned)
       │  │                      └──not applied, give-back failed or unknown──▶ PENDING_APPLY
       │  ├──declined──▶ DECLINED                                                (final: nothing charged)
       │  └──refused, unreachable, interrupted──▶ FAILED                         (final: nothing charged)
       └──nothing to charge (total 0: RST-4, recurring tip, auto-pay change)──apply──▶ APPLIED | FAILED
    PENDING_APPLY ──apply──▶ APPLIED | PAID, or ──give back──▶ VOIDED | REFUNDED

- CREATED: the attempt and its amounts are recorded; the gateway has not been asked, or its answer was
  lost (reconciliation asks the gateway for the sale by papergraph's reference and never sells again).
- CHARGED: the gateway captured the total; the circulation system has not applied it yet.
- PAID: the first of two circulation steps is applied (EZ-1: the debt is paid, auto-pay is next).
- PENDING_APPLY: money was taken but is neither applied nor given back yet; reconciliation retries the
  application with the same idempotency key (the circulation system replays a success), and gives the
  money back when the circulation system refuses it for good.
- APPLIED, DECLINED, FAILED, VOIDED, REFUNDED: final.

No state holds money without a way forward: from CREATED, CHARGED, PAID and PENDING_APPLY reconciliation
reaches a final state, so money is never taken without being applied or given back.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum


class LedgerState(str, Enum):
    CREATED = "CREATED"
    CHARGED = "CHARGED"
    PAID = "PAID"
    PENDING_APPLY = "PENDING_APPLY"
    APPLIED = "APPLIED"
    DECLINED = "DECLINED"
    FAILED = "FAILED"
    VOIDED = "VOIDED"
    REFUNDED = "REFUNDED"


S = LedgerState
FINAL_STATES = frozenset({S.APPLIED, S.DECLINED, S.FAILED, S.VOIDED, S.REFUNDED})
UNFINISHED_STATES = frozenset(set(S) - FINAL_STATES)
# States in which the customer's money is, or may be, taken: they occupy the PM-5 payment window.
MONEY_TAKEN_STATES = frozenset({S.CREATED, S.CHARGED, S.PAID, S.PENDING_APPLY, S.APPLIED})

TRANSITIONS: dict[LedgerState, frozenset[LedgerState]] = {
    S.CREATED: frozenset({S.CHARGED, S.DECLINED, S.FAILED, S.PAID, S.APPLIED}),
    S.CHARGED: frozenset({S.PAID, S.APPLIED, S.PENDING_APPLY, S.VOIDED, S.REFUNDED}),
    S.PENDING_APPLY: frozenset({S.PAID, S.APPLIED, S.VOIDED, S.REFUNDED}),
    S.PAID: frozenset({S.APPLIED}),
}

# The event each state change records (NOT-1). Reaching APPLIED records the flow's own event instead
# (`applied_event_type`), and PAID the debt payment's.
STATE_EVENTS: dict[LedgerState, str] = {
    S.CREATED: "PAYMENTCREATED",
    S.CHARGED: "PAYMENTCHARGED",
    S.PAID: "PAYMENT",
    S.PENDING_APPLY: "PAYMENTPENDING",
    S.DECLINED: "PAYMENTDECLINED",
    S.FAILED: "PAYMENTFAILED",
    S.VOIDED: "PAYMENTVOIDED",
    S.REFUNDED: "PAYMENTREFUNDED",
}


class Flow(str, Enum):
    """The `payment.flow` column."""

    ONE_TIME = "ONE_TIME"
    RESTART = "RESTART"
    AUTOPAY_SIGNUP = "AUTOPAY_SIGNUP"
    AUTOPAY_UPDATE = "AUTOPAY_UPDATE"
    TIP = "TIP"
    PURCHASE = "PURCHASE"


# PAY-4, RST-5, EZ-1, TIP: the event that records a successful operation of each flow.
APPLIED_EVENTS: dict[Flow, str] = {
    Flow.ONE_TIME: "PAYMENT",
    Flow.RESTART: "RESTARTSUBSCRIPTION",
    Flow.AUTOPAY_SIGNUP: "EZPAYSIGNUP",
    Flow.AUTOPAY_UPDATE: "EZPAYUPDATE",
    Flow.TIP: "ADDTIP",
    Flow.PURCHASE: "STARTSTD",
}
AUTO_PAY_SETUP_FAILED_EVENT = "EZPAYSIGNUPFAILED"


class IllegalTransition(ValueError):
    pass


def check_transition(current: LedgerState | str, target: LedgerState | str) -> None:
    """Raise unless the state machine above allows `current` → `target`."""
    current, target = LedgerState(current), LedgerState(target)
    if target not in TRANSITIONS.get(current, frozenset()):
        raise IllegalTransition(f"a payment cannot go from {current.value} to {target.value}")


def event_type(flow: Flow | str, target: LedgerState | str) -> str:
    target = LedgerState(target)
    if target is S.APPLIED:
        return APPLIED_EVENTS[Flow(flow)]
    return STATE_EVENTS[target]


def is_final(state: LedgerState | str) -> bool:
    return LedgerState(state) in FINAL_STATES


def due_for_reconciliation(state: LedgerState | str, updated_at: datetime, now: datetime,
                           stale_after: timedelta) -> bool:
    """Reconciliation finishes what a request left: PENDING_APPLY at once (the request gave up on it), the
    other unfinished states once they are older than `stale_after`, so a request still running is left
    alone."""
    state = LedgerState(state)
    if state in FINAL_STATES:
        return False
    return state is S.PENDING_APPLY or now - updated_at >= stale_after
