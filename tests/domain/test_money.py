"""MNY-1/MNY-2: exact decimals, rounded half up to two places once per computed step."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.money import RuleError, money_sum, percent_of, round_money, to_decimal, validate_amount


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
