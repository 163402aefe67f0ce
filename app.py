"""papergraph's ASGI application.

`create_app(settings)` builds the Starlette app: `/graphql` (GraphQL over HTTP, server/http.py; GraphiQL
for browsers outside production), `/ping` (API-2), `/ready` and `/metrics` (server/probes.py), `/demo` (the
browser demo, server/demo.py; outside production), the API-1
headers on every response, and behind them `Observe` (server/observe.py: the request's time budget,
metrics, access line and span). The lifespan opens the database engine and one pooled httpx client per
upstream, and on shutdown closes them once the requests in flight are done (bounded); in embedded mode the
upstream emulators are mounted in-process through `httpx.ASGITransport` (and under `/sandbox/<name>` for
browsers), loaded with the demo data.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Awaitable, Callable

import httpx
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Tracer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from cross_web import HTTPException  # what strawberry's views catch to answer an HTTP error

from auth.middleware import Authenticate
from auth.principals import ANONYMOUS, PrincipalKind, with_access_overrides
from auth.tokens import JwksCache, TokenVerifier
from datasources.auth0 import Auth0DataSource
from datasources.base import RestDataSource
from datasources.circulation import CirculationDataSource
from datasources.db import Database
from datasources.navigapay import NavigaPayDataSource
from datasources.transport import AiohttpTransport
from datasources.repositories.administration import AdministrationRepository
from resolvers.context import Context
from resolvers.loaders import Loaders
from schema import build_schema
from server.demo import demo_routes
from server.execution import decode_json, encode_json, tune_gc
from server.http import GraphQLHTTPView
from server.limits import OperationPolicy
from server.observe import InFlight, Observe
from server.probes import allowed_networks, metrics_endpoint, pending_payment_attempts_hook, ready_endpoint
from settings import Settings, UpstreamMode
from telemetry.context import current_request
from telemetry.tracing import TRACER_NAME, tracer_provider_from_environment

log = logging.getLogger("papergraph")

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
    # what "now" is for time-bound rules (SUB-5 day passes, ENT-3): a test sets its own instant
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc))
    # awaited before each /metrics scrape, e.g. to count pending payment attempts (telemetry/metrics.py)
    scrape_hooks: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    @property
    def datasources(self) -> tuple[RestDataSource, ...]:
        return self.circulation, self.auth0, self.navigapay

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()
        await self.db.dispose()


def build_sandboxes(settings: Settings) -> dict[str, Any]:
    from sandbox import auth0, circulation, navigapay

    return {
        "circulation": circulation.create_app(),
        "auth0": auth0.create_app(issuer=EMBEDDED_URLS["auth0"] + "/", audience=settings.auth0_audience,
                                  public_url=settings.public_base_url + "/sandbox/auth0/"),
        "navigapay": navigapay.create_app(public_url=settings.public_base_url + "/sandbox/navigapay"),
    }


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
    return Services(
        settings=settings,
        db=Database(settings.database_url, settings.database_pool_size),
        circulation=circulation,
        auth0=auth0,
        navigapay=navigapay,
        tokens=TokenVerifier(JwksCache(auth0.get_jwks, refetch_interval=settings.jwks_refetch_interval),
                             issuer=issuer, audience=settings.auth0_audience, leeway=settings.token_leeway_seconds),
        clients=[circulation_client, auth0_client, navigapay_client],
        sandboxes=sandboxes or {},
    )


class PapergraphView(GraphQLHTTPView):
    """The GraphQL-over-HTTP view (server/http.py) with papergraph's per-request context."""

    def __init__(self, schema, services_getter, **kwargs) -> None:
        super().__init__(schema, **kwargs)
        self._services = services_getter

    def encode_json(self, data: object) -> bytes:
        return encode_json(data)  # orjson: measured in bench/, see server/execution.py

    def decode_json(self, data: str | bytes) -> object:
        return decode_json(data)

    async def get_context(self, request: Request, response: Any) -> Context:
        services: Services = self._services()
        services.graphql_requests += 1
        state = request.scope.get("state") or {}
        principal = state.get("principal", ANONYMOUS)
        code = state.get("tenant_code") or services.settings.default_tenant
        tenant = await services.db.tenant_by_code(code)
        if tenant is None:
            raise HTTPException(400, f"Unknown tenant {code!r}")
        request_record = current_request()
        if request_record is not None:  # for the request's log lines (telemetry/logs.py)
            request_record.tenant, request_record.principal = tenant.code, principal.kind.value
        if principal.kind is PrincipalKind.STAFF:
            # MGR-1: levels set in papergraph (setManagerAccessLevels) replace the token's as a whole
            rows = await AdministrationRepository(services.db).manager_access(tenant.id, principal.subject or "")
            principal = with_access_overrides(principal, {row.section: row.level for row in rows})
        return Context(services=services, tenant=tenant, loaders=Loaders(services, tenant),
                       request=request, response=response, principal=principal)


