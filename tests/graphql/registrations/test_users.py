"""`users(email, metadata, encryptedCrid, first, after)` through the public GraphQL API (USR-2, USR-4)."""

from __future__ import annotations

from sandbox.demo import generate
from tests.conftest import graphql

USERS_QUERY = """
query ($email: String, $metadata: [MetadataFilterInput!], $encryptedCrid: String, $first: Int, $after: String) {
  users(email: $email, metadata: $metadata, encryptedCrid: $encryptedCrid, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    nodes { crid email }
  }
}
"""

ENCRYPTED_CRID_QUERY = "query ($crid: String!) { registration(crid: $crid) { encryptedCrid } }"

DEMO = generate(1)
NCS_REGISTRATIONS = [r for r in DEMO.registrations if r["tenant"] == "NCSDEMO"]


def _codes(body: dict) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


async def test_usr2_email_lookup_finds_the_user_case_insensitively_and_trimmed(staff_api_client):
    # given
    registration = NCS_REGISTRATIONS[5]

    # when
    body = await graphql(staff_api_client, USERS_QUERY, {"email": f"  {registration['email'].upper()} "})

    # then
    assert "errors" not in body
    assert body["data"]["users"]["nodes"] == [{"crid": registration["crid"], "email": registration["email"]}]
    assert body["data"]["users"]["totalCount"] == 1


async def test_usr2_email_lookup_returns_at_most_one_user(staff_api_client, own_rows):
    # given: two registrations of the tenant share an e-mail address
    first = await own_rows.registration(email="shared.inbox@example.com")
    await own_rows.registration(email="shared.inbox@example.com")

    # when
    body = await graphql(staff_api_client, USERS_QUERY, {"email": "shared.inbox@example.com"})

    # then
    users = body["data"]["users"]
    assert users["nodes"] == [{"crid": first.crid, "email": "shared.inbox@example.com"}]
    assert users["totalCount"] == 1
    assert users["pageInfo"]["hasNextPage"] is False


async def test_usr2_unknown_email_is_an_empty_page(staff_api_client):
    body = await graphql(staff_api_client, USERS_QUERY, {"email": "nobody@example.com"})

    assert body["data"]["users"]["nodes"] == []
    assert body["data"]["users"]["totalCount"] == 0


async def test_usr2_metadata_filters_all_have_to_match(staff_api_client):
    # given
    expected = [r["crid"] for r in NCS_REGISTRATIONS
                if r["metadata"]["favouriteSection"] == "sport" and r["metadata"]["memberSince"] == "2011"]
    assert expected
    metadata = [{"key": "favouriteSection", "value": "sport"}, {"key": "memberSince", "value": "2011"}]

    # when
    body = await graphql(staff_api_client, USERS_QUERY, {"metadata": metadata})

    # then
    assert "errors" not in body
    assert [user["crid"] for user in body["data"]["users"]["nodes"]] == expected


async def test_usr2_pages_default_to_ten_and_follow_the_cursor(staff_api_client):
    # given: more sport fans than fit one page
    sport = [r["crid"] for r in NCS_REGISTRATIONS if r["metadata"]["favouriteSection"] == "sport"]
    metadata = [{"key": "favouriteSection", "value": "sport"}]

    # when
    first = await graphql(staff_api_client, USERS_QUERY, {"metadata": metadata, "first": 3})
    page = first["data"]["users"]
    second = await graphql(staff_api_client, USERS_QUERY,
                           {"metadata": metadata, "first": 3, "after": page["pageInfo"]["endCursor"]})

    # then
    assert [u["crid"] for u in page["nodes"]] == sport[:3]
    assert page["totalCount"] == len(sport)
    assert page["pageInfo"]["hasNextPage"] is True
    assert [u["crid"] for u in second["data"]["users"]["nodes"]] == sport[3:6]
    assert second["data"]["users"]["pageInfo"]["hasPreviousPage"] is True
    news = await graphql(staff_api_client, USERS_QUERY, {"metadata": [{"key": "favouriteSection", "value": "news"}]})
    assert len(news["data"]["users"]["nodes"]) == 9  # below the USR-2 default page size of 10


