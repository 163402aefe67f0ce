"""Purchase (new start) rules as pure functions: the active-subscription check (BUY-1 with OFR-4's
criteria), country-only addresses (BUY-2), the customer reference number (BUY-3), the phones of an
existing subscriber (BUY-5) and what a purchase charges.

Decisions where the documents are silent:
- The check runs only when the offer sets a subscription-validation flag (BUY-6); a subscription it matches
  (OFR-4, whatever its status) then refuses the purchase for each flag it trips (BUY-7): "no existing
  subscription" — ACTIVE, PAUSED or IN_GRACE; "stopped recently" — STOPPED or PERMANENTLY_STOPPED at most 30
  days ago, tenant time; "no outstanding balance" — a balance below zero, any status. The product (the offer)
  is always compared (OFR-4).
- A phone criterion is skipped for an existing subscription without phones (OFR-4) and when the buyer
  gives no phone. The circulation search is asked for the criteria it can match exactly (last name,
  e-mail, postal code — an address is searched by its postal code and then compared in full); phones and
  the product are compared here, so a subscription without a phone is not filtered out upstream.
- BUY-3's check digit is Luhn (mod 10, weights 2,1 from the right), the MOD10V01 algorithm BPay
  customer reference numbers use: CRN = account number (digits only) + check digit.
- The purchase charges the first term: rate + tax + the offer's activation fee, plus the processing fee
  and its tax for a credit card (FEE-1, FEE-2, FEE-5) — the same total `subscriptionCost` quotes.
- A purchase grants the offer's entitlements temporarily (ENT-3) for `TEMPORARY_ACCESS` (7 days), until
  the circulation system's own records take over.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, Mapping, Sequence

from domain.money import RuleError
from domain.offers import CheckCriteria, normalize_postal_code
from domain.text import free_text

STOPPED_STATUSES = frozenset({"STOPPED", "PERMANENTLY_STOPPED"})
TEMPORARY_ACCESS = timedelta(days=7)
MAX_SUBSCRIPTION_NAME = 100
ACTIVE_SUBSCRIPTION_EXISTS = ("An active subscription with the same characteristics already exists; "
                              "the purchase cannot be completed")
COUNTRY_ONLY_MATRIX_ONLY = "A country-only address is accepted for Matrix publications only"
COUNTRY_NAMES = {
    "US": "United States", "CA": "Canada", "GB": "United Kingdom", "UK": "United Kingdom", "NO": "Norway",
    "SE": "Sweden", "DK": "Denmark", "FI": "Finland", "DE": "Germany", "FR": "France", "ES": "Spain",
    "IT": "Italy", "NL": "Netherlands", "BE": "Belgium", "IE": "Ireland", "AU": "Australia", "NZ": "New Zealand",
    "IS": "Iceland", "PL": "Poland", "PT": "Portugal", "CH": "Switzerland", "AT": "Austria",
}


@dataclass(frozen=True)
class Address:
    house_number: str = ""
    street_name: str = ""
    city: str = ""
    postal_code: str = ""
    country: str = ""

    def as_record(self) -> dict[str, str]:
        return {"houseNumber": self.house_number, "streetName": self.street_name, "city": self.city,
                "postalCode": self.postal_code, "country": self.country}


def _clean(value: str | None) -> str:
    return (value or "").strip()


def purchase_address(address: Address, circulation_kind: str, field: Sequence[str] = ("input", "subscriber", "address")
                     ) -> Address:
    """BUY-2: a country-only address (country and nothing else) is accepted for MATRIX only, and goes to the
    circulation system with an empty house number and the country's name as street name. Any other address
    needs a street name, a city, a postal code and a country."""
    cleaned = Address(*(_clean(getattr(address, name)) for name in
                        ("house_number", "street_name", "city", "postal_code", "country")))
    for name, camel in (("house_number", "houseNumber"), ("street_name", "streetName"), ("city", "city"),
                        ("postal_code", "postalCode"), ("country", "country")):
        free_text(getattr(cleaned, name), [*field, camel], rule="BUY-2")  # issue 14 #15
    if not cleaned.country:
        raise RuleError("The country is required", [*field, "country"], "BUY-2")
    country_only = not (cleaned.house_number or cleaned.street_name or cleaned.city or cleaned.postal_code)
    if country_only:
        if circulation_kind != "MATRIX":
            raise RuleError(COUNTRY_ONLY_MATRIX_ONLY, [*field], "BUY-2")
        return replace(cleaned, house_number="", street_name=country_name(cleaned.country))
    for name, label in (("street_name", "streetName"), ("city", "city"), ("postal_code", "postalCode")):
        if not getattr(cleaned, name):
            raise RuleError(f"`{label}` is required unless the address is country-only (Matrix)", [*field, label],
                            "BUY-2")
    return cleaned


def country_name(country: str) -> str:
    return COUNTRY_NAMES.get(country.strip().upper(), country.strip())


# -- BUY-1: the active-subscription check -----------------------------------------------------------
@dataclass(frozen=True)
class Applicant:
    product: str
    last_name: str
    email: str
    phone: str | None
    address: Address


def _digits(value: str | None) -> str:
    return "".join(ch for ch in (value or "") if ch.isdigit())


def _fold(value: Any) -> str:
    return str(value or "").strip().casefold()


def check_search_criteria(criteria: CheckCriteria, applicant: Applicant) -> dict[str, str]:
    """The circulation search (SUB-2 fields) that finds every candidate duplicate; empty: nothing to search."""
    search: dict[str, str] = {}
    if criteria.last_name and applicant.last_name:
        search["lastName"] = applicant.last_name
    if criteria.email and applicant.email:
        search["email"] = applicant.email
    if (criteria.postal_code or criteria.address) and applicant.address.postal_code:
        search["postalCode"] = applicant.address.postal_code
    if not search and criteria.phone and _digits(applicant.phone):
        search["phone"] = applicant.phone
    return search


def is_same_subscription(criteria: CheckCriteria, applicant: Applicant, record: Mapping[str, Any]) -> bool:
    """OFR-4: a subscription to the same product whose subscriber matches every selected criterion, whatever
    its status (BUY-7 then asks what the status and balance of a match mean); phone is skipped when either side
    has none."""
    if _fold(record.get("productCode")) != _fold(applicant.product):
        return False
    subscriber = record.get("subscriber") or {}
    address = subscriber.get("address") or {}
    if criteria.last_name and _fold(subscriber.get("lastName")) != _fold(applicant.last_name):
        return False
    if criteria.email and _fold(subscriber.get("email")) != _fold(applicant.email):
        return False
    if criteria.phone:
        phones = {_digits(p) for p in subscriber.get("phones") or [] if _digits(p)}
        wanted = _digits(applicant.phone)
        if phones and wanted and wanted not in phones:
            return False
    if criteria.postal_code and normalize_postal_code(address.get("postalCode") or "") != normalize_postal_code(
            applicant.address.postal_code):
        return False
    if criteria.address:
        mine = applicant.address
        if (_fold(address.get("houseNumber")), _fold(address.get("streetName")),
                normalize_postal_code(address.get("postalCode") or "")) != (
                _fold(mine.house_number), _fold(mine.street_name), normalize_postal_code(mine.postal_code)):
            return False
    return True


# -- BUY-6, BUY-7: the offer's subscription validation ------------------------------------------------
class ValidationFlag(Enum):
    """BUY-6: the offer's subscription-validation flags, in the order a refusal names them."""

    NO_EXISTING_SUBSCRIPTION = "NO_EXISTING_SUBSCRIPTION"
    SUBSCRIPTION_STOPPED_RECENTLY = "SUBSCRIPTION_STOPPED_RECENTLY"
    NO_OUTSTANDING_BALANCE = "NO_OUTSTANDING_BALANCE"


