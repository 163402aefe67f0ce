"""What the circulation emulator's contract tests share: the demo data at a fixed anchor date, the emulator with
its clock at noon UTC of that date (the anchor date in every demo paper's time zone, New York to Sydney), a client,
and `pick`, the first stored record of a paper satisfying a predicate, so tests do not hard-code demo ids."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Callable

import httpx
import pytest

from sandbox.circulation import create_app, load_demo
from sandbox.demo import generate

ANCHOR = date(2026, 3, 10)
DATA = generate(1, anchor=ANCHOR)


def api(paper: str, path: str = "") -> str:
    return f"/api/v1/papers/{paper}{path}"


@pytest.fixture
def app():
    app = create_app()
    load_demo(app.state.store, DATA)
    app.state.store.clock = lambda: datetime(ANCHOR.year, ANCHOR.month, ANCHOR.day, 12, tzinfo=UTC)
    return app


@pytest.fixture
async def client(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://circulation") as client:
        yield client


@pytest.fixture
def pick(app) -> Callable[..., dict[str, Any]]:
    def pick(paper: str, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        records = app.state.store.papers[paper].subscriptions.values()
        return next(r for r in sorted(records, key=lambda r: r["id"]) if predicate(r))

    return pick
