"""BUY-1..BUY-5 and OFR-4 as plain functions (domain/purchases.py): the duplicate check, country-only
addresses, the customer reference number, phones, the subscription name and the upstream keys. The purchase
flow itself is tested through the API in tests/graphql/purchases/; these pin each value for `make mutate`."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.money import RuleError
from domain.offers import CheckCriteria
from domain.purchases import (
    ACTIVE_SUBSCRIPTION_EXISTS,
    COUNTRY_NAMES,
    COUNTRY_ONLY_MATRIX_ONLY,
    MAX_SUBSCRIPTION_NAME,
    STOPPED_STATUSES,
    TEMPORARY_ACCESS,
    Address,
    Applicant,
    check_search_criteria,
    country_name,
    customer_reference_number,
    find_same_subscription,
    is_same_subscription,
    luhn_check_digit,
    merged_phones,
    purchase_address,
    upstream_keys,
    validate_subscription_name,
)

FIELD = ["input", "subscriber", "address"]
HOME = Address("12", "Main St", "Springfield", "12345", "US")


def test_buy_constants():
    assert STOPPED_STATUSES == {"STOPPED", "PERMANENTLY_STOPPED"}
    assert (TEMPORARY_ACCESS, MAX_SUBSCRIPTION_NAME) == (timedelta(days=7), 100)
    assert ACTIVE_SUBSCRIPTION_EXISTS == ("An active subscription with the same characteristics already exists; the "
                                          "purchase cannot be completed")
    assert COUNTRY_ONLY_MATRIX_ONLY == "A country-only address is accepted for Matrix publications only"
    assert (COUNTRY_NAMES["US"], COUNTRY_NAMES["UK"], COUNTRY_NAMES["GB"], COUNTRY_NAMES["NO"], len(COUNTRY_NAMES)) == (
        "United States", "United Kingdom", "United Kingdom", "Norway", 22)


def test_address_as_record():
    assert HOME.as_record() == {"houseNumber": "12", "streetName": "Main St", "city": "Springfield",
                                "postalCode": "12345", "country": "US"}


# -- BUY-2 -------------------------------------------------------------------------------------------------------
def test_buy2_a_full_address_is_trimmed_and_kept():
    address = purchase_address(Address(" 12 ", " Main St ", " Springfield ", " 12345 ", " US "), "NCS")

    assert address == HOME


def test_buy2_a_country_only_address_on_matrix_gets_the_countrys_name_as_street():
    assert purchase_address(Address(country=" no "), "MATRIX") == Address("", "Norway", "", "", "no")
    assert purchase_address(Address(country="XX"), "MATRIX").street_name == "XX"


@pytest.mark.parametrize("kind", ["NCS", "SAXO", "CIRCPRO"])
def test_buy2_a_country_only_address_elsewhere_is_refused(kind):
    with pytest.raises(RuleError) as caught:
        purchase_address(Address(country="US"), kind)

    assert (str(caught.value), caught.value.field, caught.value.rule) == (COUNTRY_ONLY_MATRIX_ONLY, FIELD, "BUY-2")


@pytest.mark.parametrize("address,field,message", [
    (Address("12", "Main St", "Springfield", "12345", " "), "country", "The country is required"),
    (Address("12", "", "Springfield", "12345", "US"), "streetName",
     "`streetName` is required unless the address is country-only (Matrix)"),
    (Address("12", "Main St", "", "12345", "US"), "city",
     "`city` is required unless the address is country-only (Matrix)"),
    (Address("12", "Main St", "Springfield", "", "US"), "postalCode",
     "`postalCode` is required unless the address is country-only (Matrix)"),
    (Address("", "", "Springfield", "", "US"), "streetName",
     "`streetName` is required unless the address is country-only (Matrix)"),
])
def test_buy2_every_other_address_needs_street_city_postal_code_and_country(address, field, message):
    with pytest.raises(RuleError) as caught:
        purchase_address(address, "MATRIX")

    assert (str(caught.value), caught.value.field, caught.value.rule) == (message, [*FIELD, field], "BUY-2")


def test_buy2_a_house_number_alone_is_not_country_only():
    with pytest.raises(RuleError, match="streetName"):
        purchase_address(Address(house_number="1", country="US"), "MATRIX")


@pytest.mark.parametrize("name,camel", [("house_number", "houseNumber"), ("street_name", "streetName"),
                                        ("city", "city"), ("postal_code", "postalCode"), ("country", "country")])
def test_buy2_each_part_is_free_text(name, camel):
    values = HOME.as_record()
    parts = dict(house_number=values["houseNumber"], street_name=values["streetName"], city=values["city"],
                 postal_code=values["postalCode"], country=values["country"])
    parts[name] = parts[name] + "\u202e"

    with pytest.raises(RuleError) as caught:
        purchase_address(Address(**parts), "NCS")
    assert (caught.value.field, caught.value.rule) == ([*FIELD, camel], "BUY-2")


def test_buy2_country_name():
    assert (country_name(" us "), country_name("Narnia "), country_name("gb")) == (
        "United States", "Narnia", "United Kingdom")


# -- BUY-1 / OFR-4 -----------------------------------------------------------------------------------------------
APPLICANT = Applicant(product="P1", last_name="Lee", email="ann@example.com", phone="(555) 010-0000", address=HOME)


def record(**overrides) -> dict:
    subscriber = {"lastName": " LEE ", "email": "Ann@Example.com", "phones": ["555-010-0000", "555 999 1111"],
                  "address": {"houseNumber": "12", "streetName": "main st", "postalCode": "123 45"}}
    subscriber.update(overrides.pop("subscriber", {}))
    return {"status": "ACTIVE", "productCode": " p1 ", "subscriber": subscriber, **overrides}


ALL = CheckCriteria(last_name=True, phone=True, email=True, address=True)


def test_buy1_a_subscription_matching_every_criterion_is_the_same():
    assert is_same_subscription(ALL, APPLICANT, record()) is True
    assert is_same_subscription(CheckCriteria(postal_code=True, email=True), APPLICANT, record()) is True


@pytest.mark.parametrize("changes", [
    {"status": "STOPPED"}, {"status": "PERMANENTLY_STOPPED"}, {"productCode": "P2"},
    {"subscriber": {"lastName": "Leeds"}}, {"subscriber": {"email": "bob@example.com"}},
    {"subscriber": {"phones": ["555 000 0000"]}},
    {"subscriber": {"address": {"houseNumber": "14", "streetName": "Main St", "postalCode": "12345"}}},
    {"subscriber": {"address": {"houseNumber": "12", "streetName": "Elm St", "postalCode": "12345"}}},
    {"subscriber": {"address": {"houseNumber": "12", "streetName": "Main St", "postalCode": "54321"}}},
])
def test_buy1_any_difference_in_a_selected_criterion_is_another_subscription(changes):
    assert is_same_subscription(ALL, APPLICANT, record(**changes)) is False


def test_buy1_the_postal_code_criterion_compares_normalised_codes():
    criteria = CheckCriteria(postal_code=True, email=True)

    assert is_same_subscription(criteria, APPLICANT, record(subscriber={"address": {"postalCode": " 12345"}})) is True
    assert is_same_subscription(criteria, APPLICANT, record(subscriber={"address": {"postalCode": "12346"}})) is False
    assert is_same_subscription(criteria, APPLICANT, record(subscriber={"address": {}})) is False


def test_buy1_criteria_not_selected_are_not_compared():
    other = record(subscriber={"lastName": "X", "email": "x@example.com", "phones": ["1"], "address": {}})

    assert is_same_subscription(CheckCriteria(), APPLICANT, other) is True
    assert is_same_subscription(CheckCriteria(), APPLICANT, record(status="SUSPENDED")) is True


def test_ofr4_a_phone_is_skipped_when_either_side_has_none():
    phone_only = CheckCriteria(phone=True)

    assert is_same_subscription(phone_only, APPLICANT, record(subscriber={"phones": []})) is True
    assert is_same_subscription(phone_only, APPLICANT, record(subscriber={"phones": ["n/a"]})) is True
    assert is_same_subscription(phone_only, Applicant("P1", "Lee", "a@b.c", None, HOME),
                                record(subscriber={"phones": ["1"]})) is True
    assert is_same_subscription(phone_only, APPLICANT, record(subscriber={"phones": ["555 999 1111"]})) is False
    assert is_same_subscription(phone_only, APPLICANT, record(subscriber={"phones": None})) is True


def test_buy1_a_record_without_subscriber_matches_only_unselected_criteria():
    bare = {"status": "ACTIVE", "productCode": "P1"}

    assert is_same_subscription(CheckCriteria(), APPLICANT, bare) is True
    assert is_same_subscription(CheckCriteria(email=True), APPLICANT, bare) is False
    assert is_same_subscription(CheckCriteria(address=True), APPLICANT, bare) is False


def test_buy1_find_same_subscription_answers_the_first_match():
    first, second = record(id="a"), record(id="b")

    assert find_same_subscription(ALL, APPLICANT, [record(status="STOPPED"), first, second]) is first
    assert find_same_subscription(ALL, APPLICANT, [record(status="STOPPED")]) is None


@pytest.mark.parametrize("criteria,search", [
    (CheckCriteria(last_name=True, email=True), {"lastName": "Lee", "email": "ann@example.com"}),
    (CheckCriteria(postal_code=True, email=True), {"email": "ann@example.com", "postalCode": "12345"}),
    (CheckCriteria(address=True, last_name=True), {"lastName": "Lee", "postalCode": "12345"}),
    (CheckCriteria(phone=True), {"phone": "(555) 010-0000"}),
    (CheckCriteria(phone=True, email=True), {"email": "ann@example.com"}),  # phone only when nothing else
    (CheckCriteria(), {}),
])
def test_ofr4_the_circulation_search_uses_the_criteria_it_can_match_exactly(criteria, search):
    assert check_search_criteria(criteria, APPLICANT) == search


def test_ofr4_nothing_given_is_nothing_searched():
    nobody = Applicant(product="P1", last_name="", email="", phone="n/a", address=Address(country="US"))

    assert check_search_criteria(CheckCriteria(last_name=True, email=True, postal_code=True, phone=True),
                                 nobody) == {}


# -- BUY-3 -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("number,digit", [("7992739871", "3"), ("0", "0"), ("1", "8"), ("12345", "5"),
                                          ("4", "2"), ("5", "9"), ("9", "1"), ("18", "2")])
def test_buy3_the_luhn_check_digit(number, digit):
    assert luhn_check_digit(number) == digit


@pytest.mark.parametrize("number", ["", "12a", "-1"])
def test_buy3_a_check_digit_needs_digits(number):
    with pytest.raises(ValueError, match="^a check digit needs a non-empty string of digits$"):
        luhn_check_digit(number)


def test_buy3_the_crn_is_the_account_numbers_digits_and_its_check_digit():
    assert customer_reference_number("A-799 273 9871") == "79927398713"


# -- BUY-5 -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("existing,given,merged", [
    ([], " 555 1 ", ["555 1"]),
    (["n/a"], "5551", ["5551"]),
    (["5551", "5552"], None, ["5551", "5552"]),
    (["5551", "5552"], "n/a", ["5551", "5552"]),
    (["5551", "5552"], "555-2", ["5551", "5552"]),
    (["5551", "5552"], " 5553 ", ["5553", "5551"]),
    (["n/a", "5551"], "5553", ["5553", "5551"]),
])
def test_buy5_the_given_phone_becomes_the_primary_keeping_the_old_primary(existing, given, merged):
    assert merged_phones(existing, given) == merged


# -- BUY-4 -------------------------------------------------------------------------------------------------------
def test_buy4_a_subscription_name_is_trimmed_free_text_of_at_most_100_characters():
    assert validate_subscription_name("  Home  ") == "Home"
    assert validate_subscription_name("   ") is None and validate_subscription_name(None) is None
    assert validate_subscription_name("n" * 100) == "n" * 100
    with pytest.raises(RuleError) as caught:
        validate_subscription_name("n" * 101)
    assert (str(caught.value), caught.value.field, caught.value.rule) == (
        "The subscription name must be at most 100 characters", ["input", "subscriptionName"], "BUY-4")
    with pytest.raises(RuleError) as caught:
        validate_subscription_name("a\x00", ("input", "name"))
    assert (caught.value.field, caught.value.rule) == (["input", "name"], "BUY-4")


def test_buy4_upstream_keys_name_the_attempt():
    assert upstream_keys("NCSDEMO", "k1", 2) == {
        "reference": "purchase:NCSDEMO:k1:2", "sale": "purchase-sale:NCSDEMO:k1:2",
        "void": "purchase-void:NCSDEMO:k1:2", "create": "purchase:NCSDEMO:k1:2",
        "cancel": "purchase-cancel:NCSDEMO:k1:2"}
