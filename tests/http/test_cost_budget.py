"""The per-client cost budget (issue 14, item 9; server/throttle.py), in the manner of Shopify's GraphQL Admin
API: a leaky bucket of cost points, `extensions.cost` on every answer, THROTTLED with a retry hint when an
operation costs more than what is left; in process memory here, failing open when Redis cannot be reached."""

from __future__ import annotations

import logging

import pytest

from settings import Settings
from telemetry.metrics import sample
from tests.conftest import bearer
from tests.http.conftest import post
from tests.support import free_port

# cost: 1 for `offers` + 30 edges × (1 for the edge + 1 for its node)
COST_61 = "{ offers(first: 30) { edges { node { id } } } }"
BUDGET = 100
RESTORE_RATE = 1  # a point a second: a refused request would wait 22 s, far longer than a test takes


@pytest.fixture
def settings(database_url) -> Settings:
    return Settings(environment="test", database_url=database_url, upstreams="embedded", seed_demo_data=False,
                    upstream_timeout=2.0, upstream_read_retries=1, max_cost=BUDGET, cost_budget_maximum=BUDGET,
                    cost_budget_restore_rate=RESTORE_RATE)


async def test_every_answer_carries_the_cost_and_the_throttle_status(api_client):
    # when
    answered = await post(api_client, {"query": COST_61})
    invalid = await post(api_client, {"query": "{ noSuchField }"})

    # then
    cost = answered.json()["extensions"]["cost"]
    assert cost["requestedQueryCost"] == cost["actualQueryCost"] == 61
    assert cost["throttleStatus"]["maximumAvailable"] == BUDGET
    assert cost["throttleStatus"]["restoreRate"] == RESTORE_RATE
    assert cost["throttleStatus"]["currentlyAvailable"] == BUDGET - 61
    refused = invalid.json()["extensions"]["cost"]
    assert refused["requestedQueryCost"] is None and refused["actualQueryCost"] is None
    assert refused["throttleStatus"]["currentlyAvailable"] == BUDGET - 61  # nothing spent on an invalid document


async def test_an_operation_costing_more_than_what_is_left_is_throttled_with_a_retry_hint(api_client):
    # given
    first = await post(api_client, {"query": COST_61})
    assert first.status_code == 200

    # when
    response = await post(api_client, {"query": COST_61})

    # then
    assert response.status_code == 429
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "THROTTLED"
    assert 20 <= error["extensions"]["retryAfter"] <= 23  # 61 - 39 points at a point a second
    assert 21 <= int(response.headers["retry-after"]) <= 23
    assert body["extensions"]["cost"] == {"requestedQueryCost": 61, "actualQueryCost": None, "throttleStatus": {
        "maximumAvailable": BUDGET, "currentlyAvailable": BUDGET - 61, "restoreRate": RESTORE_RATE}}


async def test_a_legacy_client_gets_the_throttled_refusal_with_200(api_client):
    # given
    await post(api_client, {"query": COST_61})

    # when
    response = await post(api_client, {"query": COST_61}, accept="application/json")

    # then
    assert response.status_code == 200
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["THROTTLED"]
    assert "retry-after" in response.headers


async def test_each_signed_in_principal_has_its_own_budget(api_client, tokens):
    # given: the anonymous client (keyed by address) spent its budget
    await post(api_client, {"query": COST_61})
    assert (await post(api_client, {"query": COST_61})).status_code == 429

    # when: two staff members from the same address
    first = await post(api_client, {"query": COST_61}, **bearer(tokens.staff(sub="auth0|staff-one")))
    second = await post(api_client, {"query": COST_61}, **bearer(tokens.staff(sub="auth0|staff-two")))

    # then
    assert first.status_code == second.status_code == 200
    assert first.json()["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == BUDGET - 61


async def test_an_unreachable_redis_fails_open_with_a_metric_and_a_log_line(client_with, caplog):
    # given: Redis named on a port nothing listens on
    client = await client_with(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    failures_before = sample("papergraph_rate_limit_store_errors_total", store="redis")
    caplog.set_level(logging.WARNING, logger="papergraph.throttle")

    # when: more than the budget would allow
    responses = [await post(client, {"query": COST_61}) for _ in range(3)]

    # then: answered, never a 500, without a throttle status
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert all("errors" not in r.json() for r in responses)
    assert responses[0].json()["extensions"]["cost"] == {"requestedQueryCost": 61, "actualQueryCost": 61,
                                                         "throttleStatus": None}
    assert sample("papergraph_rate_limit_store_errors_total", store="redis") >= failures_before + 3
    assert [r.levelname for r in caplog.records if r.name == "papergraph.throttle"] == ["WARNING"]
