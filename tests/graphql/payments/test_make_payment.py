"""makePayment through the public API (PAY-1..PAY-4, FEE-1..FEE-3, PM-1..PM-5, NOT-1)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import graphql
from tests.graphql.payments.support import (
    FEES_ON, MAKE_PAYMENT, QUOTE, assert_ledgers_agree, circulation_entries, codes, events, gateway_entries,
    ledger_rows, pay, paying,
)

pytestmark = pytest.mark.sqlite_only
NCS_CARD = {**FEES_ON, "DTI.ActivationFeeAmount": "5.00"}


async def test_pay1_pay2_pay4_ncs_card_payment_is_charged_applied_and_recorded(api_client, own_tenant, sandboxes,
                                                                              services, tokens):
    # given: NCS, fees on, an activation fee, a VISA attached
    setup = await paying(own_tenant, sandboxes, tokens, settings=NCS_CARD)
    # when: 10.79 + 2.00 tip + 1.00 donation + 5.00 activation = 18.79; fee 0.66; fee tax 0.05
    payload = await pay(api_client, setup, optionTerm="1M", optionAmount="10.79", tip="2.00", donation="1.00",
                        paymentType="CREDIT_CARD", total="19.50")
    # then
    assert payload["userErrors"] == []
    payment = payload["payment"]
    assert (payment["state"], payment["flow"], payment["total"]) == ("APPLIED", "ONE_TIME",
                                                                     {"amount": "19.50", "currency": "USD"})
    assert (payment["activationFee"], payment["processingFee"], payment["processingFeeTax"]) == (
        {"amount": "5.00"}, {"amount": "0.66"}, {"amount": "0.05"})
    assert payload["event"]["typeCode"] == "PAYMENT"
    assert payload["event"]["amount"] == {"amount": "10.79"}  # PAY-4: the option amount
    assert payload["subscription"]["balance"] == {"amount": "10.79"}  # PAY-2: the activation fee is not credited
    [sale] = gateway_entries(sandboxes, setup.tenant)
    assert (sale["kind"], sale["state"], sale["amount"]) == ("SALE", "captured", Decimal("19.50"))
    [applied] = circulation_entries(sandboxes, setup.tenant)
    assert applied["gatewayTransactionId"] == sale["transactionId"] == payment["gatewayTransactionId"]
    recorded = [e.type_code for e in await events(services, setup.tenant)]
    assert recorded == ["PAYMENTCREATED", "PAYMENTCHARGED", "PAYMENT"]
    await assert_ledgers_agree(services, sandboxes, setup.tenant)


async def test_pay1_a_total_one_cent_off_is_refused_and_nothing_is_charged(api_client, own_tenant, sandboxes,
                                                                          services, tokens):
    setup = await paying(own_tenant, sandboxes, tokens, settings=NCS_CARD)

    payload = await pay(api_client, setup, optionTerm="1M", optionAmount="10.79", paymentType="CREDIT_CARD",
                        total="16.23")  # the total is 16.24

    assert codes(payload) == ["TOTAL_MISMATCH"]
    assert payload["userErrors"][0]["field"] == ["input", "total"]
    assert payload["payment"] is None
    assert gateway_entries(sandboxes, setup.tenant) == [] and circulation_entries(sandboxes, setup.tenant) == []
    assert await ledger_rows(services, setup.tenant) == []


async def test_pay1_the_quote_and_the_charge_agree(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, settings=NCS_CARD)
    flow = {"optionTerm": "12M", "optionAmount": "106.92", "tip": "3.33", "paymentType": "CREDIT_CARD"}
    # when
    quoted = await graphql(api_client, QUOTE, {"subscriptionId": setup.subscription_id,
                                               "input": {"makePayment": flow}}, **setup.headers)
    quote = quoted["data"]["paymentQuote"]["quote"]
    payload = await pay(api_client, setup, total=quote["total"]["amount"], **flow)
    # then
    payment = payload["payment"]
    assert payload["userErrors"] == [] and payment["state"] == "APPLIED"
    for line in ("total", "optionAmount", "optionTax", "tip", "donation", "activationFee", "processingFee",
                 "processingFeeTax", "balanceApplied"):
        assert payment[line]["amount"] == quote[line]["amount"], line


async def test_pay3_an_amount_that_is_not_the_options_is_refused(api_client, own_tenant, sandboxes, tokens):
    setup = await paying(own_tenant, sandboxes, tokens)

    payload = await pay(api_client, setup, optionTerm="1M", optionAmount="10.78", paymentType="CREDIT_CARD",
                        total="10.78")

    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("INVALID_OPTION", ["input", "optionAmount"])]


async def test_fee1_no_fee_for_a_bank_payment_and_fee3_a_fee_sent_with_it_is_refused(api_client, own_tenant,
                                                                                    sandboxes, tokens):
    setup = await paying(own_tenant, sandboxes, tokens, settings=NCS_CARD, method="BANK")

    refused = await pay(api_client, setup, optionTerm="1M", optionAmount="10.79", paymentType="BANK", total="10.79",
                        processingFee="0.38")
    accepted = await pay(api_client, setup, optionTerm="1M", optionAmount="10.79", paymentType="BANK",
                         total="10.79")

    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("PROCESSING_FEE_NOT_ALLOWED", ["input", "processingFee"])]
    assert accepted["userErrors"] == [] and accepted["payment"]["processingFee"] == {"amount": "0.00"}
    assert accepted["payment"]["activationFee"] == {"amount": "0.00"}  # PAY-2: credit card only


