"""Offers, their groups and terms, the catalog (OFR-1, OFR-6), deliverability (OFR-2, OFR-3) and cost
quotes (FEE-1, FEE-2, FEE-5).

Scalar fields are plain attributes filled when a row becomes a type; relations (group, terms, delivery
areas, included entitlements) resolve through per-request loaders, one SQL query per relation per level.
Amounts are `Money` in the tenant's currency (MNY-1).
"""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Optional

import strawberry

from auth.permissions import ANYONE, guarded_reference
from strawberry.types import Info

from domain.fees import ProcessingFeeQuote, SubscriptionCostQuote
from domain.ids import integer_id
from domain.offers import Deliverability, TermPrice, lowest_commercial_price
from schema.common import Money


@strawberry.type(description="A group of offers (OFR-1).")
class OfferGroup:
    id: strawberry.ID
    name: str
    category: str

    @classmethod
    def from_row(cls, row) -> "OfferGroup":
        return cls(id=strawberry.ID(str(row.id)), name=row.name, category=row.category)


@strawberry.type(description="A term of an offer and its rate (OFR-1).")
class OfferTerm:
    id: strawberry.ID
    offer_id: strawberry.ID
    code: str = strawberry.field(description="e.g. 1M, 13W, TRIAL.")
    length: int
    length_unit: str = strawberry.field(description="DAY, WEEK, MONTH or YEAR.")
    rate: Money = strawberry.field(description="Price of the term before tax.")
    tax: Money
    amount: Money = strawberry.field(description="rate + tax.")
    commercial: bool = strawberry.field(description="False for trial and other non-commercial terms.")

    @classmethod
    def from_row(cls, row, currency: str) -> "OfferTerm":
        return cls(id=strawberry.ID(str(row.id)), offer_id=strawberry.ID(str(row.offer_id)), code=row.code,
                   length=row.length, length_unit=row.length_unit, rate=Money.of(row.rate, currency),
                   tax=Money.of(row.tax, currency), amount=Money.of(row.rate + row.tax, currency),
                   commercial=row.commercial)


@strawberry.type(description=(
    "The criteria of an offer's active-subscription check (OFR-4); the product is always part of the check."
))
class ActiveSubscriptionCheck:
    last_name: bool
    phone: bool = strawberry.field(description="Skipped for a subscription without a phone.")
    email: bool
    address: bool
    postal_code: bool
    no_existing_subscription: bool = strawberry.field(default=False, description=(
        "Validation flag: refuse a purchase matching an ACTIVE, PAUSED or IN_GRACE subscription (BUY-6, BUY-7)."))
    subscription_stopped_recently: bool = strawberry.field(default=False, description=(
        "Validation flag: refuse a purchase matching a subscription stopped in the last 30 days, tenant time "
        "(BUY-6, BUY-7)."))
    no_outstanding_balance: bool = strawberry.field(default=False, description=(
        "Validation flag: refuse a purchase matching a subscription with a balance below zero, any status; a "
        "credit never blocks (BUY-6, BUY-7)."))
    requires_delivery_address: bool = strawberry.field(default=False, description=(
        "Address requirement: with this or `requiresBillingAddress` the check compares the Address, and Postal "
        "code counts as off; with neither, the Postal code, and Address counts as off (BUY-8)."))
    requires_billing_address: bool = strawberry.field(default=False, description=(
        "Address requirement; see `requiresDeliveryAddress` (BUY-8)."))

    @strawberry.field(description=(
        "Whether a purchase runs the check: only when a validation flag is set (BUY-6: no flag, no check)."))
    def runs(self) -> bool:
        return self.no_existing_subscription or self.subscription_stopped_recently or self.no_outstanding_balance


