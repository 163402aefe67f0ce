"""Auto-pay management through the API (EZ-4..7, PM-5): the current plan in one shape for every circulation kind,
active or stopped; cancelAutoPay on every kind, owner or staff, only on auto-pay, ending the recurring tip and not the
subscription; a payment-method change inside the 24-hour window answers the documents' message; a one-time payment
never enrols in auto-pay."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import graphql
from tests.graphql.account.support import KINDS, account_world, call, codes, events
from tests.graphql.payments.support import MAKE_PAYMENT, SIGN_UP_AUTO_PAY, circulation_record, pay, paying

PLAN = """
query ($id: ID!) { subscription(id: $id) { currentPlan {
  term length lengthUnit paidThroughDate rate { amount currency } tax { amount } otherCosts { amount }
  amount { amount } autoRenew balance { amount } } } }
"""
CANCEL = """
mutation ($id: ID!) { cancelAutoPay(input: {subscriptionId: $id}) {
  subscription { id status autoPay endDate tipAvailability { recurring { available } } }
  event { typeCode source } userErrors { code field message } } }
"""
AUTO_PAY = {"autoPay": True, "autoPayPlan": {"paymentType": "CREDIT_CARD", "term": "12M", "length": 12,
                                             "tip": "3.00", "donation": "0.00"}}


# -- EZ-4 ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
async def test_ez_4_the_plan_has_one_shape_on_every_kind(api_client, own_tenant, services, tokens, kind):
    # given: on auto-pay with the 12-month option, a debt of 4.5
    world = await account_world(own_tenant, services, tokens, kind, balance="-4.5", **AUTO_PAY)
    # when
    plan = (await call(api_client, world, PLAN, id=world.subscription_id))["currentPlan"]
    # then: the same names and two decimals whatever the kind calls them upstream
    assert plan == {
        "term": "12M", "length": 1, "lengthUnit": "MONTH", "paidThroughDate": "2026-07-14",
        "rate": {"amount": "106.92", "currency": plan["rate"]["currency"]}, "tax": {"amount": "0.00"},
        "otherCosts": {"amount": "0.00"}, "amount": {"amount": "106.92"}, "autoRenew": True,
        "balance": {"amount": "-4.50"}}
    assert plan["rate"]["currency"] == world.record()["currency"]


@pytest.mark.parametrize("kind", KINDS)
async def test_ez_4_a_stopped_subscription_has_a_plan_that_does_not_renew(api_client, own_tenant, services, tokens,
                                                                          kind):
    world = await account_world(own_tenant, services, tokens, kind, status="STOPPED", balance="2")
    plan = (await call(api_client, world, PLAN, id=world.subscription_id))["currentPlan"]
    assert (plan["term"], plan["autoRenew"], plan["balance"], plan["paidThroughDate"]) == (
        "1M", False, {"amount": "2.00"}, "2026-07-14")


async def test_ez_4_guests_read_the_plan_and_other_customers_do_not(api_client, own_tenant, services, tokens):
    world = await account_world(own_tenant, services, tokens)
    guest = await graphql(api_client, PLAN, {"id": world.subscription_id}, **world.headers["guest"])
    stranger = await graphql(api_client, PLAN, {"id": world.subscription_id}, **world.headers["stranger"])
    assert guest["data"]["subscription"]["currentPlan"]["term"] == "1M"
    assert stranger["errors"][0]["extensions"]["code"] == "FORBIDDEN"


# -- EZ-5 ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
async def test_ez_5_owner_cancels_auto_pay_on_every_kind_and_the_subscription_goes_on(api_client, own_tenant, services,
                                                                                      tokens, kind):
    # given
    world = await account_world(own_tenant, services, tokens, kind, **AUTO_PAY)
    # when
    cancelled = await call(api_client, world, CANCEL, id=world.subscription_id)
    plan = (await call(api_client, world, PLAN, id=world.subscription_id))["currentPlan"]
    # then
    assert cancelled["userErrors"] == []
    assert cancelled["subscription"] == {"id": world.subscription_id, "status": "ACTIVE", "autoPay": False,
                                         "endDate": "2026-07-14", "tipAvailability": {"recurring": {"available": False}}}
    assert cancelled["event"] == {"typeCode": "AUTOPAYCANCEL", "source": "CUSTOMER"}
    assert plan["autoRenew"] is False and world.record()["autoPayPlan"] is None  # the recurring tip ended
    [event] = await events(services, world, "AUTOPAYCANCEL")
    assert (event.crid, event.details["optionTerm"], event.details["recurringTip"]) == (world.owner.crid, "12M", "3.00")


async def test_ez_5_not_on_auto_pay_is_refused_and_records_nothing(api_client, own_tenant, services, tokens):
    world = await account_world(own_tenant, services, tokens)
    refused = await call(api_client, world, CANCEL, id=world.subscription_id)
    assert codes(refused) == ["NOT_ON_AUTO_PAY"] and refused["userErrors"][0]["field"] == ["input", "subscriptionId"]
    assert await events(services, world, "AUTOPAYCANCEL") == []


async def test_ez_5_a_second_cancel_is_refused(api_client, own_tenant, services, tokens):
    world = await account_world(own_tenant, services, tokens, **AUTO_PAY)
    await call(api_client, world, CANCEL, id=world.subscription_id)
    again = await call(api_client, world, CANCEL, id=world.subscription_id)
    assert codes(again) == ["NOT_ON_AUTO_PAY"] and len(await events(services, world, "AUTOPAYCANCEL")) == 1


async def test_ez_5_staff_cancel_guest_and_others_refused_unknown_not_found(api_client, own_tenant, services, tokens):
    world = await account_world(own_tenant, services, tokens, **AUTO_PAY)
    guest = await call(api_client, world, CANCEL, "guest", id=world.subscription_id)
    stranger = await call(api_client, world, CANCEL, "stranger", id=world.subscription_id)
    unknown = await call(api_client, world, CANCEL, "staff", id=f"{world.tenant.code}-NOPE")
    staff = await call(api_client, world, CANCEL, "staff", id=world.subscription_id)
    assert guest["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert stranger["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert codes(unknown) == ["NOT_FOUND"]
    assert staff["userErrors"] == [] and staff["event"]["source"] == "STAFF"
    [event] = await events(services, world, "AUTOPAYCANCEL")
    assert event.crid == world.owner.crid  # NOT-1: staff act on the owner's behalf


async def test_ez_5_recurring_tip_signed_up_then_cancelled_is_recorded_with_its_amount(api_client, own_tenant,
                                                                                      sandboxes, services, tokens):
    # given: NCS auto-pay with a recurring 3.00 tip, through the API
    setup = await paying(own_tenant, sandboxes, tokens)
    signed = await pay(api_client, setup, SIGN_UP_AUTO_PAY, total="0.00", term="1M", length=1,
                       paymentType="CREDIT_CARD", tip="3.00")
    # when
    cancelled = await graphql(api_client, CANCEL, {"id": setup.subscription_id}, **setup.headers)
    # then
    assert signed["userErrors"] == [] and cancelled["data"]["cancelAutoPay"]["userErrors"] == []
    assert circulation_record(sandboxes, setup)["autoPayPlan"] is None
    from tests.graphql.payments.support import events as all_events
    [event] = [e for e in await all_events(services, setup.tenant) if e.type_code == "AUTOPAYCANCEL"]
    assert (event.details["recurringTip"], event.details["optionTerm"]) == ("3.00", "1M")


# -- EZ-6 ------------------------------------------------------------------------------------------------------
async def test_ez_6_a_method_change_inside_the_24_hour_window_says_so_in_the_documents_words(
        api_client, own_tenant, sandboxes, tokens):
    from tests.graphql.payments.test_payment_sessions import CARD, complete, start, tokenize
    # given: a payment method attached 23 hours 59 minutes ago
    setup = await paying(own_tenant, sandboxes, tokens, method="VISA", attached_ago=timedelta(hours=23, minutes=59))
    session = (await start(api_client, setup))["session"]
    posted = await tokenize(api_client, session, {"cardNumber": "5555555555554444", **CARD})
    # when
    payload = await complete(api_client, setup, {**posted, "sessionId": session["sessionId"]})
    # then
    assert payload["userErrors"] == [{
        "code": "PAYMENT_METHOD_CHANGE_WINDOW", "field": ["input", "subscriptionId"],
        "message": "Payment method was modified recently. Please wait 24 hours or call our Customer Support team."}]


# -- EZ-7 ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
async def test_ez_7_a_one_time_payment_never_enrols_in_auto_pay(api_client, own_tenant, sandboxes, tokens, kind):
    # given: not on auto-pay
    setup = await paying(own_tenant, sandboxes, tokens, kind=kind)
    # when
    payload = await pay(api_client, setup, MAKE_PAYMENT, optionTerm="1M", optionAmount="10.79",
                        paymentType="CREDIT_CARD", total="10.79")
    # then
    assert payload["userErrors"] == [] and payload["payment"]["state"] == "APPLIED"
    assert payload["subscription"]["autoPay"] is False
    record = circulation_record(sandboxes, setup)
    assert (record["autoPay"], record["autoPayPlan"]) == (False, None)
    assert not any(option["autoRenew"] for option in record["billingOptions"])
