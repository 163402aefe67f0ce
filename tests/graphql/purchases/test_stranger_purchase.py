"""Buying as a stranger (BUY-11, GW-1): a payment session for a new start (offer and term, no subscription yet),
started without signing in; `purchaseSubscription` takes that session and charges only the method it tokenized."""

from __future__ import annotations

import uuid

from tests.conftest import graphql
from tests.graphql.purchases.test_purchase_subscription import PURCHASE, purchase_input, sales, setup

START = """
mutation ($input: StartPaymentSessionInput!) {
  startPaymentSession(input: $input) { session { sessionId groupId iframeUrl } userErrors { code field } }
}
"""
CARD = {"cardNumber": "4242424242424242", "expiry": "12/30", "cvv": "123", "cardholderName": "Stranger Buyer"}


async def new_start_session(client, tenant, offer, term="1M") -> dict:
    answer = await graphql(client, START, {"input": {"offerId": str(offer.id), "term": term,
                                                     "paymentType": "CREDIT_CARD"}}, x_tenant=tenant.code)
    payload = answer["data"]["startPaymentSession"]
    assert payload["userErrors"] == [], payload
    return payload["session"]


async def card_typed_in(client, session: dict) -> dict:
    """What the stranger does in the hosted iframe (the emulator's JSON twin of its form)."""
    response = await client.post(f"/sandbox/navigapay/api/v1/sessions/{session['sessionId']}/tokenize", json=CARD)
    assert response.status_code == 201, response.text
    posted = response.json()
    return {"sessionId": session["sessionId"], "profileId": posted["profileId"], "groupId": posted["groupId"]}


async def test_buy11_a_stranger_starts_a_session_for_a_new_start_and_buys_with_its_card(api_client, own_tenant,
                                                                                       sandboxes):
    # given: no sign-in at all
    tenant, offer, _ = await setup(own_tenant, sandboxes)
    session = await new_start_session(api_client, tenant, offer)
    assert session["iframeUrl"].endswith(f"/hosted/{session['sessionId']}")
    posted = await card_typed_in(api_client, session)
    data = purchase_input(offer, None, paymentSession=posted)
    del data["paymentProfileId"]
    # when
    answer = await graphql(api_client, PURCHASE, {"input": data}, x_tenant=tenant.code)
    # then
    payload = answer["data"]["purchaseSubscription"]
    assert payload["userErrors"] == [], payload
    assert payload["subscription"]["id"]
    [sale] = sales(sandboxes, tenant)
    assert sale["profileId"] == posted["profileId"] and sale["state"] == "captured"


async def test_buy11_a_session_pays_for_one_purchase_of_its_own_offer_and_term_only(api_client, own_tenant,
                                                                                   sandboxes):
    # given: a session for the 1M term
    tenant, offer, _ = await setup(own_tenant, sandboxes)
    posted = await card_typed_in(api_client, await new_start_session(api_client, tenant, offer))
    other_term = purchase_input(offer, None, paymentSession=posted, term="12M")
    del other_term["paymentProfileId"]
    first = purchase_input(offer, None, paymentSession=posted)
    del first["paymentProfileId"]
    again = {**purchase_input(offer, None, paymentSession=posted), "idempotencyKey": uuid.uuid4().hex}
    del again["paymentProfileId"]
    # when
    refused = await graphql(api_client, PURCHASE, {"input": other_term}, x_tenant=tenant.code)
    bought = await graphql(api_client, PURCHASE, {"input": first}, x_tenant=tenant.code)
    second = await graphql(api_client, PURCHASE, {"input": again}, x_tenant=tenant.code)
    # then: the other term is refused before anything is charged; the session pays once
    codes = lambda answer: [e["code"] for e in answer["data"]["purchaseSubscription"]["userErrors"]]  # noqa: E731
    assert codes(refused) in (["PAYMENT_METHOD_NOT_FOUND"], ["TERM_NOT_FOUND"])
    assert codes(bought) == []
    assert codes(second) == ["PAYMENT_METHOD_NOT_FOUND"]
    assert len(sales(sandboxes, tenant)) == 1


async def test_buy11_a_profile_tokenized_in_someone_elses_session_is_refused_and_nothing_is_charged(
        api_client, own_tenant, sandboxes):
    # given: a stranger's session, and a card profile tokenized elsewhere
    tenant, offer, foreign_profile = await setup(own_tenant, sandboxes)
    session = await new_start_session(api_client, tenant, offer)
    posted = {**await card_typed_in(api_client, session), "profileId": foreign_profile}
    data = purchase_input(offer, None, paymentSession=posted)
    del data["paymentProfileId"]
    # when
    answer = await graphql(api_client, PURCHASE, {"input": data}, x_tenant=tenant.code)
    # then
    assert [e["code"] for e in answer["data"]["purchaseSubscription"]["userErrors"]] == ["PAYMENT_METHOD_NOT_FOUND"]
    assert sales(sandboxes, tenant) == []


async def test_buy11_a_new_start_session_needs_a_real_offer_and_term(api_client, own_tenant, sandboxes):
    tenant, offer, _ = await setup(own_tenant, sandboxes)
    answer = await graphql(api_client, START, {"input": {"offerId": str(offer.id), "term": "NOPE",
                                                         "paymentType": "CREDIT_CARD"}}, x_tenant=tenant.code)
    assert answer["data"]["startPaymentSession"]["userErrors"] == [{"code": "NOT_FOUND", "field": ["input", "offerId"]}]
