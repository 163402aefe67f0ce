"""startPaymentSession and completePaymentSession (GW-1, PM-1, PM-3, PM-4, PM-5, NOT-1)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from sqlmodel import select

from datasources.models import PaymentMethod
from tests.conftest import graphql
from tests.graphql.payments.support import (
    MAKE_PAYMENT, SIGN_UP_AUTO_PAY, another_subscription, assert_ledgers_agree, circulation_entries, codes, events,
    gateway_entries, pay, paying,
)

START = """
mutation ($input: StartPaymentSessionInput!) {
  startPaymentSession(input: $input) {
    session { sessionId groupId paymentType iframeUrl }
    userErrors { code field message }
  }
}
"""
COMPLETE = """
mutation ($input: CompletePaymentSessionInput!) {
  completePaymentSession(input: $input) {
    paymentMethod { type cardBrand cardLast4 cardExpiry bankName bankAccountMasked }
    subscription { id paymentMethod { cardLast4 } }
    event { typeCode details }
    userErrors { code field message }
  }
}
"""
CARD = {"expiry": "12/30", "cvv": "123", "cardholderName": "Ada Andersen"}
VISA, DINERS = "4242424242424242", "36227206271667"
BANK_ACCOUNT = {"routingNumber": "021000021", "accountNumber": "123456789", "bankName": "First Community Bank"}
POST_MESSAGE = re.compile(r"const message = (\{.*?\});")


async def start(client, setup, payment_type="CREDIT_CARD") -> dict:
    answer = await graphql(client, START, {"input": {"subscriptionId": setup.subscription_id,
                                                     "paymentType": payment_type}}, **setup.headers)
    return answer["data"]["startPaymentSession"]


async def tokenize(client, session: dict, fields: dict) -> dict:
    """What the customer does in the hosted iframe (the emulator's JSON twin of the form)."""
    response = await client.post(f"/sandbox/navigapay/api/v1/sessions/{session['sessionId']}/tokenize", json=fields)
    assert response.status_code == 201, response.text
    return response.json()


async def hosted_form(client, session: dict, fields: dict) -> dict:
    """What the customer does in the hosted iframe itself: the form posted, the token read from the message the
    result page posts to its parent window."""
    response = await client.post(urlsplit(session["iframeUrl"]).path, data=fields)
    assert response.status_code == 200, response.text
    return json.loads(POST_MESSAGE.search(response.text)[1])


async def complete(client, setup, posted: dict, **overrides) -> dict:
    data = {"subscriptionId": setup.subscription_id, "sessionId": posted.get("sessionId"),
            "profileId": posted["profileId"], "groupId": posted["groupId"], "paymentType": posted["paymentType"],
            **overrides}
    answer = await graphql(client, COMPLETE, {"input": data}, **setup.headers)
    assert "errors" not in answer, answer
    return answer["data"]["completePaymentSession"]


async def method_rows(services, setup) -> list[PaymentMethod]:
    async with services.db.session() as session:
        return list((await session.execute(select(PaymentMethod).where(
            PaymentMethod.tenant_id == setup.tenant.id))).scalars())


async def test_gw1_pm4_a_session_tokenizes_a_card_into_a_masked_payment_method(api_client, own_tenant, sandboxes,
                                                                              services, tokens):
    # given: a subscription without a payment method
    setup = await paying(own_tenant, sandboxes, tokens, method=None)
    # when
    session = await start(api_client, setup)
    posted = await tokenize(api_client, session["session"], {"cardNumber": VISA, **CARD})
    payload = await complete(api_client, setup, {**posted, "sessionId": session["session"]["sessionId"]})
    # then
    assert session["userErrors"] == []
    assert session["session"]["iframeUrl"].startswith("http://127.0.0.1:8000/sandbox/navigapay/hosted/")
    assert payload["userErrors"] == []
    assert payload["paymentMethod"] == {"type": "CREDIT_CARD", "cardBrand": "VISA", "cardLast4": "4242",
                                        "cardExpiry": "12/30", "bankName": None, "bankAccountMasked": None}
    assert payload["subscription"]["paymentMethod"] == {"cardLast4": "4242"}
    assert payload["event"]["typeCode"] == "CHANGEPAYMENTMETHOD"
    [row] = await method_rows(services, setup)
    assert row.gateway_token == posted["profileId"]
    # the text the row stores (an integer id may happen to read "123", the CVV)
    stored = " ".join(value for value in row.model_dump().values() if isinstance(value, str))
    assert VISA not in stored and "123" not in stored.split()  # PM-4: no card number, no CVV
    assert [e.type_code for e in await events(services, setup.tenant)] == ["PAYMENTSESSIONSTART",
                                                                           "CHANGEPAYMENTMETHOD"]


async def test_gw1_completing_the_same_session_again_changes_nothing(api_client, own_tenant, sandboxes, services,
                                                                    tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, method=None)
    session = (await start(api_client, setup))["session"]
    posted = {**await tokenize(api_client, session, {"cardNumber": VISA, **CARD}), "sessionId": session["sessionId"]}
    # when
    first = await complete(api_client, setup, posted)
    again = await complete(api_client, setup, posted)
    # then
    assert first["userErrors"] == again["userErrors"] == []
    assert again["paymentMethod"] == first["paymentMethod"]
    assert [e.type_code for e in await events(services, setup.tenant)].count("CHANGEPAYMENTMETHOD") == 1


async def test_pm3_a_diners_card_is_refused_and_the_current_method_stays(api_client, own_tenant, sandboxes,
                                                                        services, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, method="VISA")
    session = (await start(api_client, setup))["session"]
    posted = await tokenize(api_client, session, {"cardNumber": DINERS, **CARD})
    # when
    payload = await complete(api_client, setup, {**posted, "sessionId": session["sessionId"]})
    # then
    assert codes(payload) == ["PAYMENT_METHOD_NOT_ALLOWED"]
    [row] = await method_rows(services, setup)
    assert row.card_brand == "VISA"


async def test_pm5_the_payment_method_changes_at_most_once_per_24_hours(api_client, own_tenant, sandboxes, services,
                                                                       tokens):
    # given: a payment method attached 23 hours ago
    setup = await paying(own_tenant, sandboxes, tokens, method="VISA", attached_ago=timedelta(hours=23))
    session = (await start(api_client, setup))["session"]
    posted = await tokenize(api_client, session, {"cardNumber": "5555555555554444", **CARD})
    # when
    payload = await complete(api_client, setup, {**posted, "sessionId": session["sessionId"]})
    # then
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("PAYMENT_METHOD_CHANGE_WINDOW", ["input", "subscriptionId"])]
    [row] = await method_rows(services, setup)
    assert row.card_brand == "VISA"


