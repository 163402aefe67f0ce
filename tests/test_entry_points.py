"""The ways to start papergraph a Starlette/FastAPI developer expects (issue 19 item 1): `uvicorn app:app` with the
settings from the environment, and a database that is not at the code's revision answered by a not-ready `/ready`
and a GraphQL error naming `papergraph migrate`, never a bare 500 ("no such table: tenant")."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import httpx
import pytest

from datasources.db import Database
from datasources.revision import CODE, DatabaseRevision, code_revisions
from migrations import upgrade
from tests.support import ROOT, papergraph_run

pytestmark = pytest.mark.sqlite_only("uvicorn's entry point and the revision check on a SQLite file (the check reads alembic_version alike on both)")

UVICORN = (sys.executable, "-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", "{port}")
VIEWER = "{ viewer { kind tenant } }"


def test_uvicorn_app_app_serves_with_the_settings_from_the_environment(sqlite_database_url, tmp_path):
    # given: a migrated, seeded database named only by the environment
    env = {"DATABASE_URL": sqlite_database_url, "PAPERGRAPH_ENVIRONMENT": "test", "PAPERGRAPH_DEFAULT_TENANT": "MTXDEMO"}

    # when
    with papergraph_run(env, tmp_path / "uvicorn.log", command=UVICORN) as server:
        ready = httpx.get(f"{server.base}/ready")
        answer = httpx.post(f"{server.base}/graphql", json={"query": VIEWER})

    # then: the default tenant came from the environment, not from Settings' default
    assert ready.status_code == 200
    assert answer.json()["data"] == {"viewer": {"kind": "ANONYMOUS", "tenant": "MTXDEMO"}}


def test_an_unmigrated_database_is_not_ready_and_graphql_names_papergraph_migrate(tmp_path):
    # given: `uvicorn app:app` on a database file nobody migrated
    url = f"sqlite+aiosqlite:///{tmp_path / 'never-migrated.db'}"
    env = {"DATABASE_URL": url, "PAPERGRAPH_ENVIRONMENT": "test"}

    with papergraph_run(env, tmp_path / "uvicorn.log", command=UVICORN) as server:
        # when
        ready = httpx.get(f"{server.base}/ready")
        answer = httpx.post(f"{server.base}/graphql", json={"query": VIEWER})
        # and then the operator runs the migration, without restarting the server
        migrate = subprocess.run([sys.executable, "-m", "cli", "migrate"], cwd=ROOT, capture_output=True, text=True,
                                 env={"PATH": "/usr/bin:/bin", "DATABASE_URL": url})
        deadline = time.monotonic() + 60  # a bound on a hang: the server looks again every few seconds
        while (after := httpx.get(f"{server.base}/ready")).status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)

    # then: 503 and a GraphQL error with a code and the command, never a plain-text 500
    assert ready.status_code == 503
    assert ready.json()["database"] == "not migrated" and "papergraph migrate" in ready.json()["reason"]
    assert answer.status_code == 503
    assert answer.headers["content-type"].startswith("application/json")
    [error] = answer.json()["errors"]
    assert error["extensions"]["code"] == CODE and "papergraph migrate" in error["message"]
    assert migrate.returncode == 0, migrate.stderr
    assert after.status_code == 200 and after.json()["database"] == "ok"


@pytest.mark.parametrize("at, expected", [
    (None, None),
    ("0005", "is at revision 0005 and the code needs"),
])
def test_a_database_behind_the_code_is_named_with_its_revision(tmp_path, at, expected):
    # given: a database migrated to the head, or only to an older revision
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    upgrade(url, at or "head")

    async def check() -> str | None:
        db = Database(url)
        try:
            return await DatabaseRevision(db).refresh()
        finally:
            await db.dispose()

    # when
    problem = asyncio.run(check())

    # then
    if expected is None:
        assert problem is None
    else:
        assert expected in problem and "papergraph migrate" in problem


def test_a_revision_the_code_does_not_know_says_so():
    # given
    from datasources.revision import describe

    # when
    problem = describe({"9999"})

    # then
    heads, _ = code_revisions()
    assert "does not know" in problem and all(head in problem for head in heads)


def test_a_malformed_setting_stops_uvicorn_with_one_line(tmp_path):
    # when
    done = subprocess.run([sys.executable, "-m", "uvicorn", "app:app", "--port", "0"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "PAPERGRAPH_MAX_DEPTH": "deep"})

    # then
    assert done.returncode != 0
    assert "papergraph: invalid setting PAPERGRAPH_MAX_DEPTH" in done.stderr and "Traceback" not in done.stderr
