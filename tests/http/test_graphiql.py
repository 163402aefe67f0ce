"""GraphiQL works offline (issue 19, item 4): its page loads React, ReactDOM, js-cookie, GraphiQL and the explorer
plugin from papergraph itself (/graphiql/…, from the npm packages `make install` puts in server/graphiql_assets),
the bytes still pass the page's integrity attributes, and the page says so visibly when they cannot load.
Driven in Chromium with the network blocked by tests/browser/test_demo.py."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import httpx
import pytest

from app import create_app
from server.graphiql import ASSETS_DIR, GraphiQLAssets, page_assets
from settings import Settings

pytestmark = pytest.mark.sqlite_only

ASSET_TAG = re.compile(r'(?:src|href)="([^"]+)"\s+integrity="(sha384-[^"]+)"')


def require_assets() -> None:
    if not GraphiQLAssets(ASSETS_DIR).local:
        import os

        problem = "GraphiQL's npm packages are not installed: run `make install` (npm ci in server/graphiql_assets)"
        if os.environ.get("CI"):
            pytest.fail(problem, pytrace=False)
        pytest.skip(problem)


def sri(content: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(content).digest()).decode()


@pytest.fixture
async def browser_client(tmp_path):
    app = create_app(Settings(environment="test", database_url=f"sqlite+aiosqlite:///{tmp_path}/graphiql.db"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://papergraph.test",
                                 headers={"accept": "text/html"}) as client:
        yield client


async def test_graphiql_page_loads_every_asset_from_papergraph_and_each_passes_its_integrity_check(browser_client):
    # given: the npm packages installed
    require_assets()

    # when: a browser asks for GraphiQL, then for every asset its page names
    page = await browser_client.get("/graphql")
    tags = ASSET_TAG.findall(page.text)
    assets = {url: await browser_client.get(url) for url, _ in tags}

    # then: all seven come from papergraph, none from unpkg.com, and each has the bytes its integrity names
    assert page.status_code == 200
    assert "unpkg.com" not in page.text
    assert len(tags) == len(page_assets()) == 7
    assert all(url.startswith("/graphiql/") for url, _ in tags)
    assert {url: (response.status_code, sri(response.content)) for url, response in assets.items()} == {
        url: (200, integrity) for url, integrity in tags}
    assert all("immutable" in response.headers["cache-control"] for response in assets.values())


async def test_graphiql_assets_serve_only_the_files_the_page_loads(browser_client):
    # given
    require_assets()

    # when: other files of the same packages, another version, and a path out of the directory
    answers = [(await browser_client.get(path)).status_code for path in (
        "/graphiql/react@18.2.0/package.json", "/graphiql/react@18.3.0/umd/react.production.min.js",
        "/graphiql/react@18.2.0/../../package-lock.json", "/graphiql/left-pad@1.3.0/index.js")]

    # then
    assert answers == [404, 404, 404, 404]


def test_without_the_packages_the_page_loads_them_from_unpkg_and_still_explains_a_failure(tmp_path: Path):
    # given: an empty assets directory (no npm on the machine)
    assets = GraphiQLAssets(tmp_path)

    # when
    html = assets.page()

    # then: unpkg's URLs, and the check that replaces "Loading..." with what failed and what to do
    assert not assets.local
    assert "/graphiql/" not in ASSET_TAG.findall(html)[0][0] and "https://unpkg.com/" in html
    assert "GraphiQL could not load" in html and "make install" in html
    assert html.index("GraphiQL could not load") > html.index("plugin-explorer@1.0.2/dist/index.umd.js")
    assert html.index("GraphiQL could not load") < html.index("const EXAMPLE_QUERY")


async def test_graphiql_assets_are_not_served_in_production(tmp_path):
    # given
    production = Settings(environment="production", upstreams="remote", secret_key="s" * 32,
                          auth0_client_secret="a" * 32, navigapay_api_key="n" * 32,
                          database_url=f"sqlite+aiosqlite:///{tmp_path}/p.db")

    # when
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(production)),
                                 base_url="http://papergraph.test") as client:
        answer = await client.get("/graphiql/react@18.2.0/umd/react.production.min.js")

    # then
    assert answer.status_code == 404
