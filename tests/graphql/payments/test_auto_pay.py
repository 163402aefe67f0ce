"""signUpAutoPay and updateAutoPay through the public API (EZ-1, EZ-2, FEE-4, PM-1, PM-2, PAY-4)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sandbox.faults import FaultRule
from tests.conftest import graphql
from tests.graphql.payments.support import (
    FEES_ON, QUOTE, SIGN_UP_AUTO_PAY, UPDATE_AUTO_PAY, assert_ledgers_agree, circulation_entries, circulation_record,
    codes, events, gateway_entries, pay, paying,
)

PLAN = {"term": "1M", "length": 1, "paymentType": "CREDIT_CARD"}


async def test_ez1_fee4_sign_up_with_a_debt_pays_the_debt_with_its_fee_then_sets_up_auto_pay(api_client, own_tenant,
                                                                                            sandboxes, services,
                                                                                            tokens):
    # given: a debt of 20.45, fees on
    setup = await paying(own_tenant, sandboxes, tokens, balance="-20.45", settings=FEES_ON)
    # when: 20.45 + fee round(0.71575) = 0.72 + fee tax round(0.0504) = 0.05; the recurring tip is not charged
    payload = await pay(api_client, setup, SIGN_UP_AUTO_PAY, tip="3.00", total="21.22", **PLAN)
    # then
    assert payload["userErrors"] == []
    payment = payload["payment"]
    assert (payment["state"], payment["flow"], payment["total"]["amount"]) == ("APPLIED", "AUTOPAY_SIGNUP", "21.22")
    assert (payment["balanceApplied"], payment["tip"]) == ({"amount": "-20.45"}, {"amount": "0.00"})
    assert payload["subscription"]["autoPay"] is True and payload["subscription"]["balance"] == {"amount": "0.00"}
    assert payload["event"]["typeCode"] == "EZPAYSIGNUP"
    [sale] = gateway_entries(sandboxes, setup.tenant)
    assert sale["amount"] == Decimal("21.22")
    assert [e["operation"] for e in circulation_entries(sandboxes, setup.tenant)] == ["PAYMENT", "AUTOPAY_SIGNUP"]
    assert circulation_record(sandboxes, setup)["autoPayPlan"]["tip"] == Decimal("3.00")
    assert [e.type_code for e in await events(services, setup.tenant)] == [
        "PAYMENTCREATED", "PAYMENTCHARGED", "PAYMENT", "EZPAYSIGNUP"]
    await assert_ledgers_agree(services, sandboxes, setup.tenant)


async def test_ez1_fee4_sign_up_without_a_debt_charges_nothing(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, balance="5.00", settings=FEES_ON)
    # when
    payload = await pay(api_client, setup, SIGN_UP_AUTO_PAY, total="0.00", **PLAN)
    # then
    assert payload["userErrors"] == [] and payload["payment"]["total"]["amount"] == "0.00"
    assert payload["subscription"]["autoPay"] is True
    assert gateway_entries(sandboxes, setup.tenant) == []


async def test_ez1_the_payment_stands_when_auto_pay_cannot_be_set_up(api_client, own_tenant, sandboxes, services,
                                                                     tokens):
    # given: the debt payment works; the circulation system refuses the auto-pay set-up
    setup = await paying(own_tenant, sandboxes, tokens, balance="-20.45")
    sandboxes["circulation"].state.control.rules.append(FaultRule(
        method="POST", path="/autopay$", status=422, body={"code": "INVALID_OPTION", "message": "plan refused"}))
    # when
    payload = await pay(api_client, setup, SIGN_UP_AUTO_PAY, total="20.45", **PLAN)
    # then: paid and applied, not on auto-pay, and the answer says so
    assert codes(payload) == ["AUTO_PAY_SETUP_FAILED"]
    assert "paid" in payload["userErrors"][0]["message"]
    assert payload["payment"]["state"] == "APPLIED"
    assert payload["subscription"]["autoPay"] is False and payload["subscription"]["balance"] == {"amount": "0.00"}
    assert payload["event"]["typeCode"] == "EZPAYSIGNUPFAILED"
    await assert_ledgers_agree(services, sandboxes, setup.tenant)


async def test_ez1_a_declined_debt_payment_sets_up_no_auto_pay(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, balance="-20.45")
    sandboxes["navigapay"].state.store.profiles[setup.profile_id]["_outcome"] = ("CARD_DECLINED", "Declined.")
    # when
    payload = await pay(api_client, setup, SIGN_UP_AUTO_PAY, total="20.45", **PLAN)
    # then
    assert codes(payload) == ["PAYMENT_DECLINED"] and payload["subscription"]["autoPay"] is False
    assert circulation_entries(sandboxes, setup.tenant) == []


async def test_ez2_the_renewal_term_and_length_must_match_a_billing_option(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens)
    # when
    payload = await pay(api_client, setup, SIGN_UP_AUTO_PAY, total="0.00", **{**PLAN, "length": 3})
    # then
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("INVALID_OPTION", ["input", "term"])]


async def test_ez1_already_on_auto_pay_is_refused(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, autoPay=True)
    # when
    payload = await pay(api_client, setup, SIGN_UP_AUTO_PAY, total="0.00", **PLAN)
    # then
    assert codes(payload) == ["ALREADY_ON_AUTO_PAY"]


async def test_pm1_matrix_auto_pay_by_bank_is_refused(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, kind="MATRIX", method="BANK")
    # when
    payload = await pay(api_client, setup, SIGN_UP_AUTO_PAY, total="0.00", **{**PLAN, "paymentType": "BANK"})
    # then
    assert codes(payload) == ["PAYMENT_METHOD_NOT_ALLOWED"]


async def test_pm1_circpro_auto_pay_by_bank_is_accepted(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, kind="CIRCPRO", method="BANK")
    # when
    payload = await pay(api_client, setup, SIGN_UP_AUTO_PAY, total="0.00", **{**PLAN, "paymentType": "BANK"})
    # then
    assert payload["userErrors"] == [] and payload["subscription"]["autoPay"] is True


async def test_ez1_pm1_circpro_sign_up_by_bank_with_a_debt_is_refused_before_any_charge(api_client, own_tenant,
                                                                                          sandboxes, services, tokens):
    """EZ-1 pays the debt first as a one-time payment, and PM-1 accepts only a card for a CIRCPRO one-time
    payment: a CIRCPRO sign-up by bank with a debt is refused before NavigaPay is asked for anything (it used
    to charge the bank account and then meet the circulation system's refusal)."""
    # given: a CIRCPRO subscription with a bank account and a debt of 20.45
    setup = await paying(own_tenant, sandboxes, tokens, kind="CIRCPRO", method="BANK", balance="-20.45")
    # when
    payload = await pay(api_client, setup, SIGN_UP_AUTO_PAY, total="20.45", **{**PLAN, "paymentType": "BANK"})
    # then: refused on the payment type, nothing charged, nothing sent to the circulation system
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("PAYMENT_METHOD_NOT_ALLOWED", ["input", "paymentType"])]
    assert "CREDIT_CARD" in payload["userErrors"][0]["message"]
    assert payload["payment"] is None
    assert gateway_entries(sandboxes, setup.tenant) == []
    assert circulation_entries(sandboxes, setup.tenant) == []
    assert circulation_record(sandboxes, setup)["autoPay"] is False
    assert [e.type_code for e in await events(services, setup.tenant)] == []


