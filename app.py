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

import asyncio
import contextlib
import functools
import logging
import os
from typing import Any, AsyncIterator

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
from datasources.repositories.administration import AdministrationRepository
from domain.registrations import may_authenticate
from datasources.revision import CODE as DATABASE_NOT_MIGRATED
from resolvers.context import Context
from resolvers.loaders import Loaders
from schema import build_schema
from server.cors import Cors, tenant_origins_from
from server.demo import demo_routes
from server.execution import decode_json, encode_json, tune_gc
from server.http import GraphQLHTTPView, RequestError
from server.limits import OperationPolicy
from server.observe import InFlight, Observe
from server.throttle import Throttle
from server.probes import allowed_networks, database_hook, metrics_endpoint, ready_endpoint
from server.statements import statement_route
from services import Services, build_sandboxes, build_services, start_messages
from settings import Settings, UpstreamMode
from telemetry.context import current_request
from telemetry.tracing import TRACER_NAME, tracer_provider_from_environment

log = logging.getLogger("papergraph")

# USR-8: said to every request of a LITE or UNVERIFIED registration, whatever the identity provider
UNVERIFIED_MESSAGE = ("This registration cannot sign in until its e-mail address is verified and it has a "
                      "password (USR-8)")


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
        if services.revision.problem is not None and (problem := await services.revision.current_problem()):
            raise RequestError(503, DATABASE_NOT_MIGRATED, problem)
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
        context = Context(services=services, tenant=tenant, loaders=Loaders(services, tenant),
                          request=request, response=response, principal=principal, throttle=self.throttle)
        if principal.kind is PrincipalKind.CUSTOMER:
            registration = await context.customer_registration()  # shared with the request's loaders
            if registration is not None and not may_authenticate(has_password=registration.has_password,
                                                                 email_verified=registration.email_verified):
                raise RequestError(401, "UNAUTHENTICATED", UNVERIFIED_MESSAGE, headers={
                    "www-authenticate": f'Bearer realm="papergraph", error="invalid_token", '
                                        f'error_description="{UNVERIFIED_MESSAGE}"'},
                    extensions={"reason": "REGISTRATION_NOT_VERIFIED"})
        return context


class Background:
    """Tasks the lifespan runs beside the server (the delivery worker, the expiry notices), each given an
    `asyncio.Event` that asks it to stop."""

    def __init__(self) -> None:
        self.stop_event = asyncio.Event()
        self.tasks: list[asyncio.Task] = []

    def start(self, run: Callable[[asyncio.Event], Awaitable[None]]) -> None:
        self.tasks.append(asyncio.create_task(run(self.stop_event)))

    async def stop(self) -> None:
        self.stop_event.set()
        for task in self.tasks:
            try:
                await asyncio.wait_for(task, timeout=10)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                task.cancel()
            except Exception:  # noqa: BLE001 - a task that failed has been logged; shutdown goes on
                log.exception("background task failed")


def build_view(settings: Settings, services_getter, tracer: Tracer | None = None) -> PapergraphView:
    """`/graphql`: the schema and the view for `settings` (a test may build a production one over its
    embedded services)."""
    policy = OperationPolicy.from_settings(settings)
    schema = build_schema(mask_errors=settings.is_production, policy=policy, tracer=tracer,
                          execution=settings.execution) if tracer is not None \
        else shared_schema(settings.is_production, policy, settings.execution)
    view = PapergraphView(schema, services_getter, settings=settings, database=lambda: services_getter().db)
    view.throttle = Throttle(settings)  # per app: each request's context carries it (server/throttle.py)
    return view


@functools.lru_cache(maxsize=8)
def shared_schema(mask_errors: bool, policy: OperationPolicy, execution: str = "fast"):
    """One schema per masking and limits per process (without tracing, which instruments its schema): building
    one takes a few hundred milliseconds, and every app of a process with the same settings can share it (a test
    session builds hundreds of apps). The schema holds no per-app state: services come with each request's
    context."""
    return build_schema(mask_errors=mask_errors, policy=policy, execution=execution)


def new_request_id() -> bytes:
    """A random version-4 UUID in hex, as `uuid.uuid4().hex` writes it, without building the `UUID` object (its
    checks cost more than the random bytes: 3.7 µs instead of 8.5, timeit), once per request that brings no id."""
    value = int.from_bytes(os.urandom(16), "big")
    value = (value & ~(0xC000 << 48)) | (0x8000 << 48)  # the RFC 4122 variant
    value = (value & ~(0xF000 << 64)) | (4 << 76)  # version 4
    return b"%032x" % value


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
        request_id = headers.get(b"x-request-id") or new_request_id()
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