EXISTING_STATUSES = frozenset({"ACTIVE", "PAUSED", "IN_GRACE"})  # BUY-7 (decision)
STOPPED_RECENTLY_DAYS = 30  # BUY-7 (decision): stopped on today - 30 still counts, today - 31 no longer
FLAG_MESSAGES = {
    ValidationFlag.NO_EXISTING_SUBSCRIPTION: ACTIVE_SUBSCRIPTION_EXISTS,
    ValidationFlag.SUBSCRIPTION_STOPPED_RECENTLY: (
        "A subscription with the same characteristics was stopped in the last 30 days; the purchase cannot be "
        "completed"),
    ValidationFlag.NO_OUTSTANDING_BALANCE: (
        "A subscription with the same characteristics has an outstanding balance; the purchase cannot be "
        "completed"),
}


@dataclass(frozen=True)
class SubscriptionValidation:
    """BUY-6: which validation flags the offer sets; with none, no check runs."""

    no_existing: bool = False
    stopped_recently: bool = False
    outstanding_balance: bool = False

    def flags(self) -> list[ValidationFlag]:
        return [flag for flag, on in ((ValidationFlag.NO_EXISTING_SUBSCRIPTION, self.no_existing),
                                      (ValidationFlag.SUBSCRIPTION_STOPPED_RECENTLY, self.stopped_recently),
                                      (ValidationFlag.NO_OUTSTANDING_BALANCE, self.outstanding_balance)) if on]

    @property
    def runs(self) -> bool:
        return bool(self.flags())