async def test_ez1_pm1_circpro_sign_up_by_bank_without_a_debt_or_by_card_with_one_is_accepted(api_client, own_tenant,
                                                                                              sandboxes, tokens):
    """The refusal above is only for the debt's payment: without a debt a CIRCPRO bank sign-up is set up, and
    with one a card pays it (PM-1, EZ-1)."""
    # given
    by_bank = await paying(own_tenant, sandboxes, tokens, kind="CIRCPRO", method="BANK", balance="5.00")
    by_card = await paying(own_tenant, sandboxes, tokens, kind="CIRCPRO", balance="-20.45")
    # when
    bank = await pay(api_client, by_bank, SIGN_UP_AUTO_PAY, total="0.00", **{**PLAN, "paymentType": "BANK"})
    card = await pay(api_client, by_card, SIGN_UP_AUTO_PAY, total="20.45", **PLAN)
    # then
    assert bank["userErrors"] == [] and bank["subscription"]["autoPay"] is True
    assert card["userErrors"] == [] and card["subscription"]["autoPay"] is True
    assert [sale["amount"] for sale in gateway_entries(sandboxes, by_card.tenant)] == [Decimal("20.45")]


async def test_pm2_a_recurring_tip_on_matrix_auto_pay_is_refused(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, kind="MATRIX")
    # when
    payload = await pay(api_client, setup, SIGN_UP_AUTO_PAY, total="0.00", tip="1.00", **PLAN)
    # then
    assert codes(payload) == ["TIP_NOT_SUPPORTED"]


