"""Fault injection and request accounting shared by every emulator.

Faults are asked for per request, with the header `X-Sandbox-Fault` (e.g. `status=503`,
`latency=250`, `timeout`, `drop`, `after`; several separated by `;`), or per run, by rules posted to
`POST /_sandbox/faults`:

    {"rules": [{"method": "GET", "path": "^/api/v1/.*/subscriptions", "status": 503, "times": 2}]}

A rule matches a method (optional) and a path regex (optional), may apply only `times` times or with
a `probability`, and adds `latency_ms`, answers `status`, hangs (`timeout`) or drops the connection
(`drop`). By default the fault strikes before the emulator sees the request, so nothing changes; with
`after` the emulator handles the request first — its change is made — and the fault replaces its answer:
the caller cannot tell whether a write happened (what idempotency keys are for). `DELETE /_sandbox/faults`
clears the rules. A base latency for every request (benchmarks) is set at construction or with
`PUT /_sandbox/latency {"ms": 5}`.

Every request other than `/_sandbox/*` is recorded; `GET /_sandbox/requests` lists them (method,
path, query) and `DELETE /_sandbox/requests` forgets them, so tests can count upstream calls at the
upstream itself.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

HANG_SECONDS = 30.0


class DroppedConnection(ConnectionResetError):
    """Raised after a partial response: over a socket the server closes it mid-body; in-process the
    client's transport sees the exception. Either way the caller observes a dropped connection."""


@dataclass
class FaultRule:
    method: str | None = None
    path: str | None = None
    status: int | None = None
    latency_ms: float = 0
    timeout: bool = False
    drop: bool = False
    after: bool = False
    times: int | None = None
    probability: float = 1.0
    body: Any = None
    _pattern: re.Pattern | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._pattern = re.compile(self.path) if self.path else None

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.method and self.method.upper() != method:
            return False
        if self._pattern and not self._pattern.search(path):
            return False
        return self.probability >= 1.0 or random.random() < self.probability


def parse_fault_header(value: str) -> FaultRule:
    rule = FaultRule()
    for part in filter(None, (p.strip() for p in value.split(";"))):
        key, _, arg = part.partition("=")
        key = key.strip().lower()
        if key == "status":
            rule.status = int(arg)
        elif key == "latency":
            rule.latency_ms = float(arg)
        elif key == "timeout":
            rule.timeout = True
        elif key == "drop":
            rule.drop = True
        elif key == "after":
            rule.after = True
    return rule


class SandboxControl:
    """State of fault rules and the request log of one emulator."""

    def __init__(self, latency_ms: float = 0, log_size: int = 100_000) -> None:
        self.latency_ms = latency_ms
        self.rules: list[FaultRule] = []
        self.requests: deque[dict[str, str]] = deque(maxlen=log_size)
        self.total = 0

    def count(self, method: str | None = None, path_contains: str | None = None) -> int:
        return sum(
            1
            for r in self.requests
            if (method is None or r["method"] == method) and (path_contains is None or path_contains in r["path"])
        )

    def reset(self) -> None:
        self.rules.clear()
        self.requests.clear()

    def routes(self) -> list[Route]:
        async def get_faults(request: Request) -> JSONResponse:
            return JSONResponse({"rules": [_rule_json(r) for r in self.rules], "latencyMs": self.latency_ms})

        async def post_faults(request: Request) -> JSONResponse:
            payload = await request.json()
            try:
                rules = [FaultRule(**{k: v for k, v in r.items() if not k.startswith("_")}) for r in payload["rules"]]
            except (KeyError, TypeError, re.error) as exc:
                return JSONResponse({"code": "INVALID_FAULT", "message": str(exc)}, status_code=400)
            self.rules.extend(rules)
            return JSONResponse({"rules": [_rule_json(r) for r in self.rules]}, status_code=201)

        async def delete_faults(request: Request) -> JSONResponse:
            self.rules.clear()
            return JSONResponse({"rules": []})

        async def put_latency(request: Request) -> JSONResponse:
            self.latency_ms = float((await request.json())["ms"])
            return JSONResponse({"latencyMs": self.latency_ms})

        async def get_requests(request: Request) -> JSONResponse:
            return JSONResponse({"total": self.total, "requests": list(self.requests)})

        async def delete_requests(request: Request) -> JSONResponse:
            self.requests.clear()
            self.total = 0
            return JSONResponse({"total": 0})

        return [
            Route("/_sandbox/faults", get_faults, methods=["GET"]),
            Route("/_sandbox/faults", post_faults, methods=["POST"]),
            Route("/_sandbox/faults", delete_faults, methods=["DELETE"]),
            Route("/_sandbox/latency", put_latency, methods=["PUT"]),
            Route("/_sandbox/requests", get_requests, methods=["GET"]),
            Route("/_sandbox/requests", delete_requests, methods=["DELETE"]),
        ]


def _kept(messages: list) -> Send:
    async def send(message) -> None:
        messages.append(message)

    return send


def _rule_json(rule: FaultRule) -> dict[str, Any]:
    return {k: v for k, v in rule.__dict__.items() if not k.startswith("_")}


class FaultMiddleware:
    """ASGI middleware applying `SandboxControl`'s latency and faults and recording requests."""

    def __init__(self, app: ASGIApp, control: SandboxControl) -> None:
        self.app = app
        self.control = control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sandbox/"):
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        self.control.total += 1
        self.control.requests.append(
            {"method": method, "path": path, "query": scope.get("query_string", b"").decode("latin-1")}
        )
        rule = self._rule_for(scope, method, path)
        latency = self.control.latency_ms + (rule.latency_ms if rule else 0)
        if latency:
            await asyncio.sleep(latency / 1000)
        if rule is None:
            await self.app(scope, receive, send)
            return
        if rule.times is not None:
            rule.times -= 1
        answer: list = []
        if rule.after:  # the emulator makes its change; what it answers is kept back
            await self.app(scope, receive, _kept(answer))
        if rule.timeout:
            await asyncio.sleep(HANG_SECONDS)
        if rule.drop:
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1000")]})
            await send({"type": "http.response.body", "body": b'{"partial":', "more_body": True})
            raise DroppedConnection("sandbox fault: connection dropped")
        if rule.status:
            body = rule.body or {"code": "SANDBOX_FAULT", "message": f"injected fault {rule.status}"}
            await JSONResponse(body, status_code=rule.status)(scope, receive, send)
            return
        if rule.after:
            for message in answer:
                await send(message)
            return
        await self.app(scope, receive, send)

    def _rule_for(self, scope: Scope, method: str, path: str) -> FaultRule | None:
        for name, value in scope.get("headers", []):
            if name == b"x-sandbox-fault":
                return parse_fault_header(value.decode("latin-1"))
        for rule in self.control.rules:
            if rule.matches(method, path):
                return rule
        return None
