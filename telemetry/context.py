"""What the layers of one request learn about it, for its log lines, metrics and access line.

`server/observe.py` opens a `RequestRecord` per HTTP request and a GraphQL operation adds an
`OperationRecord` through `operation()`; both live in context variables, so they follow the request into the
tasks graphql-core and the loaders start, and any log line written meanwhile can name its request
(telemetry/logs.py).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

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
    status: int = 500  # what the client sees when the app raises before answering
    tenant: str | None = None
    principal: str | None = None
    operations: list[OperationRecord] = field(default_factory=list)


_request: ContextVar[RequestRecord | None] = ContextVar("papergraph_request", default=None)
_operation: ContextVar[OperationRecord | None] = ContextVar("papergraph_operation", default=None)


def current_request() -> RequestRecord | None:
    return _request.get()


def current_operation() -> OperationRecord | None:
    return _operation.get()


# Both context managers below are classes rather than @contextlib.contextmanager generators: every request
# enters them, and a generator-based one costs about three times as much (timeit).
class serving:  # noqa: N801 - used like the function it was: `with serving(record):`
    """Around one HTTP request: `record` is the current request for everything it runs."""

    __slots__ = ("record", "_token")

    def __init__(self, record: RequestRecord) -> None:
        self.record = record

    def __enter__(self) -> RequestRecord:
        self._token = _request.set(self.record)
        return self.record

    def __exit__(self, *exc_info: Any) -> None:
        _request.reset(self._token)


class operation:  # noqa: N801 - used like the function it was: `with operation(name) as record:`
    """Around one GraphQL operation of the current request (a batch runs several, each in its own task)."""

    __slots__ = ("record", "_token")

    def __init__(self, client_name: str | None) -> None:
        self.record = OperationRecord(name=client_name)

    def __enter__(self) -> OperationRecord:
        self._token = _operation.set(self.record)
        return self.record

    def __exit__(self, *exc_info: Any) -> None:
        _operation.reset(self._token)
        request = _request.get()
        if request is not None:
            request.operations.append(self.record)