async def test_ez1_the_quote_and_the_sign_up_agree(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, balance="-7.77", settings=FEES_ON)
    quoted = await graphql(api_client, QUOTE, {"subscriptionId": setup.subscription_id,
                                               "input": {"autoPaySignUp": {**PLAN, "tip": "2.00"}}}, **setup.headers)
    quote = quoted["data"]["paymentQuote"]["quote"]
    # when
    payload = await pay(api_client, setup, SIGN_UP_AUTO_PAY, tip="2.00", total=quote["total"]["amount"], **PLAN)
    # then
    assert quote["recurringTip"] == {"amount": "2.00"} and quote["tip"] == {"amount": "0.00"}
    for line in ("total", "processingFee", "processingFeeTax", "balanceApplied"):
        assert payload["payment"][line]["amount"] == quote[line]["amount"], line


async def test_ez2_update_changes_the_plan_and_charges_nothing(api_client, own_tenant, sandboxes, services, tokens):
    # given: on auto-pay, with a debt (an update never collects it)
    setup = await paying(own_tenant, sandboxes, tokens, autoPay=True, balance="-5.00")
    # when
    payload = await pay(api_client, setup, UPDATE_AUTO_PAY, term="12M", length=1, tip="4.00",
                        paymentType="CREDIT_CARD")
    # then
    assert payload["userErrors"] == []
    assert (payload["payment"]["flow"], payload["payment"]["total"]["amount"]) == ("AUTOPAY_UPDATE", "0.00")
    assert payload["event"]["typeCode"] == "EZPAYUPDATE"
    plan = circulation_record(sandboxes, setup)["autoPayPlan"]
    assert (plan["term"], plan["tip"]) == ("12M", Decimal("4.00"))
    assert gateway_entries(sandboxes, setup.tenant) == []
    await assert_ledgers_agree(services, sandboxes, setup.tenant)


@pytest.mark.parametrize("mutation, flow_event", [(UPDATE_AUTO_PAY, "EZPAYUPDATE"),
                                                  (SIGN_UP_AUTO_PAY, "EZPAYSIGNUP")])
async def test_ez2_the_auto_pay_event_records_the_plan_term_and_recurring_tip(api_client, own_tenant, sandboxes,
                                                                              services, tokens, mutation, flow_event):
    """EZ-2, NOT-1 (issue 17 item 7: the event said `optionTerm: null, tip: "0.00"` despite a 3.00 tip)."""
    # given
    setup = await paying(own_tenant, sandboxes, tokens, autoPay=mutation is UPDATE_AUTO_PAY)
    # when
    payload = await pay(api_client, setup, mutation, term="12M", length=1, tip="3.00", donation="1.50",
                        paymentType="CREDIT_CARD", **({} if mutation is UPDATE_AUTO_PAY else {"total": "0.00"}))
    # then
    assert payload["userErrors"] == []
    [event] = [e for e in await events(services, setup.tenant) if e.type_code == flow_event]
    details = event.details
    assert (details["optionTerm"], details["length"], details["tip"], details["donation"]) == ("12M", 1, "3.00",
                                                                                               "1.50")
    assert (details["recurringTip"], details["recurringDonation"]) == ("3.00", "1.50")


async def test_ez2_update_needs_auto_pay(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens)
    # when
    payload = await pay(api_client, setup, UPDATE_AUTO_PAY, **PLAN)
    # then
    assert codes(payload) == ["NOT_ON_AUTO_PAY"]


async def test_pm4_auto_pay_needs_the_subscriptions_payment_method(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, method=None)
    # when
    payload = await pay(api_client, setup, SIGN_UP_AUTO_PAY, total="0.00", **PLAN)
    # then
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("PAYMENT_METHOD_REQUIRED",
                                                                        ["input", "paymentType"])]
