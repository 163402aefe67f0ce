"""makePayment through the public API (PAY-1..PAY-4, FEE-1..FEE-3, PM-1..PM-5, NOT-1)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import graphql
from tests.graphql.payments.support import (
    FEES_ON, MAKE_PAYMENT, QUOTE, assert_ledgers_agree, circulation_entries, codes, events, gateway_entries,
    ledger_rows, pay, paying,
)

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
    # given
    setup = await paying(own_tenant, sandboxes, tokens, settings=NCS_CARD)
    # when
    payload = await pay(api_client, setup, optionTerm="1M", optionAmount="10.79", paymentType="CREDIT_CARD",
                        total="16.23")  # the total is 16.24
    # then
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
    # given
    setup = await paying(own_tenant, sandboxes, tokens)
    # when
    payload = await pay(api_client, setup, optionTerm="1M", optionAmount="10.78", paymentType="CREDIT_CARD",
                        total="10.78")
    # then
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("INVALID_OPTION", ["input", "optionAmount"])]


async def test_fee1_no_fee_for_a_bank_payment_and_fee3_a_fee_sent_with_it_is_refused(api_client, own_tenant,
                                                                                    sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, settings=NCS_CARD, method="BANK")
    # when
    refused = await pay(api_client, setup, optionTerm="1M", optionAmount="10.79", paymentType="BANK", total="10.79",
                        processingFee="0.38")
    accepted = await pay(api_client, setup, optionTerm="1M", optionAmount="10.79", paymentType="BANK",
                         total="10.79")
    # then
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("PROCESSING_FEE_NOT_ALLOWED", ["input", "processingFee"])]
    assert accepted["userErrors"] == [] and accepted["payment"]["processingFee"] == {"amount": "0.00"}
    assert accepted["payment"]["activationFee"] == {"amount": "0.00"}  # PAY-2: credit card only




@pytest.mark.parametrize("kind", ["MATRIX", "CIRCPRO"])
async def test_pm1_one_time_payments_by_bank_are_refused_on_matrix_and_circpro(api_client, own_tenant, sandboxes,
                                                                               tokens, kind):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, kind=kind, method="BANK")
    # when
    payload = await pay(api_client, setup, optionTerm="1M", optionAmount="10.79", paymentType="BANK", total="10.79")
    # then
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("PAYMENT_METHOD_NOT_ALLOWED",
                                                                        ["input", "paymentType"])]
    assert gateway_entries(sandboxes, setup.tenant) == []


async def test_pm1_saxo_accepts_a_bank_payment_with_a_tip_and_a_donation(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, kind="SAXO", method="BANK")
    # when
    payload = await pay(api_client, setup, optionTerm="1M", optionAmount="10.79", tip="1.00", donation="2.00",
                        paymentType="BANK", total="13.79")
    # then
    assert payload["userErrors"] == [] and payload["payment"]["total"] == {"amount": "13.79", "currency": "AUD"}


@pytest.mark.parametrize("extra", [{"tip": "1.00"}, {"donation": "1.00"}])
async def test_pm2_matrix_accepts_no_tip_or_donation(api_client, own_tenant, sandboxes, tokens, extra):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, kind="MATRIX")
    # when
    payload = await pay(api_client, setup, optionTerm="1M", optionAmount="10.79", paymentType="CREDIT_CARD",
                        total="11.79", **extra)
    # then
    assert [(e["code"], e["field"][-1]) for e in payload["userErrors"]] == [("TIP_NOT_SUPPORTED", next(iter(extra)))]


async def test_pm3_a_diners_card_is_refused_and_nothing_is_charged(api_client, own_tenant, sandboxes, services,
                                                                   tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, method="DINERS")
    # when
    payload = await pay(api_client, setup, optionTerm="1M", optionAmount="10.79", paymentType="CREDIT_CARD",
                        total="10.79")
    # then
    assert codes(payload) == ["PAYMENT_METHOD_NOT_ALLOWED"] and "Diners" in payload["userErrors"][0]["message"]
    assert gateway_entries(sandboxes, setup.tenant) == [] and await ledger_rows(services, setup.tenant) == []


async def test_pm4_paying_needs_the_subscriptions_payment_method_of_the_quoted_type(api_client, own_tenant, sandboxes,
                                                                                   tokens):
    # given
    without = await paying(own_tenant, sandboxes, tokens, method=None)
    bank = await paying(own_tenant, sandboxes, tokens, method="BANK")
    # when
    missing = await pay(api_client, without, optionTerm="1M", optionAmount="10.79", paymentType="CREDIT_CARD",
                        total="10.79")
    mismatch = await pay(api_client, bank, optionTerm="1M", optionAmount="10.79", paymentType="CREDIT_CARD",
                         total="10.79")
    # then
    assert codes(missing) == ["PAYMENT_METHOD_REQUIRED"] and codes(mismatch) == ["PAYMENT_METHOD_MISMATCH"]


async def test_a_stopped_subscription_is_paid_through_a_restart(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, status="STOPPED")
    # when
    payload = await pay(api_client, setup, optionTerm="1M", optionAmount="10.79", paymentType="CREDIT_CARD",
                        total="10.79")
    # then
    assert codes(payload) == ["SUBSCRIPTION_STOPPED"]


async def test_an_unknown_subscription_is_not_found(staff_api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens)
    data = {**setup.sub(optionTerm="1M", optionAmount="10.79", paymentType="CREDIT_CARD", total="10.79"),
            "subscriptionId": "NOPE-1"}
    # when
    answer = await graphql(staff_api_client, MAKE_PAYMENT, {"input": data}, **setup.tenant.headers)
    # then
    assert [(e["code"], e["field"]) for e in answer["data"]["makePayment"]["userErrors"]] == [
        ("NOT_FOUND", ["input", "subscriptionId"])]


async def test_mny1_amounts_above_int32_are_charged_and_applied_to_the_cent(api_client, own_tenant, sandboxes, services,
                                                                            tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, terms=(("1Y", "2147483648.10"),))
    # when
    payload = await pay(api_client, setup, optionTerm="1Y", optionAmount="2147483648.10", paymentType="CREDIT_CARD",
                        total="2147483648.10")
    # then
    assert payload["userErrors"] == [] and payload["payment"]["total"]["amount"] == "2147483648.10"
    [sale] = gateway_entries(sandboxes, setup.tenant)
    assert sale["amount"] == Decimal("2147483648.10")
    [row] = await ledger_rows(services, setup.tenant)
    assert row.total == Decimal("2147483648.10")
    await assert_ledgers_agree(services, sandboxes, setup.tenant)


async def test_mny1_an_amount_with_three_decimals_is_refused(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens)
    # when
    payload = await pay(api_client, setup, optionTerm="1M", optionAmount="10.79", tip="0.005",
                        paymentType="CREDIT_CARD", total="10.80")
    # then
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("INVALID_AMOUNT", ["input", "tip"])]
