"""BUY-1..BUY-5 and OFR-4 as plain functions (domain/purchases.py): the duplicate check, country-only
addresses, the customer reference number, phones, the subscription name and the upstream keys. The purchase
flow itself is tested through the API in tests/graphql/purchases/; these pin each value for `make mutate`."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from domain.money import RuleError
from domain.offers import CheckCriteria
from domain.purchases import (
    ACTIVE_SUBSCRIPTION_EXISTS,
    EXISTING_STATUSES,
    FLAG_MESSAGES,
    STOPPED_RECENTLY_DAYS,
    COUNTRY_NAMES,
    COUNTRY_ONLY_MATRIX_ONLY,
    MAX_SUBSCRIPTION_NAME,
    STOPPED_STATUSES,
    TEMPORARY_ACCESS,
    Address,
    Applicant,
    SubscriptionValidation,
    ValidationFlag,
    check_search_criteria,
    country_name,
    customer_reference_number,
    flags_matched,
    is_same_subscription,
    luhn_check_digit,
    merged_phones,
    ordered,
    purchase_address,
    stopped_on,
    upstream_keys,
    validate_subscription_name,
    validation_failures,
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


def test_ofr4_the_match_ignores_the_status():
    """OFR-4 matches whatever the status; BUY-7 then asks what the status means."""
    for status in ("STOPPED", "PERMANENTLY_STOPPED", "SUSPENDED", None):
        assert is_same_subscription(ALL, APPLICANT, record(status=status)) is True


@pytest.mark.parametrize("changes", [
    {"productCode": "P2"},
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


# -- BUY-6 / BUY-7 -------------------------------------------------------------------------------------------
TODAY = date(2026, 3, 31)
EVERY_FLAG = SubscriptionValidation(no_existing=True, stopped_recently=True, outstanding_balance=True)
N, S, O = (ValidationFlag.NO_EXISTING_SUBSCRIPTION, ValidationFlag.SUBSCRIPTION_STOPPED_RECENTLY,
           ValidationFlag.NO_OUTSTANDING_BALANCE)


def test_buy7_constants_and_messages():
    assert EXISTING_STATUSES == {"ACTIVE", "PAUSED", "IN_GRACE"}
    assert STOPPED_RECENTLY_DAYS == 30
    assert [flag.value for flag in ValidationFlag] == [
        "NO_EXISTING_SUBSCRIPTION", "SUBSCRIPTION_STOPPED_RECENTLY", "NO_OUTSTANDING_BALANCE"]
    assert FLAG_MESSAGES == {
        N: ACTIVE_SUBSCRIPTION_EXISTS,
        S: "A subscription with the same characteristics was stopped in the last 30 days; the purchase cannot be "
           "completed",
        O: "A subscription with the same characteristics has an outstanding balance; the purchase cannot be "
           "completed",
    }


def test_buy6_no_flag_no_check():
    assert SubscriptionValidation().flags() == []
    assert SubscriptionValidation().runs is False
    assert validation_failures(SubscriptionValidation(), ALL, APPLICANT, [record(balance="-5")], TODAY) == set()


@pytest.mark.parametrize("validation,flags", [
    (SubscriptionValidation(no_existing=True), [N]),
    (SubscriptionValidation(stopped_recently=True), [S]),
    (SubscriptionValidation(outstanding_balance=True), [O]),
    (SubscriptionValidation(outstanding_balance=True, no_existing=True), [N, O]),
    (EVERY_FLAG, [N, S, O]),
])
def test_buy6_the_flags_set_in_order(validation, flags):
    assert validation.flags() == flags
    assert validation.runs is True


@pytest.mark.parametrize("status", ["ACTIVE", "PAUSED", "IN_GRACE"])
def test_buy7_existing_is_active_paused_or_in_grace(status):
    assert flags_matched(EVERY_FLAG, record(status=status), TODAY) == {N}
    assert flags_matched(SubscriptionValidation(no_existing=True), record(status=status), TODAY) == {N}
    assert flags_matched(SubscriptionValidation(stopped_recently=True), record(status=status, stopDate="2026-03-30"),
                         TODAY) == set()


@pytest.mark.parametrize("status", ["SUSPENDED", "PENDING", None])
def test_buy7_other_statuses_are_not_existing(status):
    assert flags_matched(EVERY_FLAG, record(status=status), TODAY) == set()


@pytest.mark.parametrize("status", ["STOPPED", "PERMANENTLY_STOPPED"])
@pytest.mark.parametrize("stopped,tripped", [
    ("2026-03-31", True), ("2026-03-01", True),    # today - 30: still recent
    ("2026-02-28", False), ("2025-03-31", False),  # today - 31: no longer
])
def test_buy7_stopped_recently_is_at_most_30_days_ago_tenant_time(status, stopped, tripped):
    found = flags_matched(EVERY_FLAG, record(status=status, stopDate=stopped), TODAY)
    assert found == ({S} if tripped else set())
    only = SubscriptionValidation(stopped_recently=True)
    assert flags_matched(only, record(status=status, stopDate=stopped), TODAY) == ({S} if tripped else set())
    assert flags_matched(SubscriptionValidation(no_existing=True, outstanding_balance=True),
                         record(status=status, stopDate=stopped), TODAY) == set()


def test_buy7_a_stopped_subscription_without_a_day_is_not_recent():
    assert flags_matched(EVERY_FLAG, record(status="STOPPED"), TODAY) == set()
    assert flags_matched(EVERY_FLAG, record(status="STOPPED", stopDate="", endDate=None), TODAY) == set()


def test_buy7_the_stop_day_is_stopdate_else_enddate():
    assert stopped_on({"stopDate": "2026-03-20T10:00:00Z", "endDate": "2025-01-01"}) == date(2026, 3, 20)
    assert stopped_on({"endDate": "2026-03-21"}) == date(2026, 3, 21)
    assert stopped_on({"stopDate": date(2026, 3, 22)}) == date(2026, 3, 22)
    assert stopped_on({"stopDate": "not a day", "endDate": "2026-03-23"}) == date(2026, 3, 23)
    assert stopped_on({"stopDate": "not a day"}) is None
    assert stopped_on({"stopDate": None, "endDate": ""}) is None
    assert stopped_on({}) is None
    assert flags_matched(EVERY_FLAG, record(status="STOPPED", endDate="2026-03-15"), TODAY) == {S}


@pytest.mark.parametrize("balance,tripped", [
    ("-0.01", True), (Decimal("-20"), True), (-3, True),
    ("0", False), ("0.00", False), ("0.01", False), (None, False), ("", False), ("n/a", False),
])
def test_buy7_outstanding_is_a_balance_below_zero_whatever_the_status(balance, tripped):
    for status in ("SUSPENDED", "STOPPED"):
        found = flags_matched(SubscriptionValidation(outstanding_balance=True), record(status=status, balance=balance),
                              TODAY)
        assert found == ({O} if tripped else set())
    assert flags_matched(SubscriptionValidation(no_existing=True, stopped_recently=True),
                         record(status="SUSPENDED", balance=balance), TODAY) == set()


def test_buy7_an_active_subscription_in_debt_trips_both():
    assert flags_matched(EVERY_FLAG, record(status="ACTIVE", balance="-1"), TODAY) == {N, O}


def test_buy7_validation_failures_unite_the_matching_records_only():
    stopped = record(status="STOPPED", stopDate="2026-03-30")
    in_debt = record(status="SUSPENDED", balance="-2")
    other_product = record(productCode="P9")

    assert validation_failures(EVERY_FLAG, ALL, APPLICANT, [stopped, in_debt, other_product], TODAY) == {S, O}
    assert validation_failures(EVERY_FLAG, ALL, APPLICANT, [other_product], TODAY) == set()
    assert validation_failures(EVERY_FLAG, ALL, APPLICANT, [], TODAY) == set()
    assert validation_failures(EVERY_FLAG, ALL, APPLICANT, [record(status="ACTIVE", productCode="P9", balance="-1"),
                                                            stopped], TODAY) == {S}


def test_buy7_a_refusal_names_the_flags_in_order():
    assert ordered({O, N, S}) == [N, S, O]
    assert ordered({O, S}) == [S, O]
    assert ordered(set()) == []


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
