"""The one hardened way papergraph talks HTTP to an upstream.

Each upstream is a `RestDataSource` subclass with a base URL and domain methods. All of them share
the same rules: an overall deadline per call (retries included) that never outlives the request's own
budget (`datasources/budget.py`), jittered backoff retries for idempotent reads only, a circuit breaker
per upstream (`datasources/breaker.py`), an idempotency key on every money-moving POST, and non-2xx
answers mapped to typed `UpstreamError`s that carry the service, the status and the body. A datasource
never knows GraphQL; resolvers reach it only through loaders or mutations.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from typing import Any

import httpx
import orjson
from opentelemetry import propagate, trace

from datasources.breaker import Admission, BreakerState, CircuitBreaker
from datasources.budget import time_left
from datasources.transport import AiohttpClient, UpstreamResponse
from telemetry import metrics


DOCUMENT_TYPES = frozenset({"application/pdf", "application/octet-stream"})  # answered as bytes, not decoded


class UpstreamError(Exception):
    """An upstream answered with an error, or did not answer. `code` is the stable GraphQL error code.

    `sent` is False only when no attempt of the call can have reached the upstream: every attempt was
    refused by the circuit breaker, by the request's spent budget, or before a connection was made
    (connection refused, connect or pool timeout). A money-moving call that was not sent certainly did
    nothing; one that was sent and got no answer may have done its work (PAY-4)."""

    code = "UPSTREAM_ERROR"

    def __init__(self, service: str, status: int | None = None, body: Any = None, message: str | None = None,
                 *, sent: bool = True):
        self.service = service
        self.status = status
        self.body = body
        self.sent = sent
        super().__init__(message or f"{service} answered {status}")


class UpstreamUnavailable(UpstreamError):
    """5xx, refused or dropped connection: the upstream cannot serve right now."""

    code = "UPSTREAM_UNAVAILABLE"


class CircuitOpen(UpstreamUnavailable):
    """The upstream's circuit breaker is open: papergraph answered for it without calling it."""


class UpstreamTimeout(UpstreamError):
    """The call's deadline passed before the upstream answered."""

    code = "UPSTREAM_TIMEOUT"


class UpstreamNotFound(UpstreamError):
    code = "NOT_FOUND"


class UpstreamRejected(UpstreamError):
    """A 4xx other than 404: the upstream refused the request; `body` says why."""

    code = "UPSTREAM_REJECTED"

    @property
    def upstream_code(self) -> str | None:
        if isinstance(self.body, dict):
            return self.body.get("code") or self.body.get("errorCode")
        return None

    @property
    def upstream_message(self) -> str:
        if isinstance(self.body, dict):
            return str(self.body.get("message") or self.body.get("error_description") or self.body.get("error") or "")
        return str(self.body or "")


_RETRYABLE = (UpstreamUnavailable, UpstreamTimeout)


def is_failure(error: UpstreamError) -> bool:
    """What the circuit breaker counts: no answer, or a 5xx. A 4xx (429 included) is the upstream answering."""
    return error.status is None or error.status >= 500


