"""Auth0 emulator: one Auth0 tenant with RS256 tokens, a JWKS, the Authentication API and the Management
API's user endpoints, in memory.

papergraph uses Auth0 twice (AUT-1..4): customers, staff and partners present RS256 access tokens it
validates against the tenant's JWKS, and papergraph itself manages users through the Management API with
a client-credentials token it caches until the token's own expiry (AUT-2). The emulator answers with
Auth0's statuses, bodies and error shapes so both paths are tested against what production sends.

    GET  /.well-known/openid-configuration   issuer, jwks_uri, token/authorization/userinfo endpoints
    GET  /.well-known/jwks.json              every published key (`kid`, RS256, 2048-bit)
    POST /oauth/token                        form or JSON body, client_secret_post or Basic:
         client_credentials                  {client_id, client_secret, audience, scope?}
         password | …/password-realm         {username, password, client_id, audience?, scope?, realm}
         …/grant-type/mfa-otp                {mfa_token, otp, client_id} after a 403 `mfa_required`
         → {access_token, id_token (with openid), scope, expires_in, token_type: "Bearer"}
    GET  /userinfo                           the user's profile, for a token whose aud has {issuer}userinfo
    POST /lo/reset                           {ticket, newPassword}: the page a password-change ticket opens
    GET  /v2/logout?client_id&returnTo[&federated]  ends the browser session (recorded in `store.logouts`;
                                             `federated` also the upstream IdP's, SSN-4) → 302 returnTo
    Management API, Bearer token for `{issuer}api/v2/` with the scope named:
    GET    /api/v2/users?q=&page=&per_page=&include_totals=&search_engine=v3   read:users (`sandbox.auth0.query`)
    GET    /api/v2/users-by-email?email=     read:users
    POST   /api/v2/users                     create:users   (409 duplicate e-mail per connection; 400
                                             PasswordStrengthError below USR-5)
    GET    /api/v2/users/{id}                read:users
    PATCH  /api/v2/users/{id}                update:users   (metadata merged one level deep; null deletes)
    DELETE /api/v2/users/{id}                delete:users   (204, also for an unknown id)
    POST   /api/v2/tickets/password-change   create:user_tickets {user_id, result_url?, ttl_sec?} → {ticket}

Access tokens carry `iss`, `sub` (the user id, or `<client_id>@clients`), `aud` (the audience; for a user
login with `openid` the list `[audience, {issuer}userinfo]`), `iat`, `exp` (86400 s, or the client's
`token_lifetime`), `azp`, `scope`, `gty` (`client-credentials` or `password`) and papergraph's claims:
`https://papergraph.dev/tenant` (paper code), `…/principal` (`customer`, `staff`, `partner`), `…/access`
(staff: section → NO_ACCESS|READ_ONLY|FULL_CONTROL, MGR-1) and `…/mfa` (bool; with `amr: ["mfa"]` after a
second factor, MGR-2). User claims come from `app_metadata` (`paperCode`, `role: "staff"`, `access`,
`mfa_enrolled`); partner claims from the client's `tenant` (MGR-3). An MFA-enrolled user's password
login answers 403 `mfa_required` with an `mfa_token`; the mfa-otp grant with the 30-second TOTP code
finishes it.

Clients (see `store.default_clients`): `papergraph-m2m` (secret `development-only-secret-change-me`,
Management API with read/update/create/delete:users and create:user_tickets), `papergraph-spa` (public,
password grants), and `partner-<papercode>` per demo tenant (secret `partner-<papercode>-secret`, scopes
read:subscriptions write:payments). `create_app(clients=…)` adds or replaces clients by id.

Admin (no auth, no faults): `POST /_sandbox/load {"users": [...], "connections": [...]}` (additive),
`POST /_sandbox/reset` (users, tickets and clients back to the defaults; keys kept), `POST
/_sandbox/rotate-keys {"dropOld"?}` → `{kid, kids}`, `POST /_sandbox/tokens {sub, audience?, claims?,
expires_in?, scope?}` → `{access_token, expires_in, token_type}`, `GET /_sandbox/otp/{user_id}` →
`{otp}` (the MFA code of an enrolled user now). Fault injection and request counts: `sandbox.faults`.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.auth0.api import api_routes
from sandbox.auth0.crypto import SigningKey
from sandbox.auth0.store import (
    CLAIM_NAMESPACE, DEFAULT_CONNECTION, DEFAULT_TOKEN_LIFETIME, M2M_CLIENT_ID, M2M_CLIENT_SECRET, SPA_CLIENT_ID,
    Auth0Store, ManagementError, OAuthError,
)
from sandbox.demo import DemoData
from sandbox.faults import FaultMiddleware, SandboxControl

__all__ = [
    "CLAIM_NAMESPACE", "DEFAULT_CONNECTION", "M2M_CLIENT_ID", "M2M_CLIENT_SECRET", "SPA_CLIENT_ID", "Auth0Store",
    "ManagementError", "OAuthError", "create_app", "load_demo",
]


def create_app(*, issuer: str = "http://auth0.sandbox/", latency_ms: float = 0,
               audience: str = "https://api.papergraph.dev",
               clients: dict[str, dict[str, Any]] | None = None, signing_key: SigningKey | None = None,
               public_url: str | None = None) -> Starlette:
    """`issuer` is the tenant's public base URL: discovery documents and tickets are built from it and
    tokens carry it as `iss`; `audience` is papergraph's API identifier; `signing_key` the key it signs with
    (a new one by default). `public_url`, when the emulator is mounted where browsers reach it under another URL
    (embedded mode), is what password-change tickets name."""
    control = SandboxControl(latency_ms)
    app = Starlette(
        routes=[*api_routes(), *_admin_routes(), *control.routes()],
        middleware=[Middleware(FaultMiddleware, control=control)],
    )
    app.state.store = Auth0Store(issuer=issuer, audience=audience, clients=clients, signing_key=signing_key,
                                 public_url=public_url)
    app.state.control = control
    return app


def load_demo(store: Auth0Store, data: DemoData) -> int:
    """Load the demo dataset's Auth0 users in-process; returns how many were loaded."""
    for user in data.identity_users:
        store.add_user(user)
    return len(data.identity_users)


