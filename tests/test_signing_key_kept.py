"""The embedded Auth0 emulator keeps its signing key beside the SQLite database, so a token pasted into GraphiQL
still works after `make run` is restarted (issue 19 item 6: it answered `401 unknown signing key`)."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from sandbox.auth0.crypto import kept_key
from services import embedded_key_file
from settings import Settings
from tests.conftest import CLAIM, bearer

pytestmark = pytest.mark.sqlite_only("the emulator's key is kept in a file beside a SQLite database only")

VIEWER = "{ viewer { kind subject } }"


async def viewer_with(settings: Settings, token: str | None = None) -> tuple[int, dict, str]:
    """Start the app (its lifespan), ask `viewer` with `token` (or one the emulator signs now); stop it."""
    from app import create_app

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        store = app.state.sandboxes["auth0"].state.store
        token = token or store.issue_token(sub="auth0|kept", audience=settings.auth0_audience, gty="password",
                                           claims={CLAIM + "tenant": "NCSDEMO", CLAIM + "principal": "customer"})
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://papergraph.test") as c:
            response = await c.post("/graphql", json={"query": VIEWER}, headers=bearer(token))
    return response.status_code, response.json(), token


def settings_for(database_url: str) -> Settings:
    return Settings(environment="test", database_url=database_url, upstreams="embedded", seed_demo_data=False)


async def test_a_token_signed_before_a_restart_is_accepted_after_it(sqlite_database_url):
    # given: a token the embedded emulator signed while the server ran
    settings = settings_for(sqlite_database_url)
    _, before, token = await viewer_with(settings)

    # when: the server restarts (a new app, new emulators) and the same token is sent
    status, after, _ = await viewer_with(settings, token)

    # then
    assert before["data"]["viewer"]["subject"] == "auth0|kept"
    assert status == 200 and after == before


async def test_another_database_has_another_key(sqlite_database_url, tmp_path):
    # given: a token signed by the key kept beside the session's database
    _, _, token = await viewer_with(settings_for(sqlite_database_url))
    other = tmp_path / "other.db"
    import shutil

    from sqlalchemy.engine import make_url

    shutil.copy(make_url(sqlite_database_url).database, other)

    # when: a server on another database file sees it
    status, body, _ = await viewer_with(settings_for(f"sqlite+aiosqlite:///{other}"), token)

    # then: refused, as a token of another Auth0 tenant would be
    assert status == 401 and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_the_key_file_is_private_and_its_kid_stable(tmp_path):
    # given
    path = embedded_key_file(f"sqlite+aiosqlite:///{tmp_path / 'papergraph.db'}")

    # when: two processes' worth of starts race for it, then a later start reads it
    with ThreadPoolExecutor(4) as pool:
        racing = list(pool.map(lambda _: kept_key(path), range(4)))
    later = kept_key(path)

    # then: one key for all, readable by its owner only
    assert path.name == "papergraph.db.auth0-key.pem"
    assert {key.kid for key in racing} == {later.kid}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left behind
