"""ADR-1, ADR-3, ADR-4, ADR-5 as plain functions (domain/subscriber.py): phones, names, moves. The flows are tested
through the API (updateSubscriberDetails, moveSubscriber); these pin each value for `make mutate`."""

from __future__ import annotations

from datetime import date

import pytest

from domain.subscriber import MAX_CODE, MAX_PHONE_DIGITS, MAX_PHONES, MAX_TEXT, MIN_PHONE_DIGITS, \
    NCS_COMP_MOVE_KINDS, Move, SubscriberRuleError, clean_text, normalize_phone, normalize_phones, phone_digits, \
    validate_move

TODAY = date(2026, 3, 10)
HOME = {"houseNumber": " 12 ", "streetName": "Main St", "city": "Springfield", "postalCode": "12345", "country": "us"}


def refused(call) -> SubscriberRuleError:
    with pytest.raises(SubscriberRuleError) as caught:
        call()
    return caught.value


def test_adr_constants():
    assert (MIN_PHONE_DIGITS, MAX_PHONE_DIGITS, MAX_PHONES, MAX_TEXT, MAX_CODE) == (7, 15, 5, 100, 32)
    assert NCS_COMP_MOVE_KINDS == {"NCS"}


# -- ADR-5 -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw,normalized", [
    ("+1 (555) 010-0200", "+15550100200"), (" 555.010.0200 ", "5550100200"), ("1234567", "1234567"),
    ("123456789012345", "123456789012345"), ("+33 1 23 45 67 89", "+33123456789"), ("(555) 010 0200", "5550100200"),
])
def test_adr5_a_phone_is_normalised(raw, normalized):
    assert normalize_phone(raw) == normalized


@pytest.mark.parametrize("raw,message", [
    ("555-010-02a0", "A phone may hold digits, a leading + and the separators space - . ( ) only"),
    ("555+0100200", "A phone may hold digits, a leading + and the separators space - . ( ) only"),
    ("+1+5550100200", "A phone may hold digits, a leading + and the separators space - . ( ) only"),
    ("", "A phone may hold digits, a leading + and the separators space - . ( ) only"),
    ("123456", "A phone has 7 to 15 digits, not 6"),
    ("1234567890123456", "A phone has 7 to 15 digits, not 16"),
    ("+999 1234567", "The phone's country code is unknown"),
    ("+0 1234567", "The phone's country code is unknown"),
])
def test_adr5_a_malformed_phone_is_refused(raw, message):
    error = refused(lambda: normalize_phone(raw, ["input", "phone"]))
    assert (error.code, str(error), error.field, error.rule) == ("INVALID_PHONE", message, ["input", "phone"], "ADR-5")


def test_adr5_the_default_field_is_phone():
    assert refused(lambda: normalize_phone("x")).field == ["phone"]
    assert refused(lambda: normalize_phones(["x"])).field == ["phones", "0"]


def test_adr5_phones_keep_the_primary_first_and_drop_repeats():
    assert normalize_phones(["555 010 0200", "+1 555 010 0201", "555-010-0200", "(555) 010 0201"]) == [
        "5550100200", "+15550100201", "5550100201"]  # digits compare: 15550100201 is not 5550100201
    assert normalize_phones(["+1 555 010 0200", "15550100200"]) == ["+15550100200"]
    assert normalize_phones([]) == []
    assert phone_digits("+1 (555) 010-0200") == "15550100200"


def test_adr5_at_most_five_phones_and_the_bad_one_is_named():
    assert len(normalize_phones([f"555010020{i}" for i in range(5)])) == 5
    error = refused(lambda: normalize_phones([f"555010020{i}" for i in range(6)], ["input", "phones"]))
    assert (error.code, str(error), error.field, error.rule) == ("INVALID_PHONE", "At most 5 phones",
                                                                 ["input", "phones"], "ADR-5")
    assert refused(lambda: normalize_phones(["5550100200", "12"], ["input", "phones"])).field == [
        "input", "phones", "1"]


# -- ADR-1 -------------------------------------------------------------------------------------------------
def test_adr1_text_is_trimmed_and_blank_is_none_unless_required():
    assert clean_text("  Ann ", ["input", "firstName"], required=True) == "Ann"
    assert clean_text("   ", ["input", "company"], required=False) is None
    assert clean_text("x" * 100, ["input", "lastName"], required=True) == "x" * 100


@pytest.mark.parametrize("value,required,limit,message", [
    ("  ", True, 100, "`firstName` must not be blank"),
    ("x" * 101, False, 100, "`firstName` must be at most 100 characters"),
    ("x" * 33, False, 32, "`firstName` must be at most 32 characters"),
    ("An\nn", True, 100, "`firstName` must not contain the character U+000A"),
    ("An\x85n", True, 100, "`firstName` must not contain the character U+0085"),
])
def test_adr1_text_refusals_name_the_field_and_rule(value, required, limit, message):
    error = refused(lambda: clean_text(value, ["input", "firstName"], required=required, rule="ADR-3", limit=limit))
    assert (error.code, str(error), error.field, error.rule) == ("INVALID", message, ["input", "firstName"], "ADR-3")
    assert refused(lambda: clean_text(value, ["x", "firstName"], required=required, limit=limit)).rule == "ADR-1"


