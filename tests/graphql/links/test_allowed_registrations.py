"""OFR-7 through the public API: all links of a subscription (pending invitations counted, INV-3) may not exceed
its offer's allowed registrations, checked on linkSubscription, transferSubscriptionLink and inviteGuests, at n
and n+1; lowering the allowance removes no link."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlmodel import select

from datasources.models import Invitation, SubscriptionLink, utcnow
from tests.conftest import bearer, graphql
from tests.graphql.own_tenant import own_registration

LINK = """
mutation ($input: LinkSubscriptionInput!) {
  linkSubscription(input: $input) { link { id role crid } userErrors { code field message } }
}
"""
TRANSFER = """
mutation ($id: ID!, $crid: String!) {
  transferSubscriptionLink(input: {linkId: $id, customerRegistrationId: $crid}) {
    link { id role crid } userErrors { code field message }
  }
}
"""
INVITE = """
mutation ($input: InviteGuestsInput!) {
  inviteGuests(input: $input) { invitations { email state } userErrors { code field message } }
}
"""
SET_ALLOWED = """
mutation ($input: SetOfferAllowedRegistrationsInput!) {
  setOfferAllowedRegistrations(input: $input) { offer { allowedRegistrations } userErrors { code message } }
}
"""
LINKS = "query ($s: ID!) { subscriptionLinks(subscriptionId: $s) { edges { node { crid role } } } }"


async def subscription_of_offer(own_tenant, allowed: int, guests_limit: str = "9"):
    """An own tenant (LNK-2 limits wide enough not to interfere) with an offer allowing `allowed` registrations
    and subscription <code>-S to that offer's product."""
    tenant = await own_tenant(settings={"Subscription.DefaultGuestsLimit": guests_limit})
    offer = await tenant.offer(allowed_registrations=allowed)
    subscription_id = f"{tenant.code}-S"
    own_tenant.add_subscription(tenant, subscription_id, product=str(offer.id))
    return tenant, offer, subscription_id


async def link(client, tenant, subscription_id: str, crid: str, role: str = "GUEST") -> dict:
    answer = await graphql(client, LINK, {"input": {"subscriptionId": subscription_id, "customerRegistrationId": crid,
                                                    "role": role}}, **tenant.headers)
    return answer["data"]["linkSubscription"]


async def transfer(client, tenant, link_id: str, crid: str) -> dict:
    answer = await graphql(client, TRANSFER, {"id": link_id, "crid": crid}, **tenant.headers)
    return answer["data"]["transferSubscriptionLink"]


async def linked(client, tenant, subscription_id: str) -> list[str]:
    answer = await graphql(client, LINKS, {"s": subscription_id}, **tenant.headers)
    return sorted(edge["node"]["crid"] for edge in answer["data"]["subscriptionLinks"]["edges"])


def codes(payload: dict) -> list[tuple[str, str]]:
    return [(e["code"], e["message"]) for e in payload["userErrors"]]


async def test_ofr7_allowed_registrations_1_refuses_a_second_link(staff_api_client, own_tenant):
    # given: the case, an offer allowing one registration
    tenant, _, subscription_id = await subscription_of_offer(own_tenant, allowed=1)
    owner, guest = await own_registration(tenant), await own_registration(tenant)
    # when
    first = await link(staff_api_client, tenant, subscription_id, owner.crid, "OWNER")
    second = await link(staff_api_client, tenant, subscription_id, guest.crid)
    # then
    assert first["userErrors"] == []
    assert second["link"] is None
    assert [(e["code"], e["field"], e["message"]) for e in second["userErrors"]] == [
        ("LINK_LIMIT_REACHED", ["input", "subscriptionId"], "The subscription's offer allows 1 registrations")]
    assert await linked(staff_api_client, tenant, subscription_id) == [owner.crid]


async def test_ofr7_link_at_n_is_accepted_and_at_n_plus_1_refused(staff_api_client, own_tenant):
    # given: three allowed, LNK-2 allowing more
    tenant, _, subscription_id = await subscription_of_offer(own_tenant, allowed=3)
    people = [await own_registration(tenant) for _ in range(4)]
    # when
    answers = [await link(staff_api_client, tenant, subscription_id, p.crid) for p in people]
    # then
    assert [a["userErrors"] for a in answers[:3]] == [[], [], []]  # the third link is the n-th
    assert codes(answers[3]) == [("LINK_LIMIT_REACHED", "The subscription's offer allows 3 registrations")]
    assert len(await linked(staff_api_client, tenant, subscription_id)) == 3