def jwks_endpoint(services_getter):
    """SSN-3: the public keys of the access tokens papergraph issues to MG2 customers (auth/issuer.py)."""

    async def jwks(request: Request) -> Response:
        document = await services_getter().own_tokens.jwks()
        return JSONResponse(document, headers={"cache-control": "public, max-age=60"})

    return jwks


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
        built.scrape_hooks.append(database_hook(built.db))
        await built.revision.refresh()  # an unmigrated database: not ready, and GraphQL says so (no bare 500)
        if embedded:
            from sandbox.demo import shared
            from sandbox.seed import load_emulators

            await load_emulators(*built.clients, shared(settings.sandbox_scale))
        if settings.is_production:
            tune_gc()  # once per worker, after start-up (server/execution.py says why)
        await start_messages(built)
        background = Background()
        if settings.mail_worker:
            built.db.outbox_listeners.append(built.delivery.wake)
            background.start(built.delivery.run)
        if settings.expiry_notice_every > 0:
            from messages.expiry import notify_every

            background.start(lambda stop: notify_every(built, settings.expiry_notice_every, stop))
        try:
            yield
        finally:
            await background.stop()
            # the server stopped accepting and waited for requests in flight (uvicorn's
            # timeout_graceful_shutdown); wait here too, bounded, so no request loses its pools under it, whichever
            # server runs the app
            if in_flight.count:
                log.info("shutdown: waiting for %d requests in flight", in_flight.count)
                if not await in_flight.drained(settings.shutdown_timeout):
                    log.warning("shutdown: closing with %d requests still in flight", in_flight.count)
            await built.aclose()
            await view.throttle.aclose()
            if own_provider and tracer_provider is not None:
                tracer_provider.shutdown()  # exports the spans still batched

    def services() -> Services:  # built by the lifespan
        return holder["services"]

    view = build_view(settings, services, tracer)
    graphql = Authenticate(view, lambda: services().verifiers, lambda: services().session_guard)
    routes = [Route("/ping", ping, methods=["GET"]), Route("/graphql", graphql, methods=["GET", "POST"]),
              Route("/ready", ready_endpoint(services, settings.readiness_timeout), methods=["GET"]),
              Route("/.well-known/jwks.json", jwks_endpoint(services), methods=["GET"]),
              statement_route(view.get_context, lambda endpoint: Authenticate(  # EBL-4: a statement's PDF
                  endpoint, lambda: services().verifiers, lambda: services().session_guard))]
    if settings.metrics:
        routes.append(Route("/metrics", metrics_endpoint(services, allowed_networks(settings.metrics_allowed_networks)),
                            methods=["GET"]))
    if settings.debug_stats:
        routes.append(Route("/_debug/stats", debug_stats_endpoint(services), methods=["GET"]))
    if sandboxes:
        routes += [Mount(f"/sandbox/{name}", app=sandbox) for name, sandbox in sandboxes.items()]
    if view.graphiql is not None:
        routes += view.graphiql.routes()  # GraphiQL's assets, at /graphiql/ (server/graphiql.py)
    if settings.development_feature(settings.demo):
        routes += demo_routes(settings)
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.settings = settings
    app.state.sandboxes = sandboxes or {}
    app.state.in_flight = in_flight
    app.add_middleware(Observe, request_timeout=settings.request_timeout, in_flight=in_flight,
                       default_tenant=settings.default_tenant, access_log=settings.access_log, tracer=tracer)
    app.add_middleware(ApiHeaders, version=settings.version)
    # outermost: a preflight is answered before anything else looks at the request (server/cors.py)
    app.add_middleware(Cors, allowed=settings.cors_allowed_origins, max_age=settings.cors_max_age,
                       tenant_origins=tenant_origins_from(lambda: services().db))
    return app


def __getattr__(name: str) -> Any:
    """`app`: the application for the settings in the environment (and `.env`), for `uvicorn app:app` and
    `gunicorn app:app -k uvicorn.workers.UvicornWorker`. Built on first access, so importing this module for
    `create_app` builds nothing; a malformed setting stops start-up with one line naming it. Logging is configured
    as `papergraph run` configures it (telemetry/logs.py), replacing the server's own."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import logging.config

    from pydantic import ValidationError

    from settings import describe_error
    from telemetry.logs import logging_config

    try:
        settings = Settings()
    except ValidationError as error:
        raise SystemExit(f"papergraph: {describe_error(error)}") from None
    logging.config.dictConfig(logging_config(settings))
    built = globals()["app"] = create_app(settings)
    return built
