"""Whose purchase it is and whose card pays for it, through the public API (BUY-10, BUY-11, issue 14 items 1
and 3): an anonymous purchase reveals and links no registration, a signed-in customer's purchase is theirs, and
only a profile tokenized in a payment session the caller started is charged."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlmodel import select

from datasources.models import PendingClaim, Registration, SubscriptionLink
from tests.conftest import bearer, graphql
from tests.graphql.own_tenant import own_registration
from tests.graphql.payments.support import paying
from tests.graphql.purchases.test_purchase_subscription import card_profile, purchase_input, rows, sales, setup


# everything a payload could say about a registration, asked for on purpose
PURCHASE = """
mutation ($input: PurchaseSubscriptionInput!) {
  purchaseSubscription(input: $input) {
    subscription { id accountNumber status productCode }
    registration { crid email firstName lastName metadata encryptedCrid links { crid role } }
    charged { amount currency }
    customerReferenceNumber
    changePasswordUrl
    userErrors { code field message }
  }
}
"""
START = """
mutation ($input: StartPaymentSessionInput!) {
  startPaymentSession(input: $input) { session { sessionId groupId paymentType } userErrors { code } }
}
"""
COMPLETE = """
mutation ($input: CompletePaymentSessionInput!) {
  completePaymentSession(input: $input) { paymentMethod { cardLast4 } userErrors { code } }
}
"""
CARD = {"cardNumber": "4242424242424242", "expiry": "12/30", "cvv": "123", "cardholderName": "Vic Tim"}


def without_ids(body: dict, subscription: dict | None) -> str:
    """The answer as bytes, with the new subscription's own id and account number taken out."""
    text = json.dumps(body, sort_keys=True)
    for value in (subscription or {}).get("id"), (subscription or {}).get("accountNumber"):
        if value:
            text = text.replace(value, "<id>")
    return text


@pytest.mark.parametrize("provider", ["MG2", "Auth0"])
async def test_buy10_buy4_an_anonymous_purchase_answers_the_same_for_a_known_and_an_unknown_email(
        api_client, own_tenant, sandboxes, services, provider):
    # given: a registration with a known e-mail, and two anonymous buyers with cards tokenized anonymously
    tenant, offer, _ = await setup(own_tenant, sandboxes, settings={"Flow.UserProvider": provider})
    known = await own_registration(tenant, email="known.buyer@example.com", first_name="Kim", last_name="Known",
                                   user_metadata={"secret": "s3cr3t-metadata"})
    registrations_before = await rows(services, tenant, Registration)
    known_input = purchase_input(offer, await card_profile(sandboxes, tenant, started_by=None),
                                 subscriber={"email": known.email, "lastName": "Doe"}, password="Buyer-pass-1!")
    unknown_input = purchase_input(offer, await card_profile(sandboxes, tenant, started_by=None),
                                   subscriber={"email": "nobody.yet@example.com", "lastName": "Roe"},
                                   password="Buyer-pass-1!")
    # when
    for_known = await graphql(api_client, PURCHASE, {"input": known_input}, **tenant.headers)
    for_unknown = await graphql(api_client, PURCHASE, {"input": unknown_input}, **tenant.headers)
    # then: both bought (charged), neither names a registration or carries a password link, and the answers are
    # byte-equal apart from ids
    known_payload = for_known["data"]["purchaseSubscription"]
    unknown_payload = for_unknown["data"]["purchaseSubscription"]
    assert known_payload["userErrors"] == [] and known_payload["registration"] is None
    assert known_payload["changePasswordUrl"] is None and unknown_payload["changePasswordUrl"] is None
    assert known_payload["subscription"]["status"] == "ACTIVE"
    assert without_ids(for_known, known_payload["subscription"]) == \
        without_ids(for_unknown, unknown_payload["subscription"])
    assert known.crid not in json.dumps(for_known) and "s3cr3t-metadata" not in json.dumps(for_known)
    assert len(sales(sandboxes, tenant)) == 2
    # the known e-mail's subscription is linked to nobody and waits for its owner to claim it (BUY-10)...
    claims = {(c.subscription_id, c.email, c.claimed_at) for c in await rows(services, tenant, PendingClaim)}
    assert claims == {(known_payload["subscription"]["id"], known.email, None)}
    # ...the new e-mail got an UNVERIFIED registration, with a generated password (not the buyer's), as OWNER
    # (BUY-4, USR-3)
    [new] = [r for r in await rows(services, tenant, Registration) if r.id not in {b.id for b in registrations_before}]
    assert (new.email, new.email_verified, new.has_password) == ("nobody.yet@example.com", False, True)
    if provider == "MG2":
        from domain.passwords import verify_password

        assert new.password_hash and not verify_password("Buyer-pass-1!", new.password_hash)
    [link] = await rows(services, tenant, SubscriptionLink)
    assert (link.registration_id, link.subscription_id, link.role) == (new.id, unknown_payload["subscription"]["id"],
                                                                      "OWNER")


