"""papergraph's own database: the async engine, sessions, and the bulk queries loaders call.

SQLite (aiosqlite) by default, PostgreSQL (asyncpg) when DATABASE_URL says so; the same code runs on
both. Every statement is counted (`Database.statements`) so tests can prove a query does not fan out.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Hashable, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

import asyncpg
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlmodel import select

from datasources.models import HouseholdLevel, Tenant, TenantSetting
from datasources.outbox import session_class
from datasources.reads import ReadQuery, model_columns
from domain.tenants import TenantContext, TenantSettings

# asyncpg's signs of a connection that is gone (closed, terminated by pg_terminate_backend or a restart, or
# caught by such a termination half-way through a protocol step): a read may retry them on a fresh connection
CONNECTION_LOST = (asyncpg.exceptions.ConnectionDoesNotExistError, asyncpg.exceptions.InterfaceError,
                   asyncpg.exceptions.InternalClientError, asyncpg.exceptions.AdminShutdownError,
                   asyncpg.exceptions.CrashShutdownError, ConnectionError)
# ... and of a database that cannot be reached at all
UNREACHABLE = (*CONNECTION_LOST, asyncpg.exceptions.PostgresConnectionError,
               asyncpg.exceptions.CannotConnectNowError, OSError, TimeoutError)
SQLITE_UNAVAILABLE = ("unable to open database file", "disk I/O error", "database is locked")


def database_unavailable(error: BaseException) -> bool:
    """Whether `error` says the database cannot be reached or dropped the connection (an outage, a restart,
    a terminated backend), as opposed to a bug or a refused statement: the request may succeed later, and
    is answered DATABASE_UNAVAILABLE. SQLAlchemy wraps the driver's error; its cause is looked at too."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, UNREACHABLE):
            return True
        if isinstance(current, sa.exc.DBAPIError) and current.connection_invalidated:
            return True
        if type(current).__name__ == "OperationalError" and any(
                sign in str(current) for sign in SQLITE_UNAVAILABLE):
            return True
        current = getattr(current, "orig", None) or current.__cause__
    return False
READ_POOL_IDLE_SECONDS = 60.0  # an idle connection of the read pool is closed after this long


