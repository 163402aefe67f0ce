"""`signOutEBill` (EBL-1, EBL-2): bills go by post again, by an owner or staff. Sign-out needs `manageAllowed` (the
subscription is on eBill, EZ-3); a repeated sign-out is NOT_ON_EBILL and records nothing. The flag switches at once in
the circulation system and EBILLSIGNOUT is recorded (NOT-1)."""

from __future__ import annotations

from typing import Annotated, Optional

import strawberry
from strawberry.types import Info

from auth.permissions import SUBSCRIPTIONS, allow, arg, changes, customer_owner
from domain.account import AccountRuleError, check_ebill_sign_out
from resolvers.account_flows import call_circulation, error_codes, read_subject, record_change, rule_refusal
from resolvers.mutation_support import Refusal
from resolvers.servicing_flows import error_type
from schema.registrations import Event as EventType
from schema.subscriptions import CustomerSubscription

SIGN_OUT_EVENT = "EBILLSIGNOUT"
SignOutEBillErrorCode = error_codes("SignOutEBill", ["NOT_FOUND", "NOT_ON_EBILL", "CIRCULATION_REFUSED"])
SignOutEBillError = error_type("SignOutEBill", SignOutEBillErrorCode)


@strawberry.input(description="The subscription to take off eBill (EBL-1).")
class SignOutEBillInput:
    subscription_id: strawberry.ID = strawberry.field(description="The subscription whose bills go by post again.")


@strawberry.type(description="The result of `signOutEBill`.")
class SignOutEBillPayload:
    subscription: Optional[CustomerSubscription] = strawberry.field(default=None, description=(
        "The subscription, off eBill; null when refused."))
    event: Optional[EventType] = strawberry.field(default=None, description="The EBILLSIGNOUT event recorded.")
    user_errors: list[SignOutEBillError] = strawberry.field(default_factory=list, description=(
        "Why the sign-out was refused; empty on success."))


@strawberry.type
class SignOutEBill:
    @strawberry.mutation(description=(
        "Take a subscription off eBill (EBL-1). Needs `ebillAvailability.manageAllowed` (EZ-3); a repeated sign-out "
        "is NOT_ON_EBILL and records nothing. Owners and staff. Records EBILLSIGNOUT."
    ), extensions=allow(changes(SUBSCRIPTIONS), customer_owner(arg("input", "subscription_id"))))
    async def sign_out_e_bill(
        self, info: Info, input: Annotated[SignOutEBillInput, strawberry.argument(description="What to sign out.")],
    ) -> Optional[SignOutEBillPayload]:
        context = info.context
        Code = SignOutEBillErrorCode
        subscription_id = str(input.subscription_id).strip()
        try:
            subject = await read_subject(context, subscription_id, Code)
            try:
                check_ebill_sign_out(subject.facts)
            except AccountRuleError as error:
                raise rule_refusal(error, Code) from None
            result = await call_circulation(
                lambda key: context.services.circulation.sign_out_ebill(context.tenant.code, subscription_id,
                                                                        idempotency_key=key),
                f"ebill-out:{context.tenant.code}", Code)
        except Refusal as refusal:
            return SignOutEBillPayload(user_errors=[refusal.as_error(SignOutEBillError)])
        event = await record_change(context, SIGN_OUT_EVENT, subject, result)
        return SignOutEBillPayload(
            subscription=context.loaders.subscription_from_record(result["subscription"]),
            event=EventType.from_row(event, context.tenant.currency))
