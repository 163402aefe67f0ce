"""`updateSubscriberDetails` (ADR-1, ADR-5): an owner, or staff with FULL_CONTROL of SUBSCRIPTIONS, changes the
subscriber's names, company and phones in the circulation system; a guest (and read-only staff) gets a typed user
error. Phones are normalised and compared by digits, primary first (ADR-5). Records CHGSUBSCRIBER (NOT-1) naming
the fields changed, not their values. The address changes by `moveSubscriber` (ADR-3)."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import strawberry
from strawberry.types import Info

from auth.permissions import SUBSCRIPTIONS, allow, arg, customer_linked, staff_read
from domain.subscriber import SubscriberRuleError, clean_text, normalize_phones
from resolvers.mutation_support import Refusal
from resolvers.subscriber_flows import DETAILS_EVENT, call_circulation, error_codes, error_type, may_change, \
    record_event, refusal
from schema.subscriptions import CustomerSubscription

UpdateSubscriberDetailsErrorCode = error_codes("UpdateSubscriberDetails", [
    "NOT_FOUND", "NOT_OWNER", "FULL_CONTROL_REQUIRED", "NOTHING_TO_CHANGE", "INVALID", "INVALID_PHONE",
    "CIRCULATION_REFUSED"])
UpdateSubscriberDetailsError = error_type("UpdateSubscriberDetails", UpdateSubscriberDetailsErrorCode)


@strawberry.input(description="The subscriber details to change (ADR-1); a field left out stays as it is.")
class UpdateSubscriberDetailsInput:
    subscription_id: strawberry.ID = strawberry.field(description="The subscription whose subscriber changes.")
    first_name: Optional[str] = strawberry.field(default=None, description="1 to 100 characters.")
    last_name: Optional[str] = strawberry.field(default=None, description="1 to 100 characters.")
    company_name: Optional[str] = strawberry.field(default=None, description=(
        "At most 100 characters; an empty string removes the company."))
    phones: Optional[list[str]] = strawberry.field(default=None, description=(
        "Every phone, the primary first (ADR-5): 7 to 15 digits, an optional leading +, separators space - . ( ); "
        "at most 5; a repeat of the same digits is kept once. An empty list removes them all."))


UpdateSubscriberDetailsArgument = Annotated[UpdateSubscriberDetailsInput,
                                            strawberry.argument(description="What to change.")]


@strawberry.type(description="The result of `updateSubscriberDetails`.")
class UpdateSubscriberDetailsPayload:
    subscription: Optional[CustomerSubscription] = strawberry.field(default=None, description=(
        "The subscription with its subscriber as the circulation system now holds it; null when refused."))
    user_errors: list[UpdateSubscriberDetailsError] = strawberry.field(default_factory=list, description=(
        "Why the change was refused; empty on success."))


def _details(input: UpdateSubscriberDetailsInput) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if input.first_name is not None:
        details["firstName"] = clean_text(input.first_name, ["firstName"], required=True)
    if input.last_name is not None:
        details["lastName"] = clean_text(input.last_name, ["lastName"], required=True)
    if input.company_name is not None:
        details["companyName"] = clean_text(input.company_name, ["companyName"], required=False)
    if input.phones is not None:
        details["phones"] = normalize_phones(input.phones)
    return details


@strawberry.type
class UpdateSubscriberDetails:
    @strawberry.mutation(description=(
        "Change the subscriber's names, company and phones (ADR-1, ADR-5): owners and staff with FULL_CONTROL of "
        "SUBSCRIPTIONS; a guest or read-only staff member gets a user error. Never changes a registration, and "
        "changing a registration never changes the subscriber (ADR-2). Records CHGSUBSCRIBER."
    ), extensions=allow(staff_read(SUBSCRIPTIONS), customer_linked(arg("input", "subscription_id"))))
    async def update_subscriber_details(self, info: Info, input: UpdateSubscriberDetailsArgument
                                        ) -> Optional[UpdateSubscriberDetailsPayload]:
        context = info.context
        Code = UpdateSubscriberDetailsErrorCode
        subscription_id = str(input.subscription_id).strip()
        try:
            await may_change(context, subscription_id, Code)
            try:
                details = _details(input)
            except SubscriberRuleError as error:
                raise refusal(error, Code)
            if not details:
                raise Refusal(Code.NOTHING_TO_CHANGE, "Name at least one of firstName, lastName, companyName, phones",
                              ["input"])
            record = await call_circulation(
                lambda key: context.services.circulation.update_subscriber(context.tenant.code, subscription_id,
                                                                           details),
                f"details:{context.tenant.code}", Code)
        except Refusal as refused:
            return UpdateSubscriberDetailsPayload(user_errors=[refused.as_error(UpdateSubscriberDetailsError)])
        await record_event(context, DETAILS_EVENT, subscription_id, {"changed": sorted(details)})
        return UpdateSubscriberDetailsPayload(subscription=context.loaders.subscription_from_record(record))