def build_view(settings: Settings, services_getter, tracer: Tracer | None = None) -> PapergraphView:
    """`/graphql`: the schema and the view for `settings` (a test may build a production one over its
    embedded services)."""
    schema = build_schema(mask_errors=settings.is_production, policy=OperationPolicy.from_settings(settings),
                          tracer=tracer)
    return PapergraphView(schema, services_getter, settings=settings, database=lambda: services_getter().db)


class ApiHeaders:
    """API-1: X-Request-Id (echoed or generated), X-Session-Id (echoed when sent) and X-Version."""

    def __init__(self, app: ASGIApp, version: str) -> None:
        self.app = app
        self.version = version.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        request_id = headers.get(b"x-request-id") or uuid.uuid4().hex.encode()
        session_id = headers.get(b"x-session-id")
        scope.setdefault("state", {})["request_id"] = request_id.decode("latin-1")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [(b"x-request-id", request_id[:128]), (b"x-version", self.version)]
                if session_id:
                    extra.append((b"x-session-id", session_id[:128]))
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def ping(request: Request) -> PlainTextResponse:
    return PlainTextResponse("pong")


LOOPBACK = frozenset({"127.0.0.1", "::1"})


def debug_stats_endpoint(services_getter):
    """`/_debug/stats` (only with `debug_stats`): this process's counters, so a benchmark can report SQL
    statements and upstream calls per request. Counters only, never data; refused to non-loopback clients."""

    async def debug_stats(request: Request) -> Response:
        if request.client is None or request.client.host not in LOOPBACK:
            return PlainTextResponse("Not Found", status_code=404)
        services: Services = services_getter()
        return JSONResponse({
            "pid": os.getpid(),
            "graphqlRequests": services.graphql_requests,
            "sqlStatements": services.db.statements,
            "upstreamCalls": {ds.service: sum(ds.calls.values()) for ds in services.datasources},
        })

    return debug_stats


def create_app(settings: Settings | None = None, *, tracer_provider: TracerProvider | None = None) -> Starlette:
    """`tracer_provider`: where spans go (a test's in-memory exporter); by default, what the OTEL_* variables
    ask for, and no tracing when they ask for nothing (telemetry/tracing.py)."""
    settings = settings or Settings()
    own_provider = tracer_provider is None
    if own_provider:
        tracer_provider = tracer_provider_from_environment(version=settings.version)
    tracer = tracer_provider.get_tracer(TRACER_NAME, settings.version) if tracer_provider is not None else None
    embedded = settings.upstreams == UpstreamMode.EMBEDDED
    sandboxes = build_sandboxes(settings) if embedded else None
    holder: dict[str, Services] = {}
    in_flight = InFlight()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        built = build_services(settings, sandboxes, tracer)
        holder["services"] = built
        app.state.services = built
        built.scrape_hooks.append(pending_payment_attempts_hook(built.db))
        if embedded:
            from sandbox.demo import generate
            from sandbox.seed import load_emulators

            await load_emulators(*built.clients, generate(settings.sandbox_scale))
        if settings.is_production:
            tune_gc()  # once per worker, after start-up (server/execution.py says why)
        try:
            yield
        finally:
            # the server stopped accepting and waited for requests in flight (uvicorn's
            # timeout_graceful_shutdown); wait here too, bounded, so no request loses its pools under it, whichever
            # server runs the app
            if in_flight.count:
                log.info("shutdown: waiting for %d requests in flight", in_flight.count)
                if not await in_flight.drained(settings.shutdown_timeout):
                    log.warning("shutdown: closing with %d requests still in flight", in_flight.count)
            await built.aclose()
            if own_provider and tracer_provider is not None:
                tracer_provider.shutdown()  # exports the spans still batched

    def services() -> Services:  # built by the lifespan
        return holder["services"]

    view = build_view(settings, services, tracer)
    graphql = Authenticate(view, lambda: services().tokens)
    routes = [Route("/ping", ping, methods=["GET"]), Route("/graphql", graphql, methods=["GET", "POST"]),
              Route("/ready", ready_endpoint(services, settings.readiness_timeout), methods=["GET"])]
    if settings.metrics:
        routes.append(Route("/metrics", metrics_endpoint(services, allowed_networks(settings.metrics_allowed_networks)),
                            methods=["GET"]))
    if settings.debug_stats:
        routes.append(Route("/_debug/stats", debug_stats_endpoint(services), methods=["GET"]))
    if sandboxes:
        routes += [Mount(f"/sandbox/{name}", app=sandbox) for name, sandbox in sandboxes.items()]
    if settings.development_feature(settings.demo):
        routes += demo_routes(settings)
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.settings = settings
    app.state.sandboxes = sandboxes or {}
    app.state.in_flight = in_flight
    app.add_middleware(Observe, request_timeout=settings.request_timeout, in_flight=in_flight,
                       default_tenant=settings.default_tenant, access_log=settings.access_log, tracer=tracer)
    app.add_middleware(ApiHeaders, version=settings.version)
    return app
