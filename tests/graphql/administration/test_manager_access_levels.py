"""setManagerAccessLevels and managerAccess through the public API (MGR-1, NOT-1, TEN-1). Who may call
them is in tests/auth/test_matrix.py; a stored level raising a token's on the next request is in
tests/auth/test_staff.py."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import select

from datasources.models import Event, HouseholdLevel
from tests.conftest import bearer, graphql

SET_ACCESS = """
mutation ($input: SetManagerAccessLevelsInput!) {
  setManagerAccessLevels(input: $input) {
    managerAccess { managerSubject sections { section level } }
    userErrors { code field message }
  }
}
"""
MANAGER_ACCESS = """
query ($subject: String!) { managerAccess(managerSubject: $subject) { managerSubject sections { section level } } }
"""
UPDATE_LEVEL = """
mutation ($input: UpdateHouseholdLevelInput!) {
  updateHouseholdLevel(input: $input) { householdLevel { description } userErrors { code } }
}
"""
SECTIONS = ["SUBSCRIPTIONS", "REGISTRATIONS", "PAYMENTS", "HOUSEHOLD_LEVELS", "ENTITLEMENTS", "OFFERS", "SETTINGS"]


def subject() -> str:
    return f"auth0|manager-{uuid.uuid4().hex[:8]}"


def levels_of(access: dict) -> dict[str, str]:
    return {item["section"]: item["level"] for item in access["sections"]}


def every_section(**levels: str) -> dict[str, str]:
    return {section: levels.get(section, "NO_ACCESS") for section in SECTIONS}


async def set_access(client, tenant, manager: str, levels: list[tuple[str, str]]) -> dict:
    answer = await graphql(client, SET_ACCESS, {"input": {"managerSubject": manager, "levels": [
        {"section": section, "level": level} for section, level in levels]}}, **tenant.headers)
    return answer["data"]["setManagerAccessLevels"]


async def read_access(client, tenant, manager: str) -> dict:
    answer = await graphql(client, MANAGER_ACCESS, {"subject": manager}, **tenant.headers)
    assert "errors" not in answer, answer
    return answer["data"]["managerAccess"]


async def access_events(services, tenant) -> list[Event]:
    async with services.db.session() as session:
        return list((await session.execute(select(Event).where(
            Event.tenant_id == tenant.id, Event.type_code == "UPDATEMANAGERACCESS").order_by(Event.id))).scalars())


def errors(payload: dict) -> list[tuple[str, list[str], str]]:
    return [(e["code"], e["field"], e["message"]) for e in payload["userErrors"]]


async def test_mgr1_levels_set_are_read_back_for_every_section(staff_api_client, own_tenant):
    # given
    tenant = await own_tenant()
    manager = subject()
    # when
    payload = await set_access(staff_api_client, tenant, manager, [("HOUSEHOLD_LEVELS", "READ_ONLY"),
                                                                   ("OFFERS", "FULL_CONTROL")])
    # then: sections never set read NO_ACCESS
    expected = every_section(HOUSEHOLD_LEVELS="READ_ONLY", OFFERS="FULL_CONTROL")
    assert payload["userErrors"] == []
    assert payload["managerAccess"]["managerSubject"] == manager and levels_of(payload["managerAccess"]) == expected
    read = await read_access(staff_api_client, tenant, manager)
    assert [item["section"] for item in read["sections"]] == SECTIONS and levels_of(read) == expected


async def test_mgr1_sections_not_given_keep_their_level_and_given_ones_change(staff_api_client, own_tenant):
    # given
    tenant = await own_tenant()
    manager = subject()
    await set_access(staff_api_client, tenant, manager, [("HOUSEHOLD_LEVELS", "READ_ONLY"), ("OFFERS", "READ_ONLY")])
    # when
    payload = await set_access(staff_api_client, tenant, manager, [("OFFERS", "FULL_CONTROL"),
                                                                   ("SETTINGS", "READ_ONLY")])
    # then
    assert levels_of(payload["managerAccess"]) == every_section(HOUSEHOLD_LEVELS="READ_ONLY", OFFERS="FULL_CONTROL",
                                                                SETTINGS="READ_ONLY")
    assert levels_of(await read_access(staff_api_client, tenant, manager)) == levels_of(payload["managerAccess"])


async def test_mgr1_a_level_can_be_set_back_to_no_access(staff_api_client, own_tenant):
    tenant = await own_tenant()
    manager = subject()
    await set_access(staff_api_client, tenant, manager, [("PAYMENTS", "FULL_CONTROL")])

    payload = await set_access(staff_api_client, tenant, manager, [("PAYMENTS", "NO_ACCESS")])

    assert levels_of(payload["managerAccess"]) == every_section()


async def test_mgr1_every_change_records_updatemanageraccess(staff_api_client, own_tenant, services):
    # given
    tenant = await own_tenant()
    manager = subject()
    # when
    await set_access(staff_api_client, tenant, manager, [("SUBSCRIPTIONS", "READ_ONLY")])
    await set_access(staff_api_client, tenant, manager, [("SUBSCRIPTIONS", "FULL_CONTROL"), ("PAYMENTS", "READ_ONLY")])
    # then
    assert [e.details for e in await access_events(services, tenant)] == [
        {"managerSubject": manager, "levels": {"subscriptions": "READ_ONLY"}},
        {"managerSubject": manager, "levels": {"subscriptions": "FULL_CONTROL", "payments": "READ_ONLY"}},
    ]


@pytest.mark.parametrize("levels", [
    [("OFFERS", "READ_ONLY"), ("OFFERS", "READ_ONLY")],
    [("OFFERS", "READ_ONLY"), ("SETTINGS", "NO_ACCESS"), ("OFFERS", "FULL_CONTROL")],
], ids=["same-level", "other-level"])
async def test_mgr1_a_section_given_twice_is_refused_and_nothing_changes(staff_api_client, own_tenant, services,
                                                                         levels):
    # given
    tenant = await own_tenant()
    manager = subject()
    # when
    payload = await set_access(staff_api_client, tenant, manager, levels)
    # then
    assert payload["managerAccess"] is None
    assert errors(payload) == [("INVALID", ["input", "levels"], "The section OFFERS is given more than once")]
    assert await read_access(staff_api_client, tenant, manager) is None
    assert await access_events(services, tenant) == []


async def test_mgr1_no_section_at_all_is_refused(staff_api_client, own_tenant):
    tenant = await own_tenant()

    payload = await set_access(staff_api_client, tenant, subject(), [])

    assert errors(payload) == [("INVALID", ["input", "levels"], "Give at least one section's level")]


@pytest.mark.parametrize("manager", ["", "   ", "x" * 129])
async def test_mgr1_blank_or_overlong_subject_is_refused(staff_api_client, own_tenant, manager):
    tenant = await own_tenant()

    payload = await set_access(staff_api_client, tenant, manager, [("OFFERS", "READ_ONLY")])

    assert errors(payload) == [("INVALID", ["input", "managerSubject"], "The manager subject must be 1 to 128 characters")]


async def test_mgr1_subject_of_128_characters_is_accepted_and_surrounding_spaces_are_not_kept(staff_api_client,
                                                                                             own_tenant):
    tenant = await own_tenant()
    manager = "auth0|" + "m" * 122

    payload = await set_access(staff_api_client, tenant, f"  {manager} ", [("OFFERS", "READ_ONLY")])

    assert payload["userErrors"] == [] and payload["managerAccess"]["managerSubject"] == manager
    assert levels_of(await read_access(staff_api_client, tenant, manager))["OFFERS"] == "READ_ONLY"


async def test_ten1_levels_are_per_tenant(staff_api_client, own_tenant):
    # given: the same subject in two tenants
    tenant, other = await own_tenant(), await own_tenant()
    manager = subject()
    # when
    await set_access(staff_api_client, tenant, manager, [("OFFERS", "FULL_CONTROL")])
    # then: nothing is stored for the manager in the other tenant
    assert await read_access(staff_api_client, other, manager) is None


async def test_mgr1_a_stored_lower_level_takes_a_tokens_full_control_away_on_the_next_request(
        api_client, staff_api_client, tokens, own_tenant, services):
    # given: a manager whose token gives full control of every section, editing a level
    tenant = await own_tenant()
    await tenant.add(HouseholdLevel(tenant_id=tenant.id, level_id=3, description="Before", active=True))
    manager = subject()
    headers = {**bearer(tokens.staff(tenant.code, sub=manager)), **tenant.headers}
    before = await graphql(api_client, UPDATE_LEVEL, {"input": {"id": "3", "description": "First"}}, **headers)
    # when: an admin lowers the manager's household levels to READ_ONLY
    await set_access(staff_api_client, tenant, manager, [("HOUSEHOLD_LEVELS", "READ_ONLY")])
    after = await graphql(api_client, UPDATE_LEVEL, {"input": {"id": "3", "description": "Second"}}, **headers)
    # then: the same token is refused from then on, and the description stays
    assert before["data"]["updateHouseholdLevel"]["householdLevel"] == {"description": "First"}
    assert after["data"] == {"updateHouseholdLevel": None}
    assert [e["extensions"]["code"] for e in after["errors"]] == ["FORBIDDEN"]
    levels = await graphql(staff_api_client, "{ householdLevels { description } }", **tenant.headers)
    assert levels["data"]["householdLevels"] == [{"description": "First"}]


VIEWER_ACCESS = "{ viewer { access { section level } } }"


async def test_mgr1_manager_access_and_viewer_access_agree_once_levels_are_stored(
        api_client, staff_api_client, tokens, own_tenant):
    """MGR-1, one source of truth (issue 17 item 7): once papergraph stores levels for a manager, the stored set
    is the whole truth; a section never stored is NO_ACCESS both in `managerAccess` and in what the manager's
    own token is given (`viewer.access`), whatever the token claims."""
    # given: a manager whose token claims READ_ONLY everywhere, and one stored level
    tenant = await own_tenant()
    manager = subject()
    headers = {**bearer(tokens.staff(tenant.code, access="READ_ONLY", sub=manager)), **tenant.headers}
    await set_access(staff_api_client, tenant, manager, [("OFFERS", "FULL_CONTROL")])
    # when
    stored = await read_access(staff_api_client, tenant, manager)
    viewer = await graphql(api_client, VIEWER_ACCESS, **headers)
    # then
    assert levels_of({"sections": viewer["data"]["viewer"]["access"]}) == levels_of(stored) \
        == every_section(OFFERS="FULL_CONTROL")


async def test_mgr1_manager_access_is_null_for_a_manager_papergraph_stores_nothing_for(staff_api_client, own_tenant):
    """MGR-1: with nothing stored the token's claims apply as they are, which papergraph cannot read back for
    another manager: `managerAccess` says so with null rather than reporting NO_ACCESS it does not apply."""
    tenant = await own_tenant()
    assert await read_access(staff_api_client, tenant, subject()) is None
