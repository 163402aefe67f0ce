"""Authentication in front of `/graphql`: the bearer token becomes the request's principal and tenant.

- No `Authorization` header: the request is anonymous, for the tenant named by `X-Tenant` (or the
  configured default tenant).
- A bearer token: verified (auth/tokens.py, AUT-1) and mapped to a principal (auth/principals.py). The
  tenant is the token's; an `X-Tenant` header naming another tenant is refused with 403 (TEN-1).
- Anything else — another scheme, a malformed, forged, expired or foreign token, a token without a
  tenant — is answered 401 with `WWW-Authenticate: Bearer … error="invalid_token"` and no data
  (RFC 6750), before GraphQL runs.
- When the identity provider's keys cannot be fetched, the answer is 503: the token may be fine.
- A customer token issued before the registration's last sign-out is answered 401 too (SSN-4).

The principal is put in the ASGI scope's state (`principal`, `tenant_code`) for `get_context`.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from auth.principals import ANONYMOUS, InvalidClaims, principal_from_claims
from auth.tokens import InvalidToken, TokenVerifier
from datasources.base import UpstreamError

log = logging.getLogger("papergraph.auth")
REALM = "papergraph"
MAX_TOKEN_LENGTH = 8192


class Authenticate:
    def __init__(self, app: ASGIApp, verifier: Callable[[], TokenVerifier],
                 sessions: Callable[[], Any] | None = None) -> None:
        self.app = app
        self.verifier = verifier
        self.sessions = sessions  # SSN-4 (auth/sessions.py): refuses tokens older than the last sign-out

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        state = scope.setdefault("state", {})
        authorization = headers.get("authorization")
        requested_tenant = (headers.get("x-tenant") or "").strip() or None
        if authorization is None:
            state["principal"], state["tenant_code"] = ANONYMOUS, requested_tenant
            await self.app(scope, receive, send)
            return
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            await _unauthorized(send, "invalid_request", "Use the Bearer scheme: Authorization: Bearer <access token>")
            return
        if len(token) > MAX_TOKEN_LENGTH:
            await _unauthorized(send, "invalid_token", "The access token is too long")
            return
        try:
            claims = await self.verifier().verify(token)
        except InvalidToken as error:
            await _unauthorized(send, "invalid_token", f"The access token is not valid: {error.reason}")
            return
        except UpstreamError as error:
            log.warning("cannot verify an access token: %s", error)
            await _answer(send, 503, "The identity provider's keys cannot be read now; try again shortly",
                          "UPSTREAM_UNAVAILABLE", [(b"retry-after", b"5")])
            return
        try:
            principal = principal_from_claims(claims)
        except InvalidClaims as error:  # issue 14 #12: a malformed claim is an unusable token, not a 500
            await _unauthorized(send, "invalid_token", f"The access token is not valid: {error}")
            return
        if not principal.tenant:
            await _unauthorized(send, "invalid_token", "The access token names no tenant")
            return
        if self.sessions is not None and await self.sessions().refused(principal, claims):
            await _unauthorized(send, "invalid_token", "The session has ended: sign in again")
            return
        if requested_tenant is not None and requested_tenant != principal.tenant:
            # TEN-1: a token acts for its own tenant only; asking for another is refused, not ignored
            await _answer(send, 403, f"This token acts for tenant {principal.tenant}, not {requested_tenant}",
                          "FORBIDDEN", [])
            return
        state["principal"], state["tenant_code"] = principal, principal.tenant
        await self.app(scope, receive, send)


def _headers(scope: Scope) -> dict[str, str]:
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope.get("headers", [])}


async def _unauthorized(send: Send, error: str, description: str) -> None:
    challenge = f'Bearer realm="{REALM}", error="{error}", error_description="{_quoted(description)}"'
    await _answer(send, 401, description, "UNAUTHENTICATED", [(b"www-authenticate", challenge.encode("latin-1"))])


async def _answer(send: Send, status: int, message: str, code: str, extra: list[tuple[bytes, bytes]]) -> None:
    body = orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"), *extra]})
    await send({"type": "http.response.body", "body": body})


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', "'")
