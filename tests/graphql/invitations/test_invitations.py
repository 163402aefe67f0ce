"""Invitations through the public API (INV-1..INV-6, LNK-2, OFR-7): the invitee reads the link from the mail
emulator and accepts it once."""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import select

from datasources.models import Event, Invitation, Registration, SubscriptionLink, utcnow
from tests.conftest import bearer, graphql
from tests.graphql.messages.support import FRONT_END, Inbox, link_in, messaging_tenant, query_of
from tests.graphql.own_tenant import own_registration

INVITE = """
mutation ($input: InviteGuestsInput!) {
  inviteGuests(input: $input) {
    invitations { id email firstName state hostCustomerRegistrationId metadata }
    userErrors { code field message }
  }
}
"""
PENDING = "query ($id: ID!) { pendingInvitations(subscriptionId: $id) { id email state } }"
PREVIEW = "query ($token: String!) { invitation(token: $token) { email firstName hostName state } }"
ACCEPT = """
mutation ($input: AcceptInvitationInput!) {
  acceptInvitation(input: $input) { link { role subscriptionId crid } userErrors { code field } }
}
"""
UPDATE = """
mutation ($input: UpdateInvitationInput!) { updateInvitation(input: $input) { invitation { firstName metadata }
  userErrors { code } } }
"""
CANCEL = "mutation ($id: ID!) { cancelInvitation(input: {id: $id}) { invitation { state } userErrors { code } } }"


async def household(own_tenant, settings: dict | None = None):
    """A tenant with templates, subscription <code>-S owned by a registration, and that owner's token headers."""
    tenant = await messaging_tenant(own_tenant, settings=settings)
    subscription_id = f"{tenant.code}-S"
    own_tenant.add_subscription(tenant, subscription_id, product="X")
    owner = await own_registration(tenant, first_name="Olivia", last_name="Owner")
    await tenant.add(SubscriptionLink(tenant_id=tenant.id, registration_id=owner.id, subscription_id=subscription_id,
                                      role="OWNER"))
    return tenant, subscription_id, owner


def address() -> str:
    return f"guest.{uuid.uuid4().hex[:10]}@example.com"


async def events(services, tenant, type_code):
    async with services.db.session() as session:
        return list((await session.execute(select(Event).where(Event.tenant_id == tenant.id,
                                                               Event.type_code == type_code))).scalars())


async def test_inv1_inv2_inv4_owner_invites_many_the_invitee_accepts_once_from_the_mail(
        app, api_client, own_tenant, tokens, services):
    # given
    tenant, subscription_id, owner = await household(own_tenant)
    headers = bearer(tokens.customer(owner.crid, tenant.code))
    guest, inbox = address(), Inbox(app)
    # when: three addresses, each judged alone
    answer = await graphql(api_client, INVITE, {"input": {"subscriptionId": subscription_id, "invitees": [
        {"email": guest, "firstName": "Gina", "metadata": {"phoneNumber": "555"}},
        {"email": "bad\u200b@example.com"},
        {"email": address(), "metadata": {"phone": "555"}}]}}, **headers)
    # then
    payload = answer["data"]["inviteGuests"]
    assert [(i["email"], i["state"], i["hostCustomerRegistrationId"]) for i in payload["invitations"]] == [
        (guest, "PENDING", owner.crid)]
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("INVALID_EMAIL", ["input", "invitees", "1", "email"]),
        ("INVALID", ["input", "invitees", "2", "metadata", "phone"])]
    [invited] = await events(services, tenant, "INVITEGUEST")
    assert (invited.crid, invited.details["email"]) == (owner.crid, guest)  # INV-6: the host's CRID
    [message] = await inbox.wait_for(guest)
    assert message["Subject"] == "Olivia Owner invites you to Own Test Paper"
    token = query_of(link_in(message, "invitation"))["token"]
    preview = await graphql(api_client, PREVIEW, {"token": token}, x_tenant=tenant.code)
    assert preview["data"]["invitation"] == {"email": guest, "firstName": "Gina", "hostName": "Olivia Owner",
                                             "state": "PENDING"}
    # when: the invitee accepts without an account (one is created), then the link is used again
    first = await graphql(api_client, ACCEPT, {"input": {"token": token, "password": "Guest-pass-12"}},
                          x_tenant=tenant.code)
    second = await graphql(api_client, ACCEPT, {"input": {"token": token, "password": "Guest-pass-12"}},
                           x_tenant=tenant.code)
    # then
    link = first["data"]["acceptInvitation"]["link"]
    assert (link["role"], link["subscriptionId"]) == ("GUEST", subscription_id)
    assert second["data"]["acceptInvitation"]["userErrors"] == [{"code": "INVALID_LINK", "field": ["input", "token"]}]
    async with services.db.session() as session:
        created = (await session.execute(select(Registration).where(Registration.tenant_id == tenant.id,
                                                                    Registration.email == guest))).scalar_one()
    assert (created.first_name, created.user_metadata) == ("Gina", {"phoneNumber": "555"})
    assert link["crid"] is None  # LNK-4: a CRID is not shown to an anonymous caller
    [accepted] = await events(services, tenant, "ACCEPTINVITATION")
    assert (accepted.crid, accepted.details["inviteeCrid"]) == (owner.crid, created.crid)
    assert [e.details.get("invitationId") for e in await events(services, tenant, "UPDATELINK")] == [accepted.details["invitationId"]]
    assert (await graphql(api_client, PENDING, {"id": subscription_id}, **headers))["data"]["pendingInvitations"] == []


