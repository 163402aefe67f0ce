"""Turns exceptions into GraphQL errors with stable codes, masks the unexpected, and logs each error once.

Upstream failures carry their own code (UPSTREAM_UNAVAILABLE, UPSTREAM_TIMEOUT, …), a database that cannot
be reached DATABASE_UNAVAILABLE (datasources/db.py `database_unavailable`); anything that is
not a known, deliberate error becomes INTERNAL_SERVER_ERROR with a generic message. No stack trace or
exception text of an unexpected error ever reaches a client in production; in development the
message (never the trace) is kept to help debugging.

Logging (issue 14 #7, `log_graphql_errors`, which replaces strawberry's own error logging): an expected
refusal — a parse, validation or variable error, a limit, FORBIDDEN, UNAUTHENTICATED, BAD_USER_INPUT — is one
INFO line (DEBUG for parse and validation) without a traceback, carrying the operation's name, a hash of its
document, the code and the path, and never the error's message: graphql-core's messages and source excerpts
quote the document's inline values and the variables (a password, a TOTP code, an e-mail, a name). An
upstream failure is a WARNING without traceback. An unexpected error is logged by `ErrorCodes` at ERROR with
its traceback, which the log formatter redacts.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any, Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from datasources.base import UpstreamError
from datasources.db import database_unavailable

log = logging.getLogger("papergraph.errors")


class CodedError(Exception):
    """A deliberate GraphQL error with a stable code (e.g. FORBIDDEN, BAD_USER_INPUT)."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, code: str | None = None, **extensions) -> None:
        super().__init__(message)
        if code:
            self.code = code
        self.extensions = extensions


class ErrorCodes(SchemaExtension):
    def __init__(self, *, mask_unexpected: bool = True) -> None:
        self.mask_unexpected = mask_unexpected

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        result.errors = [self._process(error) for error in result.errors]

    def _process(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if original is None or isinstance(original, GraphQLError):
            return error  # syntax and validation errors are already client-facing
        if isinstance(original, UpstreamError):
            message = f"{original.service} is unavailable" if original.code == "UPSTREAM_UNAVAILABLE" else (
                f"{original.service} did not answer in time" if original.code == "UPSTREAM_TIMEOUT"
                else f"{original.service} refused the request"
            )
            return _with(error, message, {"code": original.code, "service": original.service})
        if isinstance(original, CodedError):
            return _with(error, str(original), {"code": original.code, **original.extensions})
        if database_unavailable(original):
            log.warning("the database is unavailable in %s: %s", error.path, type(original).__name__)
            return _with(error, "The database is unavailable; try again shortly", {"code": "DATABASE_UNAVAILABLE"})
        log.error("unexpected error in %s", error.path, exc_info=original)
        message = "Internal server error" if self.mask_unexpected else f"Internal server error: {original}"
        return _with(error, message, {"code": "INTERNAL_SERVER_ERROR"})


def _with(error: GraphQLError, message: str, extensions: dict) -> GraphQLError:
    return GraphQLError(message, nodes=error.nodes, source=error.source, positions=error.positions,
                        path=error.path, original_error=None, extensions=extensions)


DEBUG_CODES = frozenset({"GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED"})


def document_hash(text: str | None) -> str | None:
    """What log lines name a document by: the first 16 hex digits of its SHA-256 (never its text)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16] if text else None


def log_graphql_errors(errors: list[GraphQLError], execution_context: Any = None) -> None:
    """One line per expected error (see the module docstring); unexpected errors are `ErrorCodes`' to log."""
    for error in errors:
        original = error.original_error
        if original is not None and not isinstance(original, (GraphQLError, CodedError, UpstreamError)):
            continue  # unexpected: ErrorCodes logs it once, with its (redacted) traceback
        if isinstance(original, UpstreamError):
            level, code = logging.WARNING, original.code
        else:
            code = (error.extensions or {}).get("code") or getattr(original, "code", None) or "BAD_USER_INPUT"
            level = logging.DEBUG if code in DEBUG_CODES else logging.INFO
        if not log.isEnabledFor(level):
            continue
        name = _safe(lambda: execution_context.operation_name)
        name = name[:64] if isinstance(name, str) else None
        text = _safe(lambda: execution_context.query)
        log.log(level, "GraphQL error %s in operation %s at %s", code, name or "-",
                ".".join(str(part) for part in error.path) if error.path else "-",
                extra={"error_code": code, "operation": name, "document_hash": document_hash(text),
                       "path": list(error.path) if error.path else None})


def _safe(read: Any) -> Any:
    try:
        return read()
    except Exception:  # noqa: BLE001 - no context, or no document to name the operation from
        return None