async def _read_connection_init(connection: Any) -> None:
    """JSON decoded as SQLAlchemy's asyncpg dialect does it, so both paths give the same values."""
    for typename in ("json", "jsonb"):
        await connection.set_type_codec(typename, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _read_connection_reset(connection: Any) -> None:
    """What a read connection needs on its way back to the pool: nothing beyond what asyncpg always does (an
    open transaction rolled back, listeners dropped). asyncpg's default reset sends `SELECT
    pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;`, a round trip after every read; reads run one
    statement in autocommit and change no session state (no SET, lock, cursor or LISTEN), so there is nothing for
    it to undo. py-spy of the dashboard under load showed that reset at ~3 % of the worker's samples."""


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


TENANT_SETTINGS_VERSION = ReadQuery("TenantVersion", {"settings_version": Tenant.settings_version},
                                    lambda query, shape: query.where(Tenant.code == sa.bindparam("code")))


class Database:
    def __init__(self, url: str, pool_size: int = 10, *, secret_key: str = "") -> None:
        self.url = url
        self.engine = make_engine(url, pool_size)
        # called after a commit that wrote outbox messages (datasources/outbox.py): the delivery worker wakes
        self.outbox_listeners: list = []
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False,
                                               sync_session_class=session_class(secret_key, self.outbox_listeners))
        self.pool_size = pool_size
        self.statements = 0
        self._tenants: dict[str, tuple[int, TenantContext | None]] = {}  # code → (settings_version, tenant)
        self._read_pool: Any = None  # asyncpg.Pool on PostgreSQL, made on first read in the running loop
        self._read_pool_loop: asyncio.AbstractEventLoop | None = None

        @event.listens_for(self.engine.sync_engine, "before_cursor_execute")
        def _count(*_args):
            self.statements += 1

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as session:
            yield session

    async def insert(self, row: Any) -> Any:
        """`row` added in a session of its own, committed, and read back (its id and server defaults)."""
        async with self.session() as session:
            session.add(row)
            await session.commit()
            await session.refresh(row)
            return row

    async def dispose(self) -> None:
        pool, self._read_pool, self._read_pool_loop = self._read_pool, None, None
        if pool is not None:
            await pool.close()
        await self.engine.dispose()

    # reads (datasources/reads.py) ----------------------------------------------------------------
    async def read(self, query: ReadQuery, variant: tuple[Hashable, ...] = (), **params: Any) -> list[Any]:
        """The rows of `query` as its read-only records. Lists go in as Python lists. On PostgreSQL the
        compiled statement runs on the read pool (autocommit); a read whose connection is found dead
        (`CONNECTION_LOST`: closed, terminated, or caught mid-step by the termination) is retried once on a
        fresh one, since a read has no effect to repeat; the pool's other connections are replaced too."""
        compiled = query.compiled(self.engine.dialect, variant)
        record = compiled.record
        if compiled.sql is None:
            async with self.engine.connect() as connection:
                result = await connection.execute(compiled.statement, params)
                return [record(*row) for row in result]
        args = [params[name] for name in compiled.order]
        self.statements += 1
        pool = await self._reads()
        try:
            rows = await pool.fetch(compiled.sql, *args)
        except CONNECTION_LOST:
            # whatever killed this connection (a terminated backend, a restart) likely killed its siblings:
            # replace them all rather than retry on another dead one
            await pool.expire_connections()
            rows = await pool.fetch(compiled.sql, *args)
        processors = compiled.processors
        if not any(processors):
            return [record(*row) for row in rows]
        return [record(*[value if process is None else process(value) for process, value in zip(processors, row)])
                for row in rows]

    async def _reads(self) -> Any:
        """The asyncpg pool of reads, one per event loop (a test's loop or a worker's)."""
        loop = asyncio.get_running_loop()
        if self._read_pool is None or self._read_pool_loop is not loop:
            dsn = sa.engine.make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)
            self._read_pool_loop = loop
            self._read_pool = await asyncpg.create_pool(
                dsn, min_size=0, max_size=self.pool_size, init=_read_connection_init, reset=_read_connection_reset,
                max_inactive_connection_lifetime=READ_POOL_IDLE_SECONDS)
        return self._read_pool

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
        """Tenants change rarely and are needed by every request: cached per process, and checked on every
        request against the tenant's `settings_version` (one indexed single-column read on the read path,
        `TENANT_SETTINGS_VERSION`), so a settings change made by any process applies from the next request in
        every process (SET-3)."""
        cached = self._tenants.get(code)
        try:
            found = await self.read(TENANT_SETTINGS_VERSION, code=code)
        except Exception as error:
            if cached is not None and database_unavailable(error):
                return cached[1]  # an outage: the settings last read, and each field that needs the database says so
            raise
        version = found[0].settings_version if found else None
        if cached and version is not None and cached[0] == version:
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
        self._tenants[code] = (tenant.settings_version if tenant is not None else -1, context)
        return context

    def forget_tenants(self) -> None:
        self._tenants.clear()

    # household levels (HHL) ---------------------------------------------------------------------
    async def household_levels_by_ids(self, tenant_id: int, level_ids: Iterable[int]) -> list[Any]:
        return await self.read(HOUSEHOLD_LEVELS_BY_IDS, tenant_id=tenant_id, ids=list(level_ids))

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
                query = query.where(sa.cast(HouseholdLevel.level_id, sa.String).contains(term, autoescape=True))
            else:  # autoescape: `%` and `_` are characters to find, not LIKE wildcards (issue 14 #17)
                query = query.where(sa.func.lower(HouseholdLevel.description).contains(term.lower(), autoescape=True))
        async with self.session() as session:
            result = await session.execute(query.order_by(HouseholdLevel.level_id))
            return result.scalars().all()


HOUSEHOLD_LEVELS_BY_IDS = ReadQuery(
    "HouseholdLevelRecord", model_columns(HouseholdLevel),
    lambda query, shape: query.where(HouseholdLevel.tenant_id == sa.bindparam("tenant_id"),
                                     shape.any_of(HouseholdLevel.level_id, "ids")),
)
