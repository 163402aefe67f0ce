"""restartSubscription through the public API (RST-1..RST-5, FEE-1, PM-1, PAY-4)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from tests.conftest import graphql
from tests.support import tenant_today as today_in
from tests.graphql.payments.support import (
    FEES_ON, QUOTE, RESTART, assert_ledgers_agree, circulation_entries, circulation_record, codes, gateway_entries,
    pay, paying,
)

CREDIT = {"Restart.ApplyCreditBalance": "1"}
RESTART_1M = {"optionTerm": "1M", "optionAmount": "10.79"}


def tenant_today() -> str:
    return today_in("America/New_York").isoformat()  # own tenants' time zone


async def test_rst3_rst5_a_debt_is_added_and_restartsubscription_records_the_tenants_codes(api_client, own_tenant,
                                                                                          sandboxes, services,
                                                                                          tokens):
    # given: a stopped subscription with a debt of 4.21; the tenant's restart codes
    setup = await paying(own_tenant, sandboxes, tokens, status="STOPPED", balance="-4.21", method="BANK", settings={
        "Restart.DTI.ReasonCode": "WINBACK", "Restart.DTI.SourceCode": "WEB"})
    # when
    payload = await pay(api_client, setup, RESTART, paymentType="BANK", total="15.00", **RESTART_1M)
    # then
    assert payload["userErrors"] == []
    assert payload["payment"]["balanceApplied"] == {"amount": "-4.21"}
    assert payload["payment"]["state"] == "APPLIED" and payload["subscription"]["status"] == "ACTIVE"
    assert (payload["event"]["typeCode"], payload["event"]["reason"], payload["event"]["source"]) == (
        "RESTARTSUBSCRIPTION", "WINBACK", "WEB")
    [sale] = gateway_entries(sandboxes, setup.tenant)
    assert sale["amount"] == Decimal("15.00")
    [applied] = circulation_entries(sandboxes, setup.tenant)
    assert (applied["operation"], applied["reasonCode"], applied["sourceCode"]) == ("RESTART", "WINBACK", "WEB")
    await assert_ledgers_agree(services, sandboxes, setup.tenant)


async def test_rst5_default_reason_and_source_codes(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, status="STOPPED")
    # when
    payload = await pay(api_client, setup, RESTART, paymentType="CREDIT_CARD", total="10.79", **RESTART_1M)
    # then
    assert (payload["event"]["reason"], payload["event"]["source"]) == ("payment", "MG2")


async def test_rst4_a_credit_that_exactly_covers_the_restart_needs_no_payment(api_client, own_tenant, sandboxes,
                                                                             services, tokens):
    # given: credit 10.79 applied, no payment method at all
    setup = await paying(own_tenant, sandboxes, tokens, status="STOPPED", balance="10.79", method=None,
                         settings={**CREDIT, **FEES_ON})
    # when
    payload = await pay(api_client, setup, RESTART, total="0.00", **RESTART_1M)
    # then: no gateway call, restarted, nothing left
    assert payload["userErrors"] == []
    payment = payload["payment"]
    assert (payment["state"], payment["total"]["amount"], payment["paymentType"]) == ("APPLIED", "0.00", None)
    assert (payment["balanceApplied"], payment["processingFee"]) == ({"amount": "10.79"}, {"amount": "0.00"})
    assert gateway_entries(sandboxes, setup.tenant) == []
    assert sandboxes["navigapay"].state.control.count("POST") == 0
    assert payload["subscription"]["status"] == "ACTIVE"
    assert payload["subscription"]["balance"] == {"amount": "0.00"}
    await assert_ledgers_agree(services, sandboxes, setup.tenant)


async def test_rst4_the_rest_of_a_larger_credit_stays_on_the_subscription(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, status="STOPPED", balance="50.00", settings=CREDIT)
    # when
    payload = await pay(api_client, setup, RESTART, paymentType="CREDIT_CARD", total="0.00", **RESTART_1M)
    # then
    assert payload["userErrors"] == [] and payload["payment"]["paymentType"] is None
    assert payload["subscription"]["balance"] == {"amount": "39.21"}
    assert gateway_entries(sandboxes, setup.tenant) == []


async def test_rst3_without_the_setting_the_credit_is_not_used(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, status="STOPPED", balance="50.00")
    # when
    payload = await pay(api_client, setup, RESTART, paymentType="CREDIT_CARD", total="10.79", **RESTART_1M)
    # then
    assert payload["userErrors"] == [] and payload["payment"]["total"]["amount"] == "10.79"
    assert payload["subscription"]["balance"] == {"amount": "50.00"}


async def test_rst4_one_cent_short_needs_a_payment_method(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, status="STOPPED", balance="10.78", settings=CREDIT)
    # when
    payload = await pay(api_client, setup, RESTART, total="0.01", **RESTART_1M)
    # then
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("PAYMENT_METHOD_REQUIRED",
                                                                        ["input", "paymentType"])]


async def test_rst2_a_future_date_is_accepted_for_matrix_and_the_subscription_is_active_at_once(api_client, own_tenant,
                                                                                               sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, kind="MATRIX", status="STOPPED")
    later = (datetime.fromisoformat(tenant_today()) + timedelta(days=10)).date().isoformat()
    # when
    payload = await pay(api_client, setup, RESTART, paymentType="CREDIT_CARD", total="10.79", restartDate=later,
                        **RESTART_1M)
    # then
    assert payload["userErrors"] == [] and payload["subscription"]["status"] == "ACTIVE"
    assert circulation_entries(sandboxes, setup.tenant)[0]["restartDate"] == later


async def test_rst2_a_future_date_is_refused_for_ncs(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, status="STOPPED")
    tomorrow = (datetime.fromisoformat(tenant_today()) + timedelta(days=1)).date().isoformat()
    # when
    payload = await pay(api_client, setup, RESTART, paymentType="CREDIT_CARD", total="10.79", restartDate=tomorrow,
                        **RESTART_1M)
    # then
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("INVALID_RESTART_DATE",
                                                                        ["input", "restartDate"])]
    assert gateway_entries(sandboxes, setup.tenant) == []


async def test_rst2_yesterday_is_refused_everywhere(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, kind="MATRIX", status="STOPPED")
    yesterday = (datetime.fromisoformat(tenant_today()) - timedelta(days=1)).date().isoformat()
    # when
    payload = await pay(api_client, setup, RESTART, paymentType="CREDIT_CARD", total="10.79", restartDate=yesterday,
                        **RESTART_1M)
    # then
    assert codes(payload) == ["INVALID_RESTART_DATE"]


@pytest.mark.parametrize("facts", [{"subscription_kind": "TRIAL"}, {"restartScheduled": True}, {"status": "ACTIVE"}])
async def test_rst1_no_restart_for_a_trial_a_scheduled_restart_or_a_running_subscription(api_client, own_tenant,
                                                                                       sandboxes, tokens, facts):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, **{"status": "STOPPED", **facts})
    # when
    payload = await pay(api_client, setup, RESTART, paymentType="CREDIT_CARD", total="10.79", **RESTART_1M)
    # then
    assert codes(payload) == ["RESTART_NOT_AVAILABLE"] and payload["payment"] is None
    assert gateway_entries(sandboxes, setup.tenant) == []


async def test_rst1_pm1_circpro_has_no_restarts(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, kind="CIRCPRO", status="STOPPED")
    # when
    payload = await pay(api_client, setup, RESTART, paymentType="CREDIT_CARD", total="10.79", **RESTART_1M)
    # then
    assert codes(payload) == ["RESTART_NOT_AVAILABLE"]


async def test_pm1_matrix_restarts_by_credit_card_only(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, kind="MATRIX", status="STOPPED", method="BANK")
    # when
    payload = await pay(api_client, setup, RESTART, paymentType="BANK", total="10.79", **RESTART_1M)
    # then
    assert codes(payload) == ["PAYMENT_METHOD_NOT_ALLOWED"]


async def test_rst3_the_quote_and_the_restart_agree(api_client, own_tenant, sandboxes, tokens):
    # given: fees on, a credit used, a tip
    setup = await paying(own_tenant, sandboxes, tokens, status="STOPPED", balance="4.00",
                         settings={**CREDIT, **FEES_ON})
    flow = {**RESTART_1M, "tip": "1.50", "paymentType": "CREDIT_CARD"}
    quoted = await graphql(api_client, QUOTE, {"subscriptionId": setup.subscription_id, "input": {"restart": flow}},
                           **setup.headers)
    quote = quoted["data"]["paymentQuote"]["quote"]
    # when
    payload = await pay(api_client, setup, RESTART, total=quote["total"]["amount"], **flow)
    # then: 10.79 + 1.50 − 4.00 = 8.29; fee round(0.29015) = 0.29; fee tax round(0.0203) = 0.02
    assert quote["total"]["amount"] == "8.60" and quote["paymentRequired"] is True
    for line in ("total", "optionAmount", "tip", "processingFee", "processingFeeTax", "balanceApplied"):
        assert payload["payment"][line]["amount"] == quote[line]["amount"], line
    assert circulation_record(sandboxes, setup)["balance"] == Decimal("0.00")


# -- RST-3, RST-4 with a donation; PM-2 on restarts ----------------------------------------------------------
async def test_rst3_rst4_a_credit_that_covers_the_option_but_not_the_donation_charges_the_donation(
        api_client, own_tenant, sandboxes, services, tokens):
    # given: a credit of exactly the option's 10.79, applied; a donation of 5.00 on top
    setup = await paying(own_tenant, sandboxes, tokens, status="STOPPED", balance="10.79", settings=CREDIT)
    # when: 10.79 + 5.00 − 10.79 = 5.00
    payload = await pay(api_client, setup, RESTART, paymentType="CREDIT_CARD", donation="5.00", total="5.00",
                        **RESTART_1M)
    # then: the donation is charged, the whole credit is used
    assert payload["userErrors"] == []
    payment = payload["payment"]
    assert (payment["state"], payment["paymentType"], payment["total"]["amount"]) == ("APPLIED", "CREDIT_CARD",
                                                                                    "5.00")
    assert (payment["donation"], payment["balanceApplied"]) == ({"amount": "5.00"}, {"amount": "10.79"})
    [sale] = gateway_entries(sandboxes, setup.tenant)
    assert sale["amount"] == Decimal("5.00")
    assert payload["subscription"]["status"] == "ACTIVE"
    assert payload["subscription"]["balance"] == {"amount": "0.00"}
    await assert_ledgers_agree(services, sandboxes, setup.tenant)


async def test_rst4_a_credit_short_of_the_donation_needs_a_payment_method(api_client, own_tenant, sandboxes,
                                                                          tokens):
    # given: a credit covering the option and part of the donation, and no payment type sent
    setup = await paying(own_tenant, sandboxes, tokens, status="STOPPED", balance="12.00", method=None,
                         settings=CREDIT)
    # when: 10.79 + 5.00 − 12.00 = 3.79 is due
    payload = await pay(api_client, setup, RESTART, donation="5.00", total="3.79", **RESTART_1M)
    # then
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("PAYMENT_METHOD_REQUIRED",
                                                                        ["input", "paymentType"])]
    assert "3.79" in payload["userErrors"][0]["message"]
    assert payload["payment"] is None and gateway_entries(sandboxes, setup.tenant) == []


async def test_rst3_the_quote_counts_the_donation_the_credit_does_not_cover(api_client, own_tenant, sandboxes,
                                                                           tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, status="STOPPED", balance="10.79", settings=CREDIT)
    flow = {**RESTART_1M, "donation": "5.00", "paymentType": "CREDIT_CARD"}
    # when
    answer = await graphql(api_client, QUOTE, {"subscriptionId": setup.subscription_id, "input": {"restart": flow}},
                           **setup.headers)
    # then
    quote = answer["data"]["paymentQuote"]["quote"]
    assert (quote["total"]["amount"], quote["balanceApplied"]["amount"], quote["paymentRequired"]) == (
        "5.00", "10.79", True)


@pytest.mark.parametrize("extra", [{"tip": "1.00"}, {"donation": "1.00"}], ids=["tip", "donation"])
async def test_pm2_a_matrix_restart_takes_no_tip_or_donation(api_client, own_tenant, sandboxes, services, tokens,
                                                            extra):
    # given: a stopped MATRIX subscription (CIRCPRO has no restarts at all: RST-1 answers first)
    setup = await paying(own_tenant, sandboxes, tokens, kind="MATRIX", status="STOPPED")
    # when
    payload = await pay(api_client, setup, RESTART, paymentType="CREDIT_CARD", total="11.79", **RESTART_1M, **extra)
    # then
    [name] = extra
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("TIP_NOT_SUPPORTED", ["input", name])]
    assert payload["payment"] is None
    assert gateway_entries(sandboxes, setup.tenant) == [] and circulation_entries(sandboxes, setup.tenant) == []
    assert circulation_record(sandboxes, setup)["status"] == "STOPPED"


@pytest.mark.parametrize("extra", [{"tip": "1.00"}, {"donation": "1.00"}], ids=["tip", "donation"])
async def test_pm2_a_matrix_restart_quote_refuses_a_tip_or_donation(api_client, own_tenant, sandboxes, tokens,
                                                                   extra):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, kind="MATRIX", status="STOPPED")
    flow = {**RESTART_1M, "paymentType": "CREDIT_CARD", **extra}
    # when
    answer = await graphql(api_client, QUOTE, {"subscriptionId": setup.subscription_id, "input": {"restart": flow}},
                           **setup.headers)
    # then
    payload = answer["data"]["paymentQuote"]
    assert codes(payload) == ["TIP_NOT_SUPPORTED"] and payload["quote"] is None
