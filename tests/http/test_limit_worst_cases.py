"""The worst documents the default limits let through (issue 14, item 8; `python -m bench limits`): a selection
repeated up to the token limit was compared pair by pair (~500,000 comparisons), and graphql-core gave up
with "Validation aborted." — a valid document refused after 200 ms of CPU. Repeats are now compared once."""

from __future__ import annotations

from tests.http.conftest import post

REPEATED_IDS = "{ householdLevels { " + " ".join(["id"] * 990) + " } }"
REPEATED_IN_AN_INLINE_FRAGMENT = "{ householdLevels { ... on HouseholdLevel { " + " ".join(["id"] * 900) + " } } }"
CONFLICTING_REPEATS = "{ householdLevels { id id: description id } }"


async def test_a_field_repeated_up_to_the_token_limit_is_answered(staff_api_client):
    # when
    response = await post(staff_api_client, {"query": REPEATED_IDS})

    # then
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body
    assert all(set(level) == {"id"} for level in body["data"]["householdLevels"])


async def test_repeats_inside_an_inline_fragment_are_answered(staff_api_client):
    # when
    response = await post(staff_api_client, {"query": REPEATED_IN_AN_INLINE_FRAGMENT})

    # then
    assert response.status_code == 200
    assert "errors" not in response.json()


async def test_repeats_that_conflict_are_still_refused(staff_api_client):
    # when
    response = await post(staff_api_client, {"query": CONFLICTING_REPEATS})

    # then
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["message"].startswith("Fields 'id' conflict because 'id' and 'description' are different fields.")
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
