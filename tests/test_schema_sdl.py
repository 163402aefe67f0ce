"""The committed `schema.graphql` is the subgraph SDL; this fails when it is stale."""

from __future__ import annotations

from pathlib import Path

from schema import build_schema

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
