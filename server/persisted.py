"""Persisted operations: automatic persisted queries (APQ) for every client, and a safelist mode.

APQ follows Apollo's protocol: a request carries `extensions.persistedQuery = {version: 1, sha256Hash}`.
With the hash alone, the document is looked up (an in-process LRU in front of the `persisted_operation`
table, so every server process shares what any of them learnt); an unknown hash answers
`PERSISTED_QUERY_NOT_FOUND`, and the client sends the hash again with the document, which registers it
once the hash is verified and the document has passed validation and the limits.

In safelist mode (`PAPERGRAPH_OPERATION_SAFELIST`) only the operations `papergraph register-operations`
registered are accepted, by hash or by text (identical, or identical once printed canonically, as the
command prints them); everything else is refused with `OPERATION_NOT_IN_SAFELIST`, and APQ registers
nothing new.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

from graphql import GraphQLError, parse, print_ast

from datasources.db import Database
from datasources.repositories.persisted_operations import PersistedOperationRepository

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
NOT_IN_SAFELIST = "OPERATION_NOT_IN_SAFELIST"
BAD_REQUEST = "BAD_REQUEST"

CACHE_SIZE = 1000  # documents kept in memory per process
SHA256_HEX = re.compile(r"^[0-9a-fA-F]{64}$")


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical(text: str, max_tokens: int | None = None) -> str | None:
    """The document as graphql-core prints it (what the command registers); None when it does not parse."""
    try:
        return print_ast(parse(text, no_location=True, max_lexical_tokens=max_tokens))
    except GraphQLError:
        return None


class PersistedQueryError(Exception):
    """A request refused before execution; the view answers it as a GraphQL error with this code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class _Known:
    document: str
    safelisted: bool


@dataclass(frozen=True)
class Resolved:
    """The document to execute, and the hash to register once it has executed (APQ), if any."""

    query: str | None
    register: str | None = None


class PersistedOperations:
    def __init__(self, db: Callable[[], Database], *, safelist: bool, max_tokens: int | None = None,
                 cache_size: int = CACHE_SIZE) -> None:
        self._db = db
        self.safelist = safelist
        self.max_tokens = max_tokens
        self.cache_size = cache_size
        self._cache: OrderedDict[str, _Known] = OrderedDict()

    async def resolve(self, query: str | None, extensions: dict[str, Any] | None) -> Resolved:
        """Raises PersistedQueryError."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            if self.safelist and query:
                await self._require_safelisted(query)
            return Resolved(query)
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            raise PersistedQueryError(BAD_REQUEST, "Unsupported persisted query version")
        sha256 = persisted.get("sha256Hash")
        if not isinstance(sha256, str) or not SHA256_HEX.match(sha256):
            raise PersistedQueryError(BAD_REQUEST, "persistedQuery.sha256Hash must be a hex SHA-256")
        sha256 = sha256.lower()
        if query is None:
            known = await self._lookup(sha256, need_safelisted=self.safelist)
            if known is None:
                raise PersistedQueryError(NOT_FOUND, "PersistedQueryNotFound")
            return Resolved(known.document)
        if sha256_hex(query) != sha256:
            raise PersistedQueryError(HASH_MISMATCH, "provided sha does not match query")
        if self.safelist:
            await self._require_safelisted(query)
            return Resolved(query)
        return Resolved(query, register=None if sha256 in self._cache else sha256)

    async def register(self, sha256: str, document: str) -> None:
        """APQ: remember a verified document that executed (never in safelist mode)."""
        if self.safelist:
            return
        await self._repository().save(sha256, document)
        self._remember(sha256, _Known(document, safelisted=False))

    async def _require_safelisted(self, query: str) -> None:
        if await self._lookup(sha256_hex(query), need_safelisted=True) is not None:
            return
        printed = canonical(query, self.max_tokens)
        if printed is not None and await self._lookup(sha256_hex(printed), need_safelisted=True) is not None:
            return
        raise PersistedQueryError(
            NOT_IN_SAFELIST,
            "This operation is not in the safelist: only operations registered with `papergraph "
            "register-operations` are accepted (PAPERGRAPH_OPERATION_SAFELIST)",
        )

    async def _lookup(self, sha256: str, *, need_safelisted: bool) -> _Known | None:
        known = self._cache.get(sha256)
        if known is not None and (known.safelisted or not need_safelisted):
            self._cache.move_to_end(sha256)
            return known
        row = await self._repository().by_sha256(sha256)  # unknown, or safelisted since it was cached
        if row is None or (need_safelisted and not row.safelisted):
            return None
        known = _Known(row.document, row.safelisted)
        self._remember(sha256, known)
        return known

    def _remember(self, sha256: str, known: _Known) -> None:
        self._cache[sha256] = known
        self._cache.move_to_end(sha256)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def _repository(self) -> PersistedOperationRepository:
        return PersistedOperationRepository(self._db())
