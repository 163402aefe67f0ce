"""`signUpEBill` (EZ-3, EBL-1, EBL-2): bills go by e-mail from now on, to the owner's e-mail (decision), by an owner or
staff. Sign-up needs `signUpAllowed`: a stopped or auto-pay subscription is refused saying which, one on eBill
already is ALREADY_ON_EBILL, and a refusal records nothing. The flag switches at once in the circulation system and
EBILLSIGNUP is recorded (NOT-1). No message is sent: no template type exists for eBill (docs/messages.md)."""

from __future__ import annotations

from typing import Annotated, Optional

import strawberry
from strawberry.types import Info

from auth.permissions import SUBSCRIPTIONS, allow, arg, changes, customer_owner
from domain.account import AccountRuleError, billing_email, check_ebill_sign_up
from resolvers.account_flows import call_circulation, error_codes, owner_email, read_subject, record_change, rule_refusal
from resolvers.mutation_support import Refusal
from resolvers.servicing_flows import error_type
from schema.registrations import Event as EventType
from schema.subscriptions import CustomerSubscription

SIGN_UP_EVENT = "EBILLSIGNUP"
SignUpEBillErrorCode = error_codes("SignUpEBill", [
    "NOT_FOUND", "STOPPED", "ON_AUTO_PAY", "ALREADY_ON_EBILL", "NO_BILLING_EMAIL", "CIRCULATION_REFUSED"])
SignUpEBillError = error_type("SignUpEBill", SignUpEBillErrorCode)


@strawberry.input(description="The subscription to put on eBill (EBL-1).")
class SignUpEBillInput:
    subscription_id: strawberry.ID = strawberry.field(description="The subscription whose bills go by e-mail.")


@strawberry.type(description="The result of `signUpEBill`.")
class SignUpEBillPayload:
    subscription: Optional[CustomerSubscription] = strawberry.field(default=None, description=(
        "The subscription, on eBill; null when refused."))
    event: Optional[EventType] = strawberry.field(default=None, description="The EBILLSIGNUP event recorded.")
    user_errors: list[SignUpEBillError] = strawberry.field(default_factory=list, description=(
        "Why the sign-up was refused; empty on success."))


@strawberry.type
class SignUpEBill:
    @strawberry.mutation(description=(
        "Put a subscription on eBill: its bills go to the owner's e-mail from now on (EBL-1, EBL-2). Needs "
        "`ebillAvailability.signUpAllowed` (EZ-3); a repeated sign-up is ALREADY_ON_EBILL and records nothing. Owners "
        "and staff. Records EBILLSIGNUP."
    ), extensions=allow(changes(SUBSCRIPTIONS), customer_owner(arg("input", "subscription_id"))))
    async def sign_up_e_bill(
        self, info: Info, input: Annotated[SignUpEBillInput, strawberry.argument(description="What to sign up.")],
    ) -> Optional[SignUpEBillPayload]:
        context = info.context
        Code = SignUpEBillErrorCode
        subscription_id = str(input.subscription_id).strip()
        try:
            subject = await read_subject(context, subscription_id, Code)
            try:
                check_ebill_sign_up(subject.facts)
                email = billing_email(await owner_email(context, subscription_id),
                                      (subject.record.get("subscriber") or {}).get("email"))
            except AccountRuleError as error:
                raise rule_refusal(error, Code) from None
            result = await call_circulation(
                lambda key: context.services.circulation.sign_up_ebill(context.tenant.code, subscription_id, email,
                                                                       idempotency_key=key),
                f"ebill:{context.tenant.code}", Code)
        except Refusal as refusal:
            return SignUpEBillPayload(user_errors=[refusal.as_error(SignUpEBillError)])
        event = await record_change(context, SIGN_UP_EVENT, subject, result, email=email)
        return SignUpEBillPayload(
            subscription=context.loaders.subscription_from_record(result["subscription"]),
            event=EventType.from_row(event, context.tenant.currency))