def test_adr1_the_default_limit_is_100():
    assert refused(lambda: clean_text("x" * 101, ["c"], required=False)).code == "INVALID"
    assert clean_text("x" * 33, ["c"], required=False) == "x" * 33


# -- ADR-3 / ADR-4 -----------------------------------------------------------------------------------------
def move(**overrides):
    arguments = {"effective_date": TODAY, "today": TODAY, "address": dict(HOME), "postal_code_mask": None,
                 "circulation_kind": "MATRIX", "subscription_kind": "REGULAR", "billing_method": None,
                 "rate_code": None, "address_move_flow": "RealTime", "melissa_data_integration": "GlobalOnPremise",
                 **overrides}
    return validate_move(**arguments)


def test_adr3_a_move_today_or_later_is_cleaned():
    assert move() == Move(TODAY, {"houseNumber": "12", "streetName": "Main St", "city": "Springfield",
                                  "postalCode": "12345", "country": "US"}, None, None)
    assert move(effective_date=date(2026, 3, 11)).effective_date == date(2026, 3, 11)


def test_adr3_a_move_in_the_past_is_refused():
    error = refused(lambda: move(effective_date=date(2026, 3, 9)))
    assert (error.code, str(error), error.field, error.rule) == (
        "DATE_IN_PAST", "A move is effective today (2026-03-10) or later, in the tenant's time zone",
        ["effectiveDate"], "ADR-3")


@pytest.mark.parametrize("name", ["houseNumber", "streetName", "city", "postalCode", "country"])
def test_adr3_a_full_address_is_required(name):
    for missing in (None, "  "):
        error = refused(lambda: move(address={**HOME, name: missing}))
        assert (error.code, str(error), error.field, error.rule) == (
            "INVALID", f"`{name}` must not be blank", ["address", name], "ADR-3")


def test_adr3_the_postal_code_matches_the_tenants_mask():
    assert move(address={**HOME, "postalCode": "K1A 0B1"}, postal_code_mask=" A9A 9A9 ").address["postalCode"] == \
        "K1A 0B1"
    for mask, shown in ((None, "99999"), ("", "99999"), ("  ", "99999"), ("A9A 9A9", "A9A 9A9")):
        error = refused(lambda: move(address={**HOME, "postalCode": "1234"}, postal_code_mask=mask))
        assert (error.code, str(error), error.field, error.rule) == (
            "INVALID_POSTAL_CODE", f"The postal code must match the format {shown} (9 a digit, A a letter, * any "
            "character)", ["address", "postalCode"], "ADR-3")


def test_adr4_an_australian_level_comes_as_a_pair():
    au = {**HOME, "country": "au", "postalCode": "20000"}
    moved = move(address={**au, "levelDesignator": " L ", "levelNumber": "3"})
    assert moved.address == {"houseNumber": "12", "streetName": "Main St", "city": "Springfield",
                             "postalCode": "20000", "country": "AU", "levelDesignator": "L", "levelNumber": "3"}
    assert "levelDesignator" not in move(address={**au, "levelDesignator": " ", "levelNumber": None}).address
    for given, missing in (({"levelDesignator": "L"}, "levelNumber"), ({"levelNumber": "3"}, "levelDesignator")):
        error = refused(lambda: move(address={**au, **given}))
        assert (error.code, str(error), error.field, error.rule) == (
            "INVALID", "A level designator and number come together", ["address", missing], "ADR-4")
    error = refused(lambda: move(address={**HOME, "levelDesignator": "L", "levelNumber": "3"}))
    assert (error.code, str(error), error.field, error.rule) == (
        "INVALID", "A level designator and number belong to an Australian (AU) address",
        ["address", "levelDesignator"], "ADR-4")
    assert refused(lambda: move(address={**au, "levelDesignator": "L" * 33, "levelNumber": "3"})).field == [
        "address", "levelDesignator"]
    assert move(address={**au, "levelDesignator": "L" * 32, "levelNumber": "3"}).address["levelDesignator"] == "L" * 32


def test_adr4_an_ncs_comp_move_needs_billing_method_and_rate_code():
    comp = {"circulation_kind": "NCS", "subscription_kind": "COMPLIMENTARY"}
    assert move(**comp, billing_method=" BM ", rate_code="RC").billing_method == "BM"
    assert move(**comp, billing_method="BM", rate_code=" RC ").rate_code == "RC"
    for billing, rate, field in ((None, "RC", "billingMethod"), ("BM", None, "rateCode"), (" ", " ", "billingMethod")):
        error = refused(lambda: move(**comp, billing_method=billing, rate_code=rate))
        assert (error.code, str(error), error.field, error.rule) == (
            "MOVE_BILLING_REQUIRED", "An NCS comp-subscription move needs a billing method and a rate code",
            [field], "ADR-4")
    assert refused(lambda: move(**comp, billing_method="B" * 33, rate_code="RC")).field == ["billingMethod"]
    assert refused(lambda: move(**comp, billing_method="BM", rate_code="R" * 33)).field == ["rateCode"]


