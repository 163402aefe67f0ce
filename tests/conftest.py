"""Shared fixtures: a migrated, demo-seeded database per backend (SQLite always, PostgreSQL when
reachable), the app with its lifespan run and the emulators mounted in-process, and clients named by
role. Database-backed tests run once per backend."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import AsyncIterator

import httpx
import pytest

from auth.principals import CLAIM_NAMESPACE as CLAIM, SECTIONS
from settings import Settings

POSTGRES_ADMIN_URL = os.environ.get("PAPERGRAPH_TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")


def _postgres_reachable() -> bool:
    import asyncpg

    async def probe() -> bool:
        try:
            connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=3)
        except (OSError, asyncpg.PostgresError, asyncio.TimeoutError):
            return False
        await connection.close()
        return True

    return asyncio.run(probe())


BACKENDS = ["sqlite"] + (["postgresql"] if _postgres_reachable() else [])
if os.environ.get("CI") and "postgresql" not in BACKENDS:  # CI machines have PostgreSQL: never skip silently
    raise RuntimeError(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}")


async def _pg_admin(sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def _prepare(url: str) -> None:
    from cli import migrate, seed_database

    settings = Settings(database_url=url, environment="test")
    migrate(settings)
    asyncio.run(seed_database(settings, 1, only_if_empty=False))


@pytest.fixture(scope="session")
def sqlite_database_url(tmp_path_factory) -> str:
    """The SQLite database of the session (migrated, seeded at scale 1), for tests that need one backend."""
    path: Path = tmp_path_factory.mktemp("db") / "papergraph.db"
    url = f"sqlite+aiosqlite:///{path}"
    _prepare(url)
    return url


def pytest_collection_modifyitems(config, items):
    """`@pytest.mark.sqlite_only`: behaviour a PostgreSQL run would only repeat runs on SQLite alone."""
    kept, dropped = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if item.get_closest_marker("sqlite_only") and params.get("database_url", "sqlite") != "sqlite":
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request) -> str:
    """A migrated database seeded with the scale-1 demo data, one per backend for the session."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_database_url")
    name = f"papergraph_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    request.addfinalizer(lambda: asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')))
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    url = f"{base}/{name}"
    _prepare(url)
    return url


@pytest.fixture
def settings(database_url) -> Settings:
    return Settings(environment="test", database_url=database_url, upstreams="embedded", seed_demo_data=False,
                    upstream_timeout=2.0, upstream_read_retries=1)


@pytest.fixture
async def app(settings):
    from app import create_app

    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def api_client(app) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://papergraph.test") as client:
        yield client


class Tokens:
    """Access tokens signed by the Auth0 emulator's own key (checked by papergraph against its JWKS), one
    kind per principal. Staff default to FULL_CONTROL of every section, with a second factor."""

    def __init__(self, store, audience: str) -> None:
        self.store = store
        self.audience = audience

    def customer(self, crid: str, tenant: str = "NCSDEMO", **claims) -> str:
        return self.store.issue_token(sub=crid, audience=self.audience, gty="password", claims={
            CLAIM + "tenant": tenant, CLAIM + "principal": "customer", **claims})

    def staff(self, tenant: str = "NCSDEMO", *, access: dict[str, str] | str = "FULL_CONTROL", mfa: bool = True,
              sub: str | None = None, **claims) -> str:
        levels = access if isinstance(access, dict) else {section: access for section in SECTIONS}
        extra = {"amr": ["mfa"]} if mfa else {}
        return self.store.issue_token(sub=sub or f"auth0|staff-{tenant.lower()}", audience=self.audience,
                                      gty="password", claims={
                                          CLAIM + "tenant": tenant, CLAIM + "principal": "staff",
                                          CLAIM + "access": levels, CLAIM + "mfa": mfa, **extra, **claims})

    def partner(self, tenant: str = "NCSDEMO", scopes: str = "read:subscriptions write:payments") -> str:
        return self.store.issue_token(sub=f"partner-{tenant.lower()}@clients", audience=self.audience,
                                      gty="client-credentials", scope=scopes, claims={CLAIM + "tenant": tenant})


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


@pytest.fixture
def tokens(app, settings) -> Tokens:
    return Tokens(app.state.sandboxes["auth0"].state.store, settings.auth0_audience)


def staff_signing(tokens: Tokens, default_tenant: str):
    """An httpx request hook: a request without `Authorization` gets a FULL_CONTROL staff token (with MFA) of
    the tenant its `X-Tenant` header names (the default tenant without one)."""
    issued: dict[str, str] = {}

    async def sign(request: httpx.Request) -> None:
        if "authorization" in request.headers:
            return
        tenant = request.headers.get("x-tenant") or default_tenant
        if tenant not in issued:
            issued[tenant] = tokens.staff(tenant)
        request.headers["authorization"] = f"Bearer {issued[tenant]}"

    return sign


@pytest.fixture
async def staff_api_client(app, tokens, settings) -> AsyncIterator[httpx.AsyncClient]:
    """A staff console: every request signed by `staff_signing`."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://papergraph.test",
                                 event_hooks={"request": [staff_signing(tokens, settings.default_tenant)]}) as client:
        yield client


@pytest.fixture
def services(app):
    return app.state.services


@pytest.fixture
def sandboxes(app):
    return app.state.sandboxes


async def graphql(client: httpx.AsyncClient, query: str, variables: dict | None = None, **headers) -> dict:
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}},
                                 headers={k.replace("_", "-"): v for k, v in headers.items()})
    assert response.status_code < 500, response.text
    # every answer carries extensions.cost (docs/rate-limits.md): tests/http/test_cost_budget.py reads it
    from tests.support import without_cost

    return without_cost(response.json())
