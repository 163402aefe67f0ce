"""What the three temporary-stop mutations share (STP-1, STP-2): their error codes and error type, the facts a
decision needs (today in tenant time, the subscription, its stops and the offered dates, read live and
concurrently), the circulation call with its idempotency key and one retry, and the event each change records
(NOT-1).

Every refusal is a user error of the mutation; the circulation system enforces the same rules and its own
refusals are mapped onto the same codes, so a race (another stop scheduled meanwhile) still answers typed.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any, Awaitable, Callable, Optional

import strawberry

from auth.principals import PrincipalKind
from datasources.base import UpstreamNotFound, UpstreamRejected, UpstreamTimeout, UpstreamUnavailable
from datasources.models import Event, utcnow
from datasources.repositories.administration import AdministrationRepository
from domain.servicing import ServicingRuleError, StopPeriod, tenant_today
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
    "INVALID": "An input value is malformed (e.g. a reason longer than 64 characters).",
    "CIRCULATION_REFUSED": "The circulation system refused the change for a reason of its own (see the message).",
}
UPSTREAM_CODES = {code: code for code in ERROR_CODES} | {"TEMPORARY_STOP_NOT_FOUND": "STOP_NOT_FOUND",
                                                        "SUBSCRIPTION_NOT_FOUND": "NOT_FOUND"}
SCHEDULE_EVENT, RESTART_EVENT, CANCEL_EVENT = "TEMPSTOP", "TEMPSTOPRESTART", "TEMPSTOPCANCEL"
MAX_REASON = 64


def error_codes(mutation: str, codes: list[str]) -> type[Enum]:
    """`<Mutation>ErrorCode`, each value described by when it happens."""
    members = {code: strawberry.enum_value(code, description=ERROR_CODES[code]) for code in codes}
    return strawberry.enum(Enum(f"{mutation}ErrorCode", members),
                           description=f"Why `{mutation[0].lower()}{mutation[1:]}` refused its input.")


def error_type(mutation: str, codes: type[Enum]) -> type:
    """`<Mutation>Error { code field message }`, every field described."""
    namespace = {
        "__annotations__": {"code": codes, "field": Optional[list[str]], "message": str},
        "__module__": __name__,
        "code": strawberry.field(description="What kind of refusal this is."),
        "field": strawberry.field(description="The path of the input field at fault, when one is."),
        "message": strawberry.field(description="A human-readable explanation."),
    }
    return strawberry.type(type(f"{mutation}Error", (), namespace),
                           description=f"A reason `{mutation[0].lower()}{mutation[1:]}` refused its input.")


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
    """The write, under an idempotency key: asked once more with the same key when the answer is lost, so a
    retry never schedules twice. Upstream refusals become user errors with the matching code."""
    key = f"{key_prefix}:{uuid.uuid4().hex}"
    try:
        try:
            return await call(key)
        except (UpstreamTimeout, UpstreamUnavailable):
            return await call(key)
    except (UpstreamRejected, UpstreamNotFound) as error:
        body = error.body if isinstance(error.body, dict) else {}
        code = UPSTREAM_CODES.get(str(body.get("code")), "CIRCULATION_REFUSED")
        if code not in codes.__members__:
            code = "CIRCULATION_REFUSED"
        raise Refusal(codes[code], str(body.get("message") or "The circulation system refused it"),
                      ["input", "stopId" if code == "STOP_NOT_FOUND" else "subscriptionId"]) from error


async def acting_crid(context: Any, subscription_id: str) -> Optional[str]:
    """NOT-1's CRID: the customer who acts, or the subscription's owner when staff act (None without owner)."""
    if context.principal.kind is PrincipalKind.CUSTOMER:
        return context.principal.crid
    links = await context.loaders.links_by_subscription_id.load(subscription_id)
    return next((link.crid for link in links if link.role.value == "OWNER"), None)


async def record_stop_event(context: Any, type_code: str, subscription_id: str, result: dict[str, Any],
                            reason: Optional[str] = None, **details: Any) -> None:
    """NOT-1: one event per change, once per circulation transaction (a replayed answer is the same change)."""
    stop = result["temporaryStop"]
    await AdministrationRepository(context.services.db).record_upstream_change(Event(
        tenant_id=context.tenant.id, type_code=type_code, subscription_id=subscription_id,
        crid=await acting_crid(context, subscription_id), reason=reason,
        source=context.principal.kind.value.upper(),  # CUSTOMER or STAFF: who acted
        details={"circulationTransactionId": result.get("transactionId"), "temporaryStopId": stop["id"],
                 "startDate": stop["startDate"], "restartDate": stop.get("restartDate"), **details},
        created_at=utcnow()))
    context.loaders.temporary_stops_by_subscription_id.clear(subscription_id)