async def test_inv3_pending_invitations_count_against_the_guest_limit_and_acceptance_rechecks(
        api_client, own_tenant, tokens, services):
    # given: one guest slot
    tenant, subscription_id, owner = await household(own_tenant, {"Subscription.DefaultGuestsLimit": "1"})
    headers = bearer(tokens.customer(owner.crid, tenant.code))
    # when: two invitees at once
    answer = await graphql(api_client, INVITE, {"input": {"subscriptionId": subscription_id, "invitees": [
        {"email": address()}, {"email": address()}]}}, **headers)
    # then: the second one finds the slot taken by the first, pending
    payload = answer["data"]["inviteGuests"]
    assert len(payload["invitations"]) == 1
    assert [e["code"] for e in payload["userErrors"]] == ["LINK_LIMIT_REACHED"]
    # when: meanwhile a guest is linked (by staff), then the invitee accepts
    other = await own_registration(tenant)
    await tenant.add(SubscriptionLink(tenant_id=tenant.id, registration_id=other.id, subscription_id=subscription_id,
                                      role="GUEST"))
    invitee = await own_registration(tenant)
    from domain.invitations import invitation_token

    row_id = int(payload["invitations"][0]["id"])
    async with services.db.session() as session:
        row = await session.get(Invitation, row_id)
    token = invitation_token(services.settings.secret_key, row.id, row.expires_at)
    refused = await graphql(api_client, ACCEPT, {"input": {"token": token}},
                            **bearer(tokens.customer(invitee.crid, tenant.code)))
    # then
    assert [e["code"] for e in refused["data"]["acceptInvitation"]["userErrors"]] == ["LINK_LIMIT_REACHED"]


async def test_inv6_owner_updates_and_cancels_a_stranger_cannot_and_a_cancelled_link_is_dead(
        api_client, own_tenant, tokens, services):
    # given
    tenant, subscription_id, owner = await household(own_tenant)
    headers = bearer(tokens.customer(owner.crid, tenant.code))
    stranger = bearer(tokens.customer((await own_registration(tenant)).crid, tenant.code))
    made = (await graphql(api_client, INVITE, {"input": {"subscriptionId": subscription_id, "invitees": [
        {"email": address()}]}}, **headers))["data"]["inviteGuests"]["invitations"][0]
    # when
    by_stranger = await graphql(api_client, CANCEL, {"id": made["id"]}, **stranger)
    updated = await graphql(api_client, UPDATE, {"input": {"id": made["id"], "firstName": "Greta",
                                                           "metadata": {"phoneNumber": "1"}}}, **headers)
    cancelled = await graphql(api_client, CANCEL, {"id": made["id"]}, **headers)
    # then
    assert by_stranger["data"]["cancelInvitation"]["userErrors"] == [{"code": "NOT_FOUND"}]
    assert updated["data"]["updateInvitation"] == {"invitation": {"firstName": "Greta", "metadata": {"phoneNumber": "1"}},
                                                   "userErrors": []}
    assert cancelled["data"]["cancelInvitation"] == {"invitation": {"state": "CANCELLED"}, "userErrors": []}
    assert [e.crid for e in await events(services, tenant, "CANCELINVITATION")] == [owner.crid]
    assert len(await events(services, tenant, "UPDATEINVITATION")) == 1
    from domain.invitations import invitation_token

    async with services.db.session() as session:
        row = await session.get(Invitation, int(made["id"]))
    invitee = bearer(tokens.customer((await own_registration(tenant)).crid, tenant.code))
    dead = await graphql(api_client, ACCEPT, {"input": {"token": invitation_token(
        services.settings.secret_key, row.id, row.expires_at)}}, **invitee)
    assert dead["data"]["acceptInvitation"]["userErrors"][0]["code"] == "INVALID_LINK"


