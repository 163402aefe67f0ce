"""What papergraph does around every HTTP request: its time budget, its metrics, its access line, its span.

`Observe` is the ASGI middleware right behind the API-1 headers. For each HTTP request it

- opens the request's time budget (`datasources/budget.py`, `PAPERGRAPH_REQUEST_TIMEOUT`);
- counts the requests in flight (`InFlight`), so the lifespan can wait for them before closing the pools
  they use (graceful shutdown);
- keeps a `RequestRecord` in a context variable, which the layers below fill in (each GraphQL operation's
  name, outcome and error codes, through `operation()`), and which every log line of the request reads
  (telemetry/logs.py adds its request id, tenant and principal);
- when the response is done: the Prometheus samples (telemetry/metrics.py) and one access log line;
- with tracing on, the request's server span, continuing the caller's `traceparent` (telemetry/tracing.py).

`ObserveOperation` (a schema extension) names each operation for them, and with tracing opens its span.

Per-field hooks are deliberately absent: the execution fast path (server/execution.py) stays on. Probes
(`/ping`, `/ready`, `/metrics`) are counted but not logged at INFO: a liveness check every few seconds would
drown the access log.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any, Iterator

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from datasources.budget import request_budget
from telemetry import metrics
from telemetry.context import UNCODED, RequestRecord, current_operation, serving
from telemetry.tracing import field_spans

access_log = logging.getLogger("papergraph.access")

ROUTES = frozenset({"/graphql", "/ping", "/ready", "/metrics", "/_debug/stats"})
PROBES = frozenset({"/ping", "/ready", "/metrics"})
MAX_OPERATION_NAMES = 200  # distinct operation names labelled per process; later ones count as "other"
MAX_NAME_LENGTH = 64
OPERATION_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,63}$")


class ObserveOperation(SchemaExtension):
    """Names the current operation once its document is parsed, when the client sent no operationName; with
    tracing, the operation's span (telemetry/tracing.py)."""

    def __init__(self, *, tracer: trace.Tracer | None = None) -> None:
        self.tracer = tracer

    def on_operation(self) -> Iterator[None]:
        if self.tracer is None:
            yield
            self._name()
            return
        span = self.tracer.start_span("graphql.operation")
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            with field_spans():
                yield
        finally:
            otel_context.detach(token)
            self._describe(span)
            span.end()

    def _name(self) -> str | None:
        record = current_operation()
        name = self.execution_context.operation_name
        if record is not None and record.name is None:
            record.name = name
        return name

    def _describe(self, span: trace.Span) -> None:
        name = self._name()
        try:
            kind = self.execution_context.operation_type.value
        except Exception:  # noqa: BLE001 - no document (it did not parse) or no such operation
            kind = "operation"
        span.update_name(f"{kind} {name}" if name else kind)
        span.set_attribute("graphql.operation.type", kind)
        if name:
            span.set_attribute("graphql.operation.name", name[:MAX_NAME_LENGTH])
        result = self.execution_context.result
        codes = [(error.extensions or {}).get("code") or UNCODED for error in (result.errors if result else None) or ()]
        if codes:
            span.set_attribute("graphql.error.codes", codes)
            span.set_status(trace.StatusCode.ERROR)


class InFlight:
    """Requests being served by this process; `drained()` waits until none is left."""

    def __init__(self) -> None:
        self.count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def enter(self) -> None:
        self.count += 1
        self._idle.clear()
        metrics.IN_FLIGHT.inc()

    def leave(self) -> None:
        self.count -= 1
        metrics.IN_FLIGHT.dec()
        if self.count == 0:
            self._idle.set()

    async def drained(self, timeout: float) -> bool:
        """True when no request is in flight any more, False if some still are after `timeout` seconds."""
        try:
            async with asyncio.timeout(timeout):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True


class OperationNames:
    """Operation names as metric labels, bounded: a client may send any name, Prometheus must not get them all."""

    def __init__(self, limit: int = MAX_OPERATION_NAMES) -> None:
        self.limit = limit
        self.known: set[str] = set()

    def label(self, name: str | None) -> str:
        if not name:
            return "anonymous"
        if name in self.known:
            return name
        if len(self.known) >= self.limit or not OPERATION_NAME.match(name):
            return "other"
        self.known.add(name)
        return name


