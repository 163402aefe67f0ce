"""`papergraph seed` on a database that holds data refuses in one line instead of a 124-line traceback
(`UNIQUE constraint failed: tenant.code`), and `--reset` seeds again from nothing (issue 19 item 8)."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
import sqlalchemy as sa

from datasources.db import Database
from tests.support import ROOT

pytestmark = pytest.mark.sqlite_only("the command's refusal and --reset on a SQLite file; seeding itself runs on both databases in conftest")


def seed(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", "seed", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={"PATH": "/usr/bin:/bin", "DATABASE_URL": url})


def counts(url: str) -> tuple[int, int]:
    async def read() -> tuple[int, int]:
        db = Database(url)
        try:
            async with db.engine.connect() as conn:
                tenants = (await conn.execute(sa.text("SELECT COUNT(*) FROM tenant"))).scalar_one()
                registrations = (await conn.execute(sa.text("SELECT COUNT(*) FROM registration"))).scalar_one()
                return tenants, registrations
        finally:
            await db.dispose()

    return asyncio.run(read())


def test_seed_refuses_a_seeded_database_in_one_line_and_reset_seeds_it_again(tmp_path):
    # given: a database seeded once, then changed by hand
    url = f"sqlite+aiosqlite:///{tmp_path / 'papergraph.db'}"
    first = seed(url, "--scale", "1")
    asyncio.run(_delete_one_registration(url))

    # when
    again = seed(url, "--scale", "2")
    after_refusal = counts(url)
    reset = seed(url, "--scale", "1", "--reset")

    # then: refused with one line and nothing changed; --reset brings back exactly the scale-1 data
    assert first.returncode == 0, first.stderr
    assert again.returncode == 1
    assert again.stderr.strip().splitlines() == [
        "papergraph seed: the database already holds data; `papergraph seed --reset --scale N` deletes every row "
        "and seeds again"]
    assert "Traceback" not in again.stderr
    assert reset.returncode == 0, reset.stderr
    assert after_refusal == (4, 4 * 25 - 1)
    assert counts(url) == (4, 4 * 25)


async def _delete_one_registration(url: str) -> None:
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(sa.text("DELETE FROM subscription_link WHERE registration_id = (SELECT MAX(id) FROM registration)"))
            await conn.execute(sa.text("DELETE FROM registration WHERE id = (SELECT MAX(id) FROM registration)"))
    finally:
        await db.dispose()