@pytest.mark.parametrize("circulation,kind", [("NCS", "REGULAR"), ("MATRIX", "COMPLIMENTARY"), ("SAXO", "REGULAR")])
def test_adr4_billing_method_and_rate_code_belong_to_ncs_comp_moves_only(circulation, kind):
    for billing, rate, field in (("BM", None, "billingMethod"), (None, "RC", "rateCode"), ("BM", "RC", "billingMethod")):
        error = refused(lambda: move(circulation_kind=circulation, subscription_kind=kind, billing_method=billing,
                                     rate_code=rate))
        assert (error.code, str(error), error.field, error.rule) == (
            "MOVE_BILLING_NOT_SUPPORTED", "A billing method and rate code belong to NCS comp-subscription moves only",
            [field], "ADR-4")
    assert move(circulation_kind=circulation, subscription_kind=kind, billing_method=" ", rate_code="").billing_method \
        is None


def test_adr1_a_refusal_names_the_last_part_of_the_field():
    for value in ("  ", "An\nn"):
        error = refused(lambda: clean_text(value, ["input", "subscriber", "lastName"], required=True))
        assert str(error).startswith("`lastName` must not") and error.field == ["input", "subscriber", "lastName"]
        assert str(refused(lambda: clean_text(value, ["company"], required=True))).startswith("`company` must not")


def test_adr4_level_billing_and_rate_refusals_cite_adr4():
    au = {**HOME, "country": "AU", "postalCode": "20000"}
    comp = {"circulation_kind": "NCS", "subscription_kind": "COMPLIMENTARY"}
    for call, field in ((lambda: move(address={**au, "levelDesignator": "L", "levelNumber": "3" * 33}),
                         ["address", "levelNumber"]),
                        (lambda: move(address={**au, "levelDesignator": "L\x00", "levelNumber": "3"}),
                         ["address", "levelDesignator"]),
                        (lambda: move(**comp, billing_method="B" * 33, rate_code="RC"), ["billingMethod"]),
                        (lambda: move(**comp, billing_method="BM", rate_code="R\x07"), ["rateCode"])):
        error = refused(call)
        assert (error.code, error.field, error.rule) == ("INVALID", field, "ADR-4")


@pytest.mark.parametrize("melissa", [None, "", "  ", "Legacy"])
def test_adr4_set4_a_level_needs_a_global_melissa_integration(melissa):
    au = {**HOME, "country": "AU", "postalCode": "20000"}
    error = refused(lambda: move(address={**au, "levelDesignator": "L", "levelNumber": "3"},
                                 melissa_data_integration=melissa))
    assert (error.code, str(error), error.field, error.rule) == (
        "LEVEL_NOT_ENABLED", "A level designator and number are accepted only when MelissaDataIntegration is "
        "GlobalOnPremise or GlobalCheckAPI", ["address", "levelDesignator"], "ADR-4")
    assert "levelDesignator" not in move(address=au, melissa_data_integration=melissa).address
    assert move(address={**au, "levelDesignator": "L", "levelNumber": "3"},
                melissa_data_integration="GlobalCheckAPI").address["levelNumber"] == "3"


@pytest.mark.parametrize("flow", [None, "", "Batch"])
def test_adr4_set4_without_a_real_time_flow_an_ncs_comp_move_goes_without_billing(flow):
    comp = {"circulation_kind": "NCS", "subscription_kind": "COMPLIMENTARY", "address_move_flow": flow}
    moved = move(**comp)
    assert (moved.billing_method, moved.rate_code) == (None, None)
    for billing, rate, field in (("BM", None, "billingMethod"), (None, "RC", "rateCode"), ("BM", "RC", "billingMethod")):
        error = refused(lambda: move(**comp, billing_method=billing, rate_code=rate))
        assert (error.code, str(error), error.field, error.rule) == (
            "MOVE_BILLING_NOT_ENABLED", "A billing method and rate code go with an NCS comp-subscription move only "
            "when Flow.AddressMove is RealTime", [field], "ADR-4")
    error = refused(lambda: move(circulation_kind="NCS", subscription_kind="REGULAR", address_move_flow=flow,
                                 billing_method="BM", rate_code="RC"))
    assert error.code == "MOVE_BILLING_NOT_SUPPORTED"


def test_adr4_set4_an_ncs_comp_move_without_realtime_moves_the_address_alone():
    """ADR-4 with SET-4: an NCS comp-subscription move when Flow.AddressMove is not RealTime carries no billing method
    or rate code and is otherwise the move asked for."""
    moved = move(circulation_kind="NCS", subscription_kind="COMPLIMENTARY", address_move_flow="",
                 effective_date=date(2026, 3, 12))
    assert moved == Move(date(2026, 3, 12), {"houseNumber": "12", "streetName": "Main St", "city": "Springfield",
                                             "postalCode": "12345", "country": "US"}, None, None)
