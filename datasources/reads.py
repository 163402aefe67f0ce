"""Read statements declared once with SQLAlchemy and run on the cheapest path the database offers.

Loaders answer every request with a handful of bulk reads (a dashboard: five). Through an ORM session each
one costs a pool checkout with a pre-ping, BEGIN, the statement, ROLLBACK, and SQLAlchemy's compile-cache
lookup and greenlet hops: measured on this machine, 1.4 ms of CPU per read, against 0.2 ms for the same
statement on a raw asyncpg connection (`bench/profile.py`; the figures are in README "Benchmarks").

A `ReadQuery` keeps the statement in SQLAlchemy (one definition, both databases) and compiles it once per
dialect and shape:
- PostgreSQL: to asyncpg's SQL with `$n` parameters, run on the database's own asyncpg pool in autocommit
  (a read needs no transaction: it sees committed rows, as a fresh session did); lists are passed as one
  array parameter (`= ANY($n)`), so the statement text — and asyncpg's prepared statement — is the same for
  any number of keys;
- SQLite (the embedded default): executed by SQLAlchemy Core on the engine, with expanding IN lists.
Either way the rows come back as the same read-only records: one named tuple per query, with the model's
attribute names (`Registration.user_metadata`, not the column's `metadata`) and values converted by the
column types' own result processors (Money quantized to two places, JSON decoded).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ColumnElement, Select


def model_columns(model: type, *, prefix: str = "") -> dict[str, ColumnElement]:
    """The mapped columns of an ORM model by attribute name (`prefix` + name, for joined models)."""
    return {prefix + attr.key: attr.columns[0] for attr in sa.inspect(model).column_attrs}


class Shape:
    """What a query's builder may ask of the dialect: a parameter holding a list, compared by membership."""

    def __init__(self, dialect_name: str) -> None:
        self.postgresql = dialect_name == "postgresql"

    def any_of(self, column: ColumnElement, name: str) -> ColumnElement[bool]:
        """`column` is one of the list parameter `name`: `= ANY($n)` on PostgreSQL (one array parameter), an
        expanding IN elsewhere."""
        if self.postgresql:
            return column == sa.any_(sa.bindparam(name))
        return column.in_(sa.bindparam(name, expanding=True))


NUMERIC_OID = 1700  # what asyncpg reports for NUMERIC columns (and returns as Decimal)


def _result_processor(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """The column type's own result conversion on this dialect (a TypeDecorator's `process_result_value`
    included). SQLAlchemy's asyncpg numeric types ask for the column's type oid: Money and other NUMERICs."""
    try:
        return type_._cached_result_processor(dialect, None)  # noqa: SLF001 - SQLAlchemy's own cache
    except TypeError:
        return type_._cached_result_processor(dialect, NUMERIC_OID)  # noqa: SLF001


class _Compiled:
    __slots__ = ("statement", "sql", "order", "processors", "record")

    def __init__(self, statement: Select, sql: str | None, order: tuple[str, ...],
                 processors: tuple[Callable[[Any], Any] | None, ...], record: type) -> None:
        self.statement = statement
        self.sql = sql
        self.order = order
        self.processors = processors
        self.record = record


class ReadQuery:
    """A read statement: `columns` by attribute name, `build(select_of_columns, shape, *variant)` adds the
    rest (where, joins, order, limits) with named `sa.bindparam`s and `shape.any_of` for lists. `variant`
    names what changes the statement's text (e.g. which optional filters are present); each variant is
    compiled once."""

    def __init__(self, name: str, columns: Mapping[str, ColumnElement],
                 build: Callable[..., Select]) -> None:
        self.name = name
        self.columns = dict(columns)
        self.build = build
        self.record = namedtuple(name, tuple(self.columns))  # read-only, attribute access, built in C
        self._compiled: dict[tuple[str, Hashable], _Compiled] = {}

    def compiled(self, dialect: Dialect, variant: tuple[Hashable, ...] = ()) -> _Compiled:
        key = (dialect.name, variant)
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled[key] = self._compile(dialect, variant)
        return found

    def _compile(self, dialect: Dialect, variant: tuple[Hashable, ...]) -> _Compiled:
        labelled = [column.label(key) for key, column in self.columns.items()]
        statement = self.build(sa.select(*labelled), Shape(dialect.name), *variant)
        if dialect.name != "postgresql":
            return _Compiled(statement, None, (), (), self.record)
        compiled = statement.compile(dialect=dialect)
        processors = tuple(_result_processor(column.type, dialect) for column in self.columns.values())
        return _Compiled(statement, compiled.string, tuple(compiled.positiontup or ()), processors, self.record)
