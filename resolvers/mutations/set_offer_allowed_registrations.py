"""`setOfferAllowedRegistrations` (OFR-5: at most `Subscription.MaxLinks`)."""

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
from domain.offers import validate_allowed_registrations
from resolvers.mutation_support import Refusal, error_type
from schema.offers import Offer

EVENT = "UPDATEOFFER"


@strawberry.enum(description="Why `setOfferAllowedRegistrations` refused its input.")
class SetOfferAllowedRegistrationsErrorCode(Enum):
    NOT_FOUND = "NOT_FOUND"
    INVALID = "INVALID"


SetOfferAllowedRegistrationsError = error_type("SetOfferAllowedRegistrations", SetOfferAllowedRegistrationsErrorCode)


@strawberry.input
class SetOfferAllowedRegistrationsInput:
    offer_id: strawberry.ID
    allowed_registrations: int = strawberry.field(description="1 to the tenant's `Subscription.MaxLinks`.")


@strawberry.type
class SetOfferAllowedRegistrationsPayload:
    offer: Optional[Offer] = None
    user_errors: list[SetOfferAllowedRegistrationsError] = strawberry.field(default_factory=list)


@strawberry.type
class SetOfferAllowedRegistrations:
    @strawberry.mutation(description=(
        "Set how many registrations an offer allows; more than `Subscription.MaxLinks` is refused with \"Enter a "
        "value less than the maximum limit i.e. <Max>\" (OFR-5). Records UPDATEOFFER."
    ), extensions=allow(changes(OFFERS)))
    async def set_offer_allowed_registrations(self, info: Info, input: SetOfferAllowedRegistrationsInput
                                              ) -> Optional[SetOfferAllowedRegistrationsPayload]:
        context = info.context
        tenant = context.tenant
        Code = SetOfferAllowedRegistrationsErrorCode
        repository = AdministrationRepository(context.services.db)
        try:
            try:
                allowed = validate_allowed_registrations(input.allowed_registrations,
                                                         tenant.settings.integer("Subscription.MaxLinks"),
                                                         ["input", "allowedRegistrations"])
            except RuleError as error:
                raise Refusal.from_rule(error, Code.INVALID)
            number = integer_id(input.offer_id)
            offer = await repository.offer(tenant.id, number) if number is not None else None
            if offer is None:
                raise Refusal(Code.NOT_FOUND, "No offer has this id", ["input", "offerId"])
            event = Event(tenant_id=tenant.id, type_code=EVENT, created_at=utcnow(), details={
                "offerId": offer.id, "allowedRegistrations": allowed, "before": offer.allowed_registrations})
            offer = await repository.update_one(OfferRow, [OfferRow.id == offer.id],
                                                {"allowed_registrations": allowed}, event)
        except Refusal as refusal:
            return SetOfferAllowedRegistrationsPayload(user_errors=[refusal.as_error(SetOfferAllowedRegistrationsError)])
        context.loaders.offer_by_id.clear(offer.id)
        return SetOfferAllowedRegistrationsPayload(offer=context.loaders.offer_from_row(offer))