@strawberry.federation.type(keys=["id"], description="An offer customers can subscribe to (OFR-1).")
class Offer:
    id: strawberry.ID
    name: str
    vendor: str
    logo_url: Optional[str]
    short_description: str
    category: str
    trial_available: bool
    digital: bool = strawberry.field(description="A digital offer delivers to every postal code.")
    activation_fee: Money = strawberry.field(description="0.00 when the offer has none.")
    valid_from: date
    valid_to: Optional[date] = strawberry.field(description="Last day of validity (inclusive); null: open-ended.")
    allowed_registrations: int
    active_subscription_check: ActiveSubscriptionCheck
    offer_id: strawberry.Private[int]
    group_id: strawberry.Private[int]

    @strawberry.field(description="The offer's group.")
    async def group(self, info: Info) -> Optional[OfferGroup]:
        return await info.context.loaders.offer_group_by_id.load(self.group_id)

    @strawberry.field(description="The offer's terms with their rates.")
    async def terms(self, info: Info) -> list[OfferTerm]:
        return await info.context.loaders.terms_by_offer_id.load(self.offer_id)

    @strawberry.field(description="Postal codes a print offer delivers to; empty for a digital offer (OFR-1).")
    async def delivery_areas(self, info: Info) -> list[str]:
        return await info.context.loaders.delivery_areas_by_offer_id.load(self.offer_id)

    @strawberry.field(description="Codes of the entitlements a subscription to this offer includes (ENT-2).")
    async def entitlement_codes(self, info: Info) -> list[str]:
        return await info.context.loaders.entitlement_codes_by_offer_id.load(self.offer_id)

    @strawberry.field(description="The lowest rate among the commercial terms; null without one (OFR-6).")
    async def lowest_commercial_price(self, info: Info) -> Optional[Money]:
        terms = await info.context.loaders.terms_by_offer_id.load(self.offer_id)
        return lowest_price(terms)

    @classmethod
    def from_row(cls, row, currency: str) -> "Offer":
        return cls(
            id=strawberry.ID(str(row.id)), name=row.name, vendor=row.vendor, logo_url=row.logo_url,
            short_description=row.short_description, category=row.category, trial_available=row.trial_available,
            digital=row.digital, activation_fee=Money.of(row.activation_fee or 0, currency),
            valid_from=row.valid_from, valid_to=row.valid_to, allowed_registrations=row.allowed_registrations,
            active_subscription_check=ActiveSubscriptionCheck(
                last_name=row.check_last_name, phone=row.check_phone, email=row.check_email,
                address=row.check_address, postal_code=row.check_postal_code,
                no_existing_subscription=row.validate_no_existing,
                subscription_stopped_recently=row.validate_stopped_recently,
                no_outstanding_balance=row.validate_outstanding_balance,
                requires_delivery_address=row.requires_delivery_address,
                requires_billing_address=row.requires_billing_address,
            ),
            offer_id=row.id, group_id=row.group_id,
        )

    @guarded_reference(ANYONE)
    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> "Offer | None":
        offer_id = parse_offer_id(id)
        return None if offer_id is None else await info.context.loaders.offer_by_id.load(offer_id)


def parse_offer_id(value) -> Optional[int]:
    """Offer ids are integers; anything else names no offer (null, not an error)."""
    return integer_id(value)


def lowest_price(terms: list[OfferTerm]) -> Optional[Money]:
    """OFR-6 over already-loaded terms."""
    price = lowest_commercial_price(TermPrice(term.rate.amount, term.commercial) for term in terms)
    if price is None:
        return None
    currency = next(term.rate.currency for term in terms)
    return Money.of(price, currency)


@strawberry.type(description=(
    "An offer as a product card of the catalog: vendor, logo, name, short description, trial availability "
    "and lowest commercial price (OFR-6)."
))
class CatalogCard:
    offer_id: strawberry.ID
    vendor: str
    logo_url: Optional[str]
    name: str
    short_description: str
    category: str
    trial_available: bool
    lowest_commercial_price: Optional[Money] = strawberry.field(
        description="The lowest rate among the offer's commercial terms; null without one.")
    offer: Offer = strawberry.field(description="The offer behind the card.")


