"""Amounts and tips the payment flows must refuse before anything is charged (issue 14 #11, #16, #18; MNY-1,
TIP-2, TIP-3, PM-4), through the public API."""

from __future__ import annotations

import pytest

from tests.conftest import graphql
from tests.graphql.payments.support import (
    ADD_TIP, FEES_ON, MAKE_PAYMENT, QUOTE, RESTART, SIGN_UP_AUTO_PAY, UPDATE_AUTO_PAY, codes, gateway_entries, ledger_rows, pay,
    paying,
)

pytestmark = pytest.mark.sqlite_only
ONE_MONTH = {"optionTerm": "1M", "optionAmount": "10.79"}
PLAN = {"term": "1M", "length": 1, "paymentType": "CREDIT_CARD"}
HOSTILE_AMOUNTS = ["1e999", "NaN", "sNaN", "Infinity", "-Infinity", "1" * 29, "1" * 29 + ".00"]


async def send(client, setup, document: str, **input_fields) -> dict:
    return await graphql(client, document, {"input": setup.sub(**input_fields)}, **setup.headers)


def refused_naming(answer: dict, field: str) -> None:
    """A request error naming the field: "Variable '$input' has invalid value at .total: …"."""
    assert "data" not in answer or answer["data"] is None, answer
    [error] = answer["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    variable, _, path = field.partition(".")
    assert f"'${variable}'" in error["message"] and f" .{path}:" in error["message"], error["message"]


@pytest.mark.parametrize("amount", HOSTILE_AMOUNTS)
@pytest.mark.parametrize("field", ["total", "tip", "processingFee", "optionAmount"])
async def test_mny1_make_payment_refuses_an_amount_that_is_not_a_plain_decimal(api_client, own_tenant, sandboxes,
                                                                               services, tokens, amount, field):
    # given
    setup = await paying(own_tenant, sandboxes, tokens)
    flow = {**ONE_MONTH, "paymentType": "CREDIT_CARD", "total": "10.79", field: amount}

    # when
    answer = await send(api_client, setup, MAKE_PAYMENT, **flow)

    # then: bad input naming the field (not a masked INTERNAL_SERVER_ERROR), and nothing charged or recorded
    refused_naming(answer, f"input.{field}")
    assert gateway_entries(sandboxes, setup.tenant) == []
    assert await ledger_rows(services, setup.tenant) == []


@pytest.mark.parametrize("amount", HOSTILE_AMOUNTS)
async def test_mny1_add_tip_and_the_quotes_refuse_an_amount_that_is_not_a_plain_decimal(api_client, own_tenant,
                                                                                        sandboxes, tokens, amount):
    # given
    setup = await paying(own_tenant, sandboxes, tokens)

    # when
    tip = await send(api_client, setup, ADD_TIP, amount=amount, paymentType="CREDIT_CARD", total="1.00")
    quoted_tip = await graphql(api_client, QUOTE, {"subscriptionId": setup.subscription_id, "input": {
        "addTip": {"amount": amount, "paymentType": "CREDIT_CARD"}}}, **setup.headers)
    quoted_payment = await graphql(api_client, QUOTE, {"subscriptionId": setup.subscription_id, "input": {
        "makePayment": {**ONE_MONTH, "tip": amount, "paymentType": "CREDIT_CARD"}}}, **setup.headers)

    # then
    refused_naming(tip, "input.amount")
    refused_naming(quoted_tip, "input.addTip.amount")
    refused_naming(quoted_payment, "input.makePayment.tip")


async def test_mny1_the_same_amount_with_the_same_key_is_answered_not_a_500(api_client, own_tenant, sandboxes, tokens):
    # given: the idempotency hash once compared amounts before they were validated (issue 20 #10)
    setup = await paying(own_tenant, sandboxes, tokens)
    flow = setup.sub(**ONE_MONTH, paymentType="CREDIT_CARD", total="10.79", tip="sNaN")

    # when: twice, with one key
    answers = [await graphql(api_client, MAKE_PAYMENT, {"input": flow}, **setup.headers) for _ in range(2)]

    # then
    for answer in answers:
        refused_naming(answer, "input.tip")


TOO_LARGE = "500.00"  # the default Payments.MaximumTipAmountAllowed is 100.00


@pytest.mark.parametrize("field", ["tip", "donation"])
async def test_tip3_make_payment_refuses_a_tip_or_donation_above_the_maximum_and_charges_nothing(
        api_client, own_tenant, sandboxes, services, tokens, field):
    # given
    setup = await paying(own_tenant, sandboxes, tokens)

    # when: the total matches, so only TIP-3 can refuse it
    payload = await pay(api_client, setup, **ONE_MONTH, paymentType="CREDIT_CARD", total="510.79",
                        **{field: TOO_LARGE})

    # then
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("TIP_TOO_LARGE", ["input", field])]
    assert gateway_entries(sandboxes, setup.tenant) == []
    assert await ledger_rows(services, setup.tenant) == []


