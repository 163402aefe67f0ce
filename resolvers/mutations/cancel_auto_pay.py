"""`cancelAutoPay` (EZ-5): take a subscription off auto-pay on every circulation system, by an owner or staff. Only a
subscription on auto-pay (else NOT_ON_AUTO_PAY, recording nothing). The recurring tip and donation end with it; the
subscription does not (decision): it stays as it is and renews by bill. Records AUTOPAYCANCEL with the plan that
ended (NOT-1). Nothing is charged, so it is not a payment of the ledger; the circulation call carries an idempotency
key and is asked once more with it when the answer is lost."""

from __future__ import annotations

from typing import Annotated, Optional

import strawberry
from strawberry.types import Info

from auth.permissions import PAYMENTS, allow, arg, changes, customer_owner
from domain.account import AccountRuleError, check_auto_pay_cancel
from resolvers.account_flows import call_circulation, error_codes, read_subject, record_change, rule_refusal
from resolvers.mutation_support import Refusal
from resolvers.servicing_flows import error_type
from schema.registrations import Event as EventType
from schema.subscriptions import CustomerSubscription

CANCEL_EVENT = "AUTOPAYCANCEL"
CancelAutoPayErrorCode = error_codes("CancelAutoPay", ["NOT_FOUND", "NOT_ON_AUTO_PAY", "CIRCULATION_REFUSED"])
CancelAutoPayError = error_type("CancelAutoPay", CancelAutoPayErrorCode)


@strawberry.input(description="The subscription to take off auto-pay (EZ-5).")
class CancelAutoPayInput:
    subscription_id: strawberry.ID = strawberry.field(description="The subscription on auto-pay.")


@strawberry.type(description="The result of `cancelAutoPay`.")
class CancelAutoPayPayload:
    subscription: Optional[CustomerSubscription] = strawberry.field(default=None, description=(
        "The subscription, off auto-pay and otherwise unchanged; null when refused."))
    event: Optional[EventType] = strawberry.field(default=None, description="The AUTOPAYCANCEL event recorded.")
    user_errors: list[CancelAutoPayError] = strawberry.field(default_factory=list, description=(
        "Why the cancel was refused; empty on success."))


def _money(value) -> str:
    return str(value) if value is not None else "0.00"


@strawberry.type
class CancelAutoPay:
    @strawberry.mutation(description=(
        "Take a subscription off auto-pay, on every circulation system (EZ-5): its recurring tip and donation end "
        "with it, the subscription does not. Only on auto-pay, else NOT_ON_AUTO_PAY. Owners and staff. Records "
        "AUTOPAYCANCEL."
    ), extensions=allow(changes(PAYMENTS), customer_owner(arg("input", "subscription_id"))))
    async def cancel_auto_pay(
        self, info: Info, input: Annotated[CancelAutoPayInput, strawberry.argument(description="What to cancel.")],
    ) -> Optional[CancelAutoPayPayload]:
        context = info.context
        Code = CancelAutoPayErrorCode
        subscription_id = str(input.subscription_id).strip()
        try:
            subject = await read_subject(context, subscription_id, Code)
            try:
                check_auto_pay_cancel(subject.facts)
            except AccountRuleError as error:
                raise rule_refusal(error, Code) from None
            result = await call_circulation(
                lambda key: context.services.circulation.cancel_auto_pay(context.tenant.code, subscription_id,
                                                                         idempotency_key=key),
                f"autopay-cancel:{context.tenant.code}", Code)
        except Refusal as refusal:
            return CancelAutoPayPayload(user_errors=[refusal.as_error(CancelAutoPayError)])
        plan = subject.record.get("autoPayPlan") or {}
        event = await record_change(context, CANCEL_EVENT, subject, result, optionTerm=plan.get("term"),
                                    recurringTip=_money(plan.get("tip")), recurringDonation=_money(plan.get("donation")))
        context.loaders.payment_method_by_subscription_id.clear(subscription_id)
        return CancelAutoPayPayload(
            subscription=context.loaders.subscription_from_record(result["subscription"]),
            event=EventType.from_row(event, context.tenant.currency))