@strawberry.enum(description="OFR-3: why an offer does not deliver to a postal code.")
class ZipDeliverabilityReason(Enum):
    NO_ACTIVE_OFFERS = "NO_ACTIVE_OFFERS"
    OUTSIDE_DELIVERY_AREA = "OUTSIDE_DELIVERY_AREA"
    VALIDITY_PAST = "VALIDITY_PAST"


@strawberry.type(description="Whether an offer (or any offer) delivers to a postal code, and why not (OFR-2, OFR-3).")
class ZipDeliverability:
    zip: str = strawberry.field(description="The postal code asked about, normalized (no spaces, upper case).")
    offer_id: Optional[strawberry.ID] = strawberry.field(description="The offer asked about; null: any offer.")
    deliverable: bool
    reason: Optional[ZipDeliverabilityReason] = strawberry.field(description="Null when deliverable.")
    message: Optional[str] = strawberry.field(description="The reason in words; null when deliverable.")

    @classmethod
    def of(cls, answer: Deliverability, zip_code: str, offer_id: Optional[int]) -> "ZipDeliverability":
        return cls(zip=zip_code, offer_id=strawberry.ID(str(offer_id)) if offer_id is not None else None,
                   deliverable=answer.deliverable,
                   reason=ZipDeliverabilityReason(answer.reason.value) if answer.reason else None,
                   message=answer.message)


@strawberry.type(description=(
    "The cost of an offer term for a payment type (FEE-5): the activation fee is always present; the "
    "processing fee and its tax only when they apply (FEE-1, FEE-2); total = rate + tax + activation fee "
    "+ processing fee + processing fee tax, each part rounded on its own (MNY-2)."
))
class SubscriptionCost:
    offer_id: strawberry.ID
    term_id: strawberry.ID
    payment_type: int = strawberry.field(description="1 credit card, 2 bank account, 3 cash, 4 check.")
    rate: Money
    tax: Money
    activation_fee: Money
    processing_fee: Optional[Money] = strawberry.field(description="Null when no processing fee applies.")
    processing_fee_tax: Optional[Money] = strawberry.field(description="Null when no fee tax applies.")
    total: Money
    term: OfferTerm

    @classmethod
    def of(cls, quote: SubscriptionCostQuote, offer_id: int, term: OfferTerm, currency: str) -> "SubscriptionCost":
        def money(amount):
            return Money.of(amount, currency) if amount is not None else None

        return cls(offer_id=strawberry.ID(str(offer_id)), term_id=term.id, payment_type=int(quote.payment_type),
                   rate=money(quote.rate), tax=money(quote.tax), activation_fee=money(quote.activation_fee),
                   processing_fee=money(quote.processing_fee), processing_fee_tax=money(quote.fee_tax),
                   total=money(quote.total), term=term)


@strawberry.type(description=(
    "The credit-card processing fee on an amount (FEE-1, FEE-2): zero, with `applies` false, unless the "
    "tenant enables the fee and the payment type is credit card."
))
class ProcessingFee:
    amount: Money = strawberry.field(description="The amount the fee is computed on.")
    payment_type: int = strawberry.field(description="1 credit card, 2 bank account, 3 cash, 4 check.")
    applies: bool
    processing_fee: Money
    tax_applies: bool
    processing_fee_tax: Money
    total: Money = strawberry.field(description="amount + processing fee + processing fee tax.")

    @classmethod
    def of(cls, quote: ProcessingFeeQuote, currency: str) -> "ProcessingFee":
        return cls(amount=Money.of(quote.base, currency), payment_type=int(quote.payment_type),
                   applies=quote.applies, processing_fee=Money.of(quote.fee, currency),
                   tax_applies=quote.tax_applies, processing_fee_tax=Money.of(quote.fee_tax, currency),
                   total=Money.of(quote.base + quote.fee + quote.fee_tax, currency))
