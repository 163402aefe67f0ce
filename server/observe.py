"""What papergraph does around every HTTP request: its time budget, its metrics, its access line, its span.

`Observe` is the ASGI middleware right behind the API-1 headers. For each HTTP request it

- opens the request's time budget (`datasources/budget.py`, `PAPERGRAPH_REQUEST_TIMEOUT`);
- counts the requests in flight (`InFlight`), so the lifespan can wait for them before closing the pools
  they use (graceful shutdown);
- keeps a `RequestRecord` in a context variable, which the layers below fill in (each GraphQL operation's
  name, outcome and error codes, through `operation()`), and which every log line of the request reads
  (telemetry/logs.py adds its request id, tenant and principal);
- when the response is done: the Prometheus samples (telemetry/metrics.py) and one access log line.

Per-field hooks are deliberately absent: the execution fast path (server/execution.py) stays on. Probes
(`/ping`, `/ready`, `/metrics`) are counted but not logged at INFO: a liveness check every few seconds would
drown the access log.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Iterator

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from datasources.budget import request_budget
from telemetry import metrics

ROUTES = frozenset({"/graphql", "/ping", "/ready", "/metrics", "/_debug/stats"})
PROBES = frozenset({"/ping", "/ready", "/metrics"})
MAX_OPERATION_NAMES = 200  # distinct operation names labelled per process; later ones count as "other"
OPERATION_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,63}$")
UNCODED = "UNCODED"  # an error without extensions.code (a bug: every error should carry one)


@dataclass(slots=True)
class OperationRecord:
    name: str | None = None  # the client's operationName, or the document's once parsed
    outcome: str = "error"  # success (no errors), partial (data and errors), error (no data)
    codes: list[str] = field(default_factory=list)

    def answered(self, data: Any, errors: list[Any] | None) -> None:
        """The operation's final result: its outcome and the code of each error."""
        self.codes = [(getattr(error, "extensions", None) or {}).get("code") or UNCODED for error in errors or ()]
        self.outcome = "success" if not self.codes else ("partial" if data is not None else "error")


@dataclass(slots=True)
class RequestRecord:
    request_id: str
    method: str
    path: str
    tenant: str | None = None
    principal: str | None = None
    operations: list[OperationRecord] = field(default_factory=list)


_request: ContextVar[RequestRecord | None] = ContextVar("papergraph_request", default=None)
_operation: ContextVar[OperationRecord | None] = ContextVar("papergraph_operation", default=None)


def current_request() -> RequestRecord | None:
    return _request.get()


def current_operation() -> OperationRecord | None:
    return _operation.get()


@contextlib.contextmanager
def operation(client_name: str | None) -> Iterator[OperationRecord]:
    """Around one GraphQL operation of the current request (a batch runs several, each in its own task)."""
    record = OperationRecord(name=client_name)
    token = _operation.set(record)
    try:
        yield record
    finally:
        _operation.reset(token)
        request = _request.get()
        if request is not None:
            request.operations.append(record)


class ObserveOperation(SchemaExtension):
    """Names the current operation once its document is parsed, when the client sent no operationName."""

    def on_operation(self) -> Iterator[None]:
        yield
        record = _operation.get()
        if record is not None and record.name is None:
            record.name = self.execution_context.operation_name


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
    def __init__(self, app: ASGIApp, *, request_timeout: float, in_flight: InFlight, default_tenant: str) -> None:
        self.app = app
        self.request_timeout = request_timeout
        self.in_flight = in_flight
        self.default_tenant = default_tenant
        self.names = OperationNames()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        record = RequestRecord(request_id=state.get("request_id", ""), method=scope["method"], path=scope["path"])
        status = 500  # what the client sees when the app raises before answering

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.in_flight.enter()
        token = _request.set(record)
        started = time.perf_counter()
        try:
            with request_budget(self.request_timeout):
                await self.app(scope, receive, send_observed)
        finally:
            _request.reset(token)
            self.in_flight.leave()
            self._finish(record, state, status, time.perf_counter() - started)

    def _finish(self, record: RequestRecord, state: dict[str, Any], status: int, seconds: float) -> None:
        principal = state.get("principal")
        record.principal = principal.kind.value if principal is not None else None
        record.tenant = state.get("tenant_code") or (self.default_tenant if principal is not None else None)
        route = record.path if record.path in ROUTES else ("/sandbox" if record.path.startswith("/sandbox/")
                                                           else "other")
        metrics.HTTP_REQUESTS.labels(route, str(status)).inc()
        if route != "/graphql":
            return
        operations = record.operations
        for observed in operations:
            metrics.GRAPHQL_REQUESTS.labels(self.names.label(observed.name), observed.outcome).inc()
            for code in observed.codes:
                metrics.GRAPHQL_ERRORS.labels(code).inc()
        if not operations:  # refused before any operation ran (401, 403, 413, 415, bad JSON, …)
            metrics.GRAPHQL_REQUESTS.labels("-", "rejected").inc()
        label = self.names.label(operations[0].name) if len(operations) == 1 else ("batch" if operations else "-")
        metrics.GRAPHQL_DURATION.labels(label).observe(seconds)
