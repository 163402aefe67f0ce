"""Root query fields of the offers domain: `offers`, `catalog` (OFR-6), `offer`, `zipDeliverable` (OFR-2,
OFR-3), `subscriptionCost` (FEE-5) and `processingFee` (FEE-1, FEE-2).

Rule violations are BAD_USER_INPUT errors whose `field` names the argument at fault; unknown ids answer
null, never an error.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Iterator, Optional
from zoneinfo import ZoneInfo

import strawberry
from strawberry.types import Info

from auth.permissions import ANYONE, OFFERS, allow, reads

from domain.fees import ProcessingFeeSettings, parse_payment_type, processing_fee_quote, subscription_cost
from domain.money import RuleError, validate_amount
from domain.offers import (
    OfferAvailability,
    any_offer_deliverability,
    offer_deliverability,
    postal_code_candidates,
    validate_postal_code_input,
)
from resolvers.errors import CodedError
from schema.offers import (
    CatalogCard,
    Offer,
    ProcessingFee,
    SubscriptionCost,
    ZipDeliverability,
    lowest_price,
    parse_offer_id,
)
from schema.pagination import Connection, connection_from_page, page_window


@contextmanager
def as_bad_user_input() -> Iterator[None]:
    try:
        yield
    except RuleError as error:
        raise CodedError(str(error), field=error.field, rule=error.rule) from error


def tenant_today(info: Info) -> date:
    """Today in the tenant's time zone: validity periods are calendar days of the publisher."""
    return datetime.now(ZoneInfo(info.context.tenant.time_zone)).date()


@strawberry.type
class OfferQueries:
    @strawberry.field(description="The tenant's offers, by id, current or not (OFR-1).", extensions=allow(reads(OFFERS)))
    async def offers(self, info: Info, first: Optional[int] = None, after: Optional[str] = None
                     ) -> Optional[Connection[Offer]]:
        offset, limit = page_window(first, after, info.context.settings.max_page_size)
        loaders = info.context.loaders
        page = await loaders.offer_repository.list_offers(info.context.tenant.id, offset=offset, limit=limit)
        offers = [loaders.offer_from_row(row) for row in page.rows]
        loaders.prime_offers(offers)
        return connection_from_page(offers, offset, limit, page.total, page.has_more)

    @strawberry.field(description=(
        "The catalog: offers on sale today as product cards, filtered by category, vendor (both "
        "case-insensitive) and trial availability (OFR-6)."
    ), extensions=allow(ANYONE))
    async def catalog(
        self,
        info: Info,
        category: Optional[str] = None,
        vendor: Optional[str] = None,
        trial_available: Optional[bool] = None,
        first: Optional[int] = None,
        after: Optional[str] = None,
    ) -> Connection[CatalogCard]:
        offset, limit = page_window(first, after, info.context.settings.max_page_size)
        loaders = info.context.loaders
        page = await loaders.offer_repository.catalog(
            info.context.tenant.id, today=tenant_today(info), offset=offset, limit=limit,
            category=category, vendor=vendor, trial_available=trial_available,
        )
        offers = [loaders.offer_from_row(row) for row in page.rows]
        loaders.prime_offers(offers)
        # the cards' prices need every offer's terms: read with the page, and kept for `offer.terms`
        terms = loaders.prime_terms(page.terms or {})
        cards = [
            CatalogCard(offer_id=offer.id, vendor=offer.vendor, logo_url=offer.logo_url, name=offer.name,
                        short_description=offer.short_description, category=offer.category,
                        trial_available=offer.trial_available,
                        lowest_commercial_price=lowest_price(terms.get(offer.offer_id, [])), offer=offer)
            for offer in offers
        ]
        return connection_from_page(cards, offset, limit, page.total, page.has_more)

    @strawberry.field(description="An offer by id; null when the tenant has none with that id.",
                      extensions=allow(ANYONE))
    async def offer(self, info: Info, id: strawberry.ID) -> Optional[Offer]:
        offer_id = parse_offer_id(id)
        return None if offer_id is None else await info.context.loaders.offer_by_id.load(offer_id)

    @strawberry.field(description=(
        "Whether an offer delivers to a postal code and, when not, why: no active offers, postal code "
        "outside every delivery area, or validity past (OFR-2, OFR-3). A digital offer delivers to every "
        "postal code. Without `offerId`, whether any of the tenant's offers delivers. Null when `offerId` "
        "names no offer of the tenant."
    ), extensions=allow(ANYONE))
    async def zip_deliverable(self, info: Info, zip: str, offer_id: Optional[strawberry.ID] = None
                              ) -> Optional[ZipDeliverability]:
        with as_bad_user_input():
            postal_code = validate_postal_code_input(zip)
        today = tenant_today(info)
        loaders = info.context.loaders
        if offer_id is None:
            rows = await loaders.offer_repository.offers_delivering_to(info.context.tenant.id,
                                                                      postal_code_candidates(postal_code))
            offers = [OfferAvailability(digital=row.digital, valid_from=row.valid_from, valid_to=row.valid_to,
                                        delivery_areas=frozenset({postal_code}) if covers else frozenset())
                      for row, covers in rows]
            return ZipDeliverability.of(any_offer_deliverability(offers, postal_code, today), postal_code, None)
        key = parse_offer_id(offer_id)
        offer = None if key is None else await loaders.offer_by_id.load(key)
        if offer is None:
            return None
        areas = frozenset() if offer.digital else frozenset(await loaders.delivery_areas_by_offer_id.load(key))
        availability = OfferAvailability(digital=offer.digital, valid_from=offer.valid_from,
                                         valid_to=offer.valid_to, delivery_areas=areas)
        return ZipDeliverability.of(offer_deliverability(availability, postal_code, today), postal_code, key)

    @strawberry.field(description=(
        "The cost of an offer term for a payment type (1 credit card, 2 bank account, 3 cash, 4 check): "
        "rate, tax, the offer's activation fee (always), the processing fee and its tax when they apply, "
        "and the total (FEE-1, FEE-2, FEE-5). Null when the offer or the term is unknown."
    ), extensions=allow(ANYONE))
    async def subscription_cost(self, info: Info, offer_id: strawberry.ID, term_id: strawberry.ID,
                                payment_type: int) -> Optional[SubscriptionCost]:
        with as_bad_user_input():
            kind = parse_payment_type(payment_type)
        key = parse_offer_id(offer_id)
        if key is None:
            return None
        loaders = info.context.loaders
        offer = await loaders.offer_by_id.load(key)
        if offer is None:
            return None
        term = next((t for t in await loaders.terms_by_offer_id.load(key) if str(t.id) == str(term_id).strip()), None)
        if term is None:
            return None
        tenant = info.context.tenant
        quote = subscription_cost(term.rate.amount, term.tax.amount, offer.activation_fee.amount, kind,
                                  ProcessingFeeSettings.from_tenant(tenant.settings))
        return SubscriptionCost.of(quote, key, term, tenant.currency)

    @strawberry.field(description=(
        "The processing fee and its tax on an amount paid with a payment type (FEE-1, FEE-2). `amount` is "
        "everything the customer pays in the transaction; not negative, at most two decimal places."
    ), extensions=allow(ANYONE))
    async def processing_fee(self, info: Info, amount: Decimal, payment_type: int) -> ProcessingFee:
        with as_bad_user_input():
            base = validate_amount(amount, ("amount",))
            kind = parse_payment_type(payment_type)
        tenant = info.context.tenant
        quote = processing_fee_quote(base, kind, ProcessingFeeSettings.from_tenant(tenant.settings))
        return ProcessingFee.of(quote, tenant.currency)
