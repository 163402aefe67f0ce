"""Offer rules: deliverability to a postal code (OFR-2, OFR-3), active-subscription-check criteria
(OFR-4), allowed registrations (OFR-5) and the catalog's lowest commercial price (OFR-6).

Decisions where the documents are silent:
- A digital offer delivers everywhere: it has no delivery areas and needs none (delivery areas are a
  print concept, "Missing Zip Code (Print Offers)"). Its validity period still applies.
- Validity is checked before the postal code: a past-dated offer is VALIDITY_PAST whatever the code; an
  offer whose validity has not started yet is not active (NO_ACTIVE_OFFERS).
- Across several offers, the answer is deliverable when any current offer delivers; otherwise the reason
  is the blocker closest to being fixed: OUTSIDE_DELIVERY_AREA when some offer is current (its areas are
  what is missing), else VALIDITY_PAST when some offer's validity has ended, else NO_ACTIVE_OFFERS.
- Postal codes compare without case or spaces, and a ZIP+4 (`10001-1234`) also matches its five-digit
  area (`10001`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Iterable, Optional, Sequence

from domain.money import RuleError


class DeliverabilityReason(Enum):
    """OFR-3: why no offer is available."""

    NO_ACTIVE_OFFERS = "NO_ACTIVE_OFFERS"
    OUTSIDE_DELIVERY_AREA = "OUTSIDE_DELIVERY_AREA"
    VALIDITY_PAST = "VALIDITY_PAST"


REASON_MESSAGES: dict[DeliverabilityReason, str] = {
    DeliverabilityReason.NO_ACTIVE_OFFERS: "There are no active offers.",
    DeliverabilityReason.OUTSIDE_DELIVERY_AREA: "The postal code is outside every delivery area of the offer.",
    DeliverabilityReason.VALIDITY_PAST: "The offer's validity is past-dated.",
}
# The message the source platform shows a CSR when no offer is available, whatever the reason (OFR-3).
NO_OFFERS_MESSAGE = (
    "Sorry, there are no offers available. Please ensure you have active offers set up in SolCon with "
    "appropriate Available Areas (if applicable) and the Offer Validity under Offer Groups → Additional "
    "Options is not past-dated."
)


@dataclass(frozen=True)
class OfferAvailability:
    """What deliverability needs to know of one offer."""

    digital: bool
    valid_from: date
    valid_to: Optional[date]
    delivery_areas: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Deliverability:
    deliverable: bool
    reason: Optional[DeliverabilityReason] = None

    @property
    def message(self) -> Optional[str]:
        return REASON_MESSAGES[self.reason] if self.reason else None


DELIVERABLE = Deliverability(True)


def normalize_postal_code(code: str) -> str:
    return "".join(code.split()).upper()


def postal_code_candidates(code: str) -> frozenset[str]:
    """The forms of `code` a delivery area may list: itself, and a ZIP+4's five-digit ZIP."""
    normalized = normalize_postal_code(code)
    head, dash, _ = normalized.partition("-")
    return frozenset({normalized, head} if dash and head else {normalized})


def validity_state(valid_from: date, valid_to: Optional[date], today: date) -> str:
    """CURRENT, PAST (validity ended before today) or FUTURE (not started yet). Both ends are inclusive."""
    if valid_to is not None and valid_to < today:
        return "PAST"
    if valid_from > today:
        return "FUTURE"
    return "CURRENT"


def offer_deliverability(offer: OfferAvailability, postal_code: str, today: date) -> Deliverability:
    """OFR-2/OFR-3 for one offer: validity first, then (print only) the delivery areas."""
    state = validity_state(offer.valid_from, offer.valid_to, today)
    if state == "PAST":
        return Deliverability(False, DeliverabilityReason.VALIDITY_PAST)
    if state == "FUTURE":
        return Deliverability(False, DeliverabilityReason.NO_ACTIVE_OFFERS)
    if offer.digital:
        return DELIVERABLE
    areas = {normalize_postal_code(area) for area in offer.delivery_areas}
    if areas & postal_code_candidates(postal_code):
        return DELIVERABLE
    return Deliverability(False, DeliverabilityReason.OUTSIDE_DELIVERY_AREA)