async def test_ofr7_inv3_a_pending_invitation_counts_as_a_link(staff_api_client, own_tenant, services):
    # given: two allowed, an owner and one pending invitation
    tenant, _, subscription_id = await subscription_of_offer(own_tenant, allowed=2)
    owner, other = await own_registration(tenant), await own_registration(tenant)
    assert (await link(staff_api_client, tenant, subscription_id, owner.crid, "OWNER"))["userErrors"] == []
    invitation = await tenant.add(Invitation(tenant_id=tenant.id, subscription_id=subscription_id, host_crid=owner.crid,
                                             email="pending@example.com", expires_at=utcnow() + timedelta(days=14)))
    # when
    while_pending = await link(staff_api_client, tenant, subscription_id, other.crid)
    async with services.db.session() as session:
        row = (await session.execute(select(Invitation).where(Invitation.id == invitation.id))).scalar_one()
        row.state = "CANCELLED"
        await session.commit()
    after_cancel = await link(staff_api_client, tenant, subscription_id, other.crid)
    # then
    assert codes(while_pending) == [("LINK_LIMIT_REACHED", "The subscription's offer allows 2 registrations")]
    assert after_cancel["userErrors"] == []


async def test_ofr7_invitation_at_n_is_accepted_and_at_n_plus_1_refused(api_client, own_tenant, tokens):
    # given: two allowed, the owner linked; the owner invites
    tenant, _, subscription_id = await subscription_of_offer(own_tenant, allowed=2)
    owner = await own_registration(tenant)
    await tenant.add(SubscriptionLink(tenant_id=tenant.id, registration_id=owner.id, subscription_id=subscription_id,
                                      role="OWNER"))
    headers = bearer(tokens.customer(owner.crid, tenant.code))

    async def invite(email: str) -> dict:
        answer = await graphql(api_client, INVITE, {"input": {"subscriptionId": subscription_id,
                                                              "invitees": [{"email": email}]}}, **headers)
        return answer["data"]["inviteGuests"]

    # when
    at_n = await invite(f"first.{uuid.uuid4().hex[:8]}@example.com")
    over = await invite(f"second.{uuid.uuid4().hex[:8]}@example.com")
    # then
    assert at_n["userErrors"] == [] and [i["state"] for i in at_n["invitations"]] == ["PENDING"]
    assert over["invitations"] == []
    assert [e["message"] for e in over["userErrors"]] == ["The subscription's offer allows 2 registrations"]


async def test_ofr7_lowering_the_allowance_removes_no_link_and_stops_new_links_and_transfers(
        staff_api_client, own_tenant):
    # given: three links on an offer allowing three
    tenant, offer, subscription_id = await subscription_of_offer(own_tenant, allowed=3)
    people = [await own_registration(tenant) for _ in range(3)]
    made = [await link(staff_api_client, tenant, subscription_id, p.crid) for p in people]
    newcomer, extra = await own_registration(tenant), await own_registration(tenant)
    # when: the allowance is lowered to two
    lowered = await graphql(staff_api_client, SET_ALLOWED, {"input": {"offerId": str(offer.id),
                                                                      "allowedRegistrations": 2}}, **tenant.headers)
    # then: the three links stay
    assert lowered["data"]["setOfferAllowedRegistrations"]["userErrors"] == []
    assert await linked(staff_api_client, tenant, subscription_id) == sorted(p.crid for p in people)
    # and neither a new link nor a transfer gets through at n+1 (three links, two allowed)
    assert codes(await link(staff_api_client, tenant, subscription_id, extra.crid)) == [
        ("LINK_LIMIT_REACHED", "The subscription's offer allows 2 registrations")]
    refused = await transfer(staff_api_client, tenant, made[0]["link"]["id"], newcomer.crid)
    assert refused["link"] is None
    assert [(e["code"], e["field"], e["message"]) for e in refused["userErrors"]] == [
        ("LINK_LIMIT_REACHED", ["input", "linkId"], "The subscription's offer allows 2 registrations")]
    assert await linked(staff_api_client, tenant, subscription_id) == sorted(p.crid for p in people)


async def test_ofr7_transfer_at_n_moves_the_link(staff_api_client, own_tenant):
    # given: two links on an offer allowing two (at n)
    tenant, _, subscription_id = await subscription_of_offer(own_tenant, allowed=2)
    owner, guest, newcomer = (await own_registration(tenant), await own_registration(tenant),
                              await own_registration(tenant))
    await link(staff_api_client, tenant, subscription_id, owner.crid, "OWNER")
    guest_link = await link(staff_api_client, tenant, subscription_id, guest.crid)
    # when
    moved = await transfer(staff_api_client, tenant, guest_link["link"]["id"], newcomer.crid)
    # then
    assert moved["userErrors"] == []
    assert moved["link"] == {"id": guest_link["link"]["id"], "role": "GUEST", "crid": newcomer.crid}
    assert await linked(staff_api_client, tenant, subscription_id) == sorted([owner.crid, newcomer.crid])
