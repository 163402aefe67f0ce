"""OFR-2/OFR-3 deliverability with reasons, OFR-4 check criteria, OFR-5 and OFR-6."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from domain.money import RuleError
from domain.offers import (
    criteria_in_force,
    AT_LEAST_ONE,
    NOT_BOTH_ADDRESS_AND_POSTAL_CODE,
    ONE_MORE,
    CheckCriteria,
    DeliverabilityReason,
    OfferAvailability,
    TermPrice,
    any_offer_deliverability,
    effective_check_fields,
    lowest_commercial_price,
    offer_deliverability,
    validate_allowed_registrations,
    validate_check_criteria,
    validate_postal_code_input,
)

TODAY = date(2026, 11, 23)
YEAR = timedelta(days=365)
PRINT = OfferAvailability(digital=False, valid_from=TODAY - YEAR, valid_to=TODAY + YEAR,
                          delivery_areas=frozenset({"10001", "10004"}))
DIGITAL = OfferAvailability(digital=True, valid_from=TODAY - YEAR, valid_to=None)
EXPIRED = OfferAvailability(digital=False, valid_from=TODAY - 2 * YEAR, valid_to=TODAY - timedelta(days=1),
                            delivery_areas=frozenset({"10001"}))
NOT_YET = OfferAvailability(digital=False, valid_from=TODAY + timedelta(days=1), valid_to=None,
                            delivery_areas=frozenset({"10001"}))


# -- OFR-2 / OFR-3 ----------------------------------------------------------------------------------
@pytest.mark.parametrize("zip_code", ["10001", " 10001 ", "10001-1234", "10004"])
def test_ofr2_print_offer_delivers_inside_its_areas(zip_code):
    answer = offer_deliverability(PRINT, zip_code, TODAY)
    assert answer.deliverable and answer.reason is None and answer.message is None


def test_ofr3_print_offer_outside_its_areas_says_so():
    answer = offer_deliverability(PRINT, "10002", TODAY)
    assert not answer.deliverable
    assert answer.reason is DeliverabilityReason.OUTSIDE_DELIVERY_AREA
    assert "outside every delivery area" in answer.message


def test_ofr3_print_offer_without_areas_delivers_nowhere():
    offer = OfferAvailability(digital=False, valid_from=TODAY, valid_to=TODAY)
    assert offer_deliverability(offer, "10001", TODAY).reason is DeliverabilityReason.OUTSIDE_DELIVERY_AREA


@pytest.mark.parametrize("zip_code", ["10001", "99999", "SW1A 1AA", "0150"])
def test_ofr2_digital_offer_delivers_everywhere(zip_code):
    assert offer_deliverability(DIGITAL, zip_code, TODAY).deliverable


def test_ofr3_past_validity_wins_over_the_postal_code():
    answer = offer_deliverability(EXPIRED, "10001", TODAY)
    assert answer == offer_deliverability(EXPIRED, "99999", TODAY)
    assert answer.reason is DeliverabilityReason.VALIDITY_PAST


def test_ofr3_validity_bounds_are_inclusive():
    last_day = OfferAvailability(digital=True, valid_from=TODAY - YEAR, valid_to=TODAY)
    first_day = OfferAvailability(digital=True, valid_from=TODAY, valid_to=None)
    assert offer_deliverability(last_day, "1", TODAY).deliverable
    assert offer_deliverability(first_day, "1", TODAY).deliverable
    assert offer_deliverability(last_day, "1", TODAY + timedelta(days=1)).reason is DeliverabilityReason.VALIDITY_PAST


def test_ofr3_expired_digital_offer_is_validity_past():
    expired = OfferAvailability(digital=True, valid_from=TODAY - YEAR, valid_to=TODAY - timedelta(days=1))
    assert offer_deliverability(expired, "1", TODAY).reason is DeliverabilityReason.VALIDITY_PAST


def test_ofr3_offer_not_started_is_not_active():
    assert offer_deliverability(NOT_YET, "10001", TODAY).reason is DeliverabilityReason.NO_ACTIVE_OFFERS


def test_ofr3_no_offers_at_all_is_no_active_offers():
    answer = any_offer_deliverability([], "10001", TODAY)
    assert not answer.deliverable and answer.reason is DeliverabilityReason.NO_ACTIVE_OFFERS


@pytest.mark.parametrize(("offers", "zip_code", "reason"), [
    ([PRINT, EXPIRED], "10001", None),
    ([PRINT, EXPIRED], "99999", DeliverabilityReason.OUTSIDE_DELIVERY_AREA),  # a current offer exists
    ([EXPIRED, NOT_YET], "10001", DeliverabilityReason.VALIDITY_PAST),
    ([NOT_YET], "10001", DeliverabilityReason.NO_ACTIVE_OFFERS),
    ([PRINT, DIGITAL], "99999", None),
])
def test_ofr3_across_offers_the_reason_is_the_closest_blocker(offers, zip_code, reason):
    answer = any_offer_deliverability(offers, zip_code, TODAY)
    assert answer.deliverable is (reason is None)
    assert answer.reason is reason


@pytest.mark.parametrize("zip_code", ["", "   ", "1" * 17])
def test_ofr2_blank_or_overlong_zip_is_a_rule_error(zip_code):
    with pytest.raises(RuleError) as error:
        validate_postal_code_input(zip_code)
    assert error.value.field == ["zip"]


# -- OFR-4 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("criteria", "message"), [
    (CheckCriteria(), AT_LEAST_ONE),
    (CheckCriteria(last_name=True), ONE_MORE),
    (CheckCriteria(postal_code=True), ONE_MORE),
    (CheckCriteria(address=True, postal_code=True), NOT_BOTH_ADDRESS_AND_POSTAL_CODE),
    (CheckCriteria(last_name=True, address=True, postal_code=True), NOT_BOTH_ADDRESS_AND_POSTAL_CODE),
])
def test_ofr4_invalid_criteria_have_the_source_messages(criteria, message):
    with pytest.raises(RuleError) as error:
        validate_check_criteria(criteria)
    assert str(error.value) == message
    assert error.value.rule == "OFR-4"
    assert error.value.field == ["checkCriteria"]


def test_ofr4_messages_are_exact():
    assert AT_LEAST_ONE == "Please select at least one search parameter"
    assert ONE_MORE == "Please select one more search parameter"


@pytest.mark.parametrize("criteria", [
    CheckCriteria(last_name=True, email=True),
    CheckCriteria(last_name=True, postal_code=True),
    CheckCriteria(postal_code=True, phone=True),
    CheckCriteria(email=True),
    CheckCriteria(phone=True),
    CheckCriteria(address=True),
    CheckCriteria(last_name=True, phone=True, address=True),
])
def test_ofr4_valid_criteria(criteria):
    assert validate_check_criteria(criteria) is criteria


def test_ofr4_product_always_checked_and_phone_skipped_without_a_phone():
    criteria = CheckCriteria(last_name=True, phone=True, email=True)
    assert effective_check_fields(criteria, subscription_has_phone=True) == ["product", "last_name", "phone", "email"]
    assert effective_check_fields(criteria, subscription_has_phone=False) == ["product", "last_name", "email"]


# -- OFR-5 ------------------------------------------------------------------------------------------
def test_ofr5_allowed_registrations_up_to_max_links():
    assert validate_allowed_registrations(10, 10) == 10
    with pytest.raises(RuleError) as error:
        validate_allowed_registrations(11, 10)
    assert str(error.value) == "Enter a value less than the maximum limit i.e. 10"


# -- OFR-6 ------------------------------------------------------------------------------------------
def test_ofr6_lowest_commercial_price_ignores_non_commercial_terms():
    terms = [TermPrice(Decimal("9.99"), True), TermPrice(Decimal("99.00"), True), TermPrice(Decimal("1.00"), False)]
    assert lowest_commercial_price(terms) == Decimal("9.99")


def test_ofr6_no_commercial_term_has_no_price():
    assert lowest_commercial_price([TermPrice(Decimal("1.00"), False)]) is None
    assert lowest_commercial_price([]) is None


def test_buy8_an_address_requirement_puts_address_in_force_else_postal_code():
    """BUY-8: an offer requiring an address compares the Address (Postal code off); one requiring none compares the
    Postal code (Address off); the other criteria are kept as stored."""
    stored = CheckCriteria(last_name=True, phone=True, email=True, address=True, postal_code=True)
    assert criteria_in_force(stored, requires_address=True) == CheckCriteria(
        last_name=True, phone=True, email=True, address=True, postal_code=False)
    assert criteria_in_force(stored, requires_address=False) == CheckCriteria(
        last_name=True, phone=True, email=True, address=False, postal_code=True)
    assert criteria_in_force(CheckCriteria(), requires_address=True) == CheckCriteria()