async def test_pm5_a_method_attached_more_than_24_hours_ago_may_change(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, method="VISA", attached_ago=timedelta(hours=24, minutes=1))
    session = (await start(api_client, setup))["session"]
    posted = await tokenize(api_client, session, {"cardNumber": "5555555555554444", **CARD})
    # when
    payload = await complete(api_client, setup, {**posted, "sessionId": session["sessionId"]})
    # then
    assert payload["userErrors"] == [] and payload["paymentMethod"]["cardBrand"] == "MASTERCARD"


async def test_gw1_a_session_not_tokenized_yet_is_refused(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, method=None)
    session = (await start(api_client, setup))["session"]
    # when
    payload = await complete(api_client, setup, {"sessionId": session["sessionId"], "profileId": "prof_x",
                                                 "groupId": session["groupId"], "paymentType": "CREDIT_CARD"})
    # then
    assert codes(payload) == ["SESSION_NOT_TOKENIZED"]


async def test_gw1_a_session_started_for_another_subscription_is_refused(api_client, own_tenant, sandboxes, tokens):
    # given: a session started for another subscription of the same owner
    setup = await paying(own_tenant, sandboxes, tokens, method=None)
    other = await another_subscription(own_tenant, sandboxes, tokens, setup.tenant, setup.crid, setup.registration_id,
                                       method=None)
    session = (await start(api_client, other))["session"]
    posted = await tokenize(api_client, session, {"cardNumber": VISA, **CARD})

    payload = await complete(api_client, setup, {**posted, "sessionId": session["sessionId"]})

    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("SESSION_NOT_FOUND", ["input", "sessionId"])]


