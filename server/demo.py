"""`/demo`: the browser demo, a subscriber's account page in plain HTML and JavaScript (the repository's `demo/`
folder), served as static files when `PAPERGRAPH_DEMO` allows (on outside production).

The page needs to know three things it cannot guess, and reads them from `/demo/config.json`: where GraphQL is,
where the Auth0 tenant is (the emulator under `/sandbox/auth0` in embedded mode, same origin; the Auth0 base URL
in remote mode) and which API audience to ask a token for. Everything else it learns from the API.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

import demo
from settings import Settings, UpstreamMode

DEMO_DIR = Path(demo.__file__).resolve().parent  # the `demo` package's files (package data in the wheel)
# the Auth0 application a single-page app signs in with (the emulator's public client, sandbox/auth0)
SPA_CLIENT_ID = "papergraph-spa"


def demo_config(settings: Settings) -> dict[str, object]:
    embedded = settings.upstreams == UpstreamMode.EMBEDDED
    return {
        "graphqlUrl": "/graphql",
        "auth0": {"url": "/sandbox/auth0" if embedded else settings.auth0_base_url.rstrip("/"),
                  "clientId": SPA_CLIENT_ID, "audience": settings.auth0_audience},
    }


def demo_routes(settings: Settings) -> list[BaseRoute]:
    config = demo_config(settings)

    async def config_endpoint(request: Request) -> JSONResponse:
        return JSONResponse(config, headers={"cache-control": "no-store"})

    return [Route("/demo/config.json", config_endpoint, methods=["GET"]),
            Mount("/demo", app=StaticFiles(directory=DEMO_DIR, html=True), name="demo")]
