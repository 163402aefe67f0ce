"""What the three temporary-stop mutations share (STP-1, STP-2): their error codes and error type, the facts a
decision needs (today in tenant time, the subscription, its stops and the offered dates, read live and
concurrently), the circulation call with its idempotency key and one retry, and the event each change records
(NOT-1).

Every refusal is a user error of the mutation; the circulation system enforces the same rules and its own
refusals are mapped onto the same codes, so a race (another stop scheduled meanwhile) still answers typed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any, Awaitable, Callable, Optional

from auth.principals import PrincipalKind
from datasources.base import UpstreamError
from datasources.models import Event, utcnow
from datasources.repositories.administration import AdministrationRepository
from datasources.repositories.servicing import StopSaverRepository
from domain.ids import integer_id
from domain.offers import TermPrice, lowest_commercial_price
from domain.servicing import (
    OfferRate, ServicingRuleError, StopPeriod, StopSaverState, downgrade_offer_ids, stop_saver_steps, tenant_today,
)
from resolvers import circulation_writes
from resolvers.mutation_support import Refusal
from schema.servicing import TemporaryStop

# code → when it happens; every temporary-stop mutation's error enum takes its members from here
ERROR_CODES: dict[str, str] = {
    "NOT_FOUND": "The tenant has no subscription with this id.",
    "STOP_NOT_FOUND": "The subscription has no temporary stop with this id.",
    "DIGITAL_SUBSCRIPTION": "The subscription is digital: it has no print delivery to stop or redeliver (STP-1, CMP-3).",
    "SUBSCRIPTION_STOPPED": "The subscription is stopped: there is no delivery to stop (STP-1).",
    "DATE_IN_PAST": "A date is before today in the tenant's time zone (STP-1, STP-2).",
    "DATE_NOT_OFFERED": "A date is outside the stop dates the circulation system offers now (STP-1).",
    "RESTART_NOT_AFTER_START": "The restart date is not after the start date (STP-1, STP-2).",
    "OVERLAPPING_STOP": "The dates share a day with another temporary stop of the subscription (STP-1).",
    "STOP_ALREADY_STARTED": "The stop has started: it cannot be cancelled, bring its restart date forward instead.",
    "UNKNOWN_CATEGORY": "The category is not one of the tenant's complaint categories (CMP-1).",
    "DATE_IN_FUTURE": "The delivery date is after today in the tenant's time zone (CMP-1).",
    "REDELIVERY_TODAY_ONLY": "A redelivery is only for today's missed delivery (CMP-3).",
    "REDELIVERY_ALREADY_REQUESTED": "A redelivery is already requested for this delivery date (CMP-3).",
    "EEDITION_NOT_AVAILABLE": "The tenant has no EEDITION entitlement to grant (CMP-2).",
    "NO_REPORTER": "Staff filed without naming the reporter, and the subscription has no owner (CMP-1).",
    "STOP_SAVER_NOT_FOUND": "The subscription has no StopSaver flow with this id (STP-4).",
    "STOP_SAVER_ENDED": "The StopSaver flow has already ended with a temporary stop, a downgrade or a cancel (STP-4).",
    "STEP_NOT_CURRENT": "The step is not the one the StopSaver flow shows now: steps are walked in order (STP-4).",
    "LAST_STEP": "CANCEL is the last step: there is nothing after it to go on to (STP-4).",
    "UNKNOWN_STOP_REASON": "The reason is not a code of the tenant's stop-reason list (`stopReasons`, STP-4, STP-5).",
    "NOT_A_DOWNGRADE": "The offer is not a downgrade offer: same group, lower rate, valid today (STP-4).",
    "DOWNGRADE_ALREADY_SCHEDULED": "A downgrade is already waiting for the next renewal (STP-4).",
    "INVALID": "An input value is malformed (e.g. a reason longer than 64 characters).",
    "CIRCULATION_REFUSED": "The circulation system refused the change for a reason of its own (see the message).",
}
UPSTREAM_CODES = {code: code for code in ERROR_CODES} | {"TEMPORARY_STOP_NOT_FOUND": "STOP_NOT_FOUND",
                                                        "SUBSCRIPTION_NOT_FOUND": "NOT_FOUND",
                                                        "SAME_PRODUCT": "NOT_A_DOWNGRADE"}
SCHEDULE_EVENT, RESTART_EVENT, CANCEL_EVENT = "TEMPSTOP", "TEMPSTOPRESTART", "TEMPSTOPCANCEL"
MAX_REASON = 64


def error_codes(mutation: str, codes: list[str]) -> type[Enum]:
    """`<Mutation>ErrorCode`, each value described by when it happens."""
    return circulation_writes.error_codes(mutation, codes, ERROR_CODES)


error_type = circulation_writes.error_type


def refusal(error: ServicingRuleError, codes: type[Enum]) -> Refusal:
    return Refusal(codes[error.code], str(error), ["input", *error.field])


@dataclass
class StopFacts:
    today: date
    subscription: Any  # CustomerSubscription
    stops: list[StopPeriod]
    offered: list[date]


async def stop_facts(context: Any, subscription_id: str, codes: type[Enum], *, offered: bool) -> StopFacts:
    """Today in tenant time, the subscription, its stops and (when `offered`) the offered dates, read live."""
    today = tenant_today(context.services.clock(), context.tenant.time_zone)
    circulation, paper = context.services.circulation, context.tenant.code
    subscription = await context.loaders.subscription_by_id.load(subscription_id)
    if subscription is None:
        raise Refusal(codes["NOT_FOUND"], "No subscription has this id", ["input", "subscriptionId"])
    reads = [circulation.get_temporary_stops(paper, subscription_id)]
    if offered:
        reads.append(circulation.get_temporary_stop_dates(paper, subscription_id))
    answers = await asyncio.gather(*reads)
    stops = [StopPeriod(s.id, s.start_date, s.restart_date) for s in map(TemporaryStop.from_record, answers[0])]
    return StopFacts(today, subscription, stops, answers[1] if offered else [])


def find_stop(facts: StopFacts, stop_id: str, codes: type[Enum]) -> StopPeriod:
    stop = next((s for s in facts.stops if s.id == stop_id), None)
    if stop is None:
        raise Refusal(codes["STOP_NOT_FOUND"], "The subscription has no temporary stop with this id",
                      ["input", "stopId"])
    return stop


async def call_circulation(call: Callable[[str], Awaitable[dict[str, Any]]], key_prefix: str,
                           codes: type[Enum]) -> dict[str, Any]:
    """The write under an idempotency key (resolvers/circulation_writes.py): a retry never schedules twice; a stop
    the circulation system does not know is the stop id's fault."""
    return await circulation_writes.call_circulation(
        call, key_prefix, codes, UPSTREAM_CODES,
        lambda code: ["input", "stopId" if code == "STOP_NOT_FOUND" else "subscriptionId"])