async def test_usr2_email_and_metadata_together_is_bad_user_input(staff_api_client):
    body = await graphql(staff_api_client, USERS_QUERY, {"email": NCS_REGISTRATIONS[0]["email"],
                                                   "metadata": [{"key": "memberSince", "value": "2010"}]})

    assert body["data"] == {"users": None}
    assert _codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == ["metadata"]
    assert "not both" in body["errors"][0]["message"]


async def test_usr2_eleven_metadata_filters_are_bad_user_input(staff_api_client):
    metadata = [{"key": f"k{i}", "value": "v"} for i in range(11)]

    body = await graphql(staff_api_client, USERS_QUERY, {"metadata": metadata})

    assert _codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == ["metadata"]


async def test_usr2_ten_metadata_filters_are_accepted(staff_api_client):
    metadata = [{"key": f"k{i}", "value": "v"} for i in range(10)]

    body = await graphql(staff_api_client, USERS_QUERY, {"metadata": metadata})

    assert "errors" not in body
    assert body["data"]["users"]["nodes"] == []


async def test_usr2_metadata_value_over_100_characters_is_bad_user_input(staff_api_client):
    metadata = [{"key": "memberSince", "value": "2010"}, {"key": "note", "value": "x" * 101}]

    body = await graphql(staff_api_client, USERS_QUERY, {"metadata": metadata})

    assert _codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == ["metadata", "1", "value"]


async def test_usr4_email_with_a_zero_width_space_is_bad_user_input(staff_api_client):
    body = await graphql(staff_api_client, USERS_QUERY, {"email": "ada\u200b@example.com"})

    assert _codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == ["email"]


async def test_usr2_encrypted_crid_is_a_lookup_key(staff_api_client):
    # given: the encrypted CRID the API hands out
    registration = NCS_REGISTRATIONS[7]
    issued = await graphql(staff_api_client, ENCRYPTED_CRID_QUERY, {"crid": registration["crid"]})
    token = issued["data"]["registration"]["encryptedCrid"]

    # when
    body = await graphql(staff_api_client, USERS_QUERY, {"encryptedCrid": token})

    # then
    assert registration["crid"] not in token
    assert body["data"]["users"]["nodes"] == [{"crid": registration["crid"], "email": registration["email"]}]


async def test_usr2_encrypted_crid_of_another_tenant_finds_nobody(staff_api_client):
    # TEN-1: the token decrypts, but the CRID belongs to another tenant
    other = next(r for r in DEMO.registrations if r["tenant"] == "SAXDEMO")
    issued = await graphql(staff_api_client, ENCRYPTED_CRID_QUERY, {"crid": other["crid"]}, x_tenant="SAXDEMO")

    body = await graphql(staff_api_client, USERS_QUERY, {"encryptedCrid": issued["data"]["registration"]["encryptedCrid"]},
                         x_tenant="NCSDEMO")

    assert body["data"]["users"]["nodes"] == []


async def test_usr2_malformed_encrypted_crid_is_bad_user_input(staff_api_client):
    body = await graphql(staff_api_client, USERS_QUERY, {"encryptedCrid": "definitely-not-a-token"})

    assert _codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == ["encryptedCrid"]


async def test_usr2_encrypted_crid_with_email_is_bad_user_input(staff_api_client):
    body = await graphql(staff_api_client, USERS_QUERY, {"encryptedCrid": "x", "email": "a@example.com"})

    assert _codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == ["encryptedCrid"]


async def test_a_users_page_of_nine_costs_what_a_page_of_two_costs(staff_api_client, services):
    # given: a page of users with every relation (USR-2: a lookup needs a criterion; nine NCS users read news)
    query = """
    query ($first: Int) {
      users(first: $first, metadata: [{key: "favouriteSection", value: "news"}]) { nodes {
        crid links { role subscription { id } registration { crid } } linkedSubscriptions(role: OWNER) { id }
        temporaryEntitlements { id } events { totalCount }
      } }
    }
    """
    await graphql(staff_api_client, "{ householdLevels { levelId } }")  # warm the tenant cache
    control = services.sandboxes["circulation"].state.control
    costs = []
    for first in (2, 9):
        before_sql, before_upstream = services.db.statements, control.total

        # when
        body = await graphql(staff_api_client, query, {"first": first})

        # then
        assert "errors" not in body
        assert len(body["data"]["users"]["nodes"]) == first
        costs.append((services.db.statements - before_sql, control.total - before_upstream))
    # the page, links, temporary entitlements, events: one statement each (link.registration is primed by
    # the page); subscriptions: one batched upstream call (the execution fast path gathers a list's items'
    # fields once, server/execution.py, so the guest links' subscriptions are asked for in the same tick as the
    # owners'; graphql-core's gather per item asked for them a tick later, in a second call)
    assert costs[0] == costs[1] == (4 + 1 + 1, 1)  # + MGR-1 access levels + SET-3 settings version, once per request