async def test_tip3_the_maximum_itself_is_a_valid_tip(api_client, own_tenant, sandboxes, tokens):
    setup = await paying(own_tenant, sandboxes, tokens)

    payload = await pay(api_client, setup, **ONE_MONTH, paymentType="CREDIT_CARD", total="110.79", tip="100.00")

    assert payload["userErrors"] == [] and payload["payment"]["state"] == "APPLIED"


async def test_tip3_restart_refuses_a_tip_above_the_maximum(api_client, own_tenant, sandboxes, tokens):
    setup = await paying(own_tenant, sandboxes, tokens, status="STOPPED")

    payload = await pay(api_client, setup, RESTART, **ONE_MONTH, paymentType="CREDIT_CARD", total="510.79",
                        tip=TOO_LARGE)

    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("TIP_TOO_LARGE", ["input", "tip"])]
    assert gateway_entries(sandboxes, setup.tenant) == []


async def test_tip3_auto_pay_sign_up_and_update_refuse_a_recurring_tip_above_the_maximum(api_client, own_tenant,
                                                                                         sandboxes, tokens):
    # given
    signing_up = await paying(own_tenant, sandboxes, tokens)
    on_auto_pay = await paying(own_tenant, sandboxes, tokens, autoPay=True)

    # when
    sign_up = await pay(api_client, signing_up, SIGN_UP_AUTO_PAY, total="0.00", tip=TOO_LARGE, **PLAN)
    update = await pay(api_client, on_auto_pay, UPDATE_AUTO_PAY, donation=TOO_LARGE, **PLAN)

    # then
    assert [(e["code"], e["field"]) for e in sign_up["userErrors"]] == [("TIP_TOO_LARGE", ["input", "tip"])]
    assert [(e["code"], e["field"]) for e in update["userErrors"]] == [("TIP_TOO_LARGE", ["input", "donation"])]


@pytest.mark.parametrize(("flow", "field"), [
    ({"makePayment": {**ONE_MONTH, "tip": TOO_LARGE, "paymentType": "CREDIT_CARD"}}, ["input", "makePayment", "tip"]),
    ({"restart": {**ONE_MONTH, "donation": TOO_LARGE, "paymentType": "CREDIT_CARD"}},
     ["input", "restart", "donation"]),
    ({"autoPaySignUp": {**PLAN, "tip": TOO_LARGE}}, ["input", "autoPaySignUp", "tip"]),
    ({"addTip": {"amount": TOO_LARGE, "paymentType": "CREDIT_CARD"}}, ["input", "addTip", "amount"]),
])
async def test_tip3_every_quote_refuses_a_tip_above_the_maximum(api_client, own_tenant, sandboxes, tokens, flow,
                                                                field):
    # given
    status = "STOPPED" if "restart" in flow else "ACTIVE"
    setup = await paying(own_tenant, sandboxes, tokens, status=status)

    # when
    answer = await graphql(api_client, QUOTE, {"subscriptionId": setup.subscription_id, "input": flow},
                           **setup.headers)

    # then
    assert "errors" not in answer, answer
    payload = answer["data"]["paymentQuote"]
    assert payload["quote"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("TIP_TOO_LARGE", field)]


async def test_pm4_a_card_payment_on_a_bank_account_subscription_is_a_payment_method_error(api_client, own_tenant,
                                                                                           sandboxes, tokens):
    # given: the subscription pays by bank account; a card would add a processing fee and the activation fee
    setup = await paying(own_tenant, sandboxes, tokens, method="BANK",
                         settings={**FEES_ON, "DTI.ActivationFeeAmount": "5.00"})

    # when: the client asks for a card payment, with the total of a bank payment
    payload = await pay(api_client, setup, **ONE_MONTH, paymentType="CREDIT_CARD", total="10.79")

    # then: the method is what is wrong, not the total
    assert codes(payload) == ["PAYMENT_METHOD_MISMATCH"]
    assert payload["userErrors"][0]["field"] == ["input", "paymentType"]
    assert gateway_entries(sandboxes, setup.tenant) == []
