"""Production mode (PAPERGRAPH_ENVIRONMENT=production): errors masked, no introspection, no field
suggestions, no GraphiQL, unless enabled; the subgraph SDL stays available to the gateway."""

from __future__ import annotations

from tests.http.conftest import GRAPHQL_RESPONSE, codes, post
from tests.support import without_cost

HOUSEHOLD_LEVELS = "{ householdLevels { id } }"
INTROSPECTION = "{ __schema { queryType { name } } }"
TYPO = '{ subscriptoin(id: "NCS-0000001") { id } }'
SERVICE_SDL = "{ _service { sdl } }"
SECRET = "password=hunter2 host=db.internal"


async def test_unexpected_errors_are_masked_in_production(production_client_with, services, monkeypatch):
    # given: a failure whose text must never reach a client
    async def broken(*_args, **_kwargs):
        raise RuntimeError(SECRET)

    monkeypatch.setattr(services.db, "list_household_levels", broken)
    client = production_client_with()

    # when
    response = await post(client, {"query": HOUSEHOLD_LEVELS})

    # then
    assert response.status_code == 200
    assert response.json()["data"] == {"householdLevels": None}
    assert [e["message"] for e in response.json()["errors"]] == ["Internal server error"]
    assert codes(response) == ["INTERNAL_SERVER_ERROR"]
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text


async def test_introspection_is_refused_in_production(production_client_with):
    # given
    client = production_client_with()

    # when
    response = await post(client, {"query": INTROSPECTION})

    # then
    assert response.status_code == 422
    assert "data" not in response.json()
    assert set(codes(response)) == {"INTROSPECTION_DISABLED"}


async def test_introspection_can_be_enabled_in_production(production_client_with):
    # given
    client = production_client_with(introspection=True)

    # when
    response = await post(client, {"query": INTROSPECTION})

    # then
    assert response.status_code == 200
    assert without_cost(response.json()) == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


async def test_production_suggests_no_field_names(production_client_with):
    # given
    client = production_client_with()

    # when
    response = await post(client, {"query": TYPO})

    # then
    assert response.status_code == 400
    assert codes(response) == ["GRAPHQL_VALIDATION_FAILED"]
    assert response.json()["errors"][0]["message"] == "Cannot query field 'subscriptoin' on type 'Query'."


async def test_development_suggests_field_names(api_client):
    # when
    response = await post(api_client, {"query": TYPO})

    # then
    assert codes(response) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "Did you mean 'subscription'" in response.json()["errors"][0]["message"]


async def test_graphiql_is_off_in_production(production_client_with):
    # given
    client = production_client_with()

    # when
    response = await client.get("/graphql", headers={"accept": "text/html"})

    # then
    assert response.status_code == 406
    assert "graphiql" not in response.text.lower()


async def test_graphiql_can_be_enabled_in_production(production_client_with):
    # given
    client = production_client_with(graphiql=True)

    # when
    response = await client.get("/graphql", headers={"accept": "text/html"})

    # then
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_the_gateway_still_reads_the_sdl_in_production(production_client_with):
    # given
    client = production_client_with()

    # when
    response = await post(client, {"query": SERVICE_SDL})

    # then
    assert response.status_code == 200
    assert 'type CustomerSubscription @key(fields: "id")' in response.json()["data"]["_service"]["sdl"]


async def test_production_responses_carry_the_api_1_headers(production_client_with, settings):
    # given
    client = production_client_with()

    # when
    response = await post(client, {"query": INTROSPECTION}, accept=GRAPHQL_RESPONSE)

    # then
    assert response.status_code == 422
    assert response.headers["x-request-id"]
    assert response.headers["x-version"] == settings.version
