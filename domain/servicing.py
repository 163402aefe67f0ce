"""Servicing rules: temporary stops (STP-1, STP-2). Pure functions, no I/O: the caller brings today (in the
tenant's time zone), the dates the circulation system offers (read live) and the subscription's other stops.

A stop suspends print delivery from its start date up to, not including, its restart date (delivery resumes
on the restart date); without a restart date it runs until one is set (STP-2). Two stops overlap when they
share one suspended day.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from datetime import date, datetime, time, timedelta
from typing import Iterable, Optional, Sequence
from zoneinfo import ZoneInfo

STOPPED_STATUSES = frozenset({"STOPPED", "PERMANENTLY_STOPPED"})


class ServicingRuleError(ValueError):
    """A refused temporary-stop request: `code` is the stable error code, `field` the input field at fault
    (relative to the mutation's input), `rule` the domain.md id."""

    def __init__(self, code: str, message: str, field: Sequence[str], rule: str) -> None:
        super().__init__(message)
        self.code = code
        self.field = list(field)
        self.rule = rule


@dataclass(frozen=True)
class StopPeriod:
    id: str
    start: date
    restart: Optional[date]


def tenant_today(now: datetime, time_zone: str) -> date:
    """The tenant's calendar day at instant `now` (STP-2: "today" is the tenant's, not UTC's)."""
    return now.astimezone(ZoneInfo(time_zone)).date()


def overlaps(start: date, restart: Optional[date], other: StopPeriod) -> bool:
    """True when [start, restart) and the other stop share a day (an open end runs on)."""
    return (restart is None or other.start < restart) and (other.restart is None or start < other.restart)


def check_print_subscription(digital: bool, status: str) -> None:
    """STP-1: only print delivery can be suspended, and only while it runs."""
    if digital:
        raise ServicingRuleError("DIGITAL_SUBSCRIPTION", "A digital subscription has no print delivery to stop",
                                 ["subscriptionId"], "STP-1")
    if status in STOPPED_STATUSES:
        raise ServicingRuleError("SUBSCRIPTION_STOPPED", "The subscription is stopped: there is no delivery to stop",
                                 ["subscriptionId"], "STP-1")


def check_new_stop(start: date, restart: Optional[date], today: date, offered: Sequence[date],
                   others: Iterable[StopPeriod]) -> None:
    """STP-1: restart after start; start not before today; both within the offered dates; no overlap."""
    check_stop_dates(start, restart, today)
    check_offered_and_free(start, restart, offered, others)


def check_stop_dates(start: date, restart: Optional[date], today: date) -> None:
    """The part of STP-1 that needs nothing from the circulation system: restart after start, start not past."""
    if restart is not None and restart <= start:
        raise ServicingRuleError("RESTART_NOT_AFTER_START", "The restart date must be after the start date",
                                 ["restartDate"], "STP-1")
    if start < today:
        raise ServicingRuleError("DATE_IN_PAST", f"The start date is before today ({today.isoformat()})",
                                 ["startDate"], "STP-1")


def check_offered_and_free(start: date, restart: Optional[date], offered: Sequence[date],
                           others: Iterable[StopPeriod]) -> None:
    """The part of STP-1 read live: both dates within the offered dates, no overlap with another stop."""
    if start not in set(offered):
        raise ServicingRuleError("DATE_NOT_OFFERED", _window("start date", offered), ["startDate"], "STP-1")
    if restart is not None and (not offered or restart > max(offered)):
        raise ServicingRuleError("DATE_NOT_OFFERED", _window("restart date", offered), ["restartDate"], "STP-1")
    _check_no_overlap(start, restart, others, None, ["startDate"])


def check_restart_change(stop: StopPeriod, restart: date, today: date, offered: Sequence[date],
                         others: Iterable[StopPeriod]) -> None:
    """STP-2: the new restart date is today or later (tenant time), after the start, within the offered dates,
    and does not make the stop overlap another."""
    if restart < today:
        raise ServicingRuleError("DATE_IN_PAST", f"The restart date is before today ({today.isoformat()})",
                                 ["restartDate"], "STP-2")
    if restart <= stop.start:
        raise ServicingRuleError("RESTART_NOT_AFTER_START", "The restart date must be after the start date",
                                 ["restartDate"], "STP-2")
    if not offered or restart > max(offered):
        raise ServicingRuleError("DATE_NOT_OFFERED", _window("restart date", offered), ["restartDate"], "STP-2")
    _check_no_overlap(stop.start, restart, others, stop.id, ["restartDate"])


def check_cancel(stop: StopPeriod, today: date) -> None:
    """(decision) Only a stop that has not started is cancelled; one in progress ends by bringing its restart
    date forward (STP-2)."""
    if stop.start <= today:
        raise ServicingRuleError("STOP_ALREADY_STARTED",
                                 "The stop has started: bring its restart date forward instead", ["stopId"], "STP-2")


def _check_no_overlap(start: date, restart: Optional[date], others: Iterable[StopPeriod], ignored: Optional[str],
                      field: list[str]) -> None:
    for other in others:
        if other.id != ignored and overlaps(start, restart, other):
            raise ServicingRuleError("OVERLAPPING_STOP", f"The dates overlap temporary stop {other.id}", field,
                                     "STP-1")


def _window(what: str, offered: Sequence[date]) -> str:
    if not offered:
        return f"The circulation system offers no {what} now"
    return f"The {what} must be one the circulation system offers: {min(offered)} to {max(offered)}"


# complaints (CMP-1..3) -----------------------------------------------------------------------------------
def day_pass_expiry(day: date, time_zone: str) -> datetime:
    """SUB-5 as BUY-9 reads it: access granted on day D ends at 00:00 of D+2 in the tenant's time zone (an aware
    instant). CMP-2: a complaint's e-edition access lasts the same."""
    return datetime.combine(day + timedelta(days=2), time(0), tzinfo=ZoneInfo(time_zone))


def check_complaint(delivery_date: date, today: date, *, redelivery: bool, digital: bool,
                    redelivered_dates: Iterable[date] = ()) -> None:
    """CMP-1: the delivery date is not in the future (tenant time). CMP-3: a redelivery is for print, for today's
    missed delivery, once per date."""
    if delivery_date > today:
        raise ServicingRuleError("DATE_IN_FUTURE", f"The delivery date is after today ({today.isoformat()})",
                                 ["deliveryDate"], "CMP-1")
    if not redelivery:
        return
    if digital:
        raise ServicingRuleError("DIGITAL_SUBSCRIPTION", "A digital subscription has nothing to redeliver",
                                 ["resolution"], "CMP-3")
    if delivery_date != today:
        raise ServicingRuleError("REDELIVERY_TODAY_ONLY", f"Only today's delivery ({today.isoformat()}) is redelivered",
                                 ["deliveryDate"], "CMP-3")
    if delivery_date in set(redelivered_dates):
        raise ServicingRuleError("REDELIVERY_ALREADY_REQUESTED", "A redelivery is already requested for this date",
                                 ["deliveryDate"], "CMP-3")


# StopSaver (STP-3, STP-4) --------------------------------------------------------------------------------
def stop_saver_steps(*, digital: bool, temporary_stop_loaded: bool) -> list[str]:
    """STP-3/STP-4: temp stop (print only, and only when its data loaded), downgrade, cancel (order: decision)."""
    steps = ["TEMPORARY_STOP"] if not digital and temporary_stop_loaded else []
    return steps + ["DOWNGRADE", "CANCEL"]


# the StopSaver state machine (STP-3, STP-4) ---------------------------------------------------------------
# A flow is the STOPSAVER event (its id is the flow's id and the parent event of everything done in it); each
# step the subscriber passes over is a STOPSAVERSTEP child event; a TEMPSTOP, DOWNGRADESUBSCRIPTION or
# CANCELSUBSCRIPTION child event ends it. The state is read back from those events: nothing else is stored.
FLOW_EVENT, STEP_EVENT = "STOPSAVER", "STOPSAVERSTEP"
OUTCOME_OF_EVENT = {"TEMPSTOP": "TEMPORARY_STOP", "DOWNGRADESUBSCRIPTION": "DOWNGRADED",
                    "CANCELSUBSCRIPTION": "CANCELLED"}
STEP_OF_OUTCOME = {"TEMPORARY_STOP": "TEMPORARY_STOP", "DOWNGRADED": "DOWNGRADE", "CANCELLED": "CANCEL"}


@dataclass(frozen=True)
class StopSaverState:
    steps: tuple[str, ...]
    passed: tuple[str, ...] = ()
    outcome: Optional[str] = None

    @property
    def current(self) -> Optional[str]:
        """The step shown now; None once the flow has ended (an outcome is recorded)."""
        if self.outcome is not None:
            return None
        return next((step for step in self.steps if step not in self.passed), None)

    @classmethod
    def from_events(cls, steps: Sequence[str], children: Iterable[tuple[str, dict]]) -> "StopSaverState":
        """The state from the flow's child events (type code, details), oldest first."""
        passed: list[str] = []
        outcome = None
        for type_code, details in children:
            if type_code == STEP_EVENT and details.get("step") not in passed:
                passed.append(details.get("step"))
            elif type_code in OUTCOME_OF_EVENT and outcome is None:
                outcome = OUTCOME_OF_EVENT[type_code]
        return cls(tuple(steps), tuple(passed), outcome)


def check_pass_step(state: StopSaverState, step: str) -> None:
    """STP-4 (decision): a step is passed over only when it is the one shown now; CANCEL is the last step and has
    nothing after it (the subscriber keeps the subscription by leaving the flow)."""
    check_step_is_current(state, step)
    if step == "CANCEL":
        raise ServicingRuleError("LAST_STEP", "CANCEL is the last step: cancel, or leave the flow to keep the "
                                 "subscription", ["step"], "STP-4")


def check_step_is_current(state: StopSaverState, step: str) -> None:
    """STP-4 (decision): the front end walks the steps in order, so an action belongs to the step shown now."""
    if state.outcome is not None:
        raise ServicingRuleError("STOP_SAVER_ENDED", f"The flow has ended ({state.outcome})", ["stopSaverId"],
                                 "STP-4")
    if state.current != step:
        raise ServicingRuleError("STEP_NOT_CURRENT", f"The step shown now is {state.current}, not {step}",
                                 ["stopSaverId"], "STP-4")


@dataclass(frozen=True)
class OfferRate:
    offer_id: int
    group_id: int
    rate: Optional[Decimal]  # the lowest commercial term's rate (OFR-6); None without one
    valid_from: date
    valid_to: Optional[date]


def downgrade_offer_ids(current: OfferRate, candidates: Iterable[OfferRate], today: date) -> list[int]:
    """STP-4: the offers of the current offer's group, valid today, whose rate is lower, cheapest first. The rate of
    an offer is its lowest commercial rate (OFR-6, decision); an offer without one is never a downgrade."""
    if current.rate is None:
        return []
    found = [c for c in candidates
             if c.offer_id != current.offer_id and c.group_id == current.group_id and c.rate is not None
             and c.rate < current.rate and c.valid_from <= today and (c.valid_to is None or today <= c.valid_to)]
    return [c.offer_id for c in sorted(found, key=lambda c: (c.rate, c.offer_id))]
