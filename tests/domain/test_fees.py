"""FEE-1, FEE-2, FEE-3, FEE-5: the credit-card processing fee and an offer's cost quote."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.fees import (
    PaymentType,
    ProcessingFeeSettings,
    parse_payment_type,
    processing_fee_quote,
    subscription_cost,
)
from domain.money import RuleError
from domain.tenants import TenantSettings

D = Decimal
NCS_LIKE = ProcessingFeeSettings(enabled=True, percentage=D("3.5"), tax_enabled=True, tax_percentage=D("7"))
FEE_ONLY = ProcessingFeeSettings(enabled=True, percentage=D("3.5"))
DISABLED = ProcessingFeeSettings(enabled=False, percentage=D("3.5"), tax_enabled=True, tax_percentage=D("7"))
NON_CARD = [PaymentType.BANK_ACCOUNT, PaymentType.CASH, PaymentType.CHECK]


def test_fee1_fee_on_a_credit_card_when_enabled():
    quote = processing_fee_quote(D("107.92"), PaymentType.CREDIT_CARD, FEE_ONLY)

    assert quote.applies
    assert quote.fee == D("3.78")  # 3.7772 → 3.78
    assert not quote.tax_applies and quote.fee_tax == D("0.00")


@pytest.mark.parametrize("payment_type", NON_CARD)
def test_fee1_no_fee_for_other_payment_types(payment_type):
    quote = processing_fee_quote(D("107.92"), payment_type, NCS_LIKE)

    assert not quote.applies and not quote.tax_applies
    assert (quote.fee, quote.fee_tax, quote.total) == (D("0.00"), D("0.00"), D("0.00"))


def test_fee1_no_fee_when_disabled_whatever_the_percentage():
    quote = processing_fee_quote(D("100.00"), PaymentType.CREDIT_CARD, DISABLED)

    assert not quote.applies and quote.fee == D("0.00") and quote.fee_tax == D("0.00")


def test_fee1_fee_rounds_half_up():
    # 0.10 × 5 % = 0.005 → 0.01 (MNY-2)
    settings = ProcessingFeeSettings(enabled=True, percentage=D("5"))
    assert processing_fee_quote(D("0.10"), PaymentType.CREDIT_CARD, settings).fee == D("0.01")


def test_fee1_fractional_percentage_as_in_the_source_example():
    # "10.5" means 10.5 %
    settings = ProcessingFeeSettings(enabled=True, percentage=D("10.5"))
    assert processing_fee_quote(D("200.00"), PaymentType.CREDIT_CARD, settings).fee == D("21.00")


def test_fee2_fee_tax_is_computed_on_the_rounded_fee():
    quote = processing_fee_quote(D("107.92"), PaymentType.CREDIT_CARD, NCS_LIKE)

    assert quote.fee == D("3.78")
    assert quote.tax_applies
    assert quote.fee_tax == D("0.26")  # 3.78 × 7 % = 0.2646 → 0.26
    assert quote.total == D("4.04")


def test_fee2_tax_enabled_without_fee_enabled_charges_nothing():
    settings = ProcessingFeeSettings(enabled=False, tax_enabled=True, tax_percentage=D("7"))
    quote = processing_fee_quote(D("50.00"), PaymentType.CREDIT_CARD, settings)
    assert not quote.tax_applies and quote.fee_tax == D("0.00")


def test_fee1_fee_on_an_amount_above_32_bits_is_exact():
    quote = processing_fee_quote(D("2147483648.10"), PaymentType.CREDIT_CARD, NCS_LIKE)
    assert quote.fee == D("75161927.68")  # 75161927.6835
    assert quote.fee_tax == D("5261334.94")  # 5261334.9376


def test_ten2_settings_are_read_from_the_tenant():
    settings = ProcessingFeeSettings.from_tenant(TenantSettings(name="x", values={
        "Billing.CreditCard.ProcessingFee.Enable": "1", "Billing.CreditCard.ProcessingFee.Percentage": "2.75",
    }))
    assert settings == ProcessingFeeSettings(enabled=True, percentage=D("2.75"), tax_enabled=False,
                                             tax_percentage=D("0"))
    assert ProcessingFeeSettings.from_tenant(TenantSettings(name="x")).enabled is False  # TEN-2 default 0


@pytest.mark.parametrize(("value", "expected"), [
    (1, PaymentType.CREDIT_CARD), (2, PaymentType.BANK_ACCOUNT), (3, PaymentType.CASH), (4, PaymentType.CHECK),
    ("1", PaymentType.CREDIT_CARD), ("check", PaymentType.CHECK),
])
def test_fee5_payment_type_ids(value, expected):
    assert parse_payment_type(value) is expected


@pytest.mark.parametrize("value", [0, 5, -1, "visa", "", None])
def test_fee5_unknown_payment_type_is_a_rule_error_naming_the_field(value):
    with pytest.raises(RuleError) as error:
        parse_payment_type(value)
    assert error.value.field == ["paymentType"]


def test_fee5_cost_quote_by_credit_card_includes_fee_and_fee_tax():
    # rate 65.00 + tax 5.20 + activation 4.95 = 75.15; fee 3.5 % = 2.63025 → 2.63; tax 7 % = 0.1841 → 0.18
    cost = subscription_cost(D("65.00"), D("5.20"), D("4.95"), PaymentType.CREDIT_CARD, NCS_LIKE)

    assert cost.activation_fee == D("4.95")
    assert cost.processing_fee == D("2.63")
    assert cost.fee_tax == D("0.18")
    assert cost.total == D("77.96")


@pytest.mark.parametrize("payment_type", NON_CARD)
def test_fee5_activation_fee_is_always_returned_and_no_fee_for_other_types(payment_type):
    cost = subscription_cost(D("65.00"), D("5.20"), D("4.95"), payment_type, NCS_LIKE)

    assert cost.activation_fee == D("4.95")
    assert cost.processing_fee is None and cost.fee_tax is None
    assert cost.total == D("75.15")


def test_fee5_offer_without_activation_fee_quotes_zero():
    cost = subscription_cost(D("9.99"), D("0.80"), None, PaymentType.CASH, NCS_LIKE)
    assert cost.activation_fee == D("0.00") and cost.total == D("10.79")


def test_fee5_fee_without_tax_returns_no_fee_tax():
    cost = subscription_cost(D("9.99"), D("0.80"), D("0"), PaymentType.CREDIT_CARD, FEE_ONLY)
    assert cost.processing_fee == D("0.38")  # 10.79 × 3.5 % = 0.37765
    assert cost.fee_tax is None
    assert cost.total == D("11.17")
