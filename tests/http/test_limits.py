"""Operation limits (server/limits.py, server/http.py): each accepted at its value and refused past it, with
a 422 and an error naming the limit, its value and its setting."""

from __future__ import annotations

import pytest

from tests.http.conftest import codes, post

DEPTH_3 = '{ subscription(id: "NCS-0000001") { householdLevel { id } } }'
DEPTH_4 = '{ registration(crid: "nobody") { linkedSubscriptions { householdLevel { id } } } }'
TWO_ALIASES = "{ a: __typename b: __typename }"
THREE_ALIASES = "{ a: __typename b: __typename c: __typename }"
TWO_ROOT_FIELDS = "{ __typename householdLevels { id } }"
THREE_ROOT_FIELDS = "{ __typename householdLevels { id } catalog { totalCount } }"
ELEVEN_TOKENS = '{ subscription(id: "NCS-0000001") { id } }'
TWELVE_TOKENS = '{ subscription(id: "NCS-0000001") { id status } }'
# cost: 1 for `offers` + `first` edges × (1 for the edge + 1 for its node)
COST_5 = "{ offers(first: 2) { edges { node { id } } } }"
COST_7 = "{ offers(first: 3) { edges { node { id } } } }"
COST_WITH_A_VARIABLE_FIRST = "query Offers($first: Int) { offers(first: $first) { edges { node { id } } } }"


def _refusal(response, setting: str) -> dict:
    assert response.status_code == 422
    assert "data" not in response.json()
    [error] = [e for e in response.json()["errors"] if e["extensions"].get("setting") == setting]
    assert error["extensions"]["code"] == "OPERATION_LIMIT_EXCEEDED"
    return error


async def test_depth_at_the_maximum_is_accepted(client_with):
    # given
    client = await client_with(max_depth=3)

    # when
    response = await post(client, {"query": DEPTH_3})

    # then
    assert response.status_code == 200
    assert "errors" not in response.json()


async def test_depth_past_the_maximum_is_refused(client_with):
    # given
    client = await client_with(max_depth=3)

    # when
    response = await post(client, {"query": DEPTH_4})

    # then
    error = _refusal(response, "PAPERGRAPH_MAX_DEPTH")
    assert error["message"] == "Query depth 4 exceeds the maximum depth of 3 (PAPERGRAPH_MAX_DEPTH)"
    assert (error["extensions"]["maximum"], error["extensions"]["actual"]) == (3, 4)


@pytest.mark.parametrize("setting, query, message", [
    ({"max_aliases": 2}, TWO_ALIASES, None),
    ({"max_aliases": 2}, THREE_ALIASES, "Query uses 3 aliases, more than the maximum of 2 (PAPERGRAPH_MAX_ALIASES)"),
    ({"max_root_fields": 2}, TWO_ROOT_FIELDS, None),
    ({"max_root_fields": 2}, THREE_ROOT_FIELDS,
     "Query selects 3 root fields, more than the maximum of 2 (PAPERGRAPH_MAX_ROOT_FIELDS)"),
    ({"max_tokens": 11}, ELEVEN_TOKENS, None),
    ({"max_tokens": 11}, TWELVE_TOKENS, "Document exceeds the maximum of 11 tokens (PAPERGRAPH_MAX_TOKENS)"),
    ({"max_cost": 5}, COST_5, None),
    ({"max_cost": 5}, COST_7, "Query cost 7 exceeds the maximum cost of 5 (PAPERGRAPH_MAX_COST)"),
])
async def test_each_limit_accepts_its_value_and_refuses_past_it(client_with, setting, query, message):
    # given
    client = await client_with(**setting)

    # when
    response = await post(client, {"query": query})

    # then
    if message is None:
        assert response.status_code == 200
        assert "errors" not in response.json()
    else:
        [name] = setting
        assert _refusal(response, f"PAPERGRAPH_{name.upper()}")["message"] == message


