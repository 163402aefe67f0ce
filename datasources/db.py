"""papergraph's own database: the async engine, sessions, and the bulk queries loaders call.

SQLite (aiosqlite) by default, PostgreSQL (asyncpg) when DATABASE_URL says so; the same code runs on
both. Every statement is counted (`Database.statements`) so tests can prove a query does not fan out.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from contextlib import asynccontextmanager
from typing import AsyncIterator

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlmodel import select

from datasources.models import HouseholdLevel, Tenant, TenantSetting
from domain.tenants import TenantContext, TenantSettings

TENANT_CACHE_SECONDS = 30.0


def make_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - driver plumbing
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


class Database:
    def __init__(self, url: str, pool_size: int = 10) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self.statements = 0
        self._tenants: dict[str, tuple[float, TenantContext | None]] = {}

        @event.listens_for(self.engine.sync_engine, "before_cursor_execute")
        def _count(*_args):
            self.statements += 1

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as session:
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()

    async def serialize(self, session: AsyncSession, tenant_id: int, key: str) -> None:
        """Make every transaction that calls this for the same tenant and `key` wait for the one holding it
        until that one ends: for a check that reads rows and then writes one (LNK-2: a subscription's
        links, of which papergraph owns no parent row to lock). Call it first in a fresh session.

        PostgreSQL: a transaction-scoped advisory lock on (tenant, hash of key). SQLite has one writer at a
        time: the write transaction is begun before anything is read (BEGIN IMMEDIATE), so the check sees
        every earlier writer's commit and no later writer starts before this one ends."""
        if self.engine.dialect.name == "postgresql":
            await session.execute(sa.text("SELECT pg_advisory_xact_lock(:tenant, hashtext(:key))"),
                                  {"tenant": tenant_id, "key": key})
        else:
            await session.execute(sa.text("BEGIN IMMEDIATE"))

    # tenants -------------------------------------------------------------------------------------
    async def tenant_by_code(self, code: str) -> TenantContext | None:
        """Tenants change rarely and are needed by every request: cached briefly per process."""
        cached = self._tenants.get(code)
        now = time.monotonic()
        if cached and now - cached[0] < TENANT_CACHE_SECONDS:
            return cached[1]
        async with self.session() as session:
            tenant = (await session.execute(select(Tenant).where(Tenant.code == code))).scalar_one_or_none()
            context = None
            if tenant is not None:
                rows = (await session.execute(select(TenantSetting).where(TenantSetting.tenant_id == tenant.id))).scalars()
                context = TenantContext(
                    id=tenant.id, code=tenant.code, name=tenant.name, circulation_kind=tenant.circulation_kind,
                    time_zone=tenant.time_zone, currency=tenant.currency,
                    settings=TenantSettings(name=tenant.name, values={r.key: r.value for r in rows}),
                )
        self._tenants[code] = (now, context)
        return context

    def forget_tenants(self) -> None:
        self._tenants.clear()

    # household levels (HHL) ---------------------------------------------------------------------
    async def household_levels_by_ids(self, tenant_id: int, level_ids: Iterable[int]) -> Sequence[HouseholdLevel]:
        async with self.session() as session:
            result = await session.execute(
                select(HouseholdLevel).where(
                    HouseholdLevel.tenant_id == tenant_id, HouseholdLevel.level_id.in_(list(level_ids))
                )
            )
            return result.scalars().all()

    async def list_household_levels(
        self, tenant_id: int, *, search: str | None = None, only_active: bool = False
    ) -> Sequence[HouseholdLevel]:
        """HHL-2: a word matches the description, a numeral matches the id; `only_active` filters."""
        query = select(HouseholdLevel).where(HouseholdLevel.tenant_id == tenant_id)
        if only_active:
            query = query.where(HouseholdLevel.active.is_(True))
        if search:
            term = search.strip()
            if term.isdigit():
                query = query.where(sa.cast(HouseholdLevel.level_id, sa.String).contains(term))
            else:
                query = query.where(sa.func.lower(HouseholdLevel.description).contains(term.lower()))
        async with self.session() as session:
            result = await session.execute(query.order_by(HouseholdLevel.level_id))
            return result.scalars().all()
