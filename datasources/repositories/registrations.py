"""Bulk SQL for registrations, their subscription links, temporary entitlements and events.

Every method is scoped to one tenant (TEN-1) and answers a whole batch of keys with one statement, so a
loader costs one query per relation per level whatever the list size. Paged relations (events) are
paged per key inside that one statement with window functions (SQLite ≥ 3.25 and PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import select

from datasources.db import Database
from datasources.models import Event, Registration, SubscriptionLink, TemporaryEntitlement
from datasources.reads import ReadQuery, model_columns


@dataclass(frozen=True)
class LinkRow:
    """A link with its registration's CRID (links store the registration id)."""

    link: SubscriptionLink
    crid: str


@dataclass(frozen=True)
class Page:
    """One page of rows, with the total when the statement could tell it."""

    rows: list[Any]
    total: int | None
    has_more: bool


class RegistrationRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _all(self, statement) -> list[Any]:
        async with self.db.session() as session:
            return list((await session.execute(statement)).all())

    # registrations (USR) ------------------------------------------------------------------------
    async def registrations_by_crids(self, tenant_id: int, crids: Iterable[str]) -> list[Any]:
        """Read-only records with `Registration`'s attributes (datasources/reads.py)."""
        return await self.db.read(REGISTRATIONS_BY_CRIDS, tenant_id=tenant_id, keys=list(crids))

    async def registrations_by_ids(self, tenant_id: int, ids: Iterable[int]) -> list[Any]:
        return await self.db.read(REGISTRATIONS_BY_IDS, tenant_id=tenant_id, keys=list(ids))

    async def search_registrations(
        self, tenant_id: int, *, offset: int, limit: int, email: str | None = None,
        metadata: Sequence[tuple[str, str]] = (), crid: str | None = None, first_name: str | None = None,
        last_name: str | None = None,
    ) -> Page:
        """USR-2 lookups, ordered by registration id. E-mail compares case-insensitively; a metadata filter
        matches a top-level key whose value is that string; names match by case-insensitive prefix (a range
        over `lower(col)`, the expression indexes of migration 0014); every filter must match."""
        total = sa.func.count().over().label("total")
        query = select(Registration, total).where(Registration.tenant_id == tenant_id)
        if email is not None:
            query = query.where(sa.func.lower(Registration.email) == email.lower())
        if crid is not None:
            query = query.where(Registration.crid == crid)
        for key, value in metadata:
            query = query.where(self._metadata_equals(key, value))
        order = Registration.id
        for column, prefix in ((Registration.first_name, first_name), (Registration.last_name, last_name)):
            if prefix is not None:
                query = query.where(*self._starts_with(column, prefix))
                # `id + 0`: the same order, but not the primary key's. Ordered by `id` with a LIMIT, PostgreSQL walks
                # the primary key filtering every row (145 ms over 100k registrations) although the total needs
                # every match anyway; this way it reads the matches from the name index and sorts the top N (13 ms).
                order = Registration.id + 0
        rows = await self._all(query.order_by(order).offset(offset).limit(limit))
        if rows:
            count = int(rows[0][1])
            return Page(rows=[row[0] for row in rows], total=count, has_more=offset + len(rows) < count)
        return Page(rows=[], total=0 if offset == 0 and limit > 0 else None, has_more=False)

    def _starts_with(self, column, prefix: str) -> tuple[Any, Any]:
        """`lower(column)` starts with `prefix` (lower-cased), as the byte-order range [prefix, prefix + U+10FFFF):
        an index range even with the prefix a bound parameter (a `LIKE $1` is not, in a generic plan), on the
        `COLLATE "C"` indexes of migration 0014 on PostgreSQL; SQLite compares bytes already (its `lower` folds
        ASCII letters only)."""
        lowered = sa.func.lower(column)
        if self.db.engine.dialect.name == "postgresql":
            lowered = lowered.collate("C")
        low = prefix.lower()
        return lowered >= low, lowered < low + "\U0010FFFF"

    def _metadata_equals(self, key: str, value: str):
        """Top-level `key` holds the string `value`. The key is matched literally: on SQLite through
        json_each (a JSON path would misread quotes and dots in it), on PostgreSQL with ->>."""
        column = Registration.__table__.c.metadata
        if self.db.engine.dialect.name == "sqlite":
            entries = sa.func.json_each(column).table_valued("key", "value", "type")
            return sa.exists().where(entries.c.key == key, entries.c.type == "text", entries.c.value == value)
        return column[key].as_string() == value

    # subscription links (LNK) --------------------------------------------------------------------
    def _links(self, tenant_id: int):
        return (select(SubscriptionLink, Registration.crid)
                .join(Registration, Registration.id == SubscriptionLink.registration_id)
                .where(SubscriptionLink.tenant_id == tenant_id, Registration.tenant_id == tenant_id))

    async def links_by_registration_ids(self, tenant_id: int, registration_ids: Iterable[int]) -> list[LinkRow]:
        rows = await self.db.read(LINKS_BY_REGISTRATION_IDS, tenant_id=tenant_id, keys=list(registration_ids))
        return [LinkRow(row, row.crid) for row in rows]

    async def links_by_subscription_ids(self, tenant_id: int, subscription_ids: Iterable[str]) -> list[LinkRow]:
        rows = await self.db.read(LINKS_BY_SUBSCRIPTION_IDS, tenant_id=tenant_id, keys=list(subscription_ids))
        return [LinkRow(row, row.crid) for row in rows]

    async def search_links(
        self, tenant_id: int, *, offset: int, limit: int, crid: str | None = None,
        registration_id: int | None = None, subscription_id: str | None = None,
    ) -> Page:
        """LNK-1: links by CRID, registration id and/or subscription id (all given criteria must match)."""
        total = sa.func.count().over().label("total")
        query = self._links(tenant_id).add_columns(total)
        if crid is not None:
            query = query.where(Registration.crid == crid)
        if registration_id is not None:
            query = query.where(SubscriptionLink.registration_id == registration_id)
        if subscription_id is not None:
            query = query.where(SubscriptionLink.subscription_id == subscription_id)
        rows = await self._all(query.order_by(SubscriptionLink.id).offset(offset).limit(limit))
        if rows:
            count = int(rows[0][2])
            return Page(rows=[LinkRow(link, link_crid) for link, link_crid, _ in rows], total=count,
                        has_more=offset + len(rows) < count)
        return Page(rows=[], total=0 if offset == 0 and limit > 0 else None, has_more=False)

    # temporary entitlements (ENT-3) --------------------------------------------------------------
    async def temporary_entitlements_by_crids(self, tenant_id: int, crids: Iterable[str]) -> list[TemporaryEntitlement]:
        rows = await self._all(
            select(TemporaryEntitlement)
            .where(TemporaryEntitlement.tenant_id == tenant_id, TemporaryEntitlement.crid.in_(list(crids)))
            .order_by(TemporaryEntitlement.expires_at.desc(), TemporaryEntitlement.id.desc())
        )
        return [row[0] for row in rows]

    # events (NOT-1) ------------------------------------------------------------------------------
    async def events_by_crids(self, tenant_id: int, crids: Iterable[str], *, offset: int, limit: int
                              ) -> dict[str, Page]:
        return await self._events_page(tenant_id, Event.crid, list(crids), offset, limit)

    async def events_by_subscription_ids(self, tenant_id: int, subscription_ids: Iterable[str], *, offset: int,
                                         limit: int) -> dict[str, Page]:
        return await self._events_page(tenant_id, Event.subscription_id, list(subscription_ids), offset, limit)

    async def _events_page(self, tenant_id: int, owner, keys: list[str], offset: int, limit: int
                           ) -> dict[str, Page]:
        """The same page (newest first) of each key's events, in one statement; keys without events on
        that page are absent."""
        ranked = (
            select(
                Event,
                sa.func.row_number().over(partition_by=owner, order_by=(Event.created_at.desc(), Event.id.desc()))
                .label("position"),
                sa.func.count().over(partition_by=owner).label("total"),
            )
            .where(Event.tenant_id == tenant_id, owner.in_(keys))
            .subquery()
        )
        event = aliased(Event, ranked)
        rows = await self._all(
            select(event, ranked.c.total)
            .where(ranked.c.position > offset, ranked.c.position <= offset + limit)
            .order_by(ranked.c.position)
        )
        pages: dict[str, Page] = {}
        for row, total in rows:
            key = getattr(row, owner.key)
            page = pages.setdefault(key, Page(rows=[], total=int(total), has_more=False))
            page.rows.append(row)
        return {
            key: Page(rows=page.rows, total=page.total, has_more=offset + len(page.rows) < (page.total or 0))
            for key, page in pages.items()
        }


