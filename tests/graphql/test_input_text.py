"""Free text and string sizes through the public API (issue 14 #11, #15, #17; docs/input-validation.md), on
SQLite and PostgreSQL: control, line-break and bidi characters in free text are refused with a user error and
never stored; every ID and String argument has a maximum length; `%` and `_` in a search are characters."""

from __future__ import annotations

import uuid

import pytest

from datasources.models import HouseholdLevel
from server.inputs import MAX_ID_LENGTH, MAX_STRING_LENGTH
from tests.conftest import graphql
from tests.graphql.access.support import INCLUDED, access_log, paper
from tests.graphql.own_tenant import own_tenant  # noqa: F401  (fixture)

HOSTILE = {"NUL": "Ann\x00e", "CR/LF": "Ann\r\nINFO forged log line", "bidi override": "Ann\u202eeT",
           "zero width": "An\u200bn", "escape": "Ann\x1b[31m"}
CREATE_USER = """
mutation ($input: CreateUserInput!) {
  createUser(input: $input) { registration { crid firstName } userErrors { code field message } }
}
"""
UPDATE_LEVEL = """
mutation ($input: UpdateHouseholdLevelInput!) {
  updateHouseholdLevel(input: $input) { householdLevel { description } userErrors { code field message } }
}
"""
REQUEST_ACCESS = """
mutation ($input: RequestAccessInput!) {
  requestAccess(input: $input) { code userErrors { code field message } }
}
"""
LEVELS = "query ($search: String) { householdLevels(search: $search) { levelId description } }"
SUBSCRIPTION = "query ($id: ID!) { subscription(id: $id) { id } }"
MEGABYTES = "x" * 1_500_000


async def tenant_with_levels(own_tenant, *descriptions: str):
    tenant = await own_tenant()
    for level_id, description in enumerate(descriptions, start=1):
        await tenant.add(HouseholdLevel(tenant_id=tenant.id, level_id=level_id, description=description, active=True))
    return tenant


@pytest.mark.parametrize("name", list(HOSTILE.values()), ids=list(HOSTILE))
async def test_create_user_refuses_control_and_bidi_characters_in_names_with_a_user_error(api_client, name):
    # when
    answer = await graphql(api_client, CREATE_USER, {"input": {
        "email": f"text.{uuid.uuid4().hex[:8]}@example.com", "password": "Correct-horse-9!", "firstName": name}})

    # then: a user error naming the field; nothing created
    assert "errors" not in answer, answer
    payload = answer["data"]["createUser"]
    assert payload["registration"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("INVALID", ["input", "firstName"])]


@pytest.mark.parametrize("description", list(HOSTILE.values()), ids=list(HOSTILE))
async def test_hhl1_a_description_with_control_or_bidi_characters_is_refused_and_not_stored(staff_api_client,
                                                                                          own_tenant, description):
    # given
    tenant = await tenant_with_levels(own_tenant, "Before")

    # when
    answer = await graphql(staff_api_client, UPDATE_LEVEL, {"input": {"id": "1", "description": description}},
                           **tenant.headers)

    # then
    assert "errors" not in answer, answer
    payload = answer["data"]["updateHouseholdLevel"]
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("INVALID", ["input", "description"])]
    levels = await graphql(staff_api_client, LEVELS, {}, **tenant.headers)
    assert [level["description"] for level in levels["data"]["householdLevels"]] == ["Before"]


@pytest.mark.parametrize("platform", list(HOSTILE.values()), ids=list(HOSTILE))
async def test_ent2_a_platform_with_control_characters_is_refused_and_never_written_to_the_access_log(
        staff_api_client, own_tenant, services, platform):
    # given
    own = await paper(own_tenant)

    # when
    answer = await graphql(staff_api_client, REQUEST_ACCESS, {"input": {
        "entitlementCode": INCLUDED, "platform": platform, "customerRegistrationId": own.subscriber.crid}},
        **own.headers)

    # then: refused with a user error; the access log records the request without the platform
    assert "errors" not in answer, answer
    assert [(e["code"], e["field"]) for e in answer["data"]["requestAccess"]["userErrors"]] == [
        ("INVALID", ["input", "platform"])]
    [logged] = await access_log(services, own.tenant)
    assert logged["platform"] is None


@pytest.mark.parametrize("search", ["\x00", "a\nb", "\u202e"])
async def test_hhl2_a_search_with_control_characters_is_bad_user_input(staff_api_client, search):
    answer = await graphql(staff_api_client, LEVELS, {"search": search})

    assert answer.get("data") in (None, {"householdLevels": None}), answer
    assert [e["extensions"]["code"] for e in answer["errors"]] == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(("search", "found"), [("%", ["50% off"]), ("_", ["under_score"]), ("0%", ["50% off"]),
                                              ("a%b", [])])
async def test_hhl2_percent_and_underscore_in_a_search_are_characters_not_wildcards(staff_api_client, own_tenant,
                                                                                    search, found):
    # given
    tenant = await tenant_with_levels(own_tenant, "Family", "50% off", "under_score", "ab")

    # when
    answer = await graphql(staff_api_client, LEVELS, {"search": search}, **tenant.headers)

    # then
    assert [level["description"] for level in answer["data"]["householdLevels"]] == found


@pytest.mark.parametrize(("document", "variables", "field"), [
    (SUBSCRIPTION, {"id": MEGABYTES}, "$id"),
    (LEVELS, {"search": MEGABYTES}, "$search"),
    (SUBSCRIPTION, {"id": "1" * (MAX_ID_LENGTH + 1)}, "$id"),
    (LEVELS, {"search": "x" * (MAX_STRING_LENGTH + 1)}, "$search"),
    (SUBSCRIPTION, {"id": "NCS-\x00001"}, "$id"),
])
async def test_a_string_longer_than_its_maximum_or_holding_nul_is_bad_user_input_naming_it(staff_api_client,
                                                                                          document, variables, field):
    # when
    response = await staff_api_client.post("/graphql", json={"query": document, "variables": variables})

    # then: a request error before anything runs, not a masked 500
    assert response.status_code == 200, response.text[:500]
    body = response.json()
    assert "data" not in body, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"].startswith(f"`{field}`") and error["extensions"]["field"] == [field]
    assert len(response.content) < 2000  # the value is not echoed back


async def test_an_inline_string_longer_than_its_maximum_is_bad_user_input_naming_the_argument(staff_api_client):
    document = '{ householdLevels(search: "%s") { levelId } }' % ("x" * (MAX_STRING_LENGTH + 1))

    answer = await graphql(staff_api_client, document)

    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in answer["errors"]] == [
        ("BAD_USER_INPUT", ["search"])]


async def test_strings_at_their_maximum_are_accepted(staff_api_client):
    answer = await graphql(staff_api_client, LEVELS, {"search": "x" * MAX_STRING_LENGTH})

    assert answer == {"data": {"householdLevels": []}}