def any_offer_deliverability(offers: Iterable[OfferAvailability], postal_code: str, today: date) -> Deliverability:
    """OFR-2/OFR-3 across offers (e.g. every offer of a tenant): see the module docstring for the reason."""
    answers = [offer_deliverability(offer, postal_code, today) for offer in offers]
    if any(answer.deliverable for answer in answers):
        return DELIVERABLE
    reasons = {answer.reason for answer in answers}
    for reason in (DeliverabilityReason.OUTSIDE_DELIVERY_AREA, DeliverabilityReason.VALIDITY_PAST):
        if reason in reasons:
            return Deliverability(False, reason)
    return Deliverability(False, DeliverabilityReason.NO_ACTIVE_OFFERS)


def validate_postal_code_input(postal_code: str, field: Sequence[str] = ("zip",)) -> str:
    normalized = normalize_postal_code(postal_code or "")
    if not normalized:
        raise RuleError("`zip` must not be blank", field, "OFR-2")
    if len(normalized) > 16:
        raise RuleError("`zip` must be at most 16 characters", field, "OFR-2")
    return normalized


# -- OFR-4: active-subscription-check criteria ------------------------------------------------------
AT_LEAST_ONE = "Please select at least one search parameter"
ONE_MORE = "Please select one more search parameter"
NOT_BOTH_ADDRESS_AND_POSTAL_CODE = "Zip Code and Address cannot be enabled simultaneously"


@dataclass(frozen=True)
class CheckCriteria:
    last_name: bool = False
    phone: bool = False
    email: bool = False
    address: bool = False
    postal_code: bool = False

    def selected(self) -> list[str]:
        return [name for name in ("last_name", "phone", "email", "address", "postal_code") if getattr(self, name)]


def validate_check_criteria(criteria: CheckCriteria, field: Sequence[str] = ("checkCriteria",)) -> CheckCriteria:
    """OFR-4: at least one criterion; last name alone or postal code alone is not enough; address and postal
    code are never both set. Messages are the source platform's."""
    selected = criteria.selected()
    if not selected:
        raise RuleError(AT_LEAST_ONE, field, "OFR-4")
    if criteria.address and criteria.postal_code:
        raise RuleError(NOT_BOTH_ADDRESS_AND_POSTAL_CODE, field, "OFR-4")
    if selected in (["last_name"], ["postal_code"]):
        raise RuleError(ONE_MORE, field, "OFR-4")
    return criteria


def criteria_in_force(criteria: CheckCriteria, *, requires_address: bool) -> CheckCriteria:
    """BUY-8: an offer requiring a delivery or billing address compares the Address (its Postal code criterion is
    disabled); an offer requiring neither compares the Postal code (its Address criterion is disabled). A disabled
    criterion counts as off even when it was stored checked; the stored choice comes back if the requirement
    changes again."""
    if requires_address:
        return replace(criteria, postal_code=False)
    return replace(criteria, address=False)


def effective_check_fields(criteria: CheckCriteria, *, subscription_has_phone: bool) -> list[str]:
    """OFR-4: the fields an active-subscription check compares: the product always, then the selected
    criteria, without phone when the subscription has no phone."""
    return ["product"] + [name for name in criteria.selected() if name != "phone" or subscription_has_phone]


# -- OFR-5 ------------------------------------------------------------------------------------------
def validate_allowed_registrations(allowed: int, max_links: int,
                                   field: Sequence[str] = ("allowedRegistrations",)) -> int:
    """OFR-5: an offer's allowed registrations may not exceed `Subscription.MaxLinks`."""
    if allowed > max_links:
        raise RuleError(f"Enter a value less than the maximum limit i.e. {max_links}", field, "OFR-5")
    if allowed < 1:
        raise RuleError("Enter a value of at least 1", field, "OFR-5")
    return allowed


# -- OFR-6 ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TermPrice:
    rate: Decimal
    commercial: bool


def lowest_commercial_price(terms: Iterable[TermPrice]) -> Optional[Decimal]:
    """OFR-6: the lowest rate among the commercial terms (trial and other non-commercial terms excluded);
    None when the offer has no commercial term. The rate is the term's price before tax, as listed."""
    rates = [term.rate for term in terms if term.commercial]
    return min(rates) if rates else None
