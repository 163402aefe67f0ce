"""The StopSaver flow as a small server-side state machine the front end drives step by step (STP-3, STP-4):

    startStopSaver      → a STOPSAVER event (the flow; its id is `stopSaverId`), steps fixed now (STP-3)
    passStopSaverStep   → STOPSAVERSTEP under it: the subscriber passes over the step shown now
    scheduleTemporaryStop / downgradeSubscription / cancelSubscription with `stopSaverId` → the step's action,
                          recorded under the flow; it ends the flow

Steps are walked in order (decision): an action belongs to the step shown now (STEP_NOT_CURRENT otherwise), and
nothing is done in a flow that has ended (STOP_SAVER_ENDED). Downgrade and cancel take a reason from the tenant's
stop-reason list and record an event with that reason, the flow as parent and the subscriber's e-mail, the same
whether the customer or staff acts (STP-4); the event's type has a message (MSG-4)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Optional

import strawberry
from strawberry.types import Info

from auth.permissions import SUBSCRIPTIONS, allow, arg, customer_owner, staff_change
from datasources.models import Event, utcnow
from datasources.repositories.administration import AdministrationRepository
from datasources.repositories.servicing import StopSaverRepository
from domain.ids import integer_id
from domain.servicing import (
    FLOW_EVENT, STEP_EVENT, STOPPED_STATUSES, ServicingRuleError, StopSaverState, check_pass_step,
    check_step_is_current,
)
from resolvers.mutation_support import Refusal
from resolvers.servicing_flows import (
    MAX_REASON, acting_crid, call_circulation, check_stop_reason, downgrade_offers, error_codes, error_type, load_flow,
    refusal, stop_saver_plan, subscriber_email,
)
from schema.servicing import ScheduledDowngrade, StopSaverFlow, StopSaverStep

DOWNGRADE_EVENT = "DOWNGRADESUBSCRIPTION"

StartStopSaverErrorCode = error_codes("StartStopSaver", ["NOT_FOUND", "SUBSCRIPTION_STOPPED"])
StartStopSaverError = error_type("StartStopSaver", StartStopSaverErrorCode)
PassStopSaverStepErrorCode = error_codes("PassStopSaverStep", [
    "NOT_FOUND", "STOP_SAVER_NOT_FOUND", "STOP_SAVER_ENDED", "STEP_NOT_CURRENT", "LAST_STEP"])
PassStopSaverStepError = error_type("PassStopSaverStep", PassStopSaverStepErrorCode)
DowngradeSubscriptionErrorCode = error_codes("DowngradeSubscription", [
    "NOT_FOUND", "STOP_SAVER_NOT_FOUND", "STOP_SAVER_ENDED", "STEP_NOT_CURRENT", "UNKNOWN_STOP_REASON",
    "NOT_A_DOWNGRADE", "SUBSCRIPTION_STOPPED", "DOWNGRADE_ALREADY_SCHEDULED", "INVALID", "CIRCULATION_REFUSED"])
DowngradeSubscriptionError = error_type("DowngradeSubscription", DowngradeSubscriptionErrorCode)


@strawberry.input(description="The subscription whose StopSaver flow starts (STP-4).")
class StartStopSaverInput:
    subscription_id: strawberry.ID = strawberry.field(description="The subscription the subscriber wants to stop.")


@strawberry.type(description="The result of `startStopSaver`.")
class StartStopSaverPayload:
    stop_saver: Optional[StopSaverFlow] = strawberry.field(default=None, description=(
        "The new flow at its first step; null when refused."))
    temporary_stop_dates: Optional[list[date]] = strawberry.field(
        default=None, description="The dates the temporary-stop step offers; null when the flow has no such step.")
    user_errors: list[StartStopSaverError] = strawberry.field(default_factory=list, description=(
        "Why the flow was not started; empty on success."))


@strawberry.input(description="The step to pass over (STP-4).")
class PassStopSaverStepInput:
    subscription_id: strawberry.ID = strawberry.field(description="The flow's subscription.")
    stop_saver_id: strawberry.ID = strawberry.field(description="The flow, as `startStopSaver` answered it.")
    step: StopSaverStep = strawberry.field(description="The step shown now, which the subscriber declines.")


@strawberry.type(description="The result of `passStopSaverStep`.")
class PassStopSaverStepPayload:
    stop_saver: Optional[StopSaverFlow] = strawberry.field(default=None, description=(
        "The flow at its next step; null when refused."))
    user_errors: list[PassStopSaverStepError] = strawberry.field(default_factory=list, description=(
        "Why the step was not passed; empty on success."))


@strawberry.input(description="A downgrade taken at the StopSaver downgrade step (STP-4).")
class DowngradeSubscriptionInput:
    subscription_id: strawberry.ID = strawberry.field(description="The subscription to downgrade.")
    stop_saver_id: strawberry.ID = strawberry.field(description="The flow, at its DOWNGRADE step.")
    offer_id: strawberry.ID = strawberry.field(description="One of `stopSaver.downgradeOffers`.")
    reason: str = strawberry.field(description="A stop-reason code, one of `stopReasons` (STP-4).")


@strawberry.type(description="The result of `downgradeSubscription`.")
class DowngradeSubscriptionPayload:
    downgrade: Optional[ScheduledDowngrade] = strawberry.field(default=None, description=(
        "The downgrade as the circulation system recorded it, applied at the next renewal; null when refused."))
    stop_saver: Optional[StopSaverFlow] = strawberry.field(default=None, description="The flow, now ended.")
    user_errors: list[DowngradeSubscriptionError] = strawberry.field(default_factory=list, description=(
        "Why the downgrade was refused; empty on success."))


def _subscription_id(value) -> str:
    return str(value).strip()


@strawberry.type
class StopSaverMutations:
    @strawberry.mutation(description=(
        "Start the StopSaver flow (STP-3, STP-4) for a subscription: records a STOPSAVER event, whose id is the "
        "flow's; the steps are fixed now (the temporary-stop step for print subscribers whose stop dates load). "
        "Owners and staff."
    ), extensions=allow(staff_change(SUBSCRIPTIONS), customer_owner(arg("input", "subscription_id"))))
    async def start_stop_saver(
        self, info: Info,
        input: Annotated[StartStopSaverInput, strawberry.argument(description="The subscription.")],
    ) -> Optional[StartStopSaverPayload]:
        context = info.context
        Code = StartStopSaverErrorCode
        subscription_id = _subscription_id(input.subscription_id)
        subscription = await context.loaders.subscription_by_id.load(subscription_id)
        if subscription is None:
            return StartStopSaverPayload(user_errors=[StartStopSaverError(
                code=Code["NOT_FOUND"], field=["input", "subscriptionId"], message="No subscription has this id")])
        if subscription.status.value in STOPPED_STATUSES:
            return StartStopSaverPayload(user_errors=[StartStopSaverError(
                code=Code["SUBSCRIPTION_STOPPED"], field=["input", "subscriptionId"],
                message="The subscription is already stopped")])
        steps, dates = await stop_saver_plan(context, subscription)
        event = await StopSaverRepository(context.services.db).record(Event(
            tenant_id=context.tenant.id, type_code=FLOW_EVENT, subscription_id=subscription_id,
            crid=await acting_crid(context, subscription_id), source=context.principal.kind.value.upper(),
            details={"steps": steps}, created_at=utcnow()))
        return StartStopSaverPayload(stop_saver=StopSaverFlow.of(event.id, subscription_id, StopSaverState(tuple(steps))),
                                     temporary_stop_dates=dates)

    @strawberry.mutation(description=(
        "Pass over the StopSaver step shown now (STP-4): records STOPSAVERSTEP under the flow and answers the flow "
        "at its next step. CANCEL, the last step, is not passed: the subscriber cancels or leaves the flow. Owners "
        "and staff."
    ), extensions=allow(staff_change(SUBSCRIPTIONS), customer_owner(arg("input", "subscription_id"))))
    async def pass_stop_saver_step(
        self, info: Info,
        input: Annotated[PassStopSaverStepInput, strawberry.argument(description="The flow and its step.")],
    ) -> Optional[PassStopSaverStepPayload]:
        context = info.context
        Code = PassStopSaverStepErrorCode
        subscription_id = _subscription_id(input.subscription_id)
        step = input.step.value
        try:
            flow = await load_flow(context, subscription_id, input.stop_saver_id, Code)
            try:
                check_pass_step(flow.state, step)
            except ServicingRuleError as error:
                raise refusal(error, Code)
        except Refusal as refused:
            return PassStopSaverStepPayload(user_errors=[refused.as_error(PassStopSaverStepError)])
        await StopSaverRepository(context.services.db).record(Event(
            tenant_id=context.tenant.id, type_code=STEP_EVENT, subscription_id=subscription_id,
            crid=await acting_crid(context, subscription_id), source=context.principal.kind.value.upper(),
            parent_id=flow.event.id, details={"step": step, "action": "PASSED"}, created_at=utcnow()))
        state = StopSaverState(flow.state.steps, (*flow.state.passed, step))
        return PassStopSaverStepPayload(stop_saver=StopSaverFlow.of(flow.event.id, subscription_id, state))

    @strawberry.mutation(description=(
        "Take a downgrade at the StopSaver downgrade step (STP-4): an offer of the same group at a lower rate, "
        "applied by the circulation system at the next renewal; the reason is a code of `stopReasons`. Records "
        "DOWNGRADESUBSCRIPTION under the flow with the reason and the subscriber's e-mail, which is sent the "
        "downgrade message (MSG-4), whether the customer or staff acts. Owners and staff."
    ), extensions=allow(staff_change(SUBSCRIPTIONS), customer_owner(arg("input", "subscription_id"))))
    async def downgrade_subscription(
        self, info: Info,
        input: Annotated[DowngradeSubscriptionInput, strawberry.argument(description="The downgrade.")],
    ) -> Optional[DowngradeSubscriptionPayload]:
        context = info.context
        Code = DowngradeSubscriptionErrorCode
        subscription_id = _subscription_id(input.subscription_id)
        reason = input.reason.strip()
        try:
            if not reason or len(reason) > MAX_REASON:
                raise Refusal(Code["INVALID"], f"The reason must be 1 to {MAX_REASON} characters", ["input", "reason"])
            subscription = await context.loaders.subscription_by_id.load(subscription_id)
            if subscription is None:
                raise Refusal(Code["NOT_FOUND"], "No subscription has this id", ["input", "subscriptionId"])
            flow = await load_flow(context, subscription_id, input.stop_saver_id, Code)
            try:
                check_step_is_current(flow.state, "DOWNGRADE")
            except ServicingRuleError as error:
                raise refusal(error, Code)
            await check_stop_reason(context, reason, Code)
            if subscription.status.value in STOPPED_STATUSES:
                raise Refusal(Code["SUBSCRIPTION_STOPPED"], "A stopped subscription does not renew",
                              ["input", "subscriptionId"])
            wanted = integer_id(input.offer_id)
            target = next((o for o in await downgrade_offers(context, subscription) if o.offer.id == wanted), None)
            if target is None or target.term is None:
                raise Refusal(Code["NOT_A_DOWNGRADE"], "The offer is not one of the subscription's downgrade offers",
                              ["input", "offerId"])
            term = target.term
            result = await call_circulation(
                lambda key: context.services.circulation.schedule_downgrade(
                    context.tenant.code, subscription_id,
                    {"productCode": str(target.offer.id), "term": term.code, "length": term.length,
                     "lengthUnit": term.length_unit, "rate": f"{term.rate:.2f}", "tax": f"{term.tax:.2f}",
                     "reason": reason}, key),
                f"downgrade:{context.tenant.code}", Code)
        except Refusal as refused:
            return DowngradeSubscriptionPayload(user_errors=[refused.as_error(DowngradeSubscriptionError)])
        downgrade = result["downgrade"]
        await AdministrationRepository(context.services.db).record_upstream_change(Event(
            tenant_id=context.tenant.id, type_code=DOWNGRADE_EVENT, subscription_id=subscription_id,
            crid=await acting_crid(context, subscription_id), reason=reason, parent_id=flow.event.id,
            source=context.principal.kind.value.upper(),
            details={"circulationTransactionId": result.get("transactionId"),
                     "subscriberEmail": subscriber_email(subscription), "offerId": str(target.offer.id),
                     "offerName": target.offer.name, "term": term.code, "rate": f"{term.rate:.2f}",
                     "effectiveDate": downgrade["effectiveDate"]},
            created_at=utcnow()))
        context.loaders.subscription_by_id.clear(subscription_id)
        state = StopSaverState(flow.state.steps, flow.state.passed, "DOWNGRADED")
        return DowngradeSubscriptionPayload(
            downgrade=ScheduledDowngrade.from_record(downgrade, context.tenant.currency),
            stop_saver=StopSaverFlow.of(flow.event.id, subscription_id, state))
