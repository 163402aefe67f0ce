"""Client of the tenant's Auth0 (the API of `sandbox.auth0`): discovery, sign-in and the Management API.

The Management API needs a client-credentials token. Fetching one per call is what the source platform
did first and had to undo (AUT-2): tokens are rate-limited and slow to mint. So the token is cached
until its own `exp` (read from the JWT payload; papergraph does not verify a token it only forwards to
the issuer), minus a skew so it is never sent in its last seconds, fetched once for all the coroutines
that ask at the same moment, and dropped and fetched again when it expires or when Auth0 answers 401
with it (revoked, or the signing key was rotated away).

Errors keep the base types (`UpstreamNotFound`, `UpstreamRejected`, …), refined where papergraph reacts
differently: `UserAlreadyExists` (409), `PasswordTooWeak` (400 PasswordStrengthError, USR-5),
`InvalidCredentials` (a refused sign-in), `MfaRequired` (the second factor is due; carries `mfa_token`).
Auth0's 429 rate limit counts as unavailable, so reads are retried with backoff.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import json
import time
from typing import Any, Awaitable, Callable, Iterable
from urllib.parse import quote

import httpx

from datasources.base import RestDataSource, UpstreamError, UpstreamNotFound, UpstreamRejected, UpstreamUnavailable
from datasources.transport import AiohttpClient, UpstreamResponse

TOKEN_EXPIRY_SKEW = 30.0  # seconds before `exp` a cached token stops being used
IDS_PER_SEARCH = 50  # user ids per `user_id:(… OR …)` search, well inside Auth0's query length limit
SEARCH_CONCURRENCY = 4  # bounds the fan-out of a large batch read against Auth0's rate limit
MAX_PER_PAGE = 100  # Auth0's own ceiling
INTERNAL_ID_FIELD = "app_metadata.internalId"  # where the tenant's internal custom id lives (AUT-3)
DEFAULT_SCOPE = "openid profile email"

# The management token of the call in progress, set around each Management API call only, so that
# `auth_headers` never attaches it to the token request itself (which would need a token first).
_management_bearer: contextvars.ContextVar[str | None] = contextvars.ContextVar("auth0_management_bearer",
                                                                                default=None)


class UserAlreadyExists(UpstreamRejected):
    code = "ALREADY_EXISTS"


class PasswordTooWeak(UpstreamRejected):
    code = "PASSWORD_TOO_WEAK"


class InvalidCredentials(UpstreamRejected):
    """Wrong e-mail or password, or a blocked user: the sign-in is refused, nothing is wrong upstream."""

    code = "INVALID_CREDENTIALS"


class MfaRequired(UpstreamRejected):
    code = "MFA_REQUIRED"

    @property
    def mfa_token(self) -> str | None:
        return self.body.get("mfa_token") if isinstance(self.body, dict) else None


def token_expiry(token: str) -> tuple[float, float | None]:
    """(`exp`, `iat`) of a JWT, read without verifying the signature."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"]), (float(claims["iat"]) if "iat" in claims else None)
    except (IndexError, ValueError, KeyError, TypeError) as exc:
        raise ValueError("the management token is not a JWT with an exp claim") from exc