async def test_document_size_at_the_maximum_is_accepted_and_one_byte_more_is_refused(client_with):
    # given: the same document padded to 100 and to 101 bytes
    client = await client_with(max_document_bytes=100)
    at_limit = ELEVEN_TOKENS.ljust(100)

    # when
    accepted = await post(client, {"query": at_limit})
    refused = await post(client, {"query": at_limit + " "})

    # then
    assert accepted.status_code == 200
    error = _refusal(refused, "PAPERGRAPH_MAX_DOCUMENT_BYTES")
    assert error["message"] == ("Document size 101 bytes exceeds the maximum of 100 bytes "
                                "(PAPERGRAPH_MAX_DOCUMENT_BYTES)")


@pytest.mark.parametrize("first, cost", [(2, None), (3, 7)])
async def test_a_first_given_by_a_variable_costs_what_the_request_asks_for(client_with, first, cost):
    # given
    client = await client_with(max_cost=5)

    # when
    response = await post(client, {"query": COST_WITH_A_VARIABLE_FIRST, "variables": {"first": first}})

    # then
    if cost is None:
        assert response.status_code == 200
        assert "errors" not in response.json()
    else:
        error = _refusal(response, "PAPERGRAPH_MAX_COST")
        assert error["message"] == f"Query cost {cost} exceeds the maximum cost of 5 (PAPERGRAPH_MAX_COST)"


async def test_a_refused_document_is_refused_again_from_the_cache(client_with):
    # given
    client = await client_with(max_depth=3)

    # when
    first = await post(client, {"query": DEPTH_4})
    again = await post(client, {"query": DEPTH_4})

    # then
    assert (first.status_code, again.status_code) == (422, 422)
    assert codes(again) == ["OPERATION_LIMIT_EXCEEDED"]


async def test_a_legacy_client_gets_the_refusal_with_200(client_with):
    # given
    client = await client_with(max_depth=3)

    # when
    response = await post(client, {"query": DEPTH_4}, accept="application/json")

    # then
    assert response.status_code == 200
    assert codes(response) == ["OPERATION_LIMIT_EXCEEDED"]


async def test_a_batch_at_the_maximum_is_answered(client_with):
    # given
    client = await client_with(max_batch_operations=2)

    # when
    response = await post(client, [{"query": TWO_ALIASES}, {"query": TWO_ALIASES}])

    # then
    assert response.status_code == 200
    assert len(response.json()) == 2


async def test_a_batch_past_the_maximum_is_refused(client_with):
    # given
    client = await client_with(max_batch_operations=2)

    # when
    response = await post(client, [{"query": TWO_ALIASES}] * 3)

    # then
    assert response.status_code == 422
    assert codes(response) == ["OPERATION_LIMIT_EXCEEDED"]
    assert response.json()["errors"][0]["message"] == (
        "Batch of 3 operations exceeds the maximum of 2 operations (PAPERGRAPH_MAX_BATCH_OPERATIONS)")


async def test_a_request_body_at_the_maximum_is_read_and_one_byte_more_is_413(client_with):
    # given: two bodies of 1024 and 1025 bytes
    client = await client_with(max_request_bytes=1024)
    at_limit = b'{"query": "{ __typename }"}'.ljust(1024)
    headers = {"content-type": "application/json"}

    # when
    accepted = await client.post("/graphql", content=at_limit, headers=headers)
    refused = await client.post("/graphql", content=at_limit + b" ", headers=headers)

    # then
    assert accepted.status_code == 200
    assert refused.status_code == 413
    assert codes(refused) == ["PAYLOAD_TOO_LARGE"]
    assert "1024 bytes (PAPERGRAPH_MAX_REQUEST_BYTES)" in refused.json()["errors"][0]["message"]


async def test_the_default_limits_let_the_front_end_operations_through(staff_api_client):
    # given: the operations the benchmark drives (bench/scenarios.py), under the production defaults
    from bench.scenarios import CATALOG, DASHBOARD, STAFF_SEARCH

    # when
    answers = [await post(staff_api_client, {"query": query, "variables": variables}) for query, variables in [
        (DASHBOARD, {"crid": "nobody"}), (CATALOG, {"first": 100}), (STAFF_SEARCH, {"search": {"lastName": "x"}})]]

    # then
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert [answer.json().get("errors") for answer in answers] == [None, None, None]
