"""`_entities` floods (issue 14, item 8): representations per request are capped by
PAPERGRAPH_MAX_REPRESENTATIONS (default 100, Apollo Router's practice), count in the operation's cost like list
items, and a flood is refused before anything resolves, with one error."""

from __future__ import annotations

import logging

from tests.http.conftest import post

ENTITIES = """
query Entities($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on HouseholdLevel { id description } }
}
"""
INLINE_FOUR = """
{ _entities(representations: [{__typename: "HouseholdLevel", id: "1"}, {__typename: "HouseholdLevel", id: "1"},
                              {__typename: "HouseholdLevel", id: "1"}, {__typename: "HouseholdLevel", id: "1"}])
  { ... on HouseholdLevel { id } } }
"""


def representations(count: int) -> list[dict]:
    return [{"__typename": "HouseholdLevel", "id": "1"} for _ in range(count)]


def _limit_errors(response, setting: str) -> list[dict]:
    return [e for e in response.json()["errors"] if e["extensions"].get("setting") == setting]


async def test_representations_at_the_maximum_are_resolved(client_with):
    # given
    client = await client_with(max_representations=3)

    # when
    response = await post(client, {"query": ENTITIES, "variables": {"representations": representations(3)}})

    # then
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body
    assert [entity["id"] for entity in body["data"]["_entities"]] == ["1", "1", "1"]


async def test_one_representation_past_the_maximum_is_refused_before_anything_resolves(client_with):
    # given
    client = await client_with(max_representations=3)

    # when
    response = await post(client, {"query": ENTITIES, "variables": {"representations": representations(4)}})

    # then
    assert response.status_code == 422
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "OPERATION_LIMIT_EXCEEDED"
    assert error["message"] == ("_entities carries 4 representations, more than the maximum of 3 "
                                "(PAPERGRAPH_MAX_REPRESENTATIONS)")
    assert (error["extensions"]["maximum"], error["extensions"]["actual"]) == (3, 4)


async def test_inline_representations_past_the_maximum_are_refused_by_validation(client_with):
    # given
    client = await client_with(max_representations=3)

    # when
    response = await post(client, {"query": INLINE_FOUR})

    # then
    assert response.status_code == 422
    assert len(_limit_errors(response, "PAPERGRAPH_MAX_REPRESENTATIONS")) == 1
    assert len(response.json()["errors"]) == 1


async def test_each_representation_counts_in_the_cost(client_with):
    # given: each representation costs 1 (the entity object; its leaves are free)
    client = await client_with(max_cost=3)

    # when
    at_the_maximum = await post(client, {"query": ENTITIES, "variables": {"representations": representations(3)}})
    past_it = await post(client, {"query": ENTITIES, "variables": {"representations": representations(4)}})

    # then
    assert at_the_maximum.status_code == 200 and "errors" not in at_the_maximum.json()
    [error] = _limit_errors(past_it, "PAPERGRAPH_MAX_COST")
    assert error["message"] == "Query cost 4 exceeds the maximum cost of 3 (PAPERGRAPH_MAX_COST)"


async def test_an_anonymous_flood_of_5000_representations_is_one_short_error(api_client, caplog):
    """The flood that held the event loop 6.8 s and wrote 6.9 MB of tracebacks: now refused before any
    representation resolves, with one error, and nothing is logged with a traceback."""
    # given
    caplog.set_level(logging.DEBUG)

    # when
    response = await post(api_client, {"query": ENTITIES, "variables": {"representations": representations(5000)}})

    # then
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "OPERATION_LIMIT_EXCEEDED"
    assert error["extensions"]["setting"] == "PAPERGRAPH_MAX_REPRESENTATIONS"
    assert len(response.content) < 2_000
    assert [record for record in caplog.records if record.exc_info] == []
    assert sum(len(record.getMessage()) for record in caplog.records) < 20_000
