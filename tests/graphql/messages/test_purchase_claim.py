"""Claiming an anonymous purchase (BUY-10, BUY-4, USR-8, MSG-1) and the new e-mail's registration (BUY-4, USR-3),
through the public API: every link is read from the mail emulator after a real SMTP delivery, and works once."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import select

from datasources.models import Event, Payment, PendingClaim, Registration, SubscriptionLink, TemporaryEntitlement
from domain.claims import CLAIM_TTL, claim_token
from domain.passwords import hash_password
from tests.conftest import bearer, graphql
from tests.graphql.messages.support import FRONT_END, Inbox, link_in, outbox, query_of, redeem_ticket, \
    with_templates
from tests.graphql.own_tenant import own_registration
from tests.graphql.purchases.test_purchase_subscription import PURCHASE, purchase_input, rows, setup
from tests.graphql.purchases.test_stranger_purchase import card_typed_in, new_start_session

CLAIM = """
mutation ($token: String!) {
  claimPurchase(input: {token: $token}) {
    link { role subscriptionId crid }
    subscription { id status }
    userErrors { code field message }
  }
}
"""
READ_CLAIM = """
query ($token: String!) {
  purchaseClaim(token: $token) { subscriptionId offerId offerName term charged { amount currency } state expiresAt }
}
"""
VERIFY = """
mutation ($email: String!, $code: String!) {
  verifyEmail(input: {email: $email, code: $code}) { registration { state } userErrors { code } }
}
"""
FINISH_FORGOT = """
mutation ($token: String!, $password: String!) {
  finishForgotPassword(input: {token: $token, password: $password}) { userErrors { code } }
}
"""
SIGN_IN = """
mutation ($login: String!, $password: String!) {
  signIn(input: {loginName: $login, password: $password}) { session { accessToken } userErrors { code } }
}
"""
PASSWORD = "Owner-pass-12!"


async def anonymous_purchase(client, tenant, offer, email: str) -> dict:
    """A stranger buys with `email`: a new-start payment session, the card typed into its hosted page."""
    posted = await card_typed_in(client, await new_start_session(client, tenant, offer))
    data = purchase_input(offer, None, paymentSession=posted, subscriber={"email": email})
    del data["paymentProfileId"]
    answer = await graphql(client, PURCHASE, {"input": data}, x_tenant=tenant.code)
    payload = answer["data"]["purchaseSubscription"]
    assert payload["userErrors"] == [] and payload["registration"] is None, payload
    return payload


async def bought_with_a_known_email(app, api_client, own_tenant, sandboxes, **registration):
    """A registered customer of an MG2 tenant with templates, a subscription bought anonymously with their
    e-mail, and the token of the claim link read from their mailbox."""
    tenant, offer, _ = await setup(own_tenant, sandboxes)
    await with_templates(tenant)
    owner = await own_registration(tenant, email=f"owner.{tenant.code.lower()}@example.com",
                                   password_hash=hash_password(PASSWORD), **registration)
    payload = await anonymous_purchase(api_client, tenant, offer, owner.email)
    [mail] = await Inbox(app).wait_for(owner.email)
    assert mail["Subject"] == "A Own Test Paper subscription bought with your e-mail"
    token = query_of(link_in(mail, "sign-in"))["claim"]
    return tenant, offer, owner, payload["subscription"]["id"], token


def as_customer(tenant, tokens, crid: str) -> dict:
    return {**tenant.headers, **bearer(tokens.customer(crid, tenant.code))}


async def test_buy10_the_emails_owner_claims_the_purchase_from_the_mail_link_once(app, api_client, own_tenant,
                                                                                  sandboxes, services, tokens):
    # given: a subscription bought anonymously with a registered e-mail, waiting
    tenant, offer, owner, subscription_id, token = await bought_with_a_known_email(app, api_client, own_tenant,
                                                                                   sandboxes)
    headers = as_customer(tenant, tokens, owner.crid)
    # when: the owner, signed in, opens the link's page, then claims
    shown = await graphql(api_client, READ_CLAIM, {"token": token}, **headers)
    claimed = await graphql(api_client, CLAIM, {"token": token}, **headers)
    again = await graphql(api_client, CLAIM, {"token": token}, **headers)
    shown_after = await graphql(api_client, READ_CLAIM, {"token": token}, **headers)
    # then: the page shows what was bought, the claim links it to the owner as OWNER, and works once
    assert [row.event_type for row in await outbox(services, tenant)] == ["CLAIMPURCHASE"]  # the one message
    claim = shown["data"]["purchaseClaim"]
    assert (claim["subscriptionId"], claim["offerId"], claim["offerName"], claim["term"], claim["state"]) == (
        subscription_id, str(offer.id), offer.name, "1M", "PENDING")
    assert claim["charged"]["currency"] == "USD" and claim["charged"]["amount"] not in (None, "0.00")
    payload = claimed["data"]["claimPurchase"]
    assert payload["userErrors"] == []
    assert payload["link"] == {"role": "OWNER", "subscriptionId": subscription_id, "crid": owner.crid}
    assert payload["subscription"] == {"id": subscription_id, "status": "ACTIVE"}
    assert [(e["code"], e["field"]) for e in again["data"]["claimPurchase"]["userErrors"]] == [
        ("ALREADY_CLAIMED", ["input", "token"])]
    assert shown_after["data"]["purchaseClaim"]["state"] == "CLAIMED"
    # ...with what a purchase gives its owner (BUY-4): one OWNER link, the temporary entitlement, the payment row
    # naming them and UPDATELINK recorded
    [link] = await rows(services, tenant, SubscriptionLink)
    assert (link.registration_id, link.subscription_id, link.role) == (owner.id, subscription_id, "OWNER")
    [entitlement] = await rows(services, tenant, TemporaryEntitlement)
    assert (entitlement.crid, entitlement.entitlement_code, entitlement.reason) == (owner.crid, "EEDITION", "PURCHASE")
    [payment] = await rows(services, tenant, Payment)
    assert payment.crid == owner.crid
    [pending] = await rows(services, tenant, PendingClaim)
    assert pending.claimed_at is not None and pending.claimed_by_registration_id == owner.id
    async with services.db.session() as session:
        [event] = (await session.execute(select(Event).where(
            Event.tenant_id == tenant.id, Event.type_code == "UPDATELINK"))).scalars().all()
    assert (event.crid, event.subscription_id, event.details["role"], event.details["claimId"]) == (
        owner.crid, subscription_id, "OWNER", pending.id)


async def test_buy10_lnk4_nobody_else_reads_or_claims_it_and_nothing_is_said_about_the_owner(
        app, api_client, own_tenant, sandboxes, services, tokens):
    # given: the claim link, and another customer, staff and a stranger who got hold of it
    tenant, _, owner, subscription_id, token = await bought_with_a_known_email(app, api_client, own_tenant, sandboxes)
    other = await own_registration(tenant, email=f"other.{tenant.code.lower()}@example.com")
    callers = {"other customer": as_customer(tenant, tokens, other.crid), "anonymous": tenant.headers,
               "staff": {**tenant.headers, **bearer(tokens.staff(tenant.code))}}
    # when
    answers = {name: (await graphql(api_client, READ_CLAIM, {"token": token}, **headers),
                      await graphql(api_client, CLAIM, {"token": token}, **headers))
               for name, headers in callers.items()}
    tampered = await graphql(api_client, CLAIM, {"token": token[:-2] + ("AA" if token[-2:] != "AA" else "BB")},
                             **as_customer(tenant, tokens, owner.crid))
    # then: the read is null, the claim refused with a typed error, and no answer names the owner
    expected = {"other customer": "NOT_YOUR_PURCHASE", "anonymous": "SIGN_IN_REQUIRED", "staff": "SIGN_IN_REQUIRED"}
    for name, (read, claim) in answers.items():
        assert read["data"]["purchaseClaim"] is None and "errors" not in read, name
        assert [e["code"] for e in claim["data"]["claimPurchase"]["userErrors"]] == [expected[name]], name
        assert owner.email not in json.dumps([read, claim]) and owner.crid not in json.dumps([read, claim])
    assert [e["code"] for e in tampered["data"]["claimPurchase"]["userErrors"]] == ["INVALID_LINK"]
    assert await rows(services, tenant, SubscriptionLink) == []
    [pending] = await rows(services, tenant, PendingClaim)
    assert (pending.subscription_id, pending.claimed_at) == (subscription_id, None)


async def test_buy10_usr8_an_unverified_registration_cannot_claim(app, api_client, own_tenant, sandboxes, services,
                                                                  tokens):
    # given: the e-mail's registration has not verified its e-mail
    tenant, _, owner, _, token = await bought_with_a_known_email(app, api_client, own_tenant, sandboxes,
                                                                 email_verified=False)
    # when
    response = await api_client.post("/graphql", json={"query": CLAIM, "variables": {"token": token}},
                                      headers={k.replace("_", "-"): v for k, v in
                                               as_customer(tenant, tokens, owner.crid).items()})
    # then: refused before anything resolves (USR-8), and the subscription still waits
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["reason"] == "REGISTRATION_NOT_VERIFIED"
    assert await rows(services, tenant, SubscriptionLink) == []


async def test_buy10_a_claim_link_older_than_30_days_is_refused(app, api_client, own_tenant, sandboxes, services,
                                                                tokens):
    # given: the purchase was made 31 days ago; its link (issued then, sealed like the mailed one) expired a day ago
    tenant, _, owner, _, _ = await bought_with_a_known_email(app, api_client, own_tenant, sandboxes)
    [pending] = await rows(services, tenant, PendingClaim)
    bought = pending.created_at - timedelta(days=31)
    async with services.db.session() as session:
        await session.execute(sa.update(PendingClaim).where(PendingClaim.id == pending.id).values(created_at=bought))
        await session.commit()
    old_token = claim_token(app.state.services.settings.secret_key, pending.id, bought + CLAIM_TTL)
    headers = as_customer(tenant, tokens, owner.crid)
    # when
    read = await graphql(api_client, READ_CLAIM, {"token": old_token}, **headers)
    claim = await graphql(api_client, CLAIM, {"token": old_token}, **headers)
    # then
    assert read["data"]["purchaseClaim"]["state"] == "EXPIRED"
    assert [e["code"] for e in claim["data"]["claimPurchase"]["userErrors"]] == ["LINK_EXPIRED"]
    assert await rows(services, tenant, SubscriptionLink) == []


async def test_buy4_usr3_a_new_email_gets_an_unverified_registration_whose_links_reach_only_its_mailbox(
        app, api_client, own_tenant, sandboxes, services):
    # given: an MG2 tenant with templates, and an e-mail nobody registered
    tenant, offer, _ = await setup(own_tenant, sandboxes)
    await with_templates(tenant)
    email = f"new.{tenant.code.lower()}@example.com"
    inbox = Inbox(app)
    # when: a stranger buys with it (the answer names no registration and carries no password link)
    payload = await anonymous_purchase(api_client, tenant, offer, email)
    # then: a registration waits for its e-mail to be verified, linked as OWNER of the new subscription
    [registration] = [r for r in await rows(services, tenant, Registration) if r.email == email]
    assert (registration.email_verified, registration.has_password) == (False, True)
    [link] = await rows(services, tenant, SubscriptionLink)
    assert (link.registration_id, link.subscription_id, link.role) == (registration.id, payload["subscription"]["id"],
                                                                      "OWNER")
    # ...the mailbox gets the verification message and the confirmation with the set-password link; no claim
    messages = {m["Subject"]: m for m in await inbox.wait_for(email, 2)}
    assert set(messages) == {"Verify your e-mail for Own Test Paper",
                             f"Welcome to Own Test Paper: your subscription {payload['subscription']['id']}"}
    confirmation = messages[f"Welcome to Own Test Paper: your subscription {payload['subscription']['id']}"]
    reset_token = query_of(link_in(confirmation, "reset-password"))["token"]
    code = query_of(link_in(messages["Verify your e-mail for Own Test Paper"], "verify-email"))["code"]
    assert await rows(services, tenant, PendingClaim) == []
    # ...and the owner of the mailbox verifies, chooses a password (each link once) and signs in with it
    verified = await graphql(api_client, VERIFY, {"email": email, "code": code}, **tenant.headers)
    chosen = await graphql(api_client, FINISH_FORGOT, {"token": reset_token, "password": PASSWORD}, **tenant.headers)
    reused = await graphql(api_client, FINISH_FORGOT, {"token": reset_token, "password": "Other-pass-12!"},
                           **tenant.headers)
    signed_in = await graphql(api_client, SIGN_IN, {"login": email, "password": PASSWORD}, **tenant.headers)
    assert verified["data"]["verifyEmail"] == {"registration": {"state": "STANDARD"}, "userErrors": []}
    assert chosen["data"]["finishForgotPassword"]["userErrors"] == []
    assert reused["data"]["finishForgotPassword"]["userErrors"] == [{"code": "INVALID_LINK"}]
    assert signed_in["data"]["signIn"]["userErrors"] == [] and signed_in["data"]["signIn"]["session"]["accessToken"]
    assert FRONT_END in confirmation["Text"]


async def test_buy4_usr3_on_auth0_a_new_emails_confirmation_carries_the_change_password_ticket(
        app, api_client, own_tenant, sandboxes, services):
    # given: an Auth0 tenant
    tenant, offer, _ = await setup(own_tenant, sandboxes, settings={"Flow.UserProvider": "Auth0"})
    await with_templates(tenant)
    email = f"new.{tenant.code.lower()}@example.com"
    inbox = Inbox(app)
    # when
    payload = await anonymous_purchase(api_client, tenant, offer, email)
    # then: the user exists in Auth0, unverified; the ticket reaches the mailbox only
    [registration] = [r for r in await rows(services, tenant, Registration) if r.email == email]
    user = sandboxes["auth0"].state.store.users[registration.crid]
    assert user["email_verified"] is False
    messages = {m["Subject"]: m for m in await inbox.wait_for(email, 2)}
    confirmation = messages[f"Welcome to Own Test Paper: your subscription {payload['subscription']['id']}"]
    assert "Choose your password here: http" in confirmation["Text"]
    assert "Verify your e-mail for Own Test Paper" in messages
    # ...and the ticket sets a password once
    assert await redeem_ticket(app, confirmation["Text"], PASSWORD) in (200, 303)
    assert await redeem_ticket(app, confirmation["Text"], "Other-pass-12!") == 400
