"""`subscriptionLinks(crid, registrationId, subscriptionId)` and `CustomerSubscription.links` / `.events`
through the public GraphQL API (LNK-1, NOT-1)."""

from __future__ import annotations

from decimal import Decimal

from sandbox.demo import generate
from tests.conftest import graphql

SUBSCRIPTION_LINKS_QUERY = """
query ($crid: String, $registrationId: ID, $subscriptionId: ID, $first: Int, $after: String) {
  subscriptionLinks(crid: $crid, registrationId: $registrationId, subscriptionId: $subscriptionId,
                    first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id role crid registrationId subscriptionId registration { email } subscription { id } }
  }
}
"""

SUBSCRIPTION_WITH_LINKS_QUERY = """
query ($id: ID!) {
  subscription(id: $id) {
    id
    links { role crid registration { crid state } }
    events(first: 10) { totalCount nodes { id typeCode amount { amount currency } } }
  }
}
"""

DEMO = generate(1)


def _links_of_subscription(paper: str, subscription_id: str) -> list[dict]:
    return [link for link in DEMO.links if link["tenant"] == paper and link["subscription_id"] == subscription_id]


def _subscription_with_owner_and_guest(paper: str = "NCSDEMO") -> str:
    return next(s["id"] for s in DEMO.subscriptions_of(paper)
                if {link["role"] for link in _links_of_subscription(paper, s["id"])} == {"OWNER", "GUEST"})