# the loaders' bulk reads (datasources/reads.py): compiled once, one statement for any number of keys
def _registrations_by(column):
    return lambda query, shape: query.where(Registration.tenant_id == sa.bindparam("tenant_id"),
                                            shape.any_of(column, "keys"))


REGISTRATIONS_BY_CRIDS = ReadQuery("RegistrationRecord", model_columns(Registration), _registrations_by(Registration.crid))
REGISTRATIONS_BY_IDS = ReadQuery("RegistrationRecord", model_columns(Registration), _registrations_by(Registration.id))


def _links_by(column):
    return lambda query, shape: (
        query.join_from(SubscriptionLink, Registration, Registration.id == SubscriptionLink.registration_id)
        .where(SubscriptionLink.tenant_id == sa.bindparam("tenant_id"),
               Registration.tenant_id == sa.bindparam("tenant_id"), shape.any_of(column, "keys"))
        .order_by(SubscriptionLink.id)
    )


_LINK_COLUMNS = {**model_columns(SubscriptionLink), "crid": Registration.crid}
LINKS_BY_REGISTRATION_IDS = ReadQuery("LinkRecord", _LINK_COLUMNS, _links_by(SubscriptionLink.registration_id))
LINKS_BY_SUBSCRIPTION_IDS = ReadQuery("LinkRecord", _LINK_COLUMNS, _links_by(SubscriptionLink.subscription_id))
