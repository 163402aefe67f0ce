"""`purchaseClaim(token)`: what a claim link is about, for its owner only (BUY-10)."""

from __future__ import annotations

from typing import Annotated, Optional

import strawberry
from strawberry.types import Info

from auth.permissions import ANYONE, allow
from datasources.models import Payment, utcnow
from datasources.repositories.offers import OfferRepository
from datasources.repositories.users import aware
from domain.ids import integer_id
from resolvers.claim_flows import claim_of_link, is_claimant, repository, signed_in_registration, state_of
from schema.claims import PurchaseClaim, PurchaseClaimState
from schema.common import Money


@strawberry.type
class ClaimQueries:
    @strawberry.field(description=(
        "What a claim link (BUY-10) is about, for the page that claims it: the offer, term and charge of the "
        "subscription bought with the signed-in customer's e-mail. Null for anyone else (not signed in, another "
        "registration, a link that is not papergraph's): it says nothing about other people."),
        extensions=allow(ANYONE))
    async def purchase_claim(self, info: Info, token: Annotated[str, strawberry.argument(
            description="The token of the claim link.")]) -> Optional[PurchaseClaim]:
        context = info.context
        claim = await claim_of_link(context, token)
        if claim is None or not is_claimant(await signed_in_registration(context), claim):
            return None
        row, tenant = claim.row, context.tenant
        start = await repository(context).start_event(tenant.id, row.subscription_id)
        details = (start.details or {}) if start is not None else {}
        offer_id = integer_id(str(details.get("offerId") or ""))
        offers = await OfferRepository(context.services.db).offers_by_ids(tenant.id, [offer_id]) \
            if offer_id is not None else []
        payment = None
        if start is not None and start.payment_id:
            async with context.services.db.session() as session:
                payment = await session.get(Payment, start.payment_id)
        return PurchaseClaim(
            subscription_id=strawberry.ID(row.subscription_id),
            offer_id=strawberry.ID(str(offer_id)) if offer_id is not None else None,
            offer_name=offers[0].name if offers else None, term=details.get("term"),
            charged=Money.of(payment.total, payment.currency) if payment is not None else None,
            bought_at=aware(row.created_at), expires_at=claim.expires_at,
            state=PurchaseClaimState(state_of(claim, utcnow())))
