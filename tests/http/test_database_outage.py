"""A database outage, as a client and an operator see it.

API-1: every answer of `/graphql` is a GraphQL response with a code and the request's `X-Request-Id`, even
when the request dies before any resolver runs (the staff principal's access overrides, MGR-1, and the
tenant are read from the database in `get_context`), and the connection stays open for the next request.
`/metrics` says the database is down (`papergraph_database_up`) instead of repeating the last count of
pending payment attempts.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
from typing import Iterator

import pytest

from datasources.db import Database
from tests.conftest import Tokens, bearer
from tests.graphql.payments.support import pending_attempts, scraped
from tests.support import serve_on_loopback

QUERY = "query Probe { __typename }"


@contextlib.contextmanager
def database_down(db: Database) -> Iterator[None]:
    """Point `db` at a database nobody serves (a SQLite file in a missing directory, or a PostgreSQL port where
    nothing listens) until the block ends: every statement fails to connect, as in an outage."""
    dead_url = ("sqlite+aiosqlite:////nonexistent-papergraph-dir/down.db" if db.url.startswith("sqlite")
                else "postgresql+asyncpg://127.0.0.1:9/down")
    dead = Database(dead_url)
    kept = db.url, db.engine, db.sessionmaker, db._read_pool, db._read_pool_loop
    db.url, db.engine, db.sessionmaker, db._read_pool, db._read_pool_loop = (
        dead.url, dead.engine, dead.sessionmaker, None, None)
    try:
        yield
    finally:
        db.url, db.engine, db.sessionmaker, db._read_pool, db._read_pool_loop = kept


def post(connection: http.client.HTTPConnection, headers: dict[str, str]) -> tuple[int, dict[str, str], dict]:
    connection.request("POST", "/graphql", body=json.dumps({"query": QUERY}),
                       headers={"content-type": "application/json", **headers})
    response = connection.getresponse()
    body = response.read()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, json.loads(body)


@pytest.fixture
def served(settings):
    from app import create_app

    application = create_app(settings)
    with serve_on_loopback(application) as base:
        yield application, base


def test_api1_a_database_outage_answers_staff_and_partners_with_a_coded_graphql_error_on_a_live_connection(served,
                                                                                                            settings):
    # given: a staff console and a partner on one kept-alive connection each, and the database gone
    application, base = served
    tokens = Tokens(application.state.sandboxes["auth0"].state.store, settings.auth0_audience)
    principals = {"staff": bearer(tokens.staff()), "partner": bearer(tokens.partner())}
    host, port = base.removeprefix("http://").split(":")
    db = application.state.services.db
    for name, headers in principals.items():
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        status, _, body = post(connection, headers)
        assert status == 200 and body["data"] == {"__typename": "Query"}, (name, body)
        socket_before = connection.sock
        db.forget_tenants()  # the tenant is read again, as after its cache expired

        # when
        with database_down(db):
            status, response_headers, body = post(connection, {**headers, "x-request-id": f"outage-{name}"})

        # then: a GraphQL error with a code, the request id, and the connection still open for the next request
        assert status == 503, (name, status, body)
        assert response_headers["content-type"].startswith("application/json")
        assert response_headers["x-request-id"] == f"outage-{name}"
        assert [error["extensions"]["code"] for error in body["errors"]] == ["DATABASE_UNAVAILABLE"], body
        assert "connection" not in response_headers or response_headers["connection"] != "close"
        status, _, body = post(connection, headers)
        assert status == 200 and body["data"] == {"__typename": "Query"}, (name, body)
        assert connection.sock is socket_before, "the server closed the connection after the outage's answer"
        connection.close()


async def test_api1_staff_context_failing_in_process_is_a_coded_graphql_answer(api_client, tokens, services):
    # given: the tenant is cached; only the staff principal's access overrides (MGR-1) need the database
    headers = bearer(tokens.staff())
    assert (await api_client.post("/graphql", json={"query": QUERY}, headers=headers)).status_code == 200

    # when
    with database_down(services.db):
        response = await api_client.post("/graphql", json={"query": QUERY},
                                         headers={**headers, "x-request-id": "staff-outage"})

    # then
    assert response.status_code == 503 and response.headers["x-request-id"] == "staff-outage"
    assert response.headers["retry-after"]
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["DATABASE_UNAVAILABLE"]


async def test_metrics_report_the_database_down_and_no_stale_pending_count(api_client, services):
    # given: the database answers
    assert await scraped(api_client, "papergraph_database_up") == {(): 1.0}
    assert set(await pending_attempts(api_client)) >= {"CREATED", "PENDING_APPLY"}

    # when: it stops answering
    with database_down(services.db):
        down = await scraped(api_client, "papergraph_database_up")
        pending = await pending_attempts(api_client)

    # then: the gauge says so, and the pending attempts are unknown (NaN) rather than the last count
    assert down == {(): 0.0}
    assert set(pending) >= {"CREATED", "PENDING_APPLY"} and all(math.isnan(value) for value in pending.values())
    # and back up
    assert await scraped(api_client, "papergraph_database_up") == {(): 1.0}
    assert set(await pending_attempts(api_client)) >= {"CREATED", "PENDING_APPLY"}


async def test_metrics_report_each_upstreams_breaker_state(api_client, services):
    # given: the circulation system's breaker opens
    breaker = services.circulation.breaker
    for _ in range(breaker.failure_threshold):
        breaker.failed()
    # when
    states = {dict(labels)["datasource"]: value
              for labels, value in (await scraped(api_client, "papergraph_circuit_breaker_state")).items()}
    # then: 2 open, 0 closed
    assert states["circulation"] == 2.0 and states["navigapay"] == 0.0 and states["auth0"] == 0.0
    breaker.succeeded()


async def test_a_field_reading_the_database_during_an_outage_answers_database_unavailable(api_client, services):
    # given: the tenant is cached, so an anonymous request's context needs no database
    assert (await api_client.post("/graphql", json={"query": QUERY})).status_code == 200
    # when: a field needs it (the catalog's offers)
    with database_down(services.db):
        response = await api_client.post("/graphql", json={"query": "{ catalog { totalCount } }"})
    # then: the field's error says what happened, not INTERNAL_SERVER_ERROR
    assert response.status_code == 200
    codes = [error["extensions"]["code"] for error in response.json()["errors"]]
    assert codes == ["DATABASE_UNAVAILABLE"], response.text
