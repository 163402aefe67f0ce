"""The services container: everything a request needs that outlives it (settings, database, upstream
datasources, the token verifier), and how it is wired from the settings.

It sits below everything that uses it: `app.py` builds one per process in its lifespan, the request context
(`resolvers/context.py`) carries it, and the CLI builds one for `papergraph reconcile`. It imports no GraphQL,
resolver or app module, so nothing here can close an import cycle (tests/test_layout.py checks).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable

import httpx
from opentelemetry.trace import Tracer
from sqlalchemy.engine import make_url

from auth.issuer import OwnTokenIssuer, own_issuer
from auth.sessions import SessionGuard
from auth.tokens import IssuerRouter, JwksCache, TokenVerifier
from datasources.auth0 import Auth0DataSource
from datasources.base import RestDataSource
from datasources.circulation import CirculationDataSource
from datasources.db import Database
from datasources.navigapay import NavigaPayDataSource
from datasources.revision import DatabaseRevision
from datasources.transport import AiohttpClient
from domain.sessions import FailureWindow
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
    clients: list[httpx.AsyncClient | AiohttpClient] = field(default_factory=list)
    sandboxes: dict[str, Any] = field(default_factory=dict)
    # wall-clock "now" for calendar rules in tenant time (STP-2, CMP-1, SUB-5 day passes, ENT-3); tests pin it to
    # cross a midnight
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc))
    graphql_requests: int = 0  # served by this process (reported by /_debug/stats)
    own_tokens: Any = None  # papergraph's own token issuer for MG2 tenants (auth/issuer.py, SSN-3)
    verifiers: Any = None  # Auth0's and papergraph's verifiers, by issuer (auth/tokens.py IssuerRouter)
    session_guard: Any = None  # SSN-4 (auth/sessions.py)
    sign_in_failures: Any = None  # wrong-password throttle (domain/sessions.py FailureWindow)
    mail: Any = None  # the SMTP sender (datasources/smtp.py), set by start_messages
    delivery: Any = None  # the in-process delivery worker (messages/delivery.py), when PAPERGRAPH_MAIL_WORKER
    mail_server: Any = None  # the mail emulator's SMTP server, in embedded mode
    worker_db: Any = None  # the delivery worker's own engine (messages/delivery.py)
    # awaited before each /metrics scrape, e.g. to count pending payment attempts (telemetry/metrics.py)
    scrape_hooks: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # whether the database is at the code's migration revision (read by the lifespan, /ready and each request)
    revision: DatabaseRevision | None = None

    @property
    def datasources(self) -> tuple[RestDataSource, ...]:
        return self.circulation, self.auth0, self.navigapay

    async def aclose(self) -> None:
        if self.mail_server is not None:
            await self.mail_server.close()
        if self.worker_db is not None:
            await self.worker_db.dispose()
        for client in self.clients:
            await client.aclose()
        await self.db.dispose()


def build_sandboxes(settings: Settings) -> dict[str, Any]:
    from sandbox import auth0, circulation, mail, navigapay
    from sandbox.auth0.crypto import kept_key

    key_file = embedded_key_file(settings.database_url)  # a token pasted into GraphiQL outlives a restart
    signing_key = None
    if key_file is not None:
        try:
            signing_key = kept_key(key_file)
        except OSError as error:  # a directory that does not exist (yet) or cannot be written: a key per start
            logging.getLogger("papergraph").warning("cannot keep the embedded Auth0 key in %s: %s", key_file, error)
    return {
        "mail": mail.create_app(),  # its SMTP side is started by the lifespan (start_messages)
        "circulation": circulation.create_app(),
        "auth0": auth0.create_app(issuer=EMBEDDED_URLS["auth0"] + "/", audience=settings.auth0_audience,
                                  signing_key=signing_key, public_url=settings.public_base_url + "/sandbox/auth0/"),
        "navigapay": navigapay.create_app(public_url=settings.public_base_url + "/sandbox/navigapay"),
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

    def client(name: str, base_url: str) -> httpx.AsyncClient | AiohttpClient:
        if sandboxes is not None:
            return httpx.AsyncClient(transport=httpx.ASGITransport(app=sandboxes[name]),
                                     base_url=EMBEDDED_URLS[name], timeout=timeout)
        if settings.upstream_transport == "aiohttp":
            return AiohttpClient(base_url, timeout, limits)
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
    db = Database(settings.database_url, settings.database_pool_size, secret_key=settings.secret_key)
    own_tokens = OwnTokenIssuer(db, secret_key=settings.secret_key, issuer=own_issuer(settings.public_base_url),
                                audience=settings.auth0_audience, access_token_seconds=settings.access_token_seconds,
                                leeway=settings.token_leeway_seconds)
    auth0_tokens = TokenVerifier(JwksCache(auth0.get_jwks, refetch_interval=settings.jwks_refetch_interval),
                                 issuer=issuer, audience=settings.auth0_audience, leeway=settings.token_leeway_seconds)
    # papergraph's own keys are a database read away, not an upstream's: a new kid may be looked up every second
    papergraph_tokens = TokenVerifier(JwksCache(own_tokens.jwks, refetch_interval=1.0), issuer=own_tokens.issuer,
                                      audience=settings.auth0_audience, leeway=settings.token_leeway_seconds)
    return Services(
        settings=settings,
        db=db,
        revision=DatabaseRevision(db),
        own_tokens=own_tokens,
        verifiers=IssuerRouter(auth0_tokens, [papergraph_tokens]),
        session_guard=SessionGuard(db),
        sign_in_failures=FailureWindow(),
        circulation=circulation,
        auth0=auth0,
        navigapay=navigapay,
        tokens=auth0_tokens,
        clients=[circulation_client, auth0_client, navigapay_client],
        sandboxes=sandboxes or {},
    )


async def start_messages(services: Services) -> None:
    """MSG: the SMTP sender (in embedded mode the mail emulator's SMTP server, started here on a free loopback
    port), and the delivery worker, woken by every commit that wrote a message."""
    from datasources.smtp import SmtpSender
    from messages.delivery import DeliveryWorker

    settings = services.settings
    mail = services.sandboxes.get("mail")
    if mail is not None:
        from sandbox.mail import MailServer

        services.mail_server = await MailServer(mail.state.store, mail.state.control).start("127.0.0.1", 0)
        services.mail = SmtpSender(services.mail_server.host, services.mail_server.port, timeout=settings.smtp_timeout)
    else:
        services.mail = SmtpSender(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout,
                                   username=settings.smtp_username, password=settings.smtp_password,
                                   start_tls=settings.smtp_start_tls)
    services.worker_db = Database(settings.database_url, 2, secret_key=settings.secret_key)
    services.delivery = DeliveryWorker(services, services.mail, services.worker_db)