class RestDataSource:
    """Base class of the upstream clients. Subclasses set `service` and add domain methods."""

    service = "upstream"
    tracer: trace.Tracer | None = None  # set when tracing is on (telemetry/tracing.py): a span per call

    def __init__(
        self,
        client: httpx.AsyncClient | AiohttpClient,
        *,
        timeout: float = 5.0,
        read_retries: int = 2,
        backoff_base: float = 0.05,
        breaker_failures: int = 5,
        breaker_cooldown: float = 10.0,
    ) -> None:
        self.client = client
        self.timeout = timeout
        self.read_retries = read_retries
        self.backoff_base = backoff_base
        self.calls: Counter[str] = Counter()
        self.breaker = CircuitBreaker(self.service, failure_threshold=breaker_failures, cooldown=breaker_cooldown,
                                      on_change=_breaker_changed)
        metrics.set_breaker_state(self.service, self.breaker.state.value)

    # hooks ---------------------------------------------------------------------------------------
    async def auth_headers(self) -> dict[str, str]:
        return {}

    def error_from_response(self, response: httpx.Response | UpstreamResponse) -> UpstreamError:
        body = _decode(response)
        status = response.status_code
        if status == 404:
            return UpstreamNotFound(self.service, status, body)
        if status >= 500:
            return UpstreamUnavailable(self.service, status, body)
        return UpstreamRejected(self.service, status, body)

    # verbs ---------------------------------------------------------------------------------------
    async def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return await self._call("GET", path, params=params, idempotent=True)

    async def post(
        self, path: str, json: Any = None, *, idempotency_key: str | None = None, data: Any = None
    ) -> Any:
        # A POST is retried only when it carries an idempotency key the upstream honours.
        return await self._call(
            "POST", path, json=json, data=data, idempotency_key=idempotency_key, idempotent=idempotency_key is not None
        )

    async def put(self, path: str, json: Any = None, *, idempotency_key: str | None = None) -> Any:
        return await self._call("PUT", path, json=json, idempotency_key=idempotency_key, idempotent=True)

    async def patch(self, path: str, json: Any = None) -> Any:
        return await self._call("PATCH", path, json=json, idempotent=False)

    async def delete(self, path: str) -> Any:
        return await self._call("DELETE", path, idempotent=True)

    # machinery -----------------------------------------------------------------------------------
    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        idempotency_key: str | None = None,
        idempotent: bool,
    ) -> Any:
        if self.tracer is None:
            return await self._call_within_budget(method, path, params, json, data, idempotency_key, idempotent)
        with self.tracer.start_as_current_span(
                f"{self.service} {method}", kind=trace.SpanKind.CLIENT,
                attributes={"peer.service": self.service, "http.request.method": method,
                            "url.path": path.split("?")[0]},
                record_exception=False) as span:  # an exception's message may quote what was sent
            try:
                return await self._call_within_budget(method, path, params, json, data, idempotency_key, idempotent)
            except UpstreamError as error:
                span.set_attribute("error.type", error.code)
                if error.status is not None:
                    span.set_attribute("http.response.status_code", error.status)
                span.set_status(trace.StatusCode.ERROR)
                raise

    async def _call_within_budget(self, method: str, path: str, params: dict[str, Any] | None, json: Any, data: Any,
                                  idempotency_key: str | None, idempotent: bool) -> Any:
        left = time_left()
        if left is not None and left <= 0:
            metrics.child(metrics.UPSTREAM_CALLS, self.service, "budget_spent").inc()
            raise UpstreamTimeout(self.service, None, None,
                                  f"{self.service} was not called: the request's time budget is spent", sent=False)
        # the request's budget, when shorter, bounds the call; a timeout it causes says nothing of the upstream
        budget_bound = left is not None and left < self.timeout
        timeout = left if budget_bound else self.timeout
        attempts = 1 + (self.read_retries if idempotent else 0)
        admission: Admission | None = None  # set while an attempt is in flight, awaiting the breaker's verdict
        sent = False  # whether any attempt may have reached the upstream (UpstreamError.sent)
        try:
            async with asyncio.timeout(timeout):
                for attempt in range(attempts):
                    admission = self._admit()
                    try:
                        result = await self._once(method, path, params, json, data, idempotency_key)
                    except UpstreamError as error:
                        self._judge(error)
                        admission = None
                        sent = sent or error.sent
                        if not isinstance(error, _RETRYABLE) or attempt + 1 >= attempts:
                            raise
                    else:
                        self.breaker.succeeded()
                        admission = None
                        return result
                    # full jitter: sleep a random fraction of the exponential step
                    await asyncio.sleep(random.uniform(0, self.backoff_base * (2**attempt)))
        except TimeoutError:
            if admission is not None:
                metrics.child(metrics.UPSTREAM_CALLS, self.service, "timeout").inc()
            if admission is not None and budget_bound:
                self.breaker.abandoned(admission)
            elif admission is not None:
                self.breaker.failed()
            sent, admission = sent or admission is not None, None
            raise UpstreamTimeout(self.service, None, None, f"{self.service} did not answer within {timeout:.3g}s",
                                  sent=sent)
        except UpstreamError as error:  # a later attempt refused unsent does not unsend an earlier one
            error.sent = error.sent or sent
            raise
        finally:
            if admission is not None:  # cancelled from outside (the client left, the server is stopping)
                self.breaker.abandoned(admission)
        raise AssertionError("unreachable")  # pragma: no cover

    def _measure(self, started: float, status: str) -> None:
        metrics.child(metrics.UPSTREAM_CALLS, self.service, status).inc()
        metrics.child(metrics.UPSTREAM_DURATION, self.service).observe(time.perf_counter() - started)

    def _judge(self, error: UpstreamError) -> None:
        if is_failure(error):
            self.breaker.failed()
        else:
            self.breaker.succeeded()

    def _admit(self) -> Admission:
        admission = self.breaker.admit()
        if admission is Admission.REFUSED:
            metrics.child(metrics.UPSTREAM_CALLS, self.service, "circuit_open").inc()
            raise CircuitOpen(self.service, None, None,
                              f"{self.service} is unavailable (circuit open, next probe in "
                              f"{self.breaker.retry_in:.1f}s)", sent=False)
        return admission

    async def _once(self, method, path, params, json, data, idempotency_key) -> Any:
        headers = {"accept": "application/json", **await self.auth_headers()}
        if self.tracer is not None:
            propagate.inject(headers)  # traceparent: the upstream's spans join this trace
        if idempotency_key:
            headers["idempotency-key"] = idempotency_key
        content = None
        if json is not None:
            content = orjson.dumps(json, default=_json_default)
            headers["content-type"] = "application/json"
        self.calls[f"{method} {path.split('?')[0]}"] += 1
        started = time.perf_counter()
        try:
            response = await self.client.request(
                method, path, params=_clean(params), content=content, data=data, headers=headers
            )
        except (httpx.ConnectTimeout, httpx.PoolTimeout) as exc:  # no connection: nothing was sent
            self._measure(started, "timeout")
            raise UpstreamTimeout(self.service, None, None, f"{self.service} could not be connected to in time",
                                  sent=False) from exc
        except httpx.ConnectError as exc:  # refused or unreachable before a byte of the request was written
            self._measure(started, "connection_error")
            raise UpstreamUnavailable(self.service, None, None, f"{self.service} connection failed",
                                      sent=False) from exc
        except httpx.TimeoutException as exc:
            self._measure(started, "timeout")
            raise UpstreamTimeout(self.service, None, None, f"{self.service} timed out") from exc
        except (httpx.TransportError, OSError) as exc:
            self._measure(started, "connection_error")
            raise UpstreamUnavailable(self.service, None, None, f"{self.service} connection failed") from exc
        self._measure(started, str(response.status_code))
        if response.status_code >= 400:
            raise self.error_from_response(response)
        if response.status_code == 204 or not response.content:
            return None
        if response.headers.get("content-type", "").split(";")[0].strip() in DOCUMENT_TYPES:
            return response.content  # a document (a bill statement's PDF, EBL-4): its bytes, untouched
        return _decode(response)


def _breaker_changed(breaker: CircuitBreaker, previous: BreakerState) -> None:
    metrics.set_breaker_state(breaker.service, breaker.state.value, opened=breaker.state is BreakerState.OPEN)
    log = logging.getLogger("papergraph.upstream")
    if breaker.state is BreakerState.OPEN:
        log.warning("circuit opened for %s after %d consecutive failures; next probe in %.1fs", breaker.service,
                    breaker.consecutive_failures, breaker.cooldown)
    else:
        log.info("circuit %s for %s (was %s)", breaker.state.value, breaker.service, previous.value)


def _decode(response: httpx.Response | UpstreamResponse) -> Any:
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return response.text


def _clean(params: dict[str, Any] | None) -> dict[str, Any] | None:
    if params is None:
        return None
    return {k: v for k, v in params.items() if v is not None}


def _json_default(value: Any) -> Any:
    from datetime import date, datetime
    from decimal import Decimal

    if isinstance(value, Decimal):
        return str(value)  # money crosses the wire as an exact decimal string (MNY-1)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")
