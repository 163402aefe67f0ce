"""CORS: front ends served from their own origin (a publisher's portal) may call papergraph from the browser.

Starlette's CORSMiddleware with an allowlist, never a wildcard alongside credentials: the origins of
`PAPERGRAPH_CORS_ALLOWED_ORIGINS`, plus each tenant's front-end URL where the tenant's settings name one
(`Portal.Url`, TEN-2's key/value settings; its origin is what counts). A preflight (OPTIONS with
Access-Control-Request-Method) from an origin on the list answers 200 with the methods and headers papergraph
reads, cached by the browser for `PAPERGRAPH_CORS_MAX_AGE` seconds; from any other origin it answers 400 with no
Access-Control-Allow-Origin, and actual responses to such an origin carry none either, so the browser withholds
them. A preflight carries no tenant header and no token, so the tenants' origins are allowed together; which
tenant a request reaches is still decided by its token (auth/middleware.py).

`*` alone allows every origin, and then without credentials (cookies are never used; bearer tokens still work).
The tenants' origins are read from the database at most every `REFRESH_SECONDS`.
"""

from __future__ import annotations

import time
from typing import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

TENANT_SETTING = "Portal.Url"
REFRESH_SECONDS = 60.0
METHODS = ("GET", "POST")
# what papergraph reads from a browser (auth/middleware.py, server/http.py, API-1), and what GraphQL clients send
HEADERS = ("authorization", "content-type", "accept", "x-tenant", "x-request-id", "x-session-id",
           "apollo-require-preflight", "x-apollo-operation-name")
EXPOSED = ("x-request-id", "x-session-id", "x-version")


def origin_of(url: str) -> str | None:
    """`https://portal.example.com/account/` → `https://portal.example.com`; None for what is not an http(s) URL."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default_port = {"http": 80, "https": 443}[parts.scheme]
    port = f":{parts.port}" if parts.port and parts.port != default_port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


def parse_origins(value: str) -> list[str]:
    """The setting's comma-separated origins, normalised; `*` stays `*`. ValueError on anything else."""
    origins = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        if item == "*":
            origins.append(item)
            continue
        origin = origin_of(item)
        if origin is None or urlsplit(item).path not in ("", "/"):
            raise ValueError(f"{item!r} is not an origin (scheme://host[:port])")
        origins.append(origin)
    if "*" in origins and len(origins) > 1:
        raise ValueError("'*' allows every origin and stands alone")
    return origins


class Cors(CORSMiddleware):
    """CORSMiddleware whose allowlist also holds the tenants' front-end origins, from `tenant_origins()`."""

    def __init__(self, app: ASGIApp, *, allowed: str, max_age: int,
                 tenant_origins: Callable[[], Awaitable[set[str]]] | None = None) -> None:
        configured = parse_origins(allowed)
        wildcard = configured == ["*"]
        super().__init__(app, allow_origins=configured, allow_methods=METHODS, allow_headers=HEADERS,
                         allow_credentials=not wildcard, expose_headers=EXPOSED, max_age=max_age)
        self.configured = frozenset(configured)
        self.tenant_origins = tenant_origins
        self.known: frozenset[str] = frozenset()
        self.read_at = float("-inf")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.tenant_origins is not None and not self.allow_all_origins:
            has_origin = any(name == b"origin" for name, _ in scope["headers"])
            if has_origin and time.monotonic() - self.read_at > REFRESH_SECONDS:
                try:
                    self.known = frozenset(await self.tenant_origins())
                    self.read_at = time.monotonic()
                except Exception:  # the database is down: keep the last list (/ready reports the database)
                    pass
        await super().__call__(scope, receive, send)

    def is_allowed_origin(self, origin: str) -> bool:
        return origin in self.configured or origin in self.known or super().is_allowed_origin(origin)


def tenant_origins_from(database_getter) -> Callable[[], Awaitable[set[str]]]:
    """The origins of every tenant's `Portal.Url` setting (comma-separated URLs allowed)."""
    from sqlalchemy import select

    from datasources.models import TenantSetting

    async def read() -> set[str]:
        async with database_getter().session() as session:
            values = (await session.execute(
                select(TenantSetting.value).where(TenantSetting.key == TENANT_SETTING))).scalars().all()
        return {origin for value in values for url in value.split(",") if (origin := origin_of(url))}

    return read
