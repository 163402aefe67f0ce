"""`subscriptionCost(offerId, termId, paymentType)`: an offer term's cost for a payment type (FEE-1, FEE-2,
FEE-5, MNY-2). The NCS demo tenant charges a 3.5 % credit-card fee with a 7 % fee tax; CircPro none."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sandbox.demo import generate
from tests.conftest import graphql

DEMO = generate(1)


def _offer(tenant: str, name: str) -> dict:
    return next(o for o in DEMO.offers if o["tenant"] == tenant and o["name"] == name)


PRINT = _offer("NCSDEMO", "7-Day Print + Digital")
DIGITAL = _offer("NCSDEMO", "All Access Digital")

COST_QUERY = """
query ($offerId: ID!, $termId: ID!, $paymentType: Int!) {
  subscriptionCost(offerId: $offerId, termId: $termId, paymentType: $paymentType) {
    offerId termId paymentType
    rate { amount currency } tax { amount } activationFee { amount currency }
    processingFee { amount currency } processingFeeTax { amount }
    total { amount currency }
    term { code }
  }
}
"""


async def _cost(api_client, offer: dict, term_index: int, payment_type: int, **headers) -> dict:
    term = offer["terms"][term_index]
    body = await graphql(api_client, COST_QUERY, {"offerId": str(offer["id"]), "termId": str(term["id"]),
                                                  "paymentType": payment_type}, **headers)
    assert "errors" not in body, body
    return body["data"]["subscriptionCost"]


async def test_fee5_credit_card_cost_includes_activation_fee_processing_fee_and_fee_tax(api_client):
    # when: 13 weeks of print, 65.00 + 5.20 tax + 4.95 activation = 75.15 paid by credit card
    cost = await _cost(api_client, PRINT, 0, 1)

    # then: fee 3.5 % of 75.15 = 2.63025 → 2.63 (FEE-1); fee tax 7 % of 2.63 = 0.1841 → 0.18 (FEE-2)
    assert cost["rate"] == {"amount": "65.00", "currency": "USD"}
    assert cost["tax"] == {"amount": "5.20"}
    assert cost["activationFee"] == {"amount": "4.95", "currency": "USD"}
    assert cost["processingFee"] == {"amount": "2.63", "currency": "USD"}
    assert cost["processingFeeTax"] == {"amount": "0.18"}
    assert cost["total"] == {"amount": "77.96", "currency": "USD"}
    assert (cost["offerId"], cost["paymentType"], cost["term"]["code"]) == (str(PRINT["id"]), 1, "13W")


@pytest.mark.parametrize("payment_type", [2, 3, 4])
async def test_fee5_other_payment_types_get_the_activation_fee_but_no_processing_fee(api_client, payment_type):
    cost = await _cost(api_client, PRINT, 0, payment_type)

    assert cost["activationFee"]["amount"] == "4.95"
    assert cost["processingFee"] is None and cost["processingFeeTax"] is None
    assert cost["total"]["amount"] == "75.15"


async def test_fee5_offer_without_activation_fee_still_returns_it_as_zero(api_client):
    cost = await _cost(api_client, DIGITAL, 1, 3)  # 12 months: 99.00 + 7.92

    assert cost["activationFee"]["amount"] == "0.00"
    assert cost["total"]["amount"] == "106.92"


async def test_fee1_tenant_without_the_fee_charges_none_by_credit_card(api_client):
    offer = _offer("CPRDEMO", "7-Day Print + Digital")

    cost = await _cost(api_client, offer, 0, 1, x_tenant="CPRDEMO")

    assert cost["processingFee"] is None and cost["processingFeeTax"] is None
    assert cost["total"]["amount"] == "75.15"


async def test_fee2_fee_without_fee_tax_returns_no_fee_tax(api_client, own_rows):
    # given: 10.5 % fee, fee tax disabled (even though a percentage is set)
    tenant = await own_rows.tenant({
        "Billing.CreditCard.ProcessingFee.Enable": "1", "Billing.CreditCard.ProcessingFee.Percentage": "10.5",
        "Billing.CreditCard.ProcessingFee.Tax.Enable": "0", "Billing.CreditCard.ProcessingFee.Tax.Percentage": "20",
    }, currency="EUR")
    offer = await own_rows.offer(tenant.id, activation_fee=Decimal("0.10"),
                                 terms=[{"code": "1M", "rate": Decimal("9.90"), "tax": Decimal("0.00")}])
    term_id = (await graphql(api_client, '{ offer(id: "%d") { terms { id } } }' % offer.id, x_tenant=tenant.code)
               )["data"]["offer"]["terms"][0]["id"]

    # when
    body = await graphql(api_client, COST_QUERY, {"offerId": str(offer.id), "termId": term_id, "paymentType": 1},
                         x_tenant=tenant.code)

    # then: 10.00 × 10.5 % = 1.05
    cost = body["data"]["subscriptionCost"]
    assert cost["processingFee"] == {"amount": "1.05", "currency": "EUR"}
    assert cost["processingFeeTax"] is None
    assert cost["total"] == {"amount": "11.05", "currency": "EUR"}


async def test_mny1_cost_above_32_bits_is_exact(api_client, own_rows):
    tenant = await own_rows.tenant({"Billing.CreditCard.ProcessingFee.Enable": "1",
                                    "Billing.CreditCard.ProcessingFee.Percentage": "1"})
    offer = await own_rows.offer(tenant.id, terms=[{"code": "LIFE", "rate": Decimal("2147483647.99"),
                                                    "tax": Decimal("0.02")}])
    term_id = (await graphql(api_client, '{ offer(id: "%d") { terms { id } } }' % offer.id, x_tenant=tenant.code)
               )["data"]["offer"]["terms"][0]["id"]

    body = await graphql(api_client, COST_QUERY, {"offerId": str(offer.id), "termId": term_id, "paymentType": 1},
                         x_tenant=tenant.code)

    cost = body["data"]["subscriptionCost"]
    assert cost["processingFee"]["amount"] == "21474836.48"  # 2147483648.01 × 1 % = 21474836.4801
    assert cost["total"]["amount"] == "2168958484.49"


@pytest.mark.parametrize("payment_type", [0, 5, -1])
async def test_fee5_unknown_payment_type_is_bad_user_input_naming_the_field(api_client, payment_type):
    body = await graphql(api_client, COST_QUERY, {"offerId": str(PRINT["id"]), "termId": str(PRINT["terms"][0]["id"]),
                                                  "paymentType": payment_type})

    assert body["data"] == {"subscriptionCost": None}
    assert len(body["errors"]) == 1
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["field"] == ["paymentType"]


async def test_unknown_offer_or_term_is_null(api_client):
    mtx = _offer("MTXDEMO", "7-Day Print + Digital")
    cases = [
        ("999999", str(PRINT["terms"][0]["id"])),  # no such offer
        (str(PRINT["id"]), "999999"),  # no such term
        (str(PRINT["id"]), str(DIGITAL["terms"][0]["id"])),  # a term of another offer
        (str(mtx["id"]), str(mtx["terms"][0]["id"])),  # another tenant's offer (TEN-1)
        ("abc", "1"),
    ]
    for offer_id, term_id in cases:
        body = await graphql(api_client, COST_QUERY, {"offerId": offer_id, "termId": term_id, "paymentType": 1})
        assert body == {"data": {"subscriptionCost": None}}, (offer_id, term_id)


def test_fee5_demo_numbers_used_above():
    assert PRINT["activation_fee"] == "4.95"
    term = PRINT["terms"][0]
    assert (Decimal(term["rate"]), Decimal(term["tax"])) == (Decimal("65.00"), Decimal("5.20"))
