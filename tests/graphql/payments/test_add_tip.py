"""addTip through the public API (TIP-1, TIP-2, FEE-4, PM-1, PAY-4)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import graphql
from tests.graphql.payments.support import (
    ADD_TIP, FEES_ON, QUOTE, assert_ledgers_agree, circulation_entries, circulation_record, codes, gateway_entries,
    pay, paying,
)


async def test_fee4_a_one_time_credit_card_tip_is_charged_with_its_fee(api_client, own_tenant, sandboxes, services,
                                                                      tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, settings=FEES_ON, digital=False)
    # when: 10.10 + fee round(0.3535) = 0.35 + fee tax round(0.0245) = 0.02
    payload = await pay(api_client, setup, ADD_TIP, amount="10.10", paymentType="CREDIT_CARD", total="10.47")
    # then
    assert payload["userErrors"] == []
    assert (payload["payment"]["state"], payload["payment"]["tip"]) == ("APPLIED", {"amount": "10.10"})
    assert payload["event"]["typeCode"] == "ADDTIP" and payload["event"]["amount"] == {"amount": "10.10"}
    [sale] = gateway_entries(sandboxes, setup.tenant)
    assert sale["amount"] == Decimal("10.47")
    await assert_ledgers_agree(services, sandboxes, setup.tenant)


async def test_fee4_a_recurring_tip_has_no_fee_and_is_added_to_auto_pay(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, settings=FEES_ON, autoPay=True)
    # when
    payload = await pay(api_client, setup, ADD_TIP, amount="10.10", recurring=True, paymentType="CREDIT_CARD",
                        total="0.00")
    # then
    assert payload["userErrors"] == [] and payload["payment"]["processingFee"] == {"amount": "0.00"}
    assert gateway_entries(sandboxes, setup.tenant) == []
    assert circulation_record(sandboxes, setup)["autoPayPlan"]["tip"] == Decimal("10.10")
    [entry] = circulation_entries(sandboxes, setup.tenant)
    assert (entry["recurring"], entry["charged"]) == (True, Decimal("0.00"))


async def test_tip1_a_recurring_tip_without_auto_pay_is_refused(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, autoPay=False)
    # when
    payload = await pay(api_client, setup, ADD_TIP, amount="2.00", recurring=True, paymentType="CREDIT_CARD",
                        total="0.00")
    # then
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("TIP_NOT_ALLOWED", ["input", "recurring"])]


@pytest.mark.parametrize("facts", [{"digital": True}, {"status": "STOPPED"}])
async def test_tip1_no_one_time_tip_for_a_digital_or_stopped_subscription(api_client, own_tenant, sandboxes, tokens,
                                                                         facts):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, **{"digital": False, **facts})
    # when
    payload = await pay(api_client, setup, ADD_TIP, amount="2.00", paymentType="CREDIT_CARD", total="2.00")
    # then
    assert codes(payload) == ["TIP_NOT_ALLOWED"]


@pytest.mark.parametrize("status", ["PAUSED", "IN_GRACE"])
async def test_tip1_one_time_tips_for_paused_and_in_grace_subscriptions(api_client, own_tenant, sandboxes, tokens,
                                                                       status):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, status=status, digital=False, method="BANK")
    # when
    payload = await pay(api_client, setup, ADD_TIP, amount="2.00", paymentType="BANK", total="2.00")
    # then
    assert payload["userErrors"] == []


async def test_tip2_a_tip_above_the_tenants_maximum_is_refused_and_the_maximum_accepted(api_client, own_tenant,
                                                                                       sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, digital=False,
                         settings={"Payments.MaximumTipAmountAllowed": "50.00"})
    # when
    above = await pay(api_client, setup, ADD_TIP, amount="50.01", paymentType="CREDIT_CARD", total="50.01")
    maximum = await pay(api_client, setup, ADD_TIP, amount="50.00", paymentType="CREDIT_CARD", total="50.00")
    # then
    assert [(e["code"], e["field"]) for e in above["userErrors"]] == [("TIP_TOO_LARGE", ["input", "amount"])]
    assert maximum["userErrors"] == []


async def test_tip2_a_tip_of_zero_is_refused(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, digital=False)
    # when
    payload = await pay(api_client, setup, ADD_TIP, amount="0.00", paymentType="CREDIT_CARD", total="0.00")
    # then
    assert codes(payload) == ["INVALID_AMOUNT"]


@pytest.mark.parametrize("kind", ["SAXO", "MATRIX", "CIRCPRO"])
async def test_pm1_tips_exist_on_ncs_only(api_client, own_tenant, sandboxes, tokens, kind):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, kind=kind, digital=False)
    # when
    payload = await pay(api_client, setup, ADD_TIP, amount="2.00", paymentType="CREDIT_CARD", total="2.00")
    # then
    assert codes(payload) == ["FLOW_NOT_SUPPORTED"]


async def test_tip_the_quote_and_the_tip_agree(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, settings=FEES_ON, digital=False)
    flow = {"amount": "7.77", "paymentType": "CREDIT_CARD"}
    quoted = await graphql(api_client, QUOTE, {"subscriptionId": setup.subscription_id, "input": {"addTip": flow}},
                           **setup.headers)
    quote = quoted["data"]["paymentQuote"]["quote"]
    # when
    payload = await pay(api_client, setup, ADD_TIP, total=quote["total"]["amount"], **flow)
    # then
    for line in ("total", "tip", "processingFee", "processingFeeTax"):
        assert payload["payment"][line]["amount"] == quote[line]["amount"], line
