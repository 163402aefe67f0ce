"""`processingFee(amount, paymentType)`: the credit-card processing fee on an amount (FEE-1, FEE-2, MNY-1,
MNY-2). The NCS demo tenant charges 3.5 % with a 7 % fee tax."""

from __future__ import annotations

import pytest

from tests.conftest import graphql

FEE_QUERY = """
query ($amount: Decimal!, $paymentType: Int!) {
  processingFee(amount: $amount, paymentType: $paymentType) {
    amount { amount currency } paymentType applies taxApplies
    processingFee { amount currency } processingFeeTax { amount } total { amount }
  }
}
"""


async def _fee(api_client, amount: str, payment_type: int, **headers) -> dict:
    body = await graphql(api_client, FEE_QUERY, {"amount": amount, "paymentType": payment_type}, **headers)
    assert "errors" not in body, body
    return body["data"]["processingFee"]


async def test_fee1_fee2_credit_card_fee_and_fee_tax_round_half_up(api_client):
    # 100.00 × 3.5 % = 3.50; 3.50 × 7 % = 0.245 → 0.25 (half up, MNY-2)
    fee = await _fee(api_client, "100.00", 1)

    assert fee["applies"] is True and fee["taxApplies"] is True
    assert fee["processingFee"] == {"amount": "3.50", "currency": "USD"}
    assert fee["processingFeeTax"] == {"amount": "0.25"}
    assert fee["total"] == {"amount": "103.75"}
    assert fee["amount"] == {"amount": "100.00", "currency": "USD"}


@pytest.mark.parametrize("payment_type", [2, 3, 4])
async def test_fee1_no_fee_for_other_payment_types(api_client, payment_type):
    fee = await _fee(api_client, "100.00", payment_type)

    assert fee["applies"] is False and fee["taxApplies"] is False
    assert fee["processingFee"]["amount"] == "0.00" and fee["processingFeeTax"]["amount"] == "0.00"
    assert fee["total"]["amount"] == "100.00"


async def test_fee1_no_fee_where_the_tenant_has_it_disabled(api_client):
    fee = await _fee(api_client, "100.00", 1, x_tenant="CPRDEMO")

    assert fee["applies"] is False and fee["processingFee"]["amount"] == "0.00"


async def test_mny1_amount_above_32_bits_is_exact(api_client):
    fee = await _fee(api_client, "2147483648.10", 1)

    assert fee["processingFee"]["amount"] == "75161927.68"
    assert fee["processingFeeTax"]["amount"] == "5261334.94"
    assert fee["total"]["amount"] == "2227906910.72"


async def test_zero_amount_has_zero_fee(api_client):
    fee = await _fee(api_client, "0", 1)

    assert fee["processingFee"]["amount"] == "0.00" and fee["total"]["amount"] == "0.00"


@pytest.mark.parametrize(("amount", "payment_type", "field"), [
    ("-0.01", 1, ["amount"]),
    ("10.005", 1, ["amount"]),
    ("1.999", 2, ["amount"]),
    ("10.00", 9, ["paymentType"]),
    ("10.00", 0, ["paymentType"]),
])
async def test_bad_amount_or_payment_type_is_bad_user_input_naming_the_field(api_client, amount, payment_type, field):
    body = await graphql(api_client, FEE_QUERY, {"amount": amount, "paymentType": payment_type})

    assert body["data"] is None
    assert len(body["errors"]) == 1
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["field"] == field
