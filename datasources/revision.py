"""Whether the database is at the revision this code needs (issue 19 item 1).

A server started on a database that was never migrated, or that is behind the code, must not answer a bare 500
("no such table: tenant"): `/ready` answers 503 and every GraphQL request an error coded `DATABASE_NOT_MIGRATED`,
both naming `papergraph migrate`. Once a problem was seen it is looked at again at most every `recheck` seconds,
so running the migration brings the server back without a restart; an up-to-date database costs nothing per
request.
"""

from __future__ import annotations

import functools
import logging
import time

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from datasources.db import Database

log = logging.getLogger("papergraph.database")

CODE = "DATABASE_NOT_MIGRATED"


@functools.cache
def code_revisions() -> tuple[frozenset[str], frozenset[str]]:
    """(the heads this code's migrations end at, every revision they know)."""
    from migrations import alembic_config

    script = ScriptDirectory.from_config(alembic_config(""))
    return frozenset(script.get_heads()), frozenset(rev.revision for rev in script.walk_revisions())


def describe(current: set[str]) -> str | None:
    """None when `current` (the database's alembic heads) is what the code needs, else what to do about it."""
    heads, known = code_revisions()
    if current == set(heads):
        return None
    needed = ", ".join(sorted(heads))
    if not current:
        return f"The database has not been migrated (the code needs revision {needed}): run `papergraph migrate`"
    if current <= known:
        return (f"The database is at revision {', '.join(sorted(current))} and the code needs {needed}: "
                "run `papergraph migrate`")
    return (f"The database is at revision {', '.join(sorted(current))}, which this code does not know (it needs "
            f"{needed}): deploy the matching code, or run `papergraph migrate` from it")


class DatabaseRevision:
    def __init__(self, db: Database, recheck: float = 5.0) -> None:
        self.db = db
        self.recheck = recheck
        self.problem: str | None = None
        self._checked = 0.0

    async def refresh(self) -> str | None:
        """Read the database's revision now. A database that does not answer is not a revision problem (/ready
        reports it as unavailable): the previous verdict stands."""
        self._checked = time.monotonic()
        try:
            async with self.db.engine.connect() as connection:
                current = await connection.run_sync(
                    lambda sync: set(MigrationContext.configure(sync).get_current_heads()))
        except Exception as error:  # noqa: BLE001 - unreachable database: reported by /ready, not here
            log.warning("could not read the database's revision: %s", type(error).__name__)
            return self.problem
        problem = describe(current)
        if problem and problem != self.problem:
            log.error(problem)
        self.problem = problem
        return problem

    async def current_problem(self) -> str | None:
        """The problem, looked at again when it is older than `recheck` seconds; None, at no cost, when fine."""
        if self.problem is not None and time.monotonic() - self._checked >= self.recheck:
            await self.refresh()
        return self.problem