async def test_lnk1_links_need_at_least_one_criterion(staff_api_client):
    body = await graphql(staff_api_client, SUBSCRIPTION_LINKS_QUERY, {})

    assert body["data"] == {"subscriptionLinks": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == ["crid"]
    assert "at least one" in body["errors"][0]["message"]


async def test_lnk1_registration_id_must_be_numeric(staff_api_client):
    body = await graphql(staff_api_client, SUBSCRIPTION_LINKS_QUERY, {"registrationId": "abc"})

    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == ["registrationId"]


async def test_lnk1_links_by_subscription_id(staff_api_client):
    # given
    subscription_id = _subscription_with_owner_and_guest()
    expected = {(link["crid"], link["role"]) for link in _links_of_subscription("NCSDEMO", subscription_id)}

    # when
    body = await graphql(staff_api_client, SUBSCRIPTION_LINKS_QUERY, {"subscriptionId": subscription_id})

    # then
    assert "errors" not in body
    links = body["data"]["subscriptionLinks"]
    assert {(link["crid"], link["role"]) for link in links["nodes"]} == expected
    assert links["totalCount"] == len(expected)
    assert all(link["subscription"] == {"id": subscription_id} for link in links["nodes"])
    assert all(link["registration"]["email"] for link in links["nodes"])


async def test_lnk1_links_by_crid_and_by_registration_id_agree_and_page(staff_api_client):
    # given
    crid = DEMO.links[0]["crid"]
    expected = [link["subscription_id"] for link in DEMO.links if link["tenant"] == "NCSDEMO" and link["crid"] == crid]
    by_crid = await graphql(staff_api_client, SUBSCRIPTION_LINKS_QUERY, {"crid": crid, "first": 50})
    registration_id = by_crid["data"]["subscriptionLinks"]["nodes"][0]["registrationId"]

    # when
    by_id = await graphql(staff_api_client, SUBSCRIPTION_LINKS_QUERY, {"registrationId": registration_id, "first": 50})
    first_page = await graphql(staff_api_client, SUBSCRIPTION_LINKS_QUERY, {"crid": crid, "first": 2})
    cursor = first_page["data"]["subscriptionLinks"]["pageInfo"]["endCursor"]
    second_page = await graphql(staff_api_client, SUBSCRIPTION_LINKS_QUERY, {"crid": crid, "first": 2, "after": cursor})

    # then
    ids = [link["subscriptionId"] for link in by_crid["data"]["subscriptionLinks"]["nodes"]]
    assert sorted(ids) == sorted(expected)
    assert [link["subscriptionId"] for link in by_id["data"]["subscriptionLinks"]["nodes"]] == ids
    assert first_page["data"]["subscriptionLinks"]["pageInfo"]["hasNextPage"] is True
    assert [link["subscriptionId"] for link in first_page["data"]["subscriptionLinks"]["nodes"]
            + second_page["data"]["subscriptionLinks"]["nodes"]] == ids[:4]


async def test_lnk1_criteria_combine(staff_api_client):
    # given: a CRID with several links, narrowed to one subscription
    link = DEMO.links[0]

    # when
    body = await graphql(staff_api_client, SUBSCRIPTION_LINKS_QUERY,
                         {"crid": link["crid"], "subscriptionId": link["subscription_id"]})
    mismatch = await graphql(staff_api_client, SUBSCRIPTION_LINKS_QUERY,
                             {"crid": link["crid"], "subscriptionId": "NCS-9999999"})

    # then
    assert [(n["crid"], n["subscriptionId"]) for n in body["data"]["subscriptionLinks"]["nodes"]] == [
        (link["crid"], link["subscription_id"])]
    assert mismatch["data"]["subscriptionLinks"]["nodes"] == []
    assert mismatch["data"]["subscriptionLinks"]["totalCount"] == 0


async def test_lnk1_links_of_another_tenant_are_invisible(staff_api_client):
    # TEN-1
    other = next(link for link in DEMO.links if link["tenant"] == "MTXDEMO")

    body = await graphql(staff_api_client, SUBSCRIPTION_LINKS_QUERY, {"crid": other["crid"]}, x_tenant="NCSDEMO")

    assert body["data"]["subscriptionLinks"]["nodes"] == []


async def test_subscription_links_and_events_fields(staff_api_client, own_rows):
    # given: a demo subscription with owner and guest, plus events of its own
    subscription_id = _subscription_with_owner_and_guest()
    expected = {(link["crid"], link["role"]) for link in _links_of_subscription("NCSDEMO", subscription_id)}
    payment = await own_rows.event(subscription_id=subscription_id, type_code="PAYMENT", amount=Decimal("12.30"))
    restart = await own_rows.event(subscription_id=subscription_id, type_code="RESTARTSUBSCRIPTION")

    # when
    body = await graphql(staff_api_client, SUBSCRIPTION_WITH_LINKS_QUERY, {"id": subscription_id})

    # then
    assert "errors" not in body
    subscription = body["data"]["subscription"]
    assert {(link["crid"], link["role"]) for link in subscription["links"]} == expected
    assert all(link["registration"]["crid"] == link["crid"] for link in subscription["links"])
    assert subscription["events"]["totalCount"] == 2
    assert subscription["events"]["nodes"] == [
        {"id": str(restart.id), "typeCode": "RESTARTSUBSCRIPTION", "amount": None},
        {"id": str(payment.id), "typeCode": "PAYMENT", "amount": {"amount": "12.30", "currency": "USD"}},
    ]


async def test_links_and_events_of_many_subscriptions_cost_what_one_costs(staff_api_client, services):
    # given
    ids = [s["id"] for s in list(DEMO.subscriptions_of("NCSDEMO"))[:6]]
    selection = "{ links { crid registration { email } } events { totalCount } }"

    def query(n: int) -> str:
        return "{ " + " ".join(f's{i}: subscription(id: "{sid}") {selection}' for i, sid in enumerate(ids[:n])) + " }"

    await graphql(staff_api_client, "{ householdLevels { levelId } }")  # warm the tenant cache
    costs = []
    for n in (1, 6):
        before = services.db.statements

        # when
        body = await graphql(staff_api_client, query(n))

        # then
        assert "errors" not in body
        costs.append(services.db.statements - before)
    # links, events, the links' registrations: one statement each
    assert costs[0] == costs[1] == 3 + 1 + 1  # + MGR-1 access levels + SET-3 settings version, once per request


async def test_a_links_page_costs_the_same_for_one_and_many(staff_api_client, services):
    crid = DEMO.links[0]["crid"]
    await graphql(staff_api_client, "{ householdLevels { levelId } }")
    control = services.sandboxes["circulation"].state.control
    costs = []
    for first in (1, 8):
        before_sql, before_upstream = services.db.statements, control.total

        body = await graphql(staff_api_client, SUBSCRIPTION_LINKS_QUERY, {"crid": crid, "first": first})

        assert len(body["data"]["subscriptionLinks"]["nodes"]) == first
        costs.append((services.db.statements - before_sql, control.total - before_upstream))
    # the page and the registrations: one statement each; subscriptions: one batched call
    assert costs[0] == costs[1] == (2 + 1 + 1, 1)  # + MGR-1 access levels + SET-3 settings version, once per request
