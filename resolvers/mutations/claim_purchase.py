"""`claimPurchase` (BUY-10, BUY-4, USR-8): the owner of the e-mail an anonymous purchase was made with, signed
in, claims the waiting subscription from the link of the claim message (CLAIMPURCHASE, MSG-1). It is linked to
their registration as OWNER with the purchase's temporary entitlements, the purchase's payment row names them,
and UPDATELINK is recorded; the link works once, for 30 days (domain/claims.py)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import strawberry
from strawberry.types import Info

from auth.permissions import ANYONE, allow
from datasources.models import TemporaryEntitlement, utcnow
from datasources.repositories.offers import OfferRepository
from datasources.repositories.users import DuplicateRow
from domain.ids import integer_id
from domain.links import OWNER, check_link_limits
from domain.money import RuleError
from domain.purchases import TEMPORARY_ACCESS
from resolvers.claim_flows import claim_of_link, is_claimant, repository, signed_in_registration, state_of
from resolvers.link_flows import link_event, link_limits
from resolvers.mutation_support import Refusal, error_type
from schema.registrations import SubscriptionLink
from schema.subscriptions import CustomerSubscription


@strawberry.enum(description="Why `claimPurchase` refused.")
class ClaimPurchaseErrorCode(Enum):
    SIGN_IN_REQUIRED = strawberry.enum_value("SIGN_IN_REQUIRED", description=(
        "Not signed in as a customer: sign in with the e-mail the purchase was made with (USR-8)."))
    INVALID_LINK = strawberry.enum_value("INVALID_LINK", description="The link is not a claim link of this publication.")
    NOT_YOUR_PURCHASE = strawberry.enum_value("NOT_YOUR_PURCHASE", description=(
        "The signed-in registration's e-mail is not the one the purchase was made with; nothing is said about "
        "whose it is."))
    ALREADY_CLAIMED = strawberry.enum_value("ALREADY_CLAIMED", description="The link was used: it works once.")
    LINK_EXPIRED = strawberry.enum_value("LINK_EXPIRED", description=(
        "The link is older than 30 days; the publisher's staff can link the subscription (LNK-4)."))
    ALREADY_LINKED = strawberry.enum_value("ALREADY_LINKED", description=(
        "This registration is linked to the subscription already."))
    LINK_LIMIT_REACHED = strawberry.enum_value("LINK_LIMIT_REACHED", description=(
        "The subscription has no owner slot left (LNK-2): staff linked owners to it meanwhile."))


ClaimPurchaseError = error_type("ClaimPurchase", ClaimPurchaseErrorCode)


@strawberry.input(description="Claim a purchase from the link of its claim message (BUY-10).")
class ClaimPurchaseInput:
    token: str = strawberry.field(description="The token of the claim link.")


@strawberry.type(description="The answer of `claimPurchase`.")
class ClaimPurchasePayload:
    link: Optional[SubscriptionLink] = strawberry.field(default=None, description="The OWNER link made.")
    subscription: Optional[CustomerSubscription] = strawberry.field(default=None, description=(
        "The claimed subscription."))
    user_errors: list[ClaimPurchaseError] = strawberry.field(default_factory=list, description="Why it was refused.")


@strawberry.type
class ClaimPurchase:
    @strawberry.mutation(description=(
        "Claim a subscription bought anonymously with your e-mail (BUY-10): signed in as the registration with that "
        "e-mail, the link of the claim message links the subscription to you as OWNER, with the purchase's "
        "temporary entitlements (BUY-4), and records UPDATELINK. The link works once, for 30 days."),
        extensions=allow(ANYONE))
    async def claim_purchase(self, info: Info, input: Annotated[ClaimPurchaseInput, strawberry.argument(
            description="The claim link's token.")]) -> Optional[ClaimPurchasePayload]:
        context = info.context
        tenant = context.tenant
        Code = ClaimPurchaseErrorCode
        field = ["input", "token"]
        try:
            registration = await signed_in_registration(context)
            if registration is None:
                raise Refusal(Code.SIGN_IN_REQUIRED, "Sign in with the e-mail the purchase was made with", None)
            claim = await claim_of_link(context, input.token)
            if claim is None:
                raise Refusal(Code.INVALID_LINK, "This claim link is not valid", field)
            if not is_claimant(registration, claim):
                raise Refusal(Code.NOT_YOUR_PURCHASE, "This link is for the registration with the e-mail the purchase "
                              "was made with: sign in with that one", field)
            now = utcnow()
            state = state_of(claim, now)
            if state == "CLAIMED":
                raise Refusal(Code.ALREADY_CLAIMED, "This claim link was used already", field)
            if state == "EXPIRED":
                raise Refusal(Code.LINK_EXPIRED, "This claim link has expired; ask the publisher to link the "
                              "subscription", field)
            row = claim.row
            start = await repository(context).start_event(tenant.id, row.subscription_id)
            offer_id = integer_id(str(((start.details or {}) if start else {}).get("offerId") or ""))
            codes = [e.entitlement_code for e in await OfferRepository(context.services.db).entitlements_by_offer_ids(
                tenant.id, [offer_id])] if offer_id is not None else []
            entitlements = [TemporaryEntitlement(  # BUY-4: the access a purchase gives, from the claim on
                tenant_id=tenant.id, crid=registration.crid, entitlement_code=code, starts_at=now,
                expires_at=now + TEMPORARY_ACCESS, reason="PURCHASE", created_at=now) for code in codes]
            event = link_event(tenant.id, crid=registration.crid, subscription_id=row.subscription_id, action="LINK",
                               role=OWNER, claimId=row.id)
            event.parent_id = start.id if start is not None else None
            limits = link_limits(tenant)

            def check(roles: list[str]) -> None:
                check_link_limits(roles, OWNER, field=field, **limits)

            try:
                link = await repository(context).claim(row, registration, now, entitlements, [event], check)
            except RuleError as error:
                raise Refusal.from_rule(error, Code.LINK_LIMIT_REACHED)
            except DuplicateRow:
                raise Refusal(Code.ALREADY_LINKED, "You are linked to this subscription already", field)
            if link is None:  # another request used the link first
                raise Refusal(Code.ALREADY_CLAIMED, "This claim link was used already", field)
        except Refusal as refusal:
            return ClaimPurchasePayload(user_errors=[refusal.as_error(ClaimPurchaseError)])
        context.forget_customer_links()
        return ClaimPurchasePayload(link=SubscriptionLink.from_row(link, registration.crid),
                                    subscription=await context.loaders.subscription_by_id.load(row.subscription_id))