async def acting_crid(context: Any, subscription_id: str) -> Optional[str]:
    """NOT-1's CRID: the customer who acts, or the subscription's owner when staff act (None without owner)."""
    if context.principal.kind is PrincipalKind.CUSTOMER:
        return context.principal.crid
    links = await context.loaders.links_by_subscription_id.load(subscription_id)
    return next((link.crid for link in links if link.role.value == "OWNER"), None)


async def record_stop_event(context: Any, type_code: str, subscription_id: str, result: dict[str, Any],
                            reason: Optional[str] = None, parent_id: Optional[int] = None, **details: Any) -> None:
    """NOT-1: one event per change, once per circulation transaction (a replayed answer is the same change)."""
    stop = result["temporaryStop"]
    await AdministrationRepository(context.services.db).record_upstream_change(Event(
        tenant_id=context.tenant.id, type_code=type_code, subscription_id=subscription_id,
        crid=await acting_crid(context, subscription_id), reason=reason, parent_id=parent_id,
        source=context.principal.kind.value.upper(),  # CUSTOMER or STAFF: who acted
        details={"circulationTransactionId": result.get("transactionId"), "temporaryStopId": stop["id"],
                 "startDate": stop["startDate"], "restartDate": stop.get("restartDate"), **details},
        created_at=utcnow()))
    context.loaders.temporary_stops_by_subscription_id.clear(subscription_id)