def stopped_on(record: Mapping[str, Any]) -> date | None:
    """The day a stopped subscription stopped: the circulation system's `stopDate`, else its `endDate` (a record
    stopped before the system kept a stop date). None when it gives neither."""
    for key in ("stopDate", "endDate"):
        value = record.get(key)
        if value:
            try:
                return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
            except ValueError:
                continue
    return None


def _balance(record: Mapping[str, Any]) -> Decimal:
    try:
        return Decimal(str(record.get("balance") or "0"))
    except InvalidOperation:
        return Decimal("0")


def flags_matched(validation: SubscriptionValidation, record: Mapping[str, Any], today: date
                  ) -> set[ValidationFlag]:
    """BUY-7 for one subscription the check matched (OFR-4): existing — ACTIVE, PAUSED or IN_GRACE; stopped
    recently — STOPPED or PERMANENTLY_STOPPED on a day at most 30 days before `today` (the tenant's); outstanding
    — a balance below zero, whatever the status. A credit (balance > 0) never blocks."""
    matched: set[ValidationFlag] = set()
    status = record.get("status")
    if validation.no_existing and status in EXISTING_STATUSES:
        matched.add(ValidationFlag.NO_EXISTING_SUBSCRIPTION)
    if validation.stopped_recently and status in STOPPED_STATUSES:
        day = stopped_on(record)
        if day is not None and (today - day).days <= STOPPED_RECENTLY_DAYS:
            matched.add(ValidationFlag.SUBSCRIPTION_STOPPED_RECENTLY)
    if validation.outstanding_balance and _balance(record) < 0:
        matched.add(ValidationFlag.NO_OUTSTANDING_BALANCE)
    return matched


def validation_failures(validation: SubscriptionValidation, criteria: CheckCriteria, applicant: Applicant,
                        records: Sequence[Mapping[str, Any]], today: date) -> set[ValidationFlag]:
    """BUY-6/BUY-7: the flags the candidates `records` trip (each must match the applicant, OFR-4)."""
    matched: set[ValidationFlag] = set()
    for record in records:
        if is_same_subscription(criteria, applicant, record):
            matched |= flags_matched(validation, record, today)
    return matched


def ordered(flags: set[ValidationFlag]) -> list[ValidationFlag]:
    return [flag for flag in ValidationFlag if flag in flags]


# -- BUY-3 ------------------------------------------------------------------------------------------
def luhn_check_digit(number: str) -> str:
    """The Luhn (mod 10) check digit of a string of digits."""
    if not number or not number.isdigit():
        raise ValueError("a check digit needs a non-empty string of digits")
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2 == 0:  # the rightmost digit of the payload is doubled
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def customer_reference_number(account_number: str) -> str:
    """BUY-3: the account number followed by its check digit (non-digits of the account number dropped)."""
    digits = _digits(account_number)
    return digits + luhn_check_digit(digits)


# -- BUY-5 ------------------------------------------------------------------------------------------
def merged_phones(existing: Sequence[str], given: str | None) -> list[str]:
    """BUY-5: no phones yet → the given phone becomes the primary; phones that do not include it → it
    becomes the primary and the old primary is kept as the other phone; otherwise nothing changes."""
    existing = [p for p in existing if _digits(p)]
    if not _digits(given):
        return list(existing)
    if not existing:
        return [given.strip()]
    if _digits(given) in {_digits(p) for p in existing}:
        return list(existing)
    return [given.strip(), existing[0]]


def validate_subscription_name(name: str | None, field: Sequence[str] = ("input", "subscriptionName")) -> str | None:
    """BUY-4: a purchase may name the subscription (at most 100 characters; blank means no name)."""
    name = free_text(_clean(name), field, rule="BUY-4") or ""
    if len(name) > MAX_SUBSCRIPTION_NAME:
        raise RuleError(f"The subscription name must be at most {MAX_SUBSCRIPTION_NAME} characters", field, "BUY-4")
    return name or None


def upstream_keys(tenant_code: str, key: str, attempt: int) -> dict[str, str]:
    """The references and idempotency keys one purchase attempt sends upstream (BUY-4). They name the attempt
    (its idempotency record), not only the client's key: a key released after a failed attempt starts a new
    attempt, which must make its own sale rather than have NavigaPay replay the first, voided one."""
    scope = f"{tenant_code}:{key}:{attempt}"
    return {"reference": f"purchase:{scope}", "sale": f"purchase-sale:{scope}", "void": f"purchase-void:{scope}",
            "create": f"purchase:{scope}", "cancel": f"purchase-cancel:{scope}"}
