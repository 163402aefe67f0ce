"""Turns exceptions into GraphQL errors with stable codes, and masks the unexpected.

Upstream failures carry their own code (UPSTREAM_UNAVAILABLE, UPSTREAM_TIMEOUT, …); anything that is
not a known, deliberate error becomes INTERNAL_SERVER_ERROR with a generic message. No stack trace or
exception text of an unexpected error ever reaches a client in production; in development the
message (never the trace) is kept to help debugging.
"""

from __future__ import annotations

import logging
from typing import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from datasources.base import UpstreamError
from coded_error import CodedError  # noqa: F401  (re-exported: resolvers raise it from here)

log = logging.getLogger("papergraph.errors")


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
        log.error("unexpected error in %s", error.path, exc_info=original)
        message = "Internal server error" if self.mask_unexpected else f"Internal server error: {original}"
        return _with(error, message, {"code": "INTERNAL_SERVER_ERROR"})


def _with(error: GraphQLError, message: str, extensions: dict) -> GraphQLError:
    return GraphQLError(message, nodes=error.nodes, source=error.source, positions=error.positions,
                        path=error.path, original_error=None, extensions=extensions)
