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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    SelectionSetNode,
    Source,
    parse,
    print_ast,
)

from datasources.db import Database
from datasources.repositories.persisted_operations import PersistedOperationRepository
from server.limits import LRUCache, OperationPolicy, validate_with_policy

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
        self._cache: LRUCache[str, _Known] = LRUCache(cache_size)

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
        self._cache.put(sha256, _Known(document, safelisted=False))

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
            return known
        row = await self._repository().by_sha256(sha256)  # unknown, or safelisted since it was cached
        if row is None or (need_safelisted and not row.safelisted):
            return None
        known = _Known(row.document, row.safelisted)
        self._cache.put(sha256, known)
        return known

    def _repository(self) -> PersistedOperationRepository:
        return PersistedOperationRepository(self._db())


# -- registering a front end's operations (`papergraph register-operations`) ------------------------------
@dataclass(frozen=True)
class FileOperation:
    """One named operation of a front end, printed canonically with the fragments it uses."""

    name: str
    document: str
    origin: str  # file:line, for messages

    @property
    def sha256(self) -> str:
        return sha256_hex(self.document)


class OperationFileError(Exception):
    """The files do not make a registrable set of operations; `problems` lists each, with file:line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def graphql_files(paths: list[str]) -> list[Path]:
    """The `.graphql`/`.gql` files named, or found under the directories named."""
    files: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix in (".graphql", ".gql") and p.is_file())
        elif path.is_file():
            files.append(path)
        else:
            raise OperationFileError([f"{name}: no such file or directory"])
    if not files:
        raise OperationFileError([f"no .graphql files in {', '.join(paths)}"])
    return files


def operations_from_files(files: list[Path], schema: GraphQLSchema, policy: OperationPolicy) -> list[FileOperation]:
    """Each named operation of the files with the fragments it spreads (from any of the files), validated
    against the schema and the operation limits. Raises OperationFileError listing every problem."""
    problems: list[str] = []
    operations: dict[str, tuple[OperationDefinitionNode, str]] = {}
    fragments: dict[str, tuple[FragmentDefinitionNode, str]] = {}
    for file in files:
        try:
            document = parse(Source(file.read_text(encoding="utf-8"), str(file)))
        except GraphQLError as error:
            problems.append(f"{_origin(file, error.locations)}: {error.message}")
            continue
        for definition in document.definitions:
            origin = _origin(file, [definition.loc.source.get_location(definition.loc.start)] if definition.loc else None)
            if isinstance(definition, FragmentDefinitionNode):
                name = definition.name.value
                if name in fragments:
                    problems.append(f"{origin}: fragment {name} is also defined at {fragments[name][1]}")
                fragments[name] = (definition, origin)
            elif isinstance(definition, OperationDefinitionNode):
                if definition.name is None:
                    problems.append(f"{origin}: an operation without a name cannot be registered")
                    continue
                name = definition.name.value
                if name in operations:
                    problems.append(f"{origin}: operation {name} is also defined at {operations[name][1]}")
                operations[name] = (definition, origin)
    found: list[FileOperation] = []
    for name, (operation, origin) in sorted(operations.items()):
        used, missing = _fragments_used(operation, {n: f for n, (f, _) in fragments.items()})
        problems += [f"{origin}: operation {name} spreads unknown fragment {m}" for m in missing]
        document = DocumentNode(definitions=(operation, *(used[n] for n in sorted(used))))
        text = print_ast(document)
        for error in validate_with_policy(schema, parse(text), policy):
            problems.append(f"{origin}: operation {name}: {error.message}")
        found.append(FileOperation(name, text, origin))
    if problems:
        raise OperationFileError(problems)
    return found


async def register_operations(db: Database, operations: list[FileOperation]) -> int:
    """Safelist each operation; the number newly safelisted."""
    repository = PersistedOperationRepository(db)
    added = 0
    for operation in operations:
        added += await repository.save(operation.sha256, operation.document, operation_name=operation.name,
                                       safelisted=True)
    return added


def _fragments_used(operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]
                    ) -> tuple[dict[str, FragmentDefinitionNode], list[str]]:
    used: dict[str, FragmentDefinitionNode] = {}
    missing: list[str] = []
    pending = [operation]
    while pending:
        node = pending.pop()
        for spread in _spreads(node.selection_set):
            if spread in used or spread in missing:
                continue
            if spread not in fragments:
                missing.append(spread)
                continue
            used[spread] = fragments[spread]
            pending.append(fragments[spread])
    return used, missing


def _spreads(selection_set: SelectionSetNode | None) -> list[str]:
    names: list[str] = []
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FragmentSpreadNode):
            names.append(selection.name.value)
        else:
            names += _spreads(selection.selection_set)
    return names


def _origin(file: Path, locations: Any) -> str:
    line = locations[0].line if locations else None
    return f"{file}:{line}" if line else str(file)
