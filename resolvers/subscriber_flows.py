"""What `updateSubscriberDetails` and `moveSubscriber` share (ADR-1..5): their error codes and error types, who
may change subscriber data, the circulation call, and the event each change records (NOT-1).

ADR-1: the guard lets every principal that may *read* the subscription in (staff with READ_ONLY or more, linked
customers), so that a guest and a read-only staff member get a typed user error saying why — `NOT_OWNER` and
`FULL_CONTROL_REQUIRED` — instead of a bare FORBIDDEN. Strangers and partners are still refused by the guard.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Awaitable, Callable

from auth.permissions import SUBSCRIPTIONS, staff_change
from auth.principals import PrincipalKind
from datasources.models import Event, utcnow
from datasources.repositories.administration import AdministrationRepository
from domain.subscriber import SubscriberRuleError
from resolvers import circulation_writes
from resolvers.mutation_support import Refusal

ERROR_CODES: dict[str, str] = {
    "NOT_FOUND": "The tenant has no subscription with this id.",
    "NOT_OWNER": "Only an owner changes subscriber data; a guest reads it only (ADR-1).",
    "FULL_CONTROL_REQUIRED": "Staff change subscriber data with FULL_CONTROL of SUBSCRIPTIONS only (ADR-1, MGR-1).",
    "NOTHING_TO_CHANGE": "The input names nothing to change.",
    "INVALID": "An input value is malformed: blank, too long, or holding a forbidden character.",
    "INVALID_PHONE": "A phone breaks ADR-5: 7 to 15 digits, an optional leading +, separators space - . ( ).",
    "DATE_IN_PAST": "The move's effective date is before today in the tenant's time zone (ADR-3).",
    "INVALID_POSTAL_CODE": "The postal code does not match the tenant's PostalCodeMask (ADR-3).",
    "NOT_DELIVERABLE": "The subscription's offer does not deliver to the new postal code (OFR-2).",
    "LEVEL_NOT_ENABLED": "A level designator and number need MelissaDataIntegration GlobalOnPremise or GlobalCheckAPI "
                         "(ADR-4, SET-4).",
    "MOVE_BILLING_REQUIRED": "An NCS comp-subscription move needs a billing method and a rate code when "
                             "Flow.AddressMove is RealTime (ADR-4).",
    "MOVE_BILLING_NOT_ENABLED": "Flow.AddressMove is not RealTime: an NCS comp-subscription move goes without a billing "
                                "method and rate code (ADR-4, SET-4).",
    "MOVE_BILLING_NOT_SUPPORTED": "A billing method and rate code belong to NCS comp-subscription moves only (ADR-4).",
    "MOVE_ALREADY_SCHEDULED": "A later move is already scheduled for this subscription: it moves first.",
    "SUBSCRIPTION_STOPPED": "The subscription is stopped: there is no delivery to move.",
    "CIRCULATION_REFUSED": "The circulation system refused the change for a reason of its own (see the message).",
}
UPSTREAM_CODES = {code: code for code in ERROR_CODES} | {"SUBSCRIPTION_NOT_FOUND": "NOT_FOUND"}
DETAILS_EVENT, MOVE_EVENT = "CHGSUBSCRIBER", "ADDRESSMOVE"


def error_codes(mutation: str, codes: list[str]) -> type[Enum]:
    return circulation_writes.error_codes(mutation, codes, ERROR_CODES)


error_type = circulation_writes.error_type


def refusal(error: SubscriberRuleError, codes: type[Enum]) -> Refusal:
    return Refusal(codes[error.code], str(error), ["input", *error.field])


async def may_change(context: Any, subscription_id: str, codes: type[Enum]) -> Any:
    """ADR-1: the subscription (NOT_FOUND when the tenant has none) when the principal may change its subscriber
    data; a guest is NOT_OWNER, staff below FULL_CONTROL of SUBSCRIPTIONS FULL_CONTROL_REQUIRED."""
    principal = context.principal
    if principal.kind is PrincipalKind.CUSTOMER:
        role = (await context.customer_link_roles()).get(subscription_id)
        if role != "OWNER":  # the guard let only linked customers in: this is a guest
            raise Refusal(codes["NOT_OWNER"], "A guest reads the subscriber's details but cannot change them",
                          ["input", "subscriptionId"])
    elif not staff_change(SUBSCRIPTIONS).allows(context, None, {}):
        raise Refusal(codes["FULL_CONTROL_REQUIRED"], "Changing subscriber data needs FULL_CONTROL of SUBSCRIPTIONS",
                      ["input", "subscriptionId"])
    subscription = await context.loaders.subscription_by_id.load(subscription_id)
    if subscription is None:
        raise Refusal(codes["NOT_FOUND"], "No subscription has this id", ["input", "subscriptionId"])
    return subscription


async def call_circulation(call: Callable[[str], Awaitable[dict[str, Any]]], key_prefix: str,
                           codes: type[Enum]) -> dict[str, Any]:
    """The write under an idempotency key (resolvers/circulation_writes.py)."""
    return await circulation_writes.call_circulation(call, key_prefix, codes, UPSTREAM_CODES)


async def record_event(context: Any, type_code: str, subscription_id: str, details: dict[str, Any]) -> None:
    """NOT-1: one event per change; `details` names what changed, never the values (personal data)."""
    crid = context.principal.crid if context.principal.kind is PrincipalKind.CUSTOMER else next(
        (link.crid for link in await context.loaders.links_by_subscription_id.load(subscription_id)
         if link.role.value == "OWNER"), None)
    await AdministrationRepository(context.services.db).record_upstream_change(Event(
        tenant_id=context.tenant.id, type_code=type_code, subscription_id=subscription_id, crid=crid,
        source=context.principal.kind.value.upper(), details=details, created_at=utcnow()))
    context.loaders.subscription_by_id.clear(subscription_id)