async def test_inv4_a_signed_in_customer_accepts_and_an_expired_link_is_refused(api_client, own_tenant, tokens,
                                                                              services):
    # given: two invitations, one of them 15 days old
    tenant, subscription_id, owner = await household(own_tenant)
    headers = bearer(tokens.customer(owner.crid, tenant.code))
    made = (await graphql(api_client, INVITE, {"input": {"subscriptionId": subscription_id, "invitees": [
        {"email": address()}, {"email": address()}]}}, **headers))["data"]["inviteGuests"]["invitations"]
    async with services.db.session() as session:
        await session.execute(sa.update(Invitation).where(Invitation.id == int(made[1]["id"]))
                              .values(expires_at=utcnow() - timedelta(days=1)))
        await session.commit()
        rows = [await session.get(Invitation, int(m["id"]), populate_existing=True) for m in made]
    from domain.invitations import invitation_token

    tokens_ = [invitation_token(services.settings.secret_key, r.id, r.expires_at) for r in rows]
    invitee = await own_registration(tenant)
    signed_in = bearer(tokens.customer(invitee.crid, tenant.code))
    # when
    accepted = await graphql(api_client, ACCEPT, {"input": {"token": tokens_[0]}}, **signed_in)
    expired = await graphql(api_client, ACCEPT, {"input": {"token": tokens_[1]}}, **signed_in)
    # then
    assert accepted["data"]["acceptInvitation"]["link"] == {"role": "GUEST", "subscriptionId": subscription_id,
                                                            "crid": invitee.crid}
    assert expired["data"]["acceptInvitation"]["userErrors"][0]["code"] == "INVALID_LINK"


async def test_inv1_staff_invite_for_a_named_owner_only(staff_api_client, own_tenant):
    # given
    tenant, subscription_id, owner = await household(own_tenant)
    not_owner = await own_registration(tenant)
    # when
    refused = await graphql(staff_api_client, INVITE, {"input": {
        "subscriptionId": subscription_id, "hostCustomerRegistrationId": not_owner.crid,
        "invitees": [{"email": address()}]}}, **tenant.headers)
    made = await graphql(staff_api_client, INVITE, {"input": {
        "subscriptionId": subscription_id, "hostCustomerRegistrationId": owner.crid,
        "invitees": [{"email": address()}]}}, **tenant.headers)
    # then
    assert [e["code"] for e in refused["data"]["inviteGuests"]["userErrors"]] == ["HOST_NOT_OWNER"]
    assert made["data"]["inviteGuests"]["invitations"][0]["hostCustomerRegistrationId"] == owner.crid


__all__ = ["FRONT_END"]


async def test_inv3_staff_linking_a_guest_counts_pending_invitations(staff_api_client, api_client, own_tenant, tokens):
    # given: one guest slot, taken by a pending invitation
    tenant, subscription_id, owner = await household(own_tenant, {"Subscription.DefaultGuestsLimit": "1"})
    made = await graphql(api_client, INVITE, {"input": {"subscriptionId": subscription_id, "invitees": [
        {"email": address()}]}}, **bearer(tokens.customer(owner.crid, tenant.code)))
    assert made["data"]["inviteGuests"]["userErrors"] == []
    other = await own_registration(tenant)
    # when
    answer = await graphql(staff_api_client, """
        mutation ($input: LinkSubscriptionInput!) { linkSubscription(input: $input) { userErrors { code } } }""",
        {"input": {"subscriptionId": subscription_id, "customerRegistrationId": other.crid, "role": "GUEST"}},
        **tenant.headers)
    # then
    assert answer["data"]["linkSubscription"]["userErrors"] == [{"code": "LINK_LIMIT_REACHED"}]
