"""HTTP layer of the Auth0 emulator: discovery, the Authentication API and the Management API.

Handlers only parse requests and shape answers; every rule lives in `Auth0Store`. Bodies are read the
way Auth0 reads them: `/oauth/token` accepts form-encoded and JSON bodies and HTTP Basic client
authentication; the Management API takes JSON only.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from sandbox.auth0.store import MAX_PER_PAGE, MAX_SEARCH_RESULTS, Auth0Store, ManagementError, OAuthError

Handler = Callable[[Request, Auth0Store], Awaitable[Response]]


def _store(request: Request) -> Auth0Store:
    return request.app.state.store


async def _params(request: Request) -> dict[str, Any]:
    """The parameters of an Authentication API call: form or JSON body, plus Basic client credentials."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        try:
            payload = json.loads(await request.body() or b"{}")
        except ValueError:
            raise OAuthError(400, "invalid_request", "Invalid JSON body") from None
        if not isinstance(payload, dict):
            raise OAuthError(400, "invalid_request", "The body must be a JSON object")
        params = payload
    else:  # application/x-www-form-urlencoded, the OAuth 2.0 default (no multipart dependency needed)
        params = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, secret = base64.b64decode(credentials).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise OAuthError(401, "access_denied", "Unauthorized") from None
        params.setdefault("client_id", unquote(client_id))
        params.setdefault("client_secret", unquote(secret))
    return params


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        payload = json.loads(await request.body() or b"{}")
    except ValueError:
        raise ManagementError(400, "Invalid request payload JSON format", "invalid_body") from None
    if not isinstance(payload, dict):
        raise ManagementError(400, "Payload validation error: 'Expected type object but found type array'.",
                              "invalid_body")
    return payload


