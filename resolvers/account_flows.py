"""What the account-servicing mutations (signUpEBill, signOutEBill, cancelAutoPay) share: reading the subscription
live with its facts, the circulation write under an idempotency key with one retry when the answer is lost, the
mapping of the circulation system's refusals onto the mutation's codes, and the event each change records (EBL-2,
EZ-5, NOT-1).

A rule refusal (domain/account.py) or a circulation refusal ends the mutation with one user error and records
nothing; a change the circulation system made is recorded once per circulation transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Awaitable, Callable, Optional

from datasources.models import Event, utcnow
from datasources.repositories.administration import AdministrationRepository
from domain.account import AccountRuleError
from domain.availability import SubscriptionFacts
from resolvers import circulation_writes
from resolvers.mutation_support import Refusal
from resolvers.servicing_flows import acting_crid

# code → when it happens; each account mutation's error enum takes its members from here
ERROR_CODES: dict[str, str] = {
    "NOT_FOUND": "The tenant has no subscription with this id.",
    "STOPPED": "The subscription is stopped: eBill is not available (EZ-3).",
    "ON_AUTO_PAY": "The subscription is on auto-pay: eBill is not available (EZ-3, EBL-3).",
    "ALREADY_ON_EBILL": "The subscription is on eBill already; nothing was recorded (EBL-1).",
    "NOT_ON_EBILL": "The subscription is not on eBill; nothing was recorded (EBL-1).",
    "NO_BILLING_EMAIL": "The subscription has no owner or subscriber e-mail to send bills to (EBL-2).",
    "NOT_ON_AUTO_PAY": "The subscription is not on auto-pay; nothing was recorded (EZ-5).",
    "CIRCULATION_REFUSED": "The circulation system refused the change for a reason of its own (see the message).",
}
# the circulation system's refusal codes → ours
UPSTREAM_CODES = {"ALREADY_ON_EBILL": "ALREADY_ON_EBILL", "NOT_ON_EBILL": "NOT_ON_EBILL",
                  "NOT_ON_AUTO_PAY": "NOT_ON_AUTO_PAY", "SUBSCRIPTION_NOT_FOUND": "NOT_FOUND"}
SUBSCRIPTION_FIELD = ["input", "subscriptionId"]


def error_codes(mutation: str, codes: list[str]) -> type[Enum]:
    return circulation_writes.error_codes(mutation, codes, ERROR_CODES)


@dataclass
class Subject:
    """The subscription a mutation acts on: its circulation record, read live, and the facts the rules read."""

    subscription_id: str
    record: dict[str, Any]
    facts: SubscriptionFacts


async def read_subject(context: Any, subscription_id: str, codes: type[Enum]) -> Subject:
    record = await context.services.circulation.get_subscription(context.tenant.code, subscription_id)
    if record is None:
        raise Refusal(codes["NOT_FOUND"], "No subscription has this id", SUBSCRIPTION_FIELD)
    facts = SubscriptionFacts(status=record["status"], kind=record["kind"], digital=bool(record["digital"]),
                              auto_pay=bool(record["autoPay"]), ebill=bool(record["ebill"]),
                              restart_scheduled=bool(record.get("restartScheduled")))
    return Subject(subscription_id, record, facts)


def rule_refusal(error: AccountRuleError, codes: type[Enum]) -> Refusal:
    return Refusal(codes[error.code], str(error), error.field)


async def call_circulation(call: Callable[[str], Awaitable[dict[str, Any]]], key_prefix: str,
                           codes: type[Enum]) -> dict[str, Any]:
    """The write under an idempotency key (resolvers/circulation_writes.py): the circulation system either makes
    the change now or answers the one it made, never a second."""
    return await circulation_writes.call_circulation(call, key_prefix, codes, UPSTREAM_CODES)


async def record_change(context: Any, type_code: str, subject: Subject, result: dict[str, Any],
                        **details: Any) -> Event:
    """NOT-1: one event per change, once per circulation transaction; who acted in `source`."""
    event = await AdministrationRepository(context.services.db).record_upstream_change(Event(
        tenant_id=context.tenant.id, type_code=type_code, subscription_id=subject.subscription_id,
        crid=await acting_crid(context, subject.subscription_id), source=context.principal.kind.value.upper(),
        details={"circulationTransactionId": result.get("transactionId"), **details}, created_at=utcnow()))
    context.loaders.subscription_by_id.clear(subject.subscription_id)
    context.loaders.current_plan_by_subscription_id.clear(subject.subscription_id)
    return event


async def owner_email(context: Any, subscription_id: str) -> Optional[str]:
    """EBL-2: the e-mail of the subscription's owner registration, when it has one."""
    links = await context.loaders.links_by_subscription_id.load(subscription_id)
    crid = next((link.crid for link in links if link.role.value == "OWNER"), None)
    if crid is None:
        return None
    registration = await context.loaders.registration_by_crid.load(crid)
    return getattr(registration, "email", None) if registration is not None else None
