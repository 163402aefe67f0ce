"""updateHouseholdLevel through the public API (HHL-1, HHL-3, HHL-4, NOT-1). Who may call it at all is in
tests/auth/test_matrix.py; here: what it changes, what it refuses, and what it records."""

from __future__ import annotations

import pytest
from sqlmodel import select

from datasources.models import Event, HouseholdLevel
from tests.conftest import bearer, graphql

UPDATE_LEVEL = """
mutation ($input: UpdateHouseholdLevelInput!) {
  updateHouseholdLevel(input: $input) {
    householdLevel { id levelId description active label }
    userErrors { code field message }
  }
}
"""
LEVELS = "query ($search: String) { householdLevels(search: $search) { id description label } }"
TOO_LONG = "The description must be at most 50 characters"


async def tenant_with_level(own_tenant, level_id: int = 7, description: str = "Before"):
    tenant = await own_tenant()
    await tenant.add(HouseholdLevel(tenant_id=tenant.id, level_id=level_id, description=description, active=True))
    return tenant


async def update(client, tenant, level_id, description, **headers) -> dict:
    answer = await graphql(client, UPDATE_LEVEL, {"input": {"id": str(level_id), "description": description}},
                           **tenant.headers, **headers)
    return answer["data"]["updateHouseholdLevel"]


async def level_events(services, tenant) -> list[Event]:
    async with services.db.session() as session:
        return list((await session.execute(select(Event).where(
            Event.tenant_id == tenant.id, Event.type_code == "UPDATEHOUSEHOLDLEVEL").order_by(Event.id))).scalars())


async def stored_description(staff_api_client, tenant) -> str:
    answer = await graphql(staff_api_client, LEVELS, **tenant.headers)
    [level] = answer["data"]["householdLevels"]
    return level["description"]


async def test_hhl1_description_of_exactly_50_characters_is_accepted(staff_api_client, own_tenant):
    # given
    tenant = await tenant_with_level(own_tenant)
    description = "d" * 50
    # when
    payload = await update(staff_api_client, tenant, 7, description)
    # then
    assert payload == {"householdLevel": {"id": "7", "levelId": 7, "description": description, "active": True,
                                          "label": f"7 - {description}"}, "userErrors": []}
    assert await stored_description(staff_api_client, tenant) == description


@pytest.mark.parametrize("description", ["d" * 51, "é" * 51, " " + "d" * 51])
async def test_hhl1_description_of_51_characters_is_refused_and_nothing_changes(staff_api_client, own_tenant, services,
                                                                               description):
    # given
    tenant = await tenant_with_level(own_tenant)
    # when
    payload = await update(staff_api_client, tenant, 7, description)
    # then
    assert payload["householdLevel"] is None
    assert [(e["code"], e["field"], e["message"]) for e in payload["userErrors"]] == [
        ("INVALID", ["input", "description"], TOO_LONG)]
    assert await stored_description(staff_api_client, tenant) == "Before"
    assert await level_events(services, tenant) == []


async def test_hhl1_surrounding_spaces_do_not_count_and_are_not_kept(staff_api_client, own_tenant):
    tenant = await tenant_with_level(own_tenant)

    payload = await update(staff_api_client, tenant, 7, "  " + "d" * 50 + "\t")

    assert payload["userErrors"] == [] and payload["householdLevel"]["description"] == "d" * 50


@pytest.mark.parametrize("description", ["", "   "])
async def test_hhl1_blank_description_is_allowed_and_the_label_keeps_the_id(staff_api_client, own_tenant, description):
    # given
    tenant = await tenant_with_level(own_tenant)
    # when
    payload = await update(staff_api_client, tenant, 7, description)
    # then: HHL-3 label "<id> - <description>" with the description blank
    assert payload["userErrors"] == []
    assert (payload["householdLevel"]["description"], payload["householdLevel"]["label"]) == ("", "7")
    assert await stored_description(staff_api_client, tenant) == ""


@pytest.mark.parametrize("level_id", ["99999", "abc", "-7", "7.0", "²", "99999999999999999999", " "])
async def test_unknown_or_malformed_id_is_not_found(staff_api_client, own_tenant, services, level_id):
    tenant = await tenant_with_level(own_tenant)

    payload = await update(staff_api_client, tenant, level_id, "New")

    assert payload["householdLevel"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("NOT_FOUND", ["input", "id"])]
    assert await level_events(services, tenant) == []


async def test_ten1_level_of_another_tenant_is_not_found(staff_api_client, own_tenant):
    # given: level 7 exists in another tenant only
    other = await tenant_with_level(own_tenant)
    tenant = await own_tenant()
    # when
    payload = await update(staff_api_client, tenant, 7, "Hijacked")
    # then
    assert [e["code"] for e in payload["userErrors"]] == ["NOT_FOUND"]
    assert await stored_description(staff_api_client, other) == "Before"


async def test_update_records_updatehouseholdlevel_with_old_and_new_descriptions(staff_api_client, own_tenant,
                                                                                 services):
    # given
    tenant = await tenant_with_level(own_tenant)
    # when
    await update(staff_api_client, tenant, 7, "Middle")
    await update(staff_api_client, tenant, 7, "After")
    # then
    events = await level_events(services, tenant)
    assert [e.details for e in events] == [
        {"householdLevelId": 7, "oldDescription": "Before", "newDescription": "Middle"},
        {"householdLevelId": 7, "oldDescription": "Middle", "newDescription": "After"},
    ]
    assert all(e.subscription_id is None and e.crid is None for e in events)


async def test_hhl4_read_only_staff_cannot_edit_and_nothing_is_recorded(api_client, staff_api_client, tokens, own_tenant,
                                                                        services):
    # given
    tenant = await tenant_with_level(own_tenant)
    read_only = bearer(tokens.staff(tenant.code, access={"household_levels": "READ_ONLY"}))
    # when
    answer = await graphql(api_client, UPDATE_LEVEL, {"input": {"id": "7", "description": "Changed"}},
                           **tenant.headers, **read_only)
    # then
    assert answer["data"] == {"updateHouseholdLevel": None}
    assert [e["extensions"]["code"] for e in answer["errors"]] == ["FORBIDDEN"]
    assert await stored_description(staff_api_client, tenant) == "Before"
    assert await level_events(services, tenant) == []


async def test_hhl2_search_finds_the_level_by_its_new_description(staff_api_client, own_tenant):
    # given
    tenant = await tenant_with_level(own_tenant)
    # when
    await update(staff_api_client, tenant, 7, "Premium households")
    # then
    found = await graphql(staff_api_client, LEVELS, {"search": "premium"}, **tenant.headers)
    stale = await graphql(staff_api_client, LEVELS, {"search": "before"}, **tenant.headers)
    assert found["data"]["householdLevels"] == [{"id": "7", "description": "Premium households",
                                                 "label": "7 - Premium households"}]
    assert stale["data"]["householdLevels"] == []
