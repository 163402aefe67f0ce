"""Rate limits shared through Redis (issue 14, item 9; server/throttle.py): two `papergraph run` processes on
one Redis, with a key prefix of their own, spend from one cost budget and count one identity limit. Skipped
without Redis at 127.0.0.1:6379, failed under CI."""

from __future__ import annotations

import contextlib
import uuid

import httpx
import pytest

from tests.support import papergraph_run, require_redis

COST_61 = "{ offers(first: 30) { edges { node { id } } } }"
START = 'mutation { startForgotPassword(input: {email: "shared.limit@example.com"}) { accepted } }'
GRAPHQL_RESPONSE = {"accept": "application/graphql-response+json"}
BUDGET = 100

pytestmark = pytest.mark.sqlite_only


@pytest.fixture(scope="module")
def two_processes(sqlite_database_url, tmp_path_factory):
    """Two servers on one Redis, one cost budget of 100 points restored at 1 a second, one sign-up-style
    attempt per identity an hour; the test's keys are removed afterwards."""
    redis_url = require_redis()
    prefix = f"papergraph-test-{uuid.uuid4().hex[:12]}"
    env = {"DATABASE_URL": sqlite_database_url, "PAPERGRAPH_ENVIRONMENT": "test", "PAPERGRAPH_SEED_DEMO_DATA": "false",
           "PAPERGRAPH_REDIS_URL": redis_url, "PAPERGRAPH_RATE_LIMIT_KEY_PREFIX": prefix,
           "PAPERGRAPH_MAX_COST": str(BUDGET), "PAPERGRAPH_COST_BUDGET_MAXIMUM": str(BUDGET),
           "PAPERGRAPH_COST_BUDGET_RESTORE_RATE": "1", "PAPERGRAPH_RATE_LIMIT_PER_IDENTITY": "1"}
    logs = tmp_path_factory.mktemp("redis-limits")
    try:
        with contextlib.ExitStack() as stack:
            first = stack.enter_context(papergraph_run(env, logs / "first.log"))
            second = stack.enter_context(papergraph_run(env, logs / "second.log"))
            yield first.base, second.base
    finally:
        import redis

        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()


def post(base: str, query: str) -> httpx.Response:
    response = httpx.post(f"{base}/graphql", json={"query": query}, headers=GRAPHQL_RESPONSE, timeout=30)
    assert response.status_code < 500, response.text
    return response


def test_two_processes_spend_from_one_cost_budget(two_processes):
    # given
    first, second = two_processes
    spent = post(first, COST_61)
    assert spent.status_code == 200
    assert spent.json()["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == BUDGET - 61

    # when: the same client asks the other process
    response = post(second, COST_61)

    # then: it sees what the first spent
    assert response.status_code == 429
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["THROTTLED"]
    assert response.json()["extensions"]["cost"]["throttleStatus"] == {
        "maximumAvailable": BUDGET, "currentlyAvailable": BUDGET - 61, "restoreRate": 1}
    assert int(response.headers["retry-after"]) >= 20


def test_two_processes_count_one_identity_limit(two_processes):
    # given
    first, second = two_processes
    assert post(first, START).json()["data"]["startForgotPassword"]["accepted"] is True

    # when
    response = post(second, START)

    # then
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "THROTTLED"
    assert error["extensions"]["setting"] == "PAPERGRAPH_RATE_LIMIT_PER_IDENTITY"