async def test_pm1_matrix_has_no_use_for_a_bank_account(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, kind="MATRIX", method=None)
    # when
    payload = await start(api_client, setup, payment_type="BANK")
    # then
    assert codes(payload) == ["PAYMENT_METHOD_NOT_ALLOWED"] and payload["session"] is None



# -- GW-1 with PM-1 off NCS: a session's payment method is the one the next payment uses ----------------------
@pytest.mark.parametrize("kind, payment_type, fields, enter, then", [
    ("MATRIX", "CREDIT_CARD", {"cardNumber": VISA, **CARD}, hosted_form, MAKE_PAYMENT),
    ("SAXO", "CREDIT_CARD", {"cardNumber": VISA, **CARD}, tokenize, MAKE_PAYMENT),
    ("SAXO", "BANK", BANK_ACCOUNT, hosted_form, MAKE_PAYMENT),
    ("CIRCPRO", "CREDIT_CARD", {"cardNumber": VISA, **CARD}, tokenize, MAKE_PAYMENT),
    # PM-1: CIRCPRO takes a bank account for auto-pay only (without a debt: EZ-1's debt payment is one-time)
    ("CIRCPRO", "BANK", BANK_ACCOUNT, tokenize, SIGN_UP_AUTO_PAY),
], ids=["matrix-card", "saxo-card", "saxo-bank", "circpro-card", "circpro-bank"])
async def test_gw1_pm1_a_session_off_ncs_attaches_the_method_the_next_payment_is_charged_on(
        api_client, own_tenant, sandboxes, services, tokens, kind, payment_type, fields, enter, then):
    # given: a subscription of a MATRIX, SAXO or CIRCPRO tenant with no payment method
    setup = await paying(own_tenant, sandboxes, tokens, kind=kind, method=None)
    # when: the session is started, the customer enters the method in the hosted page, the session completed
    started = await start(api_client, setup, payment_type=payment_type)
    assert started["userErrors"] == [], started  # PM-1: each of these systems takes this method somewhere
    posted = await enter(api_client, started["session"], fields)
    completed = await complete(api_client, setup, {**posted, "sessionId": started["session"]["sessionId"]})
    # and: the subscription pays with it
    if then is MAKE_PAYMENT:
        payload = await pay(api_client, setup, MAKE_PAYMENT, optionTerm="1M", optionAmount="10.79",
                            paymentType=payment_type, total="10.79")
    else:
        payload = await pay(api_client, setup, SIGN_UP_AUTO_PAY, term="1M", length=1, paymentType=payment_type,
                            total="0.00")
    # then
    assert started["session"]["paymentType"] == payment_type
    assert completed["userErrors"] == [] and completed["paymentMethod"]["type"] == payment_type
    assert completed["subscription"]["paymentMethod"] is not None
    assert payload["userErrors"] == []
    assert (payload["payment"]["state"], payload["payment"]["paymentType"]) == ("APPLIED", payment_type)
    if then is MAKE_PAYMENT:  # charged on the profile the hosted page made, and applied
        [sale] = gateway_entries(sandboxes, setup.tenant)
        assert (sale["profileId"], sale["amount"], sale["state"]) == (posted["profileId"], Decimal("10.79"),
                                                                      "captured")
        [applied] = circulation_entries(sandboxes, setup.tenant)
        assert applied["gatewayTransactionId"] == sale["transactionId"]
    else:  # the renewals will be charged on it
        assert payload["subscription"]["autoPay"] is True and gateway_entries(sandboxes, setup.tenant) == []
        [signed_up] = circulation_entries(sandboxes, setup.tenant)
        assert (signed_up["operation"], signed_up["paymentToken"]) == ("AUTOPAY_SIGNUP", posted["profileId"])
    await assert_ledgers_agree(services, sandboxes, setup.tenant)
