"""`cancelSubscription` (SUB-4: an in-grace subscription may be cancelled whatever its end date; NOT-1).

The cancellation is a write to the circulation system, so it always carries an idempotency key: the
client's `idempotencyKey` when given, else one of this request's own. When the answer is lost (a
timeout, a dropped connection, a 5xx) the circulation system is asked once more with the same key: it
either cancels now or answers the cancellation it already made, never a second one, and the
CANCELSUBSCRIPTION event is recorded either way. A client that retries with its key after a failure
gets the cancellation that did happen, and its event, instead of ALREADY_STOPPED; a replayed answer is
recorded once (by the circulation transaction id)."""

from __future__ import annotations

import uuid
from enum import Enum
from typing import Any, Optional

import strawberry
from strawberry.types import Info

from auth.permissions import SUBSCRIPTIONS, allow, arg, changes, customer_owner

from datasources.base import UpstreamRejected, UpstreamTimeout, UpstreamUnavailable
from datasources.models import Event, utcnow
from datasources.repositories.administration import AdministrationRepository
from domain.idempotency import validate_key
from resolvers.mutation_support import Refusal, error_type
from domain.servicing import ServicingRuleError, check_step_is_current
from resolvers.servicing_flows import load_flow, subscriber_email
from schema.subscriptions import CustomerSubscription

CANCEL_EVENT = "CANCELSUBSCRIPTION"
MAX_REASON = 64
STOPPED = ("STOPPED", "PERMANENTLY_STOPPED")


@strawberry.enum(description="Why `cancelSubscription` refused its input.")
class CancelSubscriptionErrorCode(Enum):
    NOT_FOUND = "NOT_FOUND"
    ALREADY_STOPPED = "ALREADY_STOPPED"
    INVALID = "INVALID"
    CIRCULATION_REFUSED = "CIRCULATION_REFUSED"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    UNKNOWN_STOP_REASON = strawberry.enum_value("UNKNOWN_STOP_REASON", description=(
        "The reason is not a code of the tenant's stop-reason list (`stopReasons`, STP-5)."))
    STOP_SAVER_NOT_FOUND = strawberry.enum_value("STOP_SAVER_NOT_FOUND", description=(
        "The subscription has no StopSaver flow with this `stopSaverId` (STP-4)."))
    STOP_SAVER_ENDED = strawberry.enum_value("STOP_SAVER_ENDED", description=(
        "The StopSaver flow has already ended (STP-4)."))
    STEP_NOT_CURRENT = strawberry.enum_value("STEP_NOT_CURRENT", description=(
        "The StopSaver flow is not at its CANCEL step: the earlier steps are passed first (STP-4)."))


CancelSubscriptionError = error_type("CancelSubscription", CancelSubscriptionErrorCode)


@strawberry.input
class CancelSubscriptionInput:
    subscription_id: strawberry.ID
    reason: str = strawberry.field(description=(
        "The stop reason code, one of `stopReasons` (STP-5), at most 64 characters."))
    idempotency_key: Optional[str] = strawberry.field(default=None, description=(
        "Recommended: retrying with the same key after a failure (e.g. a timeout) answers the cancellation that "
        "was made, and records it, instead of ALREADY_STOPPED; the same key for another subscription or reason "
        "is refused."))
    stop_saver_id: Optional[strawberry.ID] = strawberry.field(default=None, description=(
        "The StopSaver flow this cancel ends, at its CANCEL step (STP-4); the event is recorded under it."))


@strawberry.type
class CancelSubscriptionPayload:
    subscription: Optional[CustomerSubscription] = None
    user_errors: list[CancelSubscriptionError] = strawberry.field(default_factory=list)


async def _cancel(circulation, paper_code: str, subscription_id: str, reason: str, key: str) -> dict[str, Any]:
    try:
        return await circulation.cancel(paper_code, subscription_id, reason, idempotency_key=key)
    except (UpstreamTimeout, UpstreamUnavailable):
        # the cancellation may or may not have been made: with the same key, asking again is safe
        return await circulation.cancel(paper_code, subscription_id, reason, idempotency_key=key)


