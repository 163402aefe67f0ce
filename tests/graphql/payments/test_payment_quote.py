"""paymentQuote (PAY-1, RST-3, RST-4, EZ-1, FEE-4): the amounts each flow charges, before it is sent."""

from __future__ import annotations

import pytest

from tests.conftest import graphql
from tests.graphql.payments.support import FEES_ON, QUOTE, paying


async def quote(client, setup, flow: dict) -> dict:
    answer = await graphql(client, QUOTE, {"subscriptionId": setup.subscription_id, "input": flow}, **setup.headers)
    assert "errors" not in answer, answer
    return answer["data"]["paymentQuote"]


async def test_pay1_pay2_quote_of_a_one_time_payment_lists_every_line(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, settings={**FEES_ON, "DTI.ActivationFeeAmount": "5.00"})
    # when
    payload = await quote(api_client, setup, {"makePayment": {"optionTerm": "1M", "optionAmount": "10.79",
                                                              "paymentType": "CREDIT_CARD"}})
    # then
    assert payload["userErrors"] == []
    q = payload["quote"]
    assert (q["optionAmount"], q["optionTax"], q["activationFee"]) == ({"amount": "10.79"}, {"amount": "0.80"},
                                                                      {"amount": "5.00"})
    # base 15.79: fee round(0.55265) = 0.55, fee tax round(0.0385) = 0.04
    assert (q["processingFee"], q["processingFeeTax"]) == ({"amount": "0.55"}, {"amount": "0.04"})
    assert q["total"] == {"amount": "16.38", "currency": "USD"} and q["paymentRequired"] is True


async def test_rst4_quote_of_a_restart_the_credit_covers_needs_no_payment(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, status="STOPPED", balance="20.00", method=None,
                         settings={"Restart.ApplyCreditBalance": "1"})
    # when
    payload = await quote(api_client, setup, {"restart": {"optionTerm": "1M", "optionAmount": "10.79"}})
    # then
    q = payload["quote"]
    assert (q["total"]["amount"], q["balanceApplied"]["amount"], q["paymentRequired"], q["paymentType"]) == (
        "0.00", "10.79", False, None)


async def test_quote_refuses_what_the_mutation_would_refuse_with_the_same_code(api_client, own_tenant, sandboxes,
                                                                              tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, kind="MATRIX")
    # when
    payload = await quote(api_client, setup, {"makePayment": {"optionTerm": "1M", "optionAmount": "10.79",
                                                              "tip": "1.00", "paymentType": "CREDIT_CARD"}})
    # then
    assert payload["quote"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("TIP_NOT_SUPPORTED",
                                                                        ["input", "makePayment", "tip"])]


@pytest.mark.parametrize("flows", [{}, {"addTip": {"amount": "1.00", "paymentType": "CREDIT_CARD"},
                                        "restart": {"optionTerm": "1M", "optionAmount": "10.79"}}])
async def test_quote_needs_exactly_one_flow(api_client, own_tenant, sandboxes, tokens, flows):
    # given
    setup = await paying(own_tenant, sandboxes, tokens)
    # when
    payload = await quote(api_client, setup, flows)
    # then
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("INVALID", ["input"])]


async def test_quote_of_an_unknown_subscription_is_not_found(staff_api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens)
    # when
    answer = await graphql(staff_api_client, QUOTE, {"subscriptionId": "NOPE", "input": {"addTip": {
        "amount": "1.00", "paymentType": "CREDIT_CARD"}}}, **setup.tenant.headers)
    # then
    assert [(e["code"], e["field"]) for e in answer["data"]["paymentQuote"]["userErrors"]] == [
        ("NOT_FOUND", ["subscriptionId"])]
