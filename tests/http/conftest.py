"""Clients of apps built with their own settings: other limits, production mode."""

from __future__ import annotations

import contextlib
from typing import AsyncIterator, Awaitable, Callable, Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from settings import Settings

GRAPHQL_RESPONSE = "application/graphql-response+json"
BASE_URL = "http://papergraph.test"
PRODUCTION_SECRETS = {"secret_key": "test-secret-key-not-a-placeholder", "auth0_client_secret": "test-auth0-secret",
                      "navigapay_api_key": "test-navigapay-key"}


@pytest.fixture
async def client_with(settings) -> AsyncIterator[Callable[..., Awaitable[httpx.AsyncClient]]]:
    """`await client_with(max_depth=3)`: a staff client of an app built with the test settings and those."""
    from app import create_app
    from tests.conftest import Tokens, staff_signing

    async with contextlib.AsyncExitStack() as stack:
        async def build(**overrides) -> httpx.AsyncClient:
            application = create_app(settings.model_copy(update=overrides))
            await stack.enter_async_context(application.router.lifespan_context(application))
            tokens = Tokens(application.state.sandboxes["auth0"].state.store, settings.auth0_audience)
            return await stack.enter_async_context(httpx.AsyncClient(
                transport=httpx.ASGITransport(app=application), base_url=BASE_URL,
                event_hooks={"request": [staff_signing(tokens, settings.default_tenant)]}))

        yield build


def production_settings(settings: Settings, **overrides) -> Settings:
    """Production settings that pass the start-up guard (remote upstreams, real secrets)."""
    return Settings(**{**settings.model_dump(), "environment": "production", "upstreams": "remote",
                       **PRODUCTION_SECRETS, **overrides})


@pytest.fixture
async def production_client_with(app, settings, tokens) -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    """`production_client_with(introspection=True)`: the `/graphql` of production (its schema and view, behind
    authentication), over this test's embedded services, behind the API-1 headers; a staff client."""
    from app import ApiHeaders, build_view
    from auth.middleware import Authenticate
    from tests.conftest import staff_signing

    services = app.state.services
    async with contextlib.AsyncExitStack() as stack:
        def build(**overrides) -> httpx.AsyncClient:
            chosen = production_settings(settings, **overrides)
            view = Authenticate(build_view(chosen, lambda: services), lambda: services.tokens)
            asgi = ApiHeaders(Starlette(routes=[Route("/graphql", view, methods=["GET", "POST"])]), chosen.version)
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi), base_url=BASE_URL,
                                       event_hooks={"request": [staff_signing(tokens, settings.default_tenant)]})
            stack.push_async_callback(client.aclose)
            return client

        yield build


async def post(client: httpx.AsyncClient, body, accept: str | None = GRAPHQL_RESPONSE, **headers) -> httpx.Response:
    return await client.post("/graphql", json=body, headers={**({"accept": accept} if accept else {}), **headers})


def codes(response: httpx.Response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json()["errors"]]


class Recorder:
    """ASGI middleware keeping, for each HTTP request papergraph serves, its Authorization header and body."""

    def __init__(self, app) -> None:
        self.app = app
        self.requests: list[dict] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def recording_receive():
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
            return message

        try:
            await self.app(scope, recording_receive, send)
        finally:
            headers = dict(scope["headers"])
            self.requests.append({"authorization": (headers.get(b"authorization") or b"").decode() or None,
                                  "body": b"".join(chunks)})


@pytest.fixture(scope="module")
def papergraph_on_loopback(sqlite_database_url) -> Iterator[tuple[str, Recorder]]:
    """papergraph (test settings, SQLite, embedded upstreams) served by uvicorn on a loopback port, for the
    module's Node processes; the recorder sees every request it serves."""
    from app import create_app
    from tests.support import serve_on_loopback

    settings = Settings(environment="test", database_url=sqlite_database_url, upstreams="embedded",
                        seed_demo_data=False)
    recorder = Recorder(create_app(settings))
    with serve_on_loopback(recorder) as base_url:
        yield base_url, recorder
