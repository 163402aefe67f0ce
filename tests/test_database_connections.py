"""Reads survive PostgreSQL connections that die between requests (`pg_terminate_backend`, a failover, an
idle-connection reaper): a read has no effect to repeat, so one found on a dead connection is retried on a
fresh one, whichever way asyncpg reports the death (a closed connection, an interface error, the server's
admin-shutdown message, or `InternalClientError: cannot switch to state …` when the termination catches
the protocol between two steps). PostgreSQL only: SQLite has no server to lose.
"""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
import sqlalchemy as sa

from tests.conftest import POSTGRES_ADMIN_URL

ROUNDS = 12
CONCURRENT = 8
CATALOG = "query Catalog { catalog(first: 5) { totalCount } }"
LEVELS = "query Levels { householdLevels { id } }"


@pytest.fixture
def postgres_only(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("pg_terminate_backend needs PostgreSQL")
    return sa.engine.make_url(database_url).database


async def terminate_app_connections(database: str) -> int:
    """`pg_terminate_backend` every connection to the test's database but the admin's own."""
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        return len(await admin.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            database))
    finally:
        await admin.close()


async def test_reads_are_retried_when_pg_terminate_backend_killed_their_connections(postgres_only, api_client,
                                                                                     staff_api_client):
    async def round_of_requests() -> list[dict]:
        answers = await asyncio.gather(
            *(api_client.post("/graphql", json={"query": CATALOG}) for _ in range(CONCURRENT)),
            *(staff_api_client.post("/graphql", json={"query": LEVELS}) for _ in range(CONCURRENT)))
        return [(response.status_code, response.json()) for response in answers]

    # given: the pools hold live connections
    assert all(status == 200 and "errors" not in body for status, body in await round_of_requests())
    for _ in range(ROUNDS):
        # when: every connection of the app is terminated between requests
        assert await terminate_app_connections(postgres_only) > 0
        # then: every request of the next round answers, none with an error
        answers = await round_of_requests()
        failures = [body for status, body in answers if status != 200 or "errors" in body]
        assert failures == [], failures[:3]