def lucene_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Auth0DataSource(RestDataSource):
    service = "auth0"

    def __init__(
        self,
        client: httpx.AsyncClient | AiohttpClient,
        *,
        client_id: str,
        client_secret: str,
        audience: str,
        timeout: float = 5.0,
        read_retries: int = 2,
        clock: Callable[[], float] = time.time,
        **kwargs: Any,
    ) -> None:
        """`audience` is the Management API identifier (`https://<tenant>/api/v2/`); `clock` is wall-clock
        time, since a token's `exp` is wall-clock too."""
        super().__init__(client, timeout=timeout, read_retries=read_retries, **kwargs)
        self.client_id = client_id
        self.client_secret = client_secret
        self.audience = audience
        self.clock = clock
        self._token: str | None = None
        self._token_valid_until = float("-inf")
        self._token_lock = asyncio.Lock()

    # hooks -----------------------------------------------------------------------------------------
    async def auth_headers(self) -> dict[str, str]:
        token = _management_bearer.get()
        return {"authorization": f"Bearer {token}"} if token else {}

    def error_from_response(self, response: httpx.Response | UpstreamResponse) -> UpstreamError:
        error = super().error_from_response(response)
        body = error.body if isinstance(error.body, dict) else {}
        status = response.status_code
        if status == 429:
            return UpstreamUnavailable(self.service, status, error.body, "auth0 rate limit reached")
        if status == 409:
            return UserAlreadyExists(self.service, status, error.body)
        if str(body.get("message", "")).startswith("PasswordStrengthError"):
            return PasswordTooWeak(self.service, status, error.body)
        if body.get("error") == "mfa_required":
            return MfaRequired(self.service, status, error.body)
        sign_in = response.request.url.path.endswith("/oauth/token")
        if sign_in and body.get("error") in ("invalid_grant", "unauthorized"):
            return InvalidCredentials(self.service, status, error.body)
        return error

    # the management token (AUT-2) ----------------------------------------------------------------------
    async def management_token(self) -> str:
        if self._token is not None and self.clock() < self._token_valid_until:
            return self._token
        async with self._token_lock:
            # whoever held the lock before us may have fetched it: callers that queued get that one
            if self._token is None or self.clock() >= self._token_valid_until:
                self._token = None
                answer = await self.post("/oauth/token", {
                    "grant_type": "client_credentials", "client_id": self.client_id,
                    "client_secret": self.client_secret, "audience": self.audience,
                })
                token = answer["access_token"]
                expires_at, issued_at = token_expiry(token)
                # a short-lived token would never be reused with a fixed skew: cap it at a tenth of its life
                lifetime = expires_at - (issued_at if issued_at is not None else self.clock())
                self._token_valid_until = expires_at - min(TOKEN_EXPIRY_SKEW, max(lifetime, 0) / 10)
                self._token = token
            return self._token

    def _drop_token(self, token: str) -> None:
        if self._token == token:  # another caller may already have replaced it
            self._token = None
            self._token_valid_until = float("-inf")

    async def _management(self, verb: Callable[..., Awaitable[Any]], path: str, **kwargs: Any) -> Any:
        """One Management API call with the cached token; a 401 drops that token and retries once with a
        fresh one (nothing was done upstream, so even a POST is safe to repeat)."""
        for attempt in range(2):
            token = await self.management_token()
            bearer = _management_bearer.set(token)
            try:
                return await verb(path, **kwargs)
            except UpstreamRejected as exc:
                if exc.status != 401 or attempt:
                    raise
                self._drop_token(token)
            finally:
                _management_bearer.reset(bearer)
        raise AssertionError("unreachable")  # pragma: no cover

    # discovery (AUT-1) ---------------------------------------------------------------------------------
    async def openid_configuration(self) -> dict[str, Any]:
        return await self.get("/.well-known/openid-configuration")

    async def get_jwks(self) -> dict[str, Any]:
        return await self.get("/.well-known/jwks.json")

    # sign-in ---------------------------------------------------------------------------------------
    async def password_grant(
        self,
        username: str,
        password: str,
        client_id: str,
        *,
        client_secret: str | None = None,
        audience: str | None = None,
        scope: str = DEFAULT_SCOPE,
        realm: str | None = None,
    ) -> dict[str, Any]:
        """→ {access_token, id_token?, scope, expires_in, token_type}. With `realm` (the tenant's
        `Auth0.App.Connection`, AUT-4) the password-realm grant authenticates against that connection.
        Not retried: a refused password must not count twice against Auth0's brute-force protection."""
        body: dict[str, Any] = {"grant_type": "password", "username": username, "password": password,
                                "client_id": client_id, "scope": scope}
        if realm:
            body.update(grant_type="http://auth0.com/oauth/grant-type/password-realm", realm=realm)
        if client_secret:
            body["client_secret"] = client_secret
        if audience:
            body["audience"] = audience
        return await self.post("/oauth/token", body)

    async def mfa_otp_grant(self, mfa_token: str, otp: str, client_id: str, *,
                            client_secret: str | None = None) -> dict[str, Any]:
        """Finish a sign-in that raised `MfaRequired` with the user's TOTP code (MGR-2)."""
        body = {"grant_type": "http://auth0.com/oauth/grant-type/mfa-otp", "mfa_token": mfa_token, "otp": otp,
                "client_id": client_id}
        if client_secret:
            body["client_secret"] = client_secret
        return await self.post("/oauth/token", body)

    # users (AUT-3) ---------------------------------------------------------------------------------
    async def list_users(self, email: str | None = None, internal_id: str | None = None, page: int = 1,
                         per_page: int = 10) -> dict[str, Any]:
        """→ {users, total, page, per_page}. `page` is 1-based as papergraph's callers count (AUT-3);
        Auth0 counts from 0."""
        if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
            raise ValueError(f"page must be >= 1 and per_page within 1..{MAX_PER_PAGE}")
        terms = []
        if email is not None:
            terms.append(f"email:{lucene_quote(email.strip())}")
        if internal_id is not None:
            terms.append(f"{INTERNAL_ID_FIELD}:{lucene_quote(internal_id)}")
        answer = await self._management(self.get, "/api/v2/users", params={
            "q": " AND ".join(terms) or None, "page": page - 1, "per_page": per_page,
            "include_totals": "true", "search_engine": "v3",
        })
        return {"users": answer["users"], "total": answer["total"], "page": page, "per_page": per_page}

    async def get_user(self, user_id: str) -> dict[str, Any] | None:
        try:
            return await self._management(self.get, f"/api/v2/users/{quote(user_id, safe='')}")
        except UpstreamNotFound:
            return None

    async def get_users(self, user_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Users by id; missing ids are absent from the result. Auth0 has no batch read by id, so this
        is one search per 50 ids, a few at a time."""
        ids = list(dict.fromkeys(user_ids))
        chunks = [ids[i:i + IDS_PER_SEARCH] for i in range(0, len(ids), IDS_PER_SEARCH)]
        gate = asyncio.Semaphore(SEARCH_CONCURRENCY)

        async def search(chunk: list[str]) -> list[dict[str, Any]]:
            async with gate:
                return await self._management(self.get, "/api/v2/users", params={
                    "q": f"user_id:({' OR '.join(map(lucene_quote, chunk))})", "page": 0,
                    "per_page": len(chunk), "search_engine": "v3",
                })

        found: dict[str, dict[str, Any]] = {}
        for users in await asyncio.gather(*(search(chunk) for chunk in chunks)):
            found.update((user["user_id"], user) for user in users)
        return found

    async def users_by_email(self, email: str) -> list[dict[str, Any]]:
        return await self._management(self.get, "/api/v2/users-by-email", params={"email": email.strip()})

    async def create_user(
        self,
        *,
        email: str,
        password: str,
        connection: str,
        given_name: str | None = None,
        family_name: str | None = None,
        user_metadata: dict[str, Any] | None = None,
        app_metadata: dict[str, Any] | None = None,
        email_verified: bool | None = None,
        verify_email: bool | None = None,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        """Not retried on a lost answer: the retry would be a 409 for the user the first call created;
        the caller looks the e-mail up instead."""
        body = {"email": email, "password": password, "connection": connection, "given_name": given_name,
                "family_name": family_name, "user_metadata": user_metadata, "app_metadata": app_metadata,
                "email_verified": email_verified, "verify_email": verify_email, "user_id": user_id}
        return await self._management(self.post, "/api/v2/users", json={k: v for k, v in body.items() if v is not None})

    async def update_user(self, user_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """`changes` as Auth0 takes them: email, password, given_name, family_name, email_verified,
        blocked, and user_metadata/app_metadata (merged one level deep; a key set to None is removed)."""
        return await self._management(self.patch, f"/api/v2/users/{quote(user_id, safe='')}", json=changes)

    async def delete_user(self, user_id: str) -> None:
        await self._management(self.delete, f"/api/v2/users/{quote(user_id, safe='')}")

    # authenticators (MGR-2) -------------------------------------------------------------------------
    async def authentication_methods(self, user_id: str) -> list[dict[str, Any]]:
        return await self._management(self.get, f"/api/v2/users/{quote(user_id, safe='')}/authentication-methods")

    async def add_totp_authenticator(self, user_id: str, secret: str, name: str = "papergraph") -> dict[str, Any]:
        """Enrol a TOTP authenticator whose secret papergraph generated: the user's sign-ins then need its
        code, and their tokens carry `amr: ["mfa"]`. → the method, with its `id`."""
        return await self._management(self.post, f"/api/v2/users/{quote(user_id, safe='')}/authentication-methods",
                                      json={"type": "totp", "name": name, "totp_secret": secret})

    async def delete_authentication_method(self, user_id: str, method_id: str) -> None:
        await self._management(self.delete, f"/api/v2/users/{quote(user_id, safe='')}/authentication-methods/"
                                             f"{quote(method_id, safe='')}")

    async def create_password_change_ticket(self, user_id: str, *, result_url: str | None = None,
                                            ttl_sec: int | None = None) -> str:
        """→ the URL where the user sets a new password (USR-3: passwordless users get one at creation)."""
        body: dict[str, Any] = {"user_id": user_id}
        if result_url is not None:
            body["result_url"] = result_url
        if ttl_sec is not None:
            body["ttl_sec"] = ttl_sec
        answer = await self._management(self.post, "/api/v2/tickets/password-change", json=body)
        return answer["ticket"]
