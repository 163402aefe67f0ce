"""The HTTP surface outside GraphQL: /ping (API-2), response headers (API-1), start-up settings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import graphql

ROOT = Path(__file__).resolve().parent.parent


async def test_ping_answers_pong(api_client):
    response = await api_client.get("/ping")

    assert response.status_code == 200
    assert response.text == "pong"


async def test_every_response_carries_request_id_and_version_headers(api_client, settings):
    response = await api_client.post("/graphql", json={"query": "{ __typename }"})

    assert response.status_code == 200
    assert len(response.headers["x-request-id"]) >= 16
    assert response.headers["x-version"] == settings.version
    assert "x-session-id" not in response.headers


async def test_request_and_session_ids_are_echoed(api_client):
    response = await api_client.get("/ping", headers={"X-Request-Id": "req-123", "X-Session-Id": "sess-9"})

    assert response.headers["x-request-id"] == "req-123"
    assert response.headers["x-session-id"] == "sess-9"


async def test_unknown_tenant_is_a_client_error(api_client):
    response = await api_client.post("/graphql", json={"query": "{ __typename }"}, headers={"X-Tenant": "NOPE"})

    assert response.status_code == 400
    assert "NOPE" in response.text


async def test_graphiql_is_served_to_browsers_outside_production(api_client):
    response = await api_client.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


def _run_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", **env},
    )


def test_malformed_setting_stops_start_up_with_one_line_naming_it():
    result = _run_cli("migrate", PAPERGRAPH_UPSTREAM_TIMEOUT="soon")

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "PAPERGRAPH_UPSTREAM_TIMEOUT" in lines[0]


def test_production_refuses_placeholder_secrets():
    result = _run_cli("migrate", PAPERGRAPH_ENVIRONMENT="production", PAPERGRAPH_UPSTREAMS="remote")

    assert result.returncode == 2
    assert "PAPERGRAPH_SECRET_KEY" in result.stderr or "secret_key" in result.stderr


async def test_ready_checks_the_database_and_reports_each_upstreams_breaker(api_client):
    response = await api_client.get("/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok", "upstreams": {
        name: {"breaker": "closed", "consecutiveFailures": 0} for name in ("circulation", "auth0", "navigapay")}}


@pytest.mark.sqlite_only(
    "readiness of the process (a breaker, an unreachable SQLite file): no data is read or written")
async def test_ready_reports_an_open_breaker_and_stays_ready(api_client, services):
    # given: the circulation system's breaker opened
    for _ in range(services.circulation.breaker.failure_threshold):
        services.circulation.breaker.failed()

    response = await api_client.get("/ready")

    assert response.status_code == 200
    assert response.json()["upstreams"]["circulation"]["breaker"] == "open"


@pytest.mark.sqlite_only(
    "readiness of the process (a breaker, an unreachable SQLite file): no data is read or written")
async def test_ready_is_503_when_the_database_does_not_answer(settings, tmp_path):
    import httpx

    from app import create_app

    # given: a database file that cannot be opened
    application = create_app(settings.model_copy(update={
        "database_url": f"sqlite+aiosqlite:///{tmp_path}/missing-directory/papergraph.db"}))
    async with application.router.lifespan_context(application), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application), base_url="http://papergraph.test") as client:
        # when
        response = await client.get("/ready")

    # then
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable" and response.json()["database"] == "unavailable"
