"""MNY-1/MNY-2: exact decimals, rounded half up to two places once per computed step."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.money import (
    MAX_AMOUNT_TEXT,
    MAX_FRACTION_DIGITS,
    MAX_INTEGER_DIGITS,
    InvalidAmount,
    RuleError,
    money_sum,
    parse_amount,
    percent_of,
    round_money,
    to_decimal,
    validate_amount,
)


@pytest.mark.parametrize(("value", "rounded"), [
    ("0.005", "0.01"),
    ("0.004", "0.00"),
    ("1.125", "1.13"),  # half up, not banker's rounding (which gives 1.12)
    ("2.675", "2.68"),
    ("-0.005", "-0.01"),  # a tie goes away from zero
    ("10", "10.00"),
    ("2147483647.995", "2147483648.00"),  # MNY-1: beyond 32-bit, exact
])
def test_mny2_round_money_is_half_up_to_two_places(value, rounded):
    assert round_money(Decimal(value)) == Decimal(rounded)
    assert str(round_money(value)) == rounded


def test_mny1_floats_are_refused():
    with pytest.raises(TypeError):
        to_decimal(0.1)
    with pytest.raises(TypeError):
        round_money(1.5)


def test_mny2_percent_of_rounds_once():
    # 33.33 × 3.5 % = 1.16655 → 1.17 (one rounding, at the step that computes it)
    assert percent_of(Decimal("33.33"), Decimal("3.5")) == Decimal("1.17")
    assert percent_of(Decimal("0.14"), Decimal("3.5")) == Decimal("0.00")  # 0.0049
    assert percent_of(Decimal("0.15"), Decimal("10")) == Decimal("0.02")  # 0.015 → half up


def test_mny2_totals_are_sums_of_rounded_parts():
    assert money_sum([Decimal("1.10"), Decimal("2.20"), Decimal("0.01")]) == Decimal("3.31")
    assert str(money_sum([])) == "0.00"
    with pytest.raises(ValueError):
        money_sum([Decimal("1.005")])  # an unrounded part is a bug, not something to round away


def test_mny2_rounding_per_step_differs_from_rounding_the_sum():
    # fee tax is computed from the rounded fee, not from the unrounded one
    fee = percent_of(Decimal("10.30"), Decimal("2.5"))  # 0.2575 → 0.26
    tax = percent_of(fee, Decimal("50"))  # 0.13 (from the unrounded 0.2575 it would be 0.12875 → 0.13; here equal)
    assert (fee, tax) == (Decimal("0.26"), Decimal("0.13"))
    fee = percent_of(Decimal("1.90"), Decimal("1"))  # 0.019 → 0.02
    assert percent_of(fee, Decimal("25")) == Decimal("0.01")  # 0.005 → 0.01, from 0.019 it would be 0.00


@pytest.mark.parametrize("amount", ["0", "0.5", "12.30", "2147483648.10"])
def test_validate_amount_accepts_up_to_two_places(amount):
    assert validate_amount(Decimal(amount)) == Decimal(amount).quantize(Decimal("0.01"))


@pytest.mark.parametrize(("amount", "message"), [
    ("-0.01", "`amount` must not be negative"),
    ("1.005", "`amount` must have at most two decimal places"),
    ("0.001", "`amount` must have at most two decimal places"),
])
def test_validate_amount_refuses_negative_and_more_than_two_places(amount, message):
    with pytest.raises(RuleError) as error:
        validate_amount(Decimal(amount))

    assert str(error.value) == message
    assert error.value.field == ["amount"]


def test_validate_amount_accepts_trailing_zeros_beyond_two_places():
    assert validate_amount(Decimal("1.500")) == Decimal("1.50")


# -- found by `make mutate` (docs/testing.md) ---------------------------------------------------------------
@pytest.mark.parametrize("amount, allow_zero, message", [
    ("-0.01", True, "`total` must not be negative"),
    ("0", False, "`total` must be greater than zero"),
    ("0.001", True, "`total` must have at most two decimal places"),
])
def test_mny1_a_refused_amount_names_its_field_rule_and_why(amount, allow_zero, message):
    with pytest.raises(RuleError) as caught:
        validate_amount(Decimal(amount), ["input", "total"], allow_zero=allow_zero)

    assert (caught.value.field, caught.value.rule, str(caught.value)) == (["input", "total"], "MNY-1", message)


def test_mny1_without_a_field_the_amount_is_called_amount():
    with pytest.raises(RuleError) as caught:
        validate_amount(Decimal("-1"), ())

    assert str(caught.value) == "`amount` must not be negative"


@pytest.mark.parametrize("amount", ["0.01", "1", "12.30"])
def test_mny1_a_positive_amount_passes_when_zero_is_not_allowed(amount):
    assert validate_amount(Decimal(amount), ["input", "total"], allow_zero=False) == Decimal(amount)


def test_mny1_refused_values_say_what_was_wrong():
    with pytest.raises(TypeError, match=r"^money must not be a float \(MNY-1\): 0\.1$"):
        to_decimal(0.1)
    with pytest.raises(TypeError, match=r"^money must not be a bool \(MNY-1\): True$"):
        to_decimal(True)
    with pytest.raises(ValueError, match=r"^not a decimal amount: 'ten'$"):
        to_decimal("ten")
    for value in ("NaN", "sNaN", "Infinity", "-Infinity"):
        with pytest.raises(ValueError, match=rf"^not a finite amount: '{value}'$"):
            to_decimal(value)


def test_mny2_a_part_with_more_than_two_places_is_a_bug_the_sum_names():
    with pytest.raises(ValueError, match=r"^part Decimal\('1\.005'\) is not rounded to two places \(MNY-2\)$"):
        money_sum([Decimal("1.00"), Decimal("1.005")])


# -- parse_amount: the `Decimal` scalar's parser (MNY-1; issue 14 #11) -----------------------------------------
def test_mny1_the_bounds_of_an_amount_text():
    assert (MAX_INTEGER_DIGITS, MAX_FRACTION_DIGITS, MAX_AMOUNT_TEXT) == (18, 10, 30)


@pytest.mark.parametrize("value,amount", [
    ("10.79", "10.79"),
    ("-1", "-1"),
    ("2147483648.10", "2147483648.10"),
    ("0.1234567890", "0.1234567890"),  # ten places: parsed here, refused by validate_amount with its own message
    ("9" * 18, "9" * 18),
    ("-" + "9" * 18 + "." + "9" * 10, "-" + "9" * 18 + "." + "9" * 10),  # the longest: 30 characters
    (12, "12"),
    (-3, "-3"),
    (10.5, "10.5"),  # a JSON number with a fraction, from its shortest representation
    (0.1, "0.1"),
])
def test_mny1_plain_decimal_amounts_are_parsed_exactly(value, amount):
    parsed = parse_amount(value)

    assert isinstance(parsed, Decimal) and str(parsed) == amount


def refusal(value) -> str:
    with pytest.raises(InvalidAmount) as caught:
        parse_amount(value)
    assert isinstance(caught.value, ValueError)
    return str(caught.value)


def not_an_amount(shown: str) -> str:
    return (f"{shown!r} is not an amount: a decimal such as \"10.79\", with at most 18 digits before the point and "
            "10 after, and no exponent, NaN or Infinity")


@pytest.mark.parametrize("value", ["1e3", "1E3", "NaN", "sNaN", "Infinity", "-Infinity", "+1", " 1", "1 ", "1.",
                                   ".5", "1.2.3", "--1", "", "٣", "1_000", "9" * 19, "0." + "1" * 11, "0x10",
                                   "1" * 19 + ".5"])
def test_mny1_anything_but_a_plain_decimal_is_refused_with_the_text_shown(value):
    assert refusal(value) == not_an_amount(value)


def test_mny1_a_float_out_of_bounds_is_refused_as_its_text():
    assert refusal(1e300) == not_an_amount("1e+300")
    assert refusal(float("nan")) == not_an_amount("nan")


def test_mny1_an_integer_beyond_18_digits_is_refused():
    assert refusal(10 ** 18) == not_an_amount("1" + "0" * 18)
    assert parse_amount(10 ** 18 - 1) == Decimal("9" * 18)


def test_mny1_a_long_text_is_shown_cut_at_40_characters():
    assert refusal("1" * 40) == not_an_amount("1" * 40)
    assert refusal("1" * 41) == not_an_amount("1" * 40 + "…")
    assert refusal("1" * 31) == not_an_amount("1" * 31)  # over 30: refused before the pattern is tried


@pytest.mark.parametrize("value,message", [
    (True, "an amount must be a decimal string such as \"10.79\", not a boolean"),
    (False, "an amount must be a decimal string such as \"10.79\", not a boolean"),
    (None, "an amount must be a decimal string such as \"10.79\""),
    ([1], "an amount must be a decimal string such as \"10.79\""),
    ({"amount": "1"}, "an amount must be a decimal string such as \"10.79\""),
])
def test_mny1_a_value_that_is_no_string_or_number_is_refused(value, message):
    assert refusal(value) == message
