"""`cancelSubscription` (SUB-4: an in-grace subscription may be cancelled whatever its end date)."""

from __future__ import annotations

from enum import Enum
from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import SUBSCRIPTIONS, allow, arg, changes, customer_owner

from datasources.base import UpstreamRejected
from datasources.models import Event, utcnow
from datasources.repositories.users import UserRepository
from resolvers.mutation_support import Refusal, error_type
from schema.subscriptions import CustomerSubscription

CANCEL_EVENT = "CANCELSUBSCRIPTION"
MAX_REASON = 64


@strawberry.enum(description="Why `cancelSubscription` refused its input.")
class CancelSubscriptionErrorCode(Enum):
    NOT_FOUND = "NOT_FOUND"
    ALREADY_STOPPED = "ALREADY_STOPPED"
    INVALID = "INVALID"
    CIRCULATION_REFUSED = "CIRCULATION_REFUSED"


CancelSubscriptionError = error_type("CancelSubscription", CancelSubscriptionErrorCode)


@strawberry.input
class CancelSubscriptionInput:
    subscription_id: strawberry.ID
    reason: str = strawberry.field(description="The stop reason code, at most 64 characters.")


@strawberry.type
class CancelSubscriptionPayload:
    subscription: Optional[CustomerSubscription] = None
    user_errors: list[CancelSubscriptionError] = strawberry.field(default_factory=list)


@strawberry.type
class CancelSubscription:
    @strawberry.mutation(description=(
        "Cancel (stop) a subscription in the circulation system; allowed for an in-grace subscription whatever "
        "its end date (SUB-4). Records CANCELSUBSCRIPTION."
    ), extensions=allow(changes(SUBSCRIPTIONS), customer_owner(arg("input", "subscription_id"))))
    async def cancel_subscription(self, info: Info, input: CancelSubscriptionInput) -> Optional[CancelSubscriptionPayload]:
        context = info.context
        tenant = context.tenant
        Code = CancelSubscriptionErrorCode
        subscription_id = str(input.subscription_id).strip()
        try:
            reason = input.reason.strip()
            if not reason or len(reason) > MAX_REASON:
                raise Refusal(Code.INVALID, f"The reason must be 1 to {MAX_REASON} characters", ["input", "reason"])
            current = await context.loaders.subscription_by_id.load(subscription_id)
            if current is None:
                raise Refusal(Code.NOT_FOUND, "No subscription has this id", ["input", "subscriptionId"])
            if current.status.value in ("STOPPED", "PERMANENTLY_STOPPED"):
                raise Refusal(Code.ALREADY_STOPPED, "The subscription is already stopped", ["input", "subscriptionId"])
            try:
                result = await context.services.circulation.cancel(tenant.code, subscription_id, reason)
            except UpstreamRejected as error:
                code = Code.ALREADY_STOPPED if error.upstream_code == "ALREADY_STOPPED" else Code.CIRCULATION_REFUSED
                raise Refusal(code, error.upstream_message or "The circulation system refused it",
                              ["input", "subscriptionId"])
        except Refusal as refusal:
            return CancelSubscriptionPayload(user_errors=[refusal.as_error(CancelSubscriptionError)])
        owner = next((link.crid for link in await context.loaders.links_by_subscription_id.load(subscription_id)
                      if link.role.value == "OWNER"), None)
        await UserRepository(context.services.db).record(Event(
            tenant_id=tenant.id, type_code=CANCEL_EVENT, subscription_id=subscription_id, crid=owner, reason=reason,
            details={"circulationTransactionId": result.get("transactionId"), "statusBefore": current.status.value},
            created_at=utcnow()))
        context.loaders.subscription_by_id.clear(subscription_id)
        return CancelSubscriptionPayload(subscription=context.loaders.subscription_from_record(result["subscription"]))
