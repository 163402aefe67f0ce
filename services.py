"""The services container: everything a request needs that outlives it (settings, database, upstream
datasources, the token verifier), and how it is wired from the settings.

It sits below everything that uses it: `app.py` builds one per process in its lifespan, the request context
(`resolvers/context.py`) carries it, and the CLI builds one for `papergraph reconcile`. It imports no GraphQL,
resolver or app module, so nothing here can close an import cycle (tests/test_layout.py checks).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable

import httpx
from opentelemetry.trace import Tracer
from sqlalchemy.engine import make_url

from auth.tokens import JwksCache, TokenVerifier
from datasources.auth0 import Auth0DataSource
from datasources.base import RestDataSource
from datasources.circulation import CirculationDataSource
from datasources.db import Database
from datasources.navigapay import NavigaPayDataSource
from datasources.revision import DatabaseRevision
from datasources.transport import AiohttpTransport
from settings import Settings

EMBEDDED_URLS = {
    "circulation": "http://circulation.sandbox",
    "auth0": "http://auth0.sandbox",
    "navigapay": "http://navigapay.sandbox",
}


@dataclass
class Services:
    """Everything a request needs that outlives it: settings, database, upstream datasources."""

    settings: Settings
    db: Database
    circulation: CirculationDataSource
    auth0: Auth0DataSource
    navigapay: NavigaPayDataSource
    tokens: TokenVerifier
    clients: list[httpx.AsyncClient] = field(default_factory=list)
    sandboxes: dict[str, Any] = field(default_factory=dict)
    graphql_requests: int = 0  # served by this process (reported by /_debug/stats)
    # awaited before each /metrics scrape, e.g. to count pending payment attempts (telemetry/metrics.py)
    scrape_hooks: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # whether the database is at the code's migration revision (read by the lifespan, /ready and each request)
    revision: DatabaseRevision | None = None

    @property
    def datasources(self) -> tuple[RestDataSource, ...]:
        return self.circulation, self.auth0, self.navigapay

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()
        await self.db.dispose()


def build_sandboxes(settings: Settings) -> dict[str, Any]:
    from sandbox import auth0, circulation, navigapay
    from sandbox.auth0.crypto import kept_key

    key_file = embedded_key_file(settings.database_url)  # a token pasted into GraphiQL outlives a restart
    signing_key = None
    if key_file is not None:
        try:
            signing_key = kept_key(key_file)
        except OSError as error:  # a directory that does not exist (yet) or cannot be written: a key per start
            logging.getLogger("papergraph").warning("cannot keep the embedded Auth0 key in %s: %s", key_file, error)
    return {
        "circulation": circulation.create_app(),
        "auth0": auth0.create_app(issuer=EMBEDDED_URLS["auth0"] + "/", audience=settings.auth0_audience,
                                  signing_key=signing_key),
        "navigapay": navigapay.create_app(public_url=settings.public_url.rstrip("/") + "/sandbox/navigapay"),
    }


def embedded_key_file(database_url: str) -> Path | None:
    """Where the embedded Auth0 emulator keeps its signing key: beside the SQLite database file
    (`papergraph.db` → `papergraph.db.auth0-key.pem`). None for an in-memory database or PostgreSQL, where each
    start makes a new key (embedded mode is for development; remote mode's Auth0 keeps its own keys)."""
    url = make_url(database_url)
    if not url.get_backend_name() == "sqlite" or url.database in (None, "", ":memory:"):
        return None
    database = Path(url.database)
    return database.with_name(database.name + ".auth0-key.pem")


def build_services(settings: Settings, sandboxes: dict[str, Any] | None = None,
                   tracer: Tracer | None = None) -> Services:
    """Wire the datasources. With `sandboxes` (embedded mode) each client talks to its emulator in-process; with
    a `tracer`, each upstream call is a span."""
    timeout = httpx.Timeout(settings.upstream_timeout, connect=settings.upstream_connect_timeout)
    limits = httpx.Limits(max_connections=settings.upstream_max_connections,
                          max_keepalive_connections=settings.upstream_max_connections)

    def client(name: str, base_url: str) -> httpx.AsyncClient:
        if sandboxes is not None:
            return httpx.AsyncClient(transport=httpx.ASGITransport(app=sandboxes[name]),
                                     base_url=EMBEDDED_URLS[name], timeout=timeout)
        if settings.upstream_transport == "aiohttp":
            return httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=AiohttpTransport(limits))
        return httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits)

    circulation_client = client("circulation", settings.circulation_base_url)
    auth0_client = client("auth0", settings.auth0_base_url)
    navigapay_client = client("navigapay", settings.navigapay_base_url)
    common = {"timeout": settings.upstream_timeout, "read_retries": settings.upstream_read_retries,
              "breaker_failures": settings.upstream_breaker_failures,
              "breaker_cooldown": settings.upstream_breaker_cooldown}
    auth0_issuer_base = EMBEDDED_URLS["auth0"] if sandboxes is not None else settings.auth0_base_url
    auth0 = Auth0DataSource(
        auth0_client, client_id=settings.auth0_client_id, client_secret=settings.auth0_client_secret,
        audience=auth0_issuer_base.rstrip("/") + "/api/v2/", **common,
    )
    issuer = settings.auth0_issuer if sandboxes is None and settings.auth0_issuer else auth0_issuer_base.rstrip("/") + "/"
    circulation = CirculationDataSource(circulation_client, **common)
    navigapay = NavigaPayDataSource(navigapay_client, api_key=settings.navigapay_api_key, **common)
    for datasource in (circulation, auth0, navigapay):
        datasource.tracer = tracer
    db = Database(settings.database_url, settings.database_pool_size)
    return Services(
        settings=settings,
        db=db,
        revision=DatabaseRevision(db),
        circulation=circulation,
        auth0=auth0,
        navigapay=navigapay,
        tokens=TokenVerifier(JwksCache(auth0.get_jwks, refetch_interval=settings.jwks_refetch_interval),
                             issuer=issuer, audience=settings.auth0_audience, leeway=settings.token_leeway_seconds),
        clients=[circulation_client, auth0_client, navigapay_client],
        sandboxes=sandboxes or {},
    )