# StopSaver (STP-4) ----------------------------------------------------------------------------------------
@dataclass
class Flow:
    event: Event
    state: StopSaverState


async def load_flow(context: Any, subscription_id: str, flow_id: Any, codes: type[Enum]) -> Flow:
    """The subscription's StopSaver flow named by `flow_id`, with its state read back from its events."""
    number = integer_id(flow_id)
    found = None if number is None else await StopSaverRepository(context.services.db).flow(
        context.tenant.id, number, subscription_id)
    if found is None:
        raise Refusal(codes["STOP_SAVER_NOT_FOUND"], "The subscription has no StopSaver flow with this id",
                      ["input", "stopSaverId"])
    root, children = found
    return Flow(root, StopSaverState.from_events((root.details or {}).get("steps", []),
                                                 [(e.type_code, e.details or {}) for e in children]))


async def check_stop_reason(context: Any, reason: str, codes: type[Enum]) -> None:
    """STP-4/STP-5: a code of the tenant's stop-reason list, read live from its circulation system."""
    reasons = await context.services.circulation.get_stop_reasons(context.tenant.code)
    if reason not in {r["code"] for r in reasons}:
        raise Refusal(codes["UNKNOWN_STOP_REASON"], "The reason is not one of the tenant's stop reasons",
                      ["input", "reason"])


def subscriber_email(subscription: Any) -> Optional[str]:
    """STP-4: the subscriber's e-mail as the circulation system holds it (MSG-4 falls back to the owner's)."""
    record = getattr(subscription, "subscriber_record", None) or {}
    return record.get("email") or None


@dataclass
class DowngradeOffer:
    offer: Any  # the Offer row
    term: Any  # its lowest-rate commercial OfferTerm: the one the downgrade renews on


async def downgrade_offers(context: Any, subscription: Any) -> list[DowngradeOffer]:
    """STP-4: the offers of the subscription's offer group at a lower rate, valid today (tenant time), cheapest
    first; empty when the subscription's offer is unknown. Two SQL statements, whatever the group's size."""
    if subscription.offer_id is None:
        return []
    current = await context.loaders.offer_by_id.load(subscription.offer_id)
    if current is None:
        return []
    group = await StopSaverRepository(context.services.db).group_offers(context.tenant.id, current.group_id)
    from schema.offers import OfferTerm as OfferTermType

    rates, cheapest = {}, {}
    for offer, terms in group:
        # the offers' terms are read already: `lowestCommercialPrice` and `terms` of the offers shown cost nothing more
        context.loaders.terms_by_offer_id.prime(offer.id, [OfferTermType.from_row(t, context.tenant.currency)
                                                           for t in terms])
        rate = lowest_commercial_price(TermPrice(t.rate, t.commercial) for t in terms)
        rates[offer.id] = OfferRate(offer.id, offer.group_id, rate, offer.valid_from, offer.valid_to)
        cheapest[offer.id] = next((t for t in terms if t.commercial and t.rate == rate), None)
    if current.offer_id not in rates:
        return []
    today = tenant_today(context.services.clock(), context.tenant.time_zone)
    by_id = {offer.id: offer for offer, _ in group}
    return [DowngradeOffer(by_id[i], cheapest[i])
            for i in downgrade_offer_ids(rates[current.offer_id], rates.values(), today)]


async def stop_saver_plan(context: Any, subscription: Any) -> tuple[list[str], Optional[list[date]]]:
    """STP-3: the steps and the temp-stop step's offered dates. A digital subscriber never gets the step (nor its
    read); a print subscriber whose dates fail to load goes on to the next step."""
    dates = None
    if not subscription.digital:
        try:
            dates = await context.loaders.temporary_stop_dates_by_subscription_id.load(str(subscription.id))
        except UpstreamError:
            dates = None
    steps = stop_saver_steps(digital=subscription.digital, temporary_stop_loaded=dates is not None)
    return steps, dates if "TEMPORARY_STOP" in steps else None
