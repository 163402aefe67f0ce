"""`setOfferCheckCriteria` (OFR-4, with the source platform's exact messages)."""

from __future__ import annotations

from enum import Enum
from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import OFFERS, allow, changes

from datasources.models import Event, Offer as OfferRow, utcnow
from datasources.repositories.administration import AdministrationRepository
from domain.ids import integer_id
from domain.money import RuleError
from domain.offers import CheckCriteria, validate_check_criteria
from resolvers.mutation_support import Refusal, error_type
from schema.offers import Offer

EVENT = "UPDATEOFFER"


@strawberry.enum(description="Why `setOfferCheckCriteria` refused its input.")
class SetOfferCheckCriteriaErrorCode(Enum):
    NOT_FOUND = "NOT_FOUND"
    INVALID = "INVALID"


SetOfferCheckCriteriaError = error_type("SetOfferCheckCriteria", SetOfferCheckCriteriaErrorCode)


@strawberry.input(description="OFR-4: which subscriber fields the active-subscription check compares.")
class SetOfferCheckCriteriaInput:
    offer_id: strawberry.ID
    last_name: bool = False
    phone: bool = False
    email: bool = False
    address: bool = False
    postal_code: bool = False
    no_existing_subscription: Optional[bool] = strawberry.field(default=None, description=(
        "Validation flag (BUY-6, BUY-7); null keeps the offer's."))
    subscription_stopped_recently: Optional[bool] = strawberry.field(default=None, description=(
        "Validation flag (BUY-6, BUY-7); null keeps the offer's."))
    no_outstanding_balance: Optional[bool] = strawberry.field(default=None, description=(
        "Validation flag (BUY-6, BUY-7); null keeps the offer's."))
    requires_delivery_address: Optional[bool] = strawberry.field(default=None, description=(
        "Address requirement (BUY-8); null keeps the offer's."))
    requires_billing_address: Optional[bool] = strawberry.field(default=None, description=(
        "Address requirement (BUY-8); null keeps the offer's."))


@strawberry.type
class SetOfferCheckCriteriaPayload:
    offer: Optional[Offer] = None
    user_errors: list[SetOfferCheckCriteriaError] = strawberry.field(default_factory=list)


@strawberry.type
class SetOfferCheckCriteria:
    @strawberry.mutation(description=(
        "Set an offer's active-subscription-check criteria. At least one (\"Please select at least one search "
        "parameter\"); last name alone or postal code alone is not enough (\"Please select one more search "
        "parameter\"); address and postal code never together (OFR-4). Optionally sets the subscription-validation "
        "flags (BUY-6: the check runs only with one) and address requirements (BUY-8: Address or Postal code in "
        "force). Records UPDATEOFFER."
    ), extensions=allow(changes(OFFERS)))
    async def set_offer_check_criteria(self, info: Info, input: SetOfferCheckCriteriaInput
                                       ) -> Optional[SetOfferCheckCriteriaPayload]:
        context = info.context
        tenant = context.tenant
        Code = SetOfferCheckCriteriaErrorCode
        repository = AdministrationRepository(context.services.db)
        try:
            criteria = CheckCriteria(last_name=input.last_name, phone=input.phone, email=input.email,
                                     address=input.address, postal_code=input.postal_code)
            try:
                validate_check_criteria(criteria, ["input"])
            except RuleError as error:
                raise Refusal.from_rule(error, Code.INVALID)
            number = integer_id(input.offer_id)
            offer = await repository.offer(tenant.id, number) if number is not None else None
            if offer is None:
                raise Refusal(Code.NOT_FOUND, "No offer has this id", ["input", "offerId"])
            names = ("last_name", "phone", "email", "address", "postal_code")
            before = CheckCriteria(**{name: getattr(offer, f"check_{name}") for name in names})
            event = Event(tenant_id=tenant.id, type_code=EVENT, created_at=utcnow(), details={
                "offerId": offer.id, "checkCriteria": criteria.selected(), "before": before.selected()})
            changes = {f"check_{name}": getattr(criteria, name) for name in names}
            for column, given in (("validate_no_existing", input.no_existing_subscription),
                                  ("validate_stopped_recently", input.subscription_stopped_recently),
                                  ("validate_outstanding_balance", input.no_outstanding_balance),
                                  ("requires_delivery_address", input.requires_delivery_address),
                                  ("requires_billing_address", input.requires_billing_address)):
                if given is not None and given != getattr(offer, column):
                    event.details[column] = {"before": getattr(offer, column), "after": given}
                    changes[column] = given
            offer = await repository.update_one(OfferRow, [OfferRow.id == offer.id], changes, event)
        except Refusal as refusal:
            return SetOfferCheckCriteriaPayload(user_errors=[refusal.as_error(SetOfferCheckCriteriaError)])
        context.loaders.offer_by_id.clear(offer.id)
        return SetOfferCheckCriteriaPayload(offer=context.loaders.offer_from_row(offer))