def oauth(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        try:
            return await handler(request, _store(request))
        except OAuthError as exc:
            headers = {"www-authenticate": f'Bearer error="{exc.error}"'} if exc.status == 401 else None
            return JSONResponse(exc.body(), status_code=exc.status, headers=headers)

    return run


def management(scope: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A Management API route: a Bearer token for `{issuer}api/v2/` carrying `scope` comes first."""

    async def run(request: Request) -> Response:
        store = _store(request)
        try:
            store.authorize_management(request.headers.get("authorization"), scope)
            return await handler(request, store)
        except ManagementError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)

    return run


# discovery ----------------------------------------------------------------------------------------
async def openid_configuration(request: Request) -> Response:
    issuer = _store(request).issuer
    return JSONResponse({
        "issuer": issuer,
        "authorization_endpoint": issuer + "authorize",
        "token_endpoint": issuer + "oauth/token",
        "userinfo_endpoint": issuer + "userinfo",
        "jwks_uri": issuer + ".well-known/jwks.json",
        "response_types_supported": ["code", "token", "id_token", "code id_token", "token id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "grant_types_supported": ["client_credentials", "password",
                                  "http://auth0.com/oauth/grant-type/password-realm",
                                  "http://auth0.com/oauth/grant-type/mfa-otp"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "claims_supported": ["aud", "sub", "iss", "iat", "exp", "email", "email_verified", "name", "given_name",
                             "family_name", "nickname", "picture", "updated_at"],
    })


async def jwks(request: Request) -> Response:
    return JSONResponse(_store(request).jwks())


# the Authentication API ---------------------------------------------------------------------------
async def token(request: Request, store: Auth0Store) -> Response:
    return JSONResponse(store.token(await _params(request)), headers={"cache-control": "no-store"})


async def userinfo(request: Request, store: Auth0Store) -> Response:
    scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not bearer.strip():
        raise OAuthError(401, "invalid_request", "Missing access token")
    return JSONResponse(store.userinfo(bearer.strip()))


async def reset_password(request: Request, store: Auth0Store) -> Response:
    """The page a password-change ticket leads to, reduced to its form post: `{ticket, newPassword}`."""
    params = await _params(request)
    ticket = params.get("ticket") or request.query_params.get("ticket") or ""
    try:
        result_url = store.redeem_ticket(ticket, str(params.get("newPassword") or ""))
    except ManagementError as exc:  # the password policy refusal
        raise OAuthError(400, "invalid_password", exc.message) from None
    if result_url:
        return RedirectResponse(result_url, status_code=303)
    return JSONResponse({"result": "Your password has been changed successfully."})


# the Management API -------------------------------------------------------------------------------
async def list_users(request: Request, store: Auth0Store) -> Response:
    query = request.query_params
    engine = query.get("search_engine", "v3")
    if engine not in ("v2", "v3"):
        raise ManagementError(400, f"Invalid search_engine: {engine}", "invalid_query_string")
    try:
        page = int(query.get("page", "0"))
        per_page = int(query.get("per_page", "50"))
    except ValueError:
        raise ManagementError(400, "Query validation error: 'Expected type integer' on property page or per_page.",
                              "invalid_query_string") from None
    if page < 0 or not 1 <= per_page <= MAX_PER_PAGE:
        raise ManagementError(400, f"Query validation error: per_page must be 1..{MAX_PER_PAGE}, page >= 0.",
                              "invalid_query_string")
    if (page + 1) * per_page > MAX_SEARCH_RESULTS:
        raise ManagementError(400, "You can only page through the first 1000 records. See "
                                   "https://auth0.com/docs/users/search/v3/view-search-results-by-page#limitation",
                              "invalid_paging")
    found = store.search(query.get("q", ""))
    users = [store.public(user) for user in found[page * per_page:(page + 1) * per_page]]
    if query.get("include_totals") == "true":
        return JSONResponse({"start": page * per_page, "limit": per_page, "length": len(users),
                             "total": len(found), "users": users})
    return JSONResponse(users)


async def users_by_email(request: Request, store: Auth0Store) -> Response:
    email = request.query_params.get("email")
    if not email:
        raise ManagementError(400, "Query validation error: 'Missing required property: email'.",
                              "invalid_query_string")
    return JSONResponse(store.users_by_email(email))


async def create_user(request: Request, store: Auth0Store) -> Response:
    return JSONResponse(store.create_user(await _json_body(request)), status_code=201)


async def get_user(request: Request, store: Auth0Store) -> Response:
    return JSONResponse(store.public(store.get_user(request.path_params["user_id"])))


async def update_user(request: Request, store: Auth0Store) -> Response:
    return JSONResponse(store.update_user(request.path_params["user_id"], await _json_body(request)))


async def delete_user(request: Request, store: Auth0Store) -> Response:
    store.delete_user(request.path_params["user_id"])
    return Response(status_code=204)


async def list_authentication_methods(request: Request, store: Auth0Store) -> Response:
    return JSONResponse(store.authentication_methods(request.path_params["user_id"]))


async def create_authentication_method(request: Request, store: Auth0Store) -> Response:
    return JSONResponse(store.create_authentication_method(request.path_params["user_id"], await _json_body(request)),
                        status_code=201)


async def delete_authentication_method(request: Request, store: Auth0Store) -> Response:
    store.delete_authentication_method(request.path_params["user_id"], request.path_params["method_id"])
    return Response(status_code=204)


async def password_change_ticket(request: Request, store: Auth0Store) -> Response:
    return JSONResponse({"ticket": store.password_change_ticket(await _json_body(request))}, status_code=201)


async def logout(request: Request, store: Auth0Store) -> Response:
    """The browser's `GET /v2/logout?client_id&returnTo[&federated]`: back to `returnTo`, or a plain page."""
    query = request.query_params
    return_to = query.get("returnTo")
    store.logout(query.get("client_id"), "federated" in query, return_to)
    if return_to:
        return RedirectResponse(return_to, status_code=302)
    return Response("You have been logged out.", media_type="text/plain")


def api_routes() -> list[Route]:
    return [
        Route("/.well-known/openid-configuration", openid_configuration, methods=["GET"]),
        Route("/.well-known/jwks.json", jwks, methods=["GET"]),
        Route("/oauth/token", oauth(token), methods=["POST"]),
        Route("/userinfo", oauth(userinfo), methods=["GET"]),
        Route("/lo/reset", oauth(reset_password), methods=["POST"]),
        Route("/v2/logout", oauth(logout), methods=["GET"]),
        Route("/api/v2/users", management("read:users", list_users), methods=["GET"]),
        Route("/api/v2/users", management("create:users", create_user), methods=["POST"]),
        Route("/api/v2/users-by-email", management("read:users", users_by_email), methods=["GET"]),
        Route("/api/v2/users/{user_id}", management("read:users", get_user), methods=["GET"]),
        Route("/api/v2/users/{user_id}", management("update:users", update_user), methods=["PATCH"]),
        Route("/api/v2/users/{user_id}", management("delete:users", delete_user), methods=["DELETE"]),
        Route("/api/v2/users/{user_id}/authentication-methods",
              management("read:authentication_methods", list_authentication_methods), methods=["GET"]),
        Route("/api/v2/users/{user_id}/authentication-methods",
              management("create:authentication_methods", create_authentication_method), methods=["POST"]),
        Route("/api/v2/users/{user_id}/authentication-methods/{method_id}",
              management("delete:authentication_methods", delete_authentication_method), methods=["DELETE"]),
        Route("/api/v2/tickets/password-change", management("create:user_tickets", password_change_ticket),
              methods=["POST"]),
    ]
