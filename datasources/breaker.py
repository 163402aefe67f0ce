"""A circuit breaker per upstream: stop calling an upstream that keeps failing, and find out when it is back.

    CLOSED ──N consecutive failures──▶ OPEN ──cool-down passed──▶ HALF_OPEN ──probe answers──▶ CLOSED
                                         ▲                            │
                                         └────────probe fails─────────┘

A failure is what says the upstream cannot serve: a 5xx, a timeout, a refused or dropped connection. A 4xx
is an answer (the upstream is up and refused the request), so it counts as a success. While OPEN every call
is refused at once (`RestDataSource` raises `CircuitOpen`, coded UPSTREAM_UNAVAILABLE) without touching the
network; after the cool-down one call at a time goes through as a probe, and its outcome decides.

One breaker per datasource instance, so one per upstream per process: the workers of a server each learn
on their own, which costs each at most N failed calls. Pure state, no I/O, no locks: the event loop runs one
coroutine at a time between awaits.
"""

from __future__ import annotations

import time
from enum import Enum
from typing import Callable


class BreakerState(str, Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Admission(Enum):
    REFUSED = 0
    CALL = 1
    PROBE = 2  # the one call let through in HALF_OPEN


class CircuitBreaker:
    def __init__(
        self,
        service: str,
        *,
        failure_threshold: int = 5,
        cooldown: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[["CircuitBreaker", BreakerState], None] | None = None,
    ) -> None:
        """`on_change(breaker, previous_state)` is told of every transition (metrics, logs)."""
        self.service = service
        self.failure_threshold = failure_threshold
        self.cooldown = cooldown
        self.clock = clock
        self.on_change = on_change
        self.state = BreakerState.CLOSED
        self.consecutive_failures = 0
        self.opened_at = 0.0
        self._probing = False

    def admit(self) -> Admission:
        if self.state is BreakerState.CLOSED:
            return Admission.CALL
        if self.state is BreakerState.OPEN:
            if self.clock() - self.opened_at < self.cooldown:
                return Admission.REFUSED
            self._move(BreakerState.HALF_OPEN)
        if self._probing:
            return Admission.REFUSED
        self._probing = True
        return Admission.PROBE

    def succeeded(self) -> None:
        self.consecutive_failures = 0
        self._probing = False
        if self.state is not BreakerState.CLOSED:
            self._move(BreakerState.CLOSED)

    def failed(self) -> None:
        self.consecutive_failures += 1
        if self.state is BreakerState.HALF_OPEN:
            self._open()
        elif self.state is BreakerState.CLOSED and self.consecutive_failures >= self.failure_threshold:
            self._open()

    def abandoned(self, admission: Admission) -> None:
        """A call ended without a verdict (cancelled, or cut short by its request's budget rather than by the
        upstream's slowness): free the probe slot so the next call may probe."""
        if admission is Admission.PROBE:
            self._probing = False

    @property
    def retry_in(self) -> float:
        """Seconds until an OPEN breaker lets a probe through (0 otherwise)."""
        if self.state is not BreakerState.OPEN:
            return 0.0
        return max(0.0, self.cooldown - (self.clock() - self.opened_at))

    def _open(self) -> None:
        self.opened_at = self.clock()
        self._probing = False
        self._move(BreakerState.OPEN)

    def _move(self, state: BreakerState) -> None:
        previous, self.state = self.state, state
        if self.on_change is not None and previous is not state:
            self.on_change(self, previous)