def _admin_routes() -> list[Route]:
    def refused(message: str) -> JSONResponse:
        return JSONResponse({"code": "INVALID_REQUEST", "message": message}, status_code=400)

    async def load(request: Request) -> JSONResponse:
        store: Auth0Store = request.app.state.store
        try:
            body = await request.json()
            users = body.get("users", [])
            store.connections.update(body.get("connections", []))
            for user in users:
                store.add_user(user)
        except ManagementError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            return refused(f"cannot load: {exc!r}")
        return JSONResponse({"loaded": len(users), "users": len(store.users)})

    async def reset(request: Request) -> JSONResponse:
        request.app.state.store.reset()
        return JSONResponse({"users": 0})

    async def rotate_keys(request: Request) -> JSONResponse:
        store: Auth0Store = request.app.state.store
        body = await request.json() if await request.body() else {}
        key = store.rotate_keys(drop_old=bool(body.get("dropOld")))
        return JSONResponse({"kid": key.kid, "kids": [k.kid for k in store.keys]})

    async def tokens(request: Request) -> JSONResponse:
        store: Auth0Store = request.app.state.store
        try:
            body = await request.json()
            expires_in = body.get("expires_in")
            access_token = store.issue_token(sub=body["sub"], audience=body.get("audience"),
                                             claims=body.get("claims"), expires_in=expires_in,
                                             scope=body.get("scope"))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            return refused(f"cannot issue: {exc!r}")
        return JSONResponse({"access_token": access_token, "token_type": "Bearer",
                             "expires_in": DEFAULT_TOKEN_LIFETIME if expires_in is None else expires_in})

    async def otp(request: Request) -> JSONResponse:
        try:
            return JSONResponse({"otp": request.app.state.store.otp(request.path_params["user_id"])})
        except ManagementError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)

    return [
        Route("/_sandbox/load", load, methods=["POST"]),
        Route("/_sandbox/reset", reset, methods=["POST"]),
        Route("/_sandbox/rotate-keys", rotate_keys, methods=["POST"]),
        Route("/_sandbox/tokens", tokens, methods=["POST"]),
        Route("/_sandbox/otp/{user_id}", otp, methods=["GET"]),
    ]