@strawberry.type
class CancelSubscription:
    @strawberry.mutation(description=(
        "Cancel (stop) a subscription in the circulation system; allowed for an in-grace subscription whatever "
        "its end date (SUB-4). Records CANCELSUBSCRIPTION with the reason (STP-5) and the subscriber's e-mail, which "
        "is sent the cancel message (MSG-4); with `stopSaverId`, the CANCEL step of that StopSaver flow (STP-4)."
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
            client_key = None
            if input.idempotency_key is not None:
                try:
                    client_key = validate_key(input.idempotency_key)
                except ValueError as error:
                    raise Refusal(Code.INVALID, str(error), ["input", "idempotencyKey"])
            current = await context.loaders.subscription_by_id.load(subscription_id)
            if current is None:
                raise Refusal(Code.NOT_FOUND, "No subscription has this id", ["input", "subscriptionId"])
            flow = None
            if input.stop_saver_id is not None:  # STP-4: the cancel step of a StopSaver flow
                flow = await load_flow(context, subscription_id, input.stop_saver_id, Code)
                # a retry with the client's key after a lost answer finds the flow ended by that very cancel: it
                # goes on, and the circulation system replays the cancellation already made (recorded once)
                replay = client_key is not None and flow.state.outcome == "CANCELLED"
                try:
                    if not replay:
                        check_step_is_current(flow.state, "CANCEL")
                except ServicingRuleError as error:
                    raise Refusal(Code[error.code], str(error), ["input", *error.field])
            # STP-5: a code from the tenant's list, read live like the rest of the circulation system's answers
            if reason not in {r["code"] for r in await context.services.circulation.get_stop_reasons(tenant.code)}:
                raise Refusal(Code.UNKNOWN_STOP_REASON, "The reason is not one of the tenant's stop reasons",
                              ["input", "reason"])
            stopped = current.status.value in STOPPED
            if stopped and client_key is None:  # with a key, the circulation system may hold our own cancellation
                raise Refusal(Code.ALREADY_STOPPED, "The subscription is already stopped", ["input", "subscriptionId"])
            key = f"cancel:{tenant.code}:{client_key or uuid.uuid4().hex}"
            try:
                result = await _cancel(context.services.circulation, tenant.code, subscription_id, reason, key)
            except UpstreamRejected as error:
                code = {"ALREADY_STOPPED": Code.ALREADY_STOPPED, "IDEMPOTENCY_KEY_REUSED": Code.IDEMPOTENCY_KEY_REUSED
                        }.get(error.upstream_code or "", Code.CIRCULATION_REFUSED)
                field = ["input", "idempotencyKey"] if code is Code.IDEMPOTENCY_KEY_REUSED else ["input", "subscriptionId"]
                raise Refusal(code, error.upstream_message or "The circulation system refused it", field)
        except Refusal as refusal:
            return CancelSubscriptionPayload(user_errors=[refusal.as_error(CancelSubscriptionError)])
        owner = next((link.crid for link in await context.loaders.links_by_subscription_id.load(subscription_id)
                      if link.role.value == "OWNER"), None)
        # STP-4/MSG-4: the reason, the flow as parent and the subscriber's e-mail, whoever acts
        await AdministrationRepository(context.services.db).record_upstream_change(Event(
            tenant_id=tenant.id, type_code=CANCEL_EVENT, subscription_id=subscription_id, crid=owner, reason=reason,
            parent_id=flow.event.id if flow is not None else None, source=context.principal.kind.value.upper(),
            details={"circulationTransactionId": result.get("transactionId"),
                     "statusBefore": None if stopped else current.status.value,  # a replay: not known here
                     "subscriberEmail": subscriber_email(current)},
            created_at=utcnow()))
        context.loaders.subscription_by_id.clear(subscription_id)
        return CancelSubscriptionPayload(subscription=context.loaders.subscription_from_record(result["subscription"]))
