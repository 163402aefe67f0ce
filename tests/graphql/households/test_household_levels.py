"""`householdLevels` (HHL-2, HHL-3)."""

from __future__ import annotations

from sandbox.demo import HOUSEHOLD_LEVELS
from tests.conftest import graphql

QUERY = """
query ($search: String, $onlyActive: Boolean!) {
  householdLevels(search: $search, onlyActive: $onlyActive) { levelId description active label }
}
"""


async def test_lists_active_and_inactive_levels_when_only_active_is_off(staff_api_client):
    body = await graphql(staff_api_client, QUERY, {"search": None, "onlyActive": False})

    levels = body["data"]["householdLevels"]
    assert [lv["levelId"] for lv in levels] == [h[0] for h in HOUSEHOLD_LEVELS]
    assert {lv["active"] for lv in levels} == {True, False}


async def test_only_active_hides_inactive_levels(staff_api_client):
    body = await graphql(staff_api_client, QUERY, {"search": None, "onlyActive": True})

    assert [lv["levelId"] for lv in body["data"]["householdLevels"]] == [h[0] for h in HOUSEHOLD_LEVELS if h[2]]


async def test_search_by_word_matches_description_case_insensitively(staff_api_client):
    body = await graphql(staff_api_client, QUERY, {"search": "FAMILY", "onlyActive": False})

    assert [lv["description"] for lv in body["data"]["householdLevels"]] == ["Family", "Family with students"]


async def test_search_by_numeral_matches_the_id(staff_api_client):
    body = await graphql(staff_api_client, QUERY, {"search": "7", "onlyActive": False})

    assert [lv["levelId"] for lv in body["data"]["householdLevels"]] == [7]


async def test_hhl3_blank_description_label_is_the_id_alone(staff_api_client):
    """HHL-1 allows a blank description; HHL-3 (decision, docs/account-servicing.md): the label is then the id
    alone, "8", never "8 - " with a dangling separator (issue 17 item 7)."""
    body = await graphql(staff_api_client, QUERY, {"search": "8", "onlyActive": False})

    assert body["data"]["householdLevels"] == [{"levelId": 8, "description": "", "active": True, "label": "8"}]
