"""LNK-4 through the public GraphQL API: a customer links only their own registration and never sees another
registration's CRID, e-mail, names or metadata — except an owner seeing their guests' names and e-mail."""

from __future__ import annotations

import json

import sqlalchemy as sa

from datasources.models import SubscriptionLink
from sandbox.demo import generate
from tests.conftest import bearer, graphql

DEMO = generate(1)

GUEST_READS_SUBSCRIPTION = """
query ($id: ID!) {
  subscription(id: $id) {
    id
    links { role crid registrationId registration { crid email firstName lastName metadata } }
    events(first: 50) { nodes { typeCode crid details } }
  }
}
"""
GUEST_READS_LINKS = """
query ($s: ID!) {
  subscriptionLinks(subscriptionId: $s) {
    nodes { role crid registrationId registration { crid email firstName lastName metadata encryptedCrid } }
  }
}
"""
OWNER_READS_GUESTS = """
query ($id: ID!) {
  subscription(id: $id) {
    links { role registration { email firstName lastName } }
  }
}
"""
OWNER_ASKS_GUEST_DATA = """
query ($id: ID!) {
  subscription(id: $id) {
    links { role registration { crid registrationId metadata encryptedCrid state links { subscriptionId } } }
  }
}
"""
LINK = """
mutation ($input: LinkSubscriptionInput!) {
  linkSubscription(input: $input) { link { id role } userErrors { code field message } }
}
"""
TRANSFER = """
mutation ($id: ID!, $crid: String!) {
  transferSubscriptionLink(input: {linkId: $id, customerRegistrationId: $crid}) {
    link { id role } userErrors { code field }
  }
}
"""
ME = "query { me { crid email } }"


def _links(subscription_id: str) -> list[dict]:
    return [link for link in DEMO.links if link["tenant"] == "NCSDEMO" and link["subscription_id"] == subscription_id]


def owner_and_guest() -> tuple[str, str, str]:
    """(subscription id, owner CRID, guest CRID) of a demo subscription with one owner and one guest."""
    for subscription in DEMO.subscriptions_of("NCSDEMO"):
        links = _links(subscription["id"])
        roles = sorted(link["role"] for link in links)
        if roles == ["GUEST", "OWNER"]:
            owner = next(link["crid"] for link in links if link["role"] == "OWNER")
            guest = next(link["crid"] for link in links if link["role"] == "GUEST")
            if owner != guest:
                return subscription["id"], owner, guest
    raise AssertionError("the demo data has no subscription with an owner and a guest")


def registration(crid: str) -> dict:
    return next(r for r in DEMO.registrations if r["tenant"] == "NCSDEMO" and r["crid"] == crid)


def owned_by(crid: str) -> str:
    """A subscription `crid` owns that has no guest."""
    return next(link["subscription_id"] for link in DEMO.links
                if link["tenant"] == "NCSDEMO" and link["crid"] == crid and link["role"] == "OWNER"
                and len(_links(link["subscription_id"])) == 1)


async def test_lnk4_a_guest_never_sees_the_owners_crid_or_data_through_subscription_links(api_client, tokens):
    # given: a guest of a subscription
    subscription_id, owner, guest = owner_and_guest()
    owner_data = registration(owner)
    # when
    body = await graphql(api_client, GUEST_READS_SUBSCRIPTION, {"id": subscription_id}, **bearer(tokens.customer(guest)))
    # then: the subscription is readable (LNK-3), the owner's identifiers and data are not (LNK-4)
    assert body["data"]["subscription"]["id"] == subscription_id
    text = json.dumps(body["data"])
    assert owner not in text and owner_data["email"] not in text
    links = {link["role"]: link for link in body["data"]["subscription"]["links"]}
    assert links["OWNER"] == {"role": "OWNER", "crid": None, "registrationId": None, "registration": None}
    assert links["GUEST"]["crid"] == guest
    assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}


async def test_lnk4_a_guest_never_sees_the_owners_registration_through_subscription_links_query(api_client, tokens):
    # given
    subscription_id, owner, guest = owner_and_guest()
    owner_data = registration(owner)
    # when
    body = await graphql(api_client, GUEST_READS_LINKS, {"s": subscription_id}, **bearer(tokens.customer(guest)))
    # then
    text = json.dumps(body["data"])
    assert owner not in text and owner_data["email"] not in text
    assert owner_data["first_name"] not in text or owner_data["first_name"] == registration(guest)["first_name"]
    nodes = body["data"]["subscriptionLinks"]["nodes"]
    assert [n["registration"] for n in nodes if n["role"] == "OWNER"] == [None]


async def test_lnk4_an_owner_sees_their_guests_names_and_email_only(api_client, tokens):
    # given
    subscription_id, owner, guest = owner_and_guest()
    guest_data = registration(guest)
    headers = bearer(tokens.customer(owner))
    # when
    names = await graphql(api_client, OWNER_READS_GUESTS, {"id": subscription_id}, **headers)
    data = await graphql(api_client, OWNER_ASKS_GUEST_DATA, {"id": subscription_id}, **headers)
    # then: who the guest is...
    assert "errors" not in names
    guests = [link["registration"] for link in names["data"]["subscription"]["links"] if link["role"] == "GUEST"]
    assert guests == [{"email": guest_data["email"], "firstName": guest_data["first_name"],
                       "lastName": guest_data["last_name"]}]
    # ...but not their CRID, ids, metadata or links to unrelated subscriptions
    text = json.dumps(data["data"])
    assert guest not in text
    assert [link["registration"] for link in data["data"]["subscription"]["links"] if link["role"] == "GUEST"] == [None]
    assert {e["extensions"]["code"] for e in data["errors"]} == {"FORBIDDEN"}


async def test_lnk4_a_guest_cannot_link_the_owners_crid_to_a_subscription_they_own(api_client, tokens, services):
    # given: the attack of issue 14 — the guest owns another subscription and names the owner's CRID
    subscription_id, owner, guest = owner_and_guest()
    own_subscription = owned_by(guest)
    # when
    body = await graphql(api_client, LINK, {"input": {"subscriptionId": own_subscription,
                                                      "customerRegistrationId": owner, "role": "GUEST"}},
                         **bearer(tokens.customer(guest)))
    # then
    payload = body["data"]["linkSubscription"]
    assert payload["link"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("REGISTRATION_NOT_OWN", ["input", "customerRegistrationId"])]
    async with services.db.session() as session:
        count = (await session.execute(sa.select(sa.func.count()).select_from(SubscriptionLink).where(
            SubscriptionLink.subscription_id == own_subscription))).scalar_one()
    assert count == 1  # only the guest's own OWNER link


async def test_lnk4_an_owner_cannot_move_a_link_to_another_customers_crid(api_client, tokens):
    # given: the owner's own link on a subscription without guests, and some other registration
    subscription_id, owner, guest = owner_and_guest()
    solo = owned_by(owner)
    links = await graphql(api_client, "query ($s: ID!) { subscriptionLinks(subscriptionId: $s) { nodes { id } } }",
                          {"s": solo}, **bearer(tokens.customer(owner)))
    [link] = links["data"]["subscriptionLinks"]["nodes"]
    # when
    body = await graphql(api_client, TRANSFER, {"id": link["id"], "crid": guest}, **bearer(tokens.customer(owner)))
    # then
    payload = body["data"]["transferSubscriptionLink"]
    assert payload["link"] is None
    assert [e["code"] for e in payload["userErrors"]] == ["REGISTRATION_NOT_OWN"]