async def test_buy10_a_signed_in_customers_purchase_is_theirs_whatever_the_email(api_client, own_tenant, sandboxes,
                                                                                 services, tokens):
    # given: a customer, and somebody else's registration whose e-mail the customer types in
    tenant, offer, _ = await setup(own_tenant, sandboxes)
    customer = await own_registration(tenant)
    other = await own_registration(tenant, email="someone.else@example.com")
    profile_id = await card_profile(sandboxes, tenant, started_by=f"customer:{customer.crid}")
    data = purchase_input(offer, profile_id, subscriber={"email": other.email})
    # when
    answer = await graphql(api_client, PURCHASE, {"input": data},
                           **{**tenant.headers, **bearer(tokens.customer(customer.crid, tenant.code))})
    # then
    payload = answer["data"]["purchaseSubscription"]
    assert payload["userErrors"] == []
    assert payload["registration"]["crid"] == customer.crid
    assert other.crid not in json.dumps(answer)
    [link] = await rows(services, tenant, SubscriptionLink)
    assert (link.registration_id, link.role) == (customer.id, "OWNER")
    assert await rows(services, tenant, PendingClaim) == []


async def _victims_card(api_client, own_tenant, sandboxes, tokens):
    """A subscription owner who tokenized a card through a hosted session (GW-1), all through the API."""
    victim = await paying(own_tenant, sandboxes, tokens, method=None)
    started = await graphql(api_client, START, {"input": {"subscriptionId": victim.subscription_id,
                                                          "paymentType": "CREDIT_CARD"}}, **victim.headers)
    session = started["data"]["startPaymentSession"]["session"]
    response = await api_client.post(f"/sandbox/navigapay/api/v1/sessions/{session['sessionId']}/tokenize", json=CARD)
    posted = response.json()
    completed = await graphql(api_client, COMPLETE, {"input": {
        "subscriptionId": victim.subscription_id, "sessionId": session["sessionId"], "profileId": posted["profileId"],
        "groupId": posted["groupId"], "paymentType": "CREDIT_CARD"}}, **victim.headers)
    assert completed["data"]["completePaymentSession"]["userErrors"] == []
    return victim, posted["profileId"]


async def test_buy11_a_card_tokenized_in_someone_elses_session_is_refused_and_nothing_is_charged(
        api_client, own_tenant, sandboxes, services, tokens):
    # given: a victim's card, and an attacker (a customer of the same publication) who learnt its profile id
    victim, profile_id = await _victims_card(api_client, own_tenant, sandboxes, tokens)
    tenant = victim.tenant
    offer = await tenant.offer()
    own_tenant.add_subscription(tenant, f"{tenant.code}-TEMPLATE", product=str(offer.id), status="STOPPED")
    attacker = await own_registration(tenant)
    links_before = len(await rows(services, tenant, SubscriptionLink))
    # when: the attacker buys with it, signed in and anonymously; so does staff
    as_customer = await graphql(api_client, PURCHASE, {"input": purchase_input(offer, profile_id)},
                                **{**tenant.headers, **bearer(tokens.customer(attacker.crid, tenant.code))})
    as_anonymous = await graphql(api_client, PURCHASE, {"input": purchase_input(offer, profile_id)}, **tenant.headers)
    as_staff = await graphql(api_client, PURCHASE, {"input": purchase_input(offer, profile_id)},
                             **{**tenant.headers, **bearer(tokens.staff(tenant.code))})
    # then: refused, and NavigaPay's ledger shows no charge at all
    for answer in (as_customer, as_anonymous, as_staff):
        payload = answer["data"]["purchaseSubscription"]
        assert payload["subscription"] is None
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
            ("PAYMENT_METHOD_NOT_FOUND", ["input", "paymentProfileId"])]
    assert sales(sandboxes, tenant) == []
    assert len(await rows(services, tenant, SubscriptionLink)) == links_before


async def test_buy11_the_customer_who_tokenized_the_card_may_buy_with_it(api_client, own_tenant, sandboxes, services,
                                                                         tokens):
    # given
    owner, profile_id = await _victims_card(api_client, own_tenant, sandboxes, tokens)
    tenant = owner.tenant
    offer = await tenant.offer()
    own_tenant.add_subscription(tenant, f"{tenant.code}-TEMPLATE", product=str(offer.id), status="STOPPED")
    # when
    answer = await graphql(api_client, PURCHASE, {"input": purchase_input(offer, profile_id)}, **owner.headers)
    # then
    payload = answer["data"]["purchaseSubscription"]
    assert payload["userErrors"] == []
    assert payload["registration"]["crid"] == owner.crid
    [sale] = sales(sandboxes, tenant)
    assert sale["kind"] == "SALE"


async def test_buy11_an_unknown_profile_is_refused_before_navigapay_is_asked(api_client, own_tenant, sandboxes, tokens):
    tenant, offer, _ = await setup(own_tenant, sandboxes)
    customer = await own_registration(tenant)
    answer = await graphql(api_client, PURCHASE, {"input": purchase_input(offer, f"prof_{uuid.uuid4().hex[:8]}")},
                           **{**tenant.headers, **bearer(tokens.customer(customer.crid, tenant.code))})
    assert [e["code"] for e in answer["data"]["purchaseSubscription"]["userErrors"]] == ["PAYMENT_METHOD_NOT_FOUND"]
    assert sales(sandboxes, tenant) == []
