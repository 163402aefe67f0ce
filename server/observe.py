"""What papergraph does around every HTTP request: its time budget, and the count of requests in flight.

`Observe` is the ASGI middleware behind the API-1 headers: it opens the request's time budget
(`datasources/budget.py`, `PAPERGRAPH_REQUEST_TIMEOUT`) and counts the requests in flight, so the lifespan
can wait for them before closing the pools they use (graceful shutdown).
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send

from datasources.budget import request_budget


class InFlight:
    """Requests being served by this process; `drained()` waits until none is left."""

    def __init__(self) -> None:
        self.count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def enter(self) -> None:
        self.count += 1
        self._idle.clear()

    def leave(self) -> None:
        self.count -= 1
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


class Observe:
    def __init__(self, app: ASGIApp, *, request_timeout: float, in_flight: InFlight) -> None:
        self.app = app
        self.request_timeout = request_timeout
        self.in_flight = in_flight

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.in_flight.enter()
        try:
            with request_budget(self.request_timeout):
                await self.app(scope, receive, send)
        finally:
            self.in_flight.leave()
