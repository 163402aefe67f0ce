"""Subscriber details and address (ADR-1, ADR-3, ADR-4, ADR-5): pure rules, no I/O.

- ADR-5 phones: 7–15 digits, an optional leading `+`, separators ` -.()` only; normalised with `phonenumbers`
  (Google's libphonenumber): `+…` → E.164 (`+1 (555) 010-0200` → `+15550100200`; an unknown country code is
  refused), otherwise the digits alone (no country is assumed). Phones compare by digits: the same digits twice
  are one phone. The first phone is the primary. At most `MAX_PHONES` (decision).
- ADR-1 names and company: first and last name 1–100 characters, company 0–100 (empty removes it), no control
  characters (domain.text).
- ADR-3 a move is effective today or later in the tenant's time zone; the postal code matches the tenant's
  `PostalCodeMask` (SUB-3's check); a full address (house number, street, city, postal code, country), never
  country-only (BUY-2's).
- ADR-4 the Australian level designator and number come together or not at all, only for an `AU` address, and
  only while the tenant's `MelissaDataIntegration` is `GlobalOnPremise` or `GlobalCheckAPI` (SET-4; empty: refused,
  `LEVEL_NOT_ENABLED`, decision). An NCS comp-subscription move carries billing method and rate code when
  `Flow.AddressMove` is `RealTime` (required then); with it empty the move goes without them and giving them is
  refused (`MOVE_BILLING_NOT_ENABLED`, decision). Every other move refuses them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Optional, Sequence

import phonenumbers

from domain.availability import DEFAULT_POSTAL_CODE_MASK, postal_code_matches_mask
from domain.text import forbidden_character

MIN_PHONE_DIGITS, MAX_PHONE_DIGITS = 7, 15
MAX_PHONES = 5
MAX_TEXT = 100
MAX_CODE = 32
PHONE_SHAPE = re.compile(r"^\+?[0-9 \-.()]+$")
NCS_COMP_MOVE_KINDS = frozenset({"NCS"})
# SET-4 / ADR-4: the settings that switch the two ADR-4 features on, and the values that do
ADDRESS_MOVE_FLOW, REAL_TIME = "Flow.AddressMove", "RealTime"
MELISSA_DATA_INTEGRATION, GLOBAL_MELISSA = "MelissaDataIntegration", frozenset({"GlobalOnPremise", "GlobalCheckAPI"})


class SubscriberRuleError(ValueError):
    """A refused details or move request: `code` the stable error code, `field` the input path at fault (relative
    to the mutation's input), `rule` the domain.md id."""

    def __init__(self, code: str, message: str, field: Sequence[str], rule: str) -> None:
        super().__init__(message)
        self.code = code
        self.field = list(field)
        self.rule = rule


# -- ADR-5: phones ------------------------------------------------------------------------------------
def phone_digits(phone: str) -> str:
    return phonenumbers.normalize_digits_only(phone)


def normalize_phone(raw: str, field: Sequence[str] = ("phone",)) -> str:
    value = raw.strip()
    if not PHONE_SHAPE.match(value) or "+" in value[1:]:
        raise SubscriberRuleError("INVALID_PHONE", "A phone may hold digits, a leading + and the separators "
                                  "space - . ( ) only", field, "ADR-5")
    count = len(phone_digits(value))
    if not MIN_PHONE_DIGITS <= count <= MAX_PHONE_DIGITS:
        raise SubscriberRuleError("INVALID_PHONE", f"A phone has {MIN_PHONE_DIGITS} to {MAX_PHONE_DIGITS} digits, "
                                  f"not {count}", field, "ADR-5")
    if not value.startswith("+"):
        return phone_digits(value)
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or phonenumbers.region_code_for_country_code(parsed.country_code) == "ZZ":
        raise SubscriberRuleError("INVALID_PHONE", "The phone's country code is unknown", field, "ADR-5")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_phones(raw: Sequence[str], field: Sequence[str] = ("phones",)) -> list[str]:
    """The phones normalised, primary first, a repeat (same digits) dropped; at most `MAX_PHONES`."""
    if len(raw) > MAX_PHONES:
        raise SubscriberRuleError("INVALID_PHONE", f"At most {MAX_PHONES} phones", field, "ADR-5")
    out: list[str] = []
    seen: set[str] = set()
    for index, phone in enumerate(raw):
        normalized = normalize_phone(phone, [*field, str(index)])
        if phone_digits(normalized) not in seen:
            seen.add(phone_digits(normalized))
            out.append(normalized)
    return out


# -- ADR-1: names and company -------------------------------------------------------------------------
def clean_text(value: str, field: Sequence[str], *, required: bool, rule: str = "ADR-1",
               limit: int = MAX_TEXT) -> Optional[str]:
    text = value.strip()
    if required and not text:
        raise SubscriberRuleError("INVALID", f"`{field[-1]}` must not be blank", field, rule)
    if len(text) > limit:
        raise SubscriberRuleError("INVALID", f"`{field[-1]}` must be at most {limit} characters", field, rule)
    bad = forbidden_character(text)
    if bad is not None:
        raise SubscriberRuleError("INVALID", f"`{field[-1]}` must not contain the character U+{ord(bad):04X}",
                                  field, rule)
    return text or None


# -- ADR-3, ADR-4: moves ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Move:
    effective_date: date
    address: dict[str, str]
    billing_method: Optional[str]
    rate_code: Optional[str]


def validate_move(*, effective_date: date, today: date, address: dict[str, Optional[str]], postal_code_mask: str | None,
                  circulation_kind: str, subscription_kind: str, billing_method: Optional[str],
                  rate_code: Optional[str], address_move_flow: Optional[str],
                  melissa_data_integration: Optional[str]) -> Move:
    """`address`: houseNumber, streetName, city, postalCode, country, levelDesignator, levelNumber (raw input).
    `address_move_flow`, `melissa_data_integration`: the tenant's SET-4 settings of those names (ADR-4).
    Fields are relative to the mutation's input."""
    if effective_date < today:
        raise SubscriberRuleError("DATE_IN_PAST", f"A move is effective today ({today.isoformat()}) or later, in the "
                                  "tenant's time zone", ["effectiveDate"], "ADR-3")
    cleaned: dict[str, str] = {}
    for name in ("houseNumber", "streetName", "city", "postalCode", "country"):
        value = clean_text(address.get(name) or "", ["address", name], required=True, rule="ADR-3")
        cleaned[name] = value  # type: ignore[assignment]
    cleaned["country"] = cleaned["country"].upper()
    mask = (postal_code_mask or "").strip() or DEFAULT_POSTAL_CODE_MASK
    if not postal_code_matches_mask(cleaned["postalCode"], mask):
        raise SubscriberRuleError("INVALID_POSTAL_CODE", f"The postal code must match the format {mask} (9 a digit, "
                                  "A a letter, * any character)", ["address", "postalCode"], "ADR-3")
    level = {name: clean_text(address.get(name) or "", ["address", name], required=False, rule="ADR-4",
                              limit=MAX_CODE) for name in ("levelDesignator", "levelNumber")}
    if (level["levelDesignator"] is None) != (level["levelNumber"] is None):
        missing = "levelNumber" if level["levelNumber"] is None else "levelDesignator"
        raise SubscriberRuleError("INVALID", "A level designator and number come together", ["address", missing],
                                  "ADR-4")
    if level["levelDesignator"] is not None:
        if cleaned["country"] != "AU":
            raise SubscriberRuleError("INVALID", "A level designator and number belong to an Australian (AU) "
                                      "address", ["address", "levelDesignator"], "ADR-4")
        if (melissa_data_integration or "") not in GLOBAL_MELISSA:
            raise SubscriberRuleError("LEVEL_NOT_ENABLED", "A level designator and number are accepted only when "
                                      "MelissaDataIntegration is GlobalOnPremise or GlobalCheckAPI",
                                      ["address", "levelDesignator"], "ADR-4")
        cleaned.update(level)  # type: ignore[arg-type]
    billing = clean_text(billing_method or "", ["billingMethod"], required=False, rule="ADR-4", limit=MAX_CODE)
    rate = clean_text(rate_code or "", ["rateCode"], required=False, rule="ADR-4", limit=MAX_CODE)
    comp = subscription_kind == "COMPLIMENTARY" and circulation_kind in NCS_COMP_MOVE_KINDS
    real_time = (address_move_flow or "") == REAL_TIME
    if comp and not real_time:
        if billing is not None or rate is not None:
            raise SubscriberRuleError("MOVE_BILLING_NOT_ENABLED", "A billing method and rate code go with an NCS "
                                      "comp-subscription move only when Flow.AddressMove is RealTime",
                                      ["billingMethod" if billing else "rateCode"], "ADR-4")
        return Move(effective_date, cleaned, None, None)
    if comp and (billing is None or rate is None):
        raise SubscriberRuleError("MOVE_BILLING_REQUIRED", "An NCS comp-subscription move needs a billing method and "
                                  "a rate code", ["billingMethod" if billing is None else "rateCode"], "ADR-4")
    if not comp and (billing is not None or rate is not None):
        raise SubscriberRuleError("MOVE_BILLING_NOT_SUPPORTED", "A billing method and rate code belong to NCS "
                                  "comp-subscription moves only", ["billingMethod" if billing else "rateCode"], "ADR-4")
    return Move(effective_date, cleaned, billing, rate)
