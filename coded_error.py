"""`CodedError`: a deliberate GraphQL error with a stable `extensions.code`.

It lives below every package that raises one (auth/ refuses fields with it, resolvers/ and server/ raise it) and
imports nothing of the project; `resolvers/errors.py` turns it, upstream failures and the unexpected into the
errors a client sees.
"""

from __future__ import annotations


class CodedError(Exception):
    """A deliberate GraphQL error with a stable code (e.g. FORBIDDEN, BAD_USER_INPUT)."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, code: str | None = None, **extensions) -> None:
        super().__init__(message)
        if code:
            self.code = code
        self.extensions = extensions