async def test_usr2_metadata_keys_with_quotes_and_dots_match_literally(staff_api_client, own_rows):
    # given: keys that JSON paths would otherwise interpret
    odd = {'we"ird': "1", "a.b": "2", "$[0]": "3", "it's": "4"}
    registration = await own_rows.registration(user_metadata=odd)

    for key, value in odd.items():
        # when
        body = await graphql(staff_api_client, USERS_QUERY, {"metadata": [{"key": key, "value": value}]})

        # then
        assert "errors" not in body, body
        assert [u["crid"] for u in body["data"]["users"]["nodes"]] == [registration.crid]


# -- USR-2 / SUB-2 (issue 17): no criterion is an error; names match by case-insensitive prefix ------------
async def test_usr2_users_without_any_criterion_is_bad_user_input(staff_api_client):
    for variables in ({}, {"metadata": []}):
        body = await graphql(staff_api_client, USERS_QUERY, variables)

        assert body["data"] == {"users": None}
        assert _codes(body) == ["BAD_USER_INPUT"]
        assert body["errors"][0]["message"] == "Please enter a value in at least one of the input fields."


NAMES_QUERY = """
query ($firstName: String, $lastName: String, $email: String, $metadata: [MetadataFilterInput!]) {
  users(firstName: $firstName, lastName: $lastName, email: $email, metadata: $metadata, first: 50) {
    totalCount nodes { crid }
  }
}
"""


async def test_usr2_names_match_by_case_insensitive_prefix(staff_api_client):
    # given
    expected = [r["crid"] for r in NCS_REGISTRATIONS if r["last_name"].lower().startswith("and")]
    ada = [r["crid"] for r in NCS_REGISTRATIONS
           if r["first_name"].lower().startswith("ad") and r["last_name"].lower().startswith("and")]
    assert expected and ada

    # when
    by_last = await graphql(staff_api_client, NAMES_QUERY, {"lastName": " aND"})
    both = await graphql(staff_api_client, NAMES_QUERY, {"firstName": "AD", "lastName": "and"})
    inner = await graphql(staff_api_client, NAMES_QUERY, {"lastName": "ndersen"})

    # then
    assert sorted(u["crid"] for u in by_last["data"]["users"]["nodes"]) == sorted(expected)
    assert sorted(u["crid"] for u in both["data"]["users"]["nodes"]) == sorted(ada)
    assert inner["data"]["users"] == {"totalCount": 0, "nodes": []}  # a prefix, not a substring


async def test_usr2_name_wildcards_are_literal(staff_api_client):
    for pattern in ("%", "_da", "a%"):
        body = await graphql(staff_api_client, NAMES_QUERY, {"firstName": pattern})

        assert body["data"]["users"] == {"totalCount": 0, "nodes": []}, pattern


async def test_usr2_names_with_an_email_is_bad_user_input(staff_api_client):
    body = await graphql(staff_api_client, NAMES_QUERY, {"lastName": "a", "email": NCS_REGISTRATIONS[0]["email"]})

    assert _codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == ["lastName"]


async def test_usr2_names_narrow_metadata(staff_api_client):
    expected = [r["crid"] for r in NCS_REGISTRATIONS
                if r["metadata"]["favouriteSection"] == "news" and r["last_name"].lower().startswith("a")]

    body = await graphql(staff_api_client, NAMES_QUERY, {"lastName": "a", "metadata": [
        {"key": "favouriteSection", "value": "news"}]})

    assert sorted(u["crid"] for u in body["data"]["users"]["nodes"]) == sorted(expected)
