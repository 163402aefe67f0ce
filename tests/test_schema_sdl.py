"""The committed `schema.graphql` is the subgraph SDL; this fails when it is stale. And the subgraph's own
`_entities` resolver."""

from __future__ import annotations

from pathlib import Path

import pytest

from schema import build_schema
from tests.conftest import graphql

SDL_PATH = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_schema_graphql_is_up_to_date():
    expected = build_schema().as_str().strip()
    committed = SDL_PATH.read_text().strip() if SDL_PATH.exists() else ""

    assert committed == expected, "schema.graphql is stale: run `make schema` and commit it"


def test_subscription_entity_is_not_named_subscription():
    # Apollo composition takes a type named `Subscription` for the root subscription type
    sdl = build_schema().as_str()

    assert 'type CustomerSubscription @key(fields: "id")' in sdl
    assert "type Subscription " not in sdl


@pytest.mark.sqlite_only("_entities refuses the representation before any loader or repository runs")
async def test_entities_refuses_a_representation_of_no_entity_type_in_its_own_slot(staff_api_client):
    # given: found by tests/test_fuzz.py; strawberry raised a KeyError, masked as INTERNAL_SERVER_ERROR
    query = """
    query ($representations: [_Any!]!) {
      _entities(representations: $representations) { ... on HouseholdLevel { id } }
    }
    """

    # when
    body = await graphql(staff_api_client, query, {"representations": [
        {"__typename": "Nope", "id": "1"}, {"__typename": "HouseholdLevel", "id": "1"}, {}]})

    # then
    assert body["data"]["_entities"][0] is None and body["data"]["_entities"][1] == {"id": "1"}
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["_entities", 0], "BAD_USER_INPUT"), (["_entities", 2], "BAD_USER_INPUT")]
