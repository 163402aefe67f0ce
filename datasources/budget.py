"""The request's time budget: one deadline per request, shared by every upstream call it makes.

The HTTP layer opens a budget when a request arrives (`request_budget(settings.request_timeout)`); each
`RestDataSource` call then waits at most `min(its own timeout, time left)` and, once the budget is spent,
fails at once with `UpstreamTimeout` instead of starting a call whose answer nobody would wait for. Retries
never outlive the budget either: they run inside the same deadline.

The deadline lives in a context variable, so it follows the request into every task graphql-core and the
loaders start, and code outside a request (the CLI, reconciliation) has no budget at all.

Work that must finish whatever the request's clock says — giving money back after a failed step (PAY-4),
undoing a purchase — runs inside `outside_request_budget()`; the datasources' own timeouts still bound it.
"""

from __future__ import annotations

import contextlib
import time
from contextvars import ContextVar
from typing import Iterator

_deadline: ContextVar[float | None] = ContextVar("papergraph_request_deadline", default=None)


class request_budget:  # noqa: N801 - used like the function it was: `with request_budget(seconds):`
    """Everything called inside shares a deadline `seconds` from now. A class, not a @contextlib.contextmanager
    generator: every request enters it, and the generator costs about three times as much (timeit)."""

    __slots__ = ("seconds", "_token")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __enter__(self) -> None:
        self._token = _deadline.set(time.monotonic() + self.seconds)

    def __exit__(self, *exc_info: object) -> None:
        _deadline.reset(self._token)


@contextlib.contextmanager
def outside_request_budget() -> Iterator[None]:
    """Compensations and ledger steps that must not be cut short because the request ran out of time."""
    token = _deadline.set(None)
    try:
        yield
    finally:
        _deadline.reset(token)


def time_left() -> float | None:
    """Seconds left in the current request's budget (negative once spent); None outside a budget."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()
