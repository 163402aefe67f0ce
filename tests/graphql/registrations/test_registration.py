"""`registration(crid)`, `me` and the `Registration` entity through the public GraphQL API (USR-1, LNK-1,
ENT-3, NOT-1, TEN-1)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sandbox.demo import generate
from tests.conftest import graphql

REGISTRATION_QUERY = """
query ($crid: String!) {
  registration(crid: $crid) {
    crid registrationId email firstName lastName state metadata
    links { role subscriptionId crid subscription { id accountNumber } }
  }
}
"""

STATE_QUERY = "query ($crid: String!) { registration(crid: $crid) { crid state } }"

LINKED_SUBSCRIPTIONS_QUERY = """
query ($crid: String!, $role: LinkRole) {
  registration(crid: $crid) { linkedSubscriptions(role: $role) { id } }
}
"""

EVENTS_QUERY = """
query ($crid: String!, $first: Int, $after: String) {
  registration(crid: $crid) {
    events(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      nodes { id typeCode subscriptionId crid amount { amount currency } reason source details createdAt }
    }
  }
}
"""

TEMPORARY_ENTITLEMENTS_FIELD_QUERY = """
query ($crid: String!) { registration(crid: $crid) { temporaryEntitlements { entitlementCode active } } }
"""

ENTITIES_QUERY = """
query ($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on Registration { crid email } }
}
"""

ME_QUERY = "{ me { crid email } }"

DEMO = generate(1)


def _demo_registrations(paper: str) -> list[dict]:
    return [r for r in DEMO.registrations if r["tenant"] == paper]


def _demo_links(paper: str, crid: str) -> list[dict]:
    return [link for link in DEMO.links if link["tenant"] == paper and link["crid"] == crid]


async def test_registration_answers_from_demo_data_with_its_links(staff_api_client):
    # given: a registration that is OWNER of some subscriptions and GUEST of others (LNK-1)
    registration = next(r for r in _demo_registrations("NCSDEMO")
                        if {link["role"] for link in _demo_links("NCSDEMO", r["crid"])} == {"OWNER", "GUEST"})
    expected = {(link["subscription_id"], link["role"]) for link in _demo_links("NCSDEMO", registration["crid"])}

    # when
    body = await graphql(staff_api_client, REGISTRATION_QUERY, {"crid": registration["crid"]})

    # then
    assert "errors" not in body
    answer = body["data"]["registration"]
    assert answer["email"] == registration["email"]
    assert (answer["firstName"], answer["lastName"]) == (registration["first_name"], registration["last_name"])
    assert answer["metadata"] == registration["metadata"]
    assert answer["state"] == "STANDARD"
    assert {(link["subscriptionId"], link["role"]) for link in answer["links"]} == expected
    assert all(link["crid"] == registration["crid"] for link in answer["links"])
    assert all(link["subscription"]["id"] == link["subscriptionId"] for link in answer["links"])


async def test_usr1_mg2_tenant_reports_lite_unverified_and_standard(staff_api_client):
    # given: CPRDEMO runs on MG2 (Flow.UserProvider); the demo has LITE and UNVERIFIED registrations
    for registration in _demo_registrations("CPRDEMO")[:10]:
        expected = ("LITE" if not registration["has_password"]
                    else "UNVERIFIED" if not registration["email_verified"] else "STANDARD")

        # when
        body = await graphql(staff_api_client, STATE_QUERY, {"crid": registration["crid"]}, x_tenant="CPRDEMO")

        # then
        assert body["data"]["registration"]["state"] == expected
    states = {r["has_password"] and r["email_verified"] for r in _demo_registrations("CPRDEMO")[:10]}
    assert states == {True, False}


async def test_usr1_third_party_tenant_reports_standard_even_without_password(staff_api_client, own_rows):
    # given: an Auth0 tenant's registration with no password and an unverified e-mail
    registration = await own_rows.registration("NCSDEMO", has_password=False, email_verified=False)

    # when
    body = await graphql(staff_api_client, STATE_QUERY, {"crid": registration.crid})

    # then
    assert body["data"]["registration"]["state"] == "STANDARD"


async def test_unknown_crid_is_null_without_errors(staff_api_client):
    body = await graphql(staff_api_client, STATE_QUERY, {"crid": "auth0|does-not-exist"})

    assert body == {"data": {"registration": None}}


async def test_registration_of_another_tenant_is_null(staff_api_client):
    # TEN-1
    other = _demo_registrations("SAXDEMO")[0]

    body = await graphql(staff_api_client, STATE_QUERY, {"crid": other["crid"]}, x_tenant="NCSDEMO")

    assert body == {"data": {"registration": None}}


async def test_linked_subscriptions_filter_by_role(staff_api_client):
    # given
    registration = next(r for r in _demo_registrations("NCSDEMO")
                        if {link["role"] for link in _demo_links("NCSDEMO", r["crid"])} == {"OWNER", "GUEST"})
    links = _demo_links("NCSDEMO", registration["crid"])

    for role in ("OWNER", "GUEST", None):
        # when
        body = await graphql(staff_api_client, LINKED_SUBSCRIPTIONS_QUERY, {"crid": registration["crid"], "role": role})

        # then
        ids = {s["id"] for s in body["data"]["registration"]["linkedSubscriptions"]}
        assert ids == {link["subscription_id"] for link in links if role is None or link["role"] == role}


async def test_linked_subscription_missing_upstream_is_left_out(staff_api_client, own_rows):
    # given: a link to a subscription the circulation system does not know
    registration = await own_rows.registration()
    await own_rows.link(registration, "NCS-0000001", "GUEST")
    await own_rows.link(registration, "NCS-9999999", "OWNER")

    # when
    body = await graphql(staff_api_client, LINKED_SUBSCRIPTIONS_QUERY, {"crid": registration.crid, "role": None})

    # then
    assert "errors" not in body
    assert body["data"]["registration"]["linkedSubscriptions"] == [{"id": "NCS-0000001"}]


async def test_not1_registration_events_are_paged_newest_first(staff_api_client, own_rows):
    # given: three events of one CRID, one of them with an amount above int32 (MNY-1)
    registration = await own_rows.registration()
    older = await own_rows.event(crid=registration.crid, type_code="STARTSTD", subscription_id="NCS-0000001",
                                 amount=Decimal("2147483648.10"), reason="new", source="web", details={"offer": 11})
    middle = await own_rows.event(crid=registration.crid, type_code="CHGEMAIL")
    newest = await own_rows.event(crid=registration.crid, type_code="UPDATELINK")
    await own_rows.event(crid="test|someone-else", type_code="CHGEMAIL")

    # when
    first_page = await graphql(staff_api_client, EVENTS_QUERY, {"crid": registration.crid, "first": 2})
    events = first_page["data"]["registration"]["events"]
    second_page = await graphql(staff_api_client, EVENTS_QUERY,
                                {"crid": registration.crid, "first": 2, "after": events["pageInfo"]["endCursor"]})

    # then
    assert "errors" not in first_page and "errors" not in second_page
    assert events["totalCount"] == 3
    assert events["pageInfo"]["hasNextPage"] is True
    assert [e["id"] for e in events["nodes"]] == [str(newest.id), str(middle.id)]
    rest = second_page["data"]["registration"]["events"]
    assert rest["pageInfo"]["hasNextPage"] is False
    assert len(rest["nodes"]) == 1
    last = rest["nodes"][0]
    assert last["id"] == str(older.id)
    assert last["amount"] == {"amount": "2147483648.10", "currency": "USD"}
    assert (last["typeCode"], last["subscriptionId"], last["reason"], last["source"]) == (
        "STARTSTD", "NCS-0000001", "new", "web")
    assert last["details"] == {"offer": 11}
    assert datetime.fromisoformat(last["createdAt"]).tzinfo is not None


async def test_events_first_above_maximum_is_bad_user_input(staff_api_client):
    registration = _demo_registrations("NCSDEMO")[0]

    body = await graphql(staff_api_client, EVENTS_QUERY, {"crid": registration["crid"], "first": 100_000})

    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == ["first"]


async def test_ent3_registration_temporary_entitlements_say_whether_active(staff_api_client, own_rows):
    # given
    registration = await own_rows.registration()
    now = datetime.now(timezone.utc)
    await own_rows.temporary_entitlement(registration.crid, code="EEDITION", starts=now - timedelta(days=1),
                                         expires=now + timedelta(days=1))
    await own_rows.temporary_entitlement(registration.crid, code="PREMIUM", starts=now - timedelta(days=10),
                                         expires=now - timedelta(days=3))

    # when
    body = await graphql(staff_api_client, TEMPORARY_ENTITLEMENTS_FIELD_QUERY, {"crid": registration.crid})

    # then
    assert body["data"]["registration"]["temporaryEntitlements"] == [
        {"entitlementCode": "EEDITION", "active": True}, {"entitlementCode": "PREMIUM", "active": False},
    ]


async def test_registration_entity_resolves_by_crid_and_unknown_is_null(staff_api_client):
    # given
    known = _demo_registrations("NCSDEMO")[3]
    representations = [{"__typename": "Registration", "crid": known["crid"]},
                       {"__typename": "Registration", "crid": "auth0|unknown"}]

    # when
    body = await graphql(staff_api_client, ENTITIES_QUERY, {"representations": representations})

    # then
    assert body["data"]["_entities"] == [{"crid": known["crid"], "email": known["email"]}, None]


async def test_me_is_null_without_a_principal(staff_api_client):
    body = await graphql(staff_api_client, ME_QUERY)

    assert body == {"data": {"me": None}}


async def test_me_answers_the_signed_in_customers_registration(api_client, tokens):
    # given: a customer's access token
    registration = _demo_registrations("NCSDEMO")[1]

    # when
    body = await graphql(api_client, ME_QUERY, authorization=f"Bearer {tokens.customer(registration['crid'])}")

    # then
    assert "errors" not in body
    assert body["data"] == {"me": {"crid": registration["crid"], "email": registration["email"]}}


async def test_me_is_null_for_anonymous_requests_and_staff(api_client, staff_api_client):
    anonymous = await graphql(api_client, ME_QUERY)
    staff = await graphql(staff_api_client, ME_QUERY)

    assert anonymous == {"data": {"me": None}}
    assert staff == {"data": {"me": None}}


async def test_relations_of_many_registrations_cost_what_one_costs(staff_api_client, services):
    # given: the same relations asked for one registration and for eight (aliases)
    crids = [r["crid"] for r in _demo_registrations("NCSDEMO")[:8]]
    selection = ("{ links { role subscription { id } } linkedSubscriptions { id } temporaryEntitlements { id } "
                 "events(first: 5) { totalCount nodes { id } } }")

    def query(n: int) -> str:
        return "{ " + " ".join(f'r{i}: registration(crid: "{crid}") {selection}' for i, crid in
                               enumerate(crids[:n])) + " }"

    await graphql(staff_api_client, "{ householdLevels { levelId } }")  # warm the tenant cache
    control = services.sandboxes["circulation"].state.control
    costs = []
    for n in (1, 8):
        before_sql, before_upstream = services.db.statements, control.total

        # when
        body = await graphql(staff_api_client, query(n))

        # then
        assert "errors" not in body
        costs.append((services.db.statements - before_sql, control.total - before_upstream))
    # registrations, links, temporary entitlements, events: one statement each; subscriptions: one batch
    assert costs[0] == costs[1] == (4 + 1 + 1, 1)  # + MGR-1 access levels + SET-3 settings version, once per request
