"""`moveSubscriber` (ADR-1, ADR-3, ADR-4): a dated change of the delivery address by an owner or staff with
FULL_CONTROL of SUBSCRIPTIONS, effective today or later in the tenant's time zone, the postal code matching the
tenant's `PostalCodeMask`; a print subscription's offer must deliver there (its delivery areas, OFR-2). Australian
level designator and number are carried when `MelissaDataIntegration` is Global* (else refused); an NCS
comp-subscription move carries billing method and rate code when `Flow.AddressMove` is RealTime (else it goes
without them, and giving them is refused) — SET-4, domain/subscriber.py. Records ADDRESSMOVE (NOT-1) with the move's id and date, not the address."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Optional

import strawberry
from strawberry.types import Info

from auth.permissions import SUBSCRIPTIONS, allow, arg, customer_linked, staff_read
from datasources.repositories.offers import OfferRepository
from domain.offers import normalize_postal_code, postal_code_candidates
from domain.servicing import tenant_today
from domain.subscriber import ADDRESS_MOVE_FLOW, MELISSA_DATA_INTEGRATION, SubscriberRuleError, validate_move
from resolvers.mutation_support import Refusal
from resolvers.subscriber_flows import MOVE_EVENT, call_circulation, error_codes, error_type, may_change, \
    record_event, refusal
from schema.subscriber import AddressMove, SubscriberAddressInput
from schema.subscriptions import CustomerSubscription

MoveSubscriberErrorCode = error_codes("MoveSubscriber", [
    "NOT_FOUND", "NOT_OWNER", "FULL_CONTROL_REQUIRED", "INVALID", "DATE_IN_PAST", "INVALID_POSTAL_CODE",
    "NOT_DELIVERABLE", "LEVEL_NOT_ENABLED", "MOVE_BILLING_REQUIRED", "MOVE_BILLING_NOT_SUPPORTED",
    "MOVE_BILLING_NOT_ENABLED", "MOVE_ALREADY_SCHEDULED",
    "SUBSCRIPTION_STOPPED", "CIRCULATION_REFUSED"])
MoveSubscriberError = error_type("MoveSubscriber", MoveSubscriberErrorCode)


@strawberry.input(description="A move of the subscriber's delivery address (ADR-3).")
class MoveSubscriberInput:
    subscription_id: strawberry.ID = strawberry.field(description="The subscription whose delivery moves.")
    effective_date: Optional[date] = strawberry.field(default=None, description=(
        "The first day delivered to the new address: today or later in the tenant's time zone; omitted, today "
        "(tenant time)."))
    address: SubscriberAddressInput = strawberry.field(description="The new delivery address.")
    billing_method: Optional[str] = strawberry.field(default=None, description=(
        "NCS comp subscriptions only, when the tenant's Flow.AddressMove is RealTime, and required then (ADR-4)."))
    rate_code: Optional[str] = strawberry.field(default=None, description=(
        "NCS comp subscriptions only, when the tenant's Flow.AddressMove is RealTime, and required then (ADR-4)."))


MoveSubscriberArgument = Annotated[MoveSubscriberInput, strawberry.argument(description="The move.")]


@strawberry.type(description="The result of `moveSubscriber`.")
class MoveSubscriberPayload:
    move: Optional[AddressMove] = strawberry.field(default=None, description=(
        "The move as the circulation system recorded it: APPLIED when effective today, else SCHEDULED; null when "
        "refused."))
    subscription: Optional[CustomerSubscription] = strawberry.field(default=None, description=(
        "The subscription after the move; its address changes on the effective date. Null when refused."))
    user_errors: list[MoveSubscriberError] = strawberry.field(default_factory=list, description=(
        "Why the move was refused; empty on success."))


@strawberry.type
class MoveSubscriber:
    @strawberry.mutation(description=(
        "Move the subscriber's delivery address from a date (ADR-3): owners and staff with FULL_CONTROL of "
        "SUBSCRIPTIONS; a guest or read-only staff member gets a user error. Effective today or later (tenant "
        "time), postal code per PostalCodeMask, within the offer's delivery areas for print. Records ADDRESSMOVE."
    ), extensions=allow(staff_read(SUBSCRIPTIONS), customer_linked(arg("input", "subscription_id"))))
    async def move_subscriber(self, info: Info, input: MoveSubscriberArgument) -> Optional[MoveSubscriberPayload]:
        context = info.context
        tenant = context.tenant
        Code = MoveSubscriberErrorCode
        subscription_id = str(input.subscription_id).strip()
        try:
            subscription = await may_change(context, subscription_id, Code)
            today = tenant_today(context.services.clock(), tenant.time_zone)
            try:
                move = validate_move(
                    effective_date=input.effective_date or today, today=today,
                    address=input.address.as_dict(), postal_code_mask=tenant.settings.get("PostalCodeMask"),
                    circulation_kind=tenant.circulation_kind, subscription_kind=subscription.kind.value,
                    billing_method=input.billing_method, rate_code=input.rate_code,
                    address_move_flow=tenant.settings.get(ADDRESS_MOVE_FLOW),
                    melissa_data_integration=tenant.settings.get(MELISSA_DATA_INTEGRATION))
            except SubscriberRuleError as error:
                raise refusal(error, Code)
            if subscription.status.value in ("STOPPED", "PERMANENTLY_STOPPED"):
                raise Refusal(Code.SUBSCRIPTION_STOPPED, "A stopped subscription has no delivery to move",
                              ["input", "subscriptionId"])
            await _require_deliverable(context, subscription, move.address["postalCode"], Code)
            result = await call_circulation(
                lambda key: context.services.circulation.move_subscriber(
                    tenant.code, subscription_id, move.effective_date, move.address, move.billing_method,
                    move.rate_code, key),
                f"move:{tenant.code}", Code)
        except Refusal as refused:
            return MoveSubscriberPayload(user_errors=[refused.as_error(MoveSubscriberError)])
        moved = result["move"]
        await record_event(context, MOVE_EVENT, subscription_id, {
            "circulationTransactionId": result.get("transactionId"), "moveId": moved["id"],
            "effectiveDate": moved["effectiveDate"], "status": moved["status"]})
        return MoveSubscriberPayload(move=AddressMove.from_record(moved),
                                     subscription=await context.loaders.subscription_by_id.load(subscription_id))


async def _require_deliverable(context, subscription: CustomerSubscription, postal_code: str, Code) -> None:
    """OFR-2 for a move: a print subscription's offer delivers to its delivery areas only. A digital subscription,
    or one whose offer papergraph does not know, has no areas to check."""
    if subscription.digital or subscription.offer_id is None:
        return
    offers = OfferRepository(context.services.db)
    found = await offers.offers_by_ids(context.tenant.id, [subscription.offer_id])
    if not found or found[0].digital:
        return
    areas = {normalize_postal_code(a.postal_code)
             for a in await offers.delivery_areas_by_offer_ids(context.tenant.id, [subscription.offer_id])}
    if not areas & postal_code_candidates(postal_code):
        raise Refusal(Code.NOT_DELIVERABLE, "The subscription's offer does not deliver to this postal code",
                      ["input", "address", "postalCode"])