class Observe:
    def __init__(self, app: ASGIApp, *, request_timeout: float, in_flight: InFlight, default_tenant: str,
                 access_log: bool = True, tracer: trace.Tracer | None = None) -> None:
        self.app = app
        self.tracer = tracer
        self.request_timeout = request_timeout
        self.in_flight = in_flight
        self.default_tenant = default_tenant
        self.access_log = access_log
        self.names = OperationNames()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        record = RequestRecord(request_id=state.get("request_id", ""), method=scope["method"], path=scope["path"])

        async def send_observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
            await send(message)

        self.in_flight.enter()
        started = time.perf_counter()
        try:
            with serving(record), request_budget(self.request_timeout):
                if self.tracer is None:
                    await self.app(scope, receive, send_observed)
                else:
                    await self._traced(scope, receive, send_observed, record)
        finally:
            self.in_flight.leave()
            self._finish(record, state, time.perf_counter() - started)

    async def _traced(self, scope: Scope, receive: Receive, send: Send, record: RequestRecord) -> None:
        route = _route(record.path)
        carrier = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope.get("headers", ())}
        with self.tracer.start_as_current_span(
                f"{record.method} {route}", context=propagate.extract(carrier), kind=trace.SpanKind.SERVER,
                attributes={"http.request.method": record.method, "http.route": route, "url.path": record.path,
                            "papergraph.request_id": record.request_id},
                record_exception=False) as span:  # an exception's message may quote the request
            await self.app(scope, receive, send)
            span.set_attribute("http.response.status_code", record.status)
            if record.status >= 500:
                span.set_status(trace.StatusCode.ERROR)

    def _finish(self, record: RequestRecord, state: dict[str, Any], seconds: float) -> None:
        principal = state.get("principal")
        if record.principal is None and principal is not None:
            record.principal = principal.kind.value
        if record.tenant is None and principal is not None:
            record.tenant = state.get("tenant_code") or self.default_tenant
        if self.access_log and record.path not in PROBES:
            self._log(record, seconds)
        route = _route(record.path)
        metrics.child(metrics.HTTP_REQUESTS, route, str(record.status)).inc()
        if route != "/graphql":
            return
        operations = record.operations
        for observed in operations:
            metrics.child(metrics.GRAPHQL_REQUESTS, self.names.label(observed.name), observed.outcome).inc()
            for code in observed.codes:
                metrics.child(metrics.GRAPHQL_ERRORS, code).inc()
        if not operations:
            if record.status < 400:
                return  # no operation and no refusal: GraphiQL's page for a browser, counted by route only
            # refused before any operation ran (401, 403, 413, 415, bad JSON, …)
            metrics.child(metrics.GRAPHQL_REQUESTS, "-", "rejected").inc()
        label = self.names.label(operations[0].name) if len(operations) == 1 else ("batch" if operations else "-")
        metrics.child(metrics.GRAPHQL_DURATION, label).observe(seconds)

    def _log(self, record: RequestRecord, seconds: float) -> None:
        status = record.status
        level = logging.ERROR if status >= 500 else logging.INFO
        if not access_log.isEnabledFor(level):
            return
        operations = record.operations
        access_log.log(level, "%s %s %d", record.method, record.path, status, extra={
            "request_id": record.request_id, "tenant": record.tenant, "principal": record.principal,
            "method": record.method, "path": record.path, "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "operation": ",".join(self.names.label(o.name) for o in operations) or None,
            "outcome": ",".join(o.outcome for o in operations) or ("rejected" if status >= 400 else None),
            "error_codes": [code for o in operations for code in o.codes],
        })


def _route(path: str) -> str:
    """A bounded label for a path: the known routes, `/sandbox` (embedded emulators), or `other`."""
    if path in ROUTES:
        return path
    return "/sandbox" if path.startswith("/sandbox/") else "other"
