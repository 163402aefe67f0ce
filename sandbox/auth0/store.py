"""The Auth0 emulator's in-memory tenant: signing keys, applications (clients), users, tickets.

Every method is synchronous: a handler parses its request, then calls one method that checks and
mutates without awaiting, so concurrent requests never interleave inside an operation (two creates of
the same e-mail cannot both succeed).

Refusals raise `OAuthError` (the Authentication API's `{"error", "error_description"}`) or
`ManagementError` (the Management API's `{"statusCode", "error", "message", "errorCode"}`), with the
statuses and messages Auth0 answers, so papergraph's error mapping is exercised against the real shapes.
"""

from __future__ import annotations

import copy
import re
import secrets
import time
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, Callable

from sandbox.auth0.crypto import (
    MalformedToken, SigningKey, new_totp_secret, password_hash, password_matches, split_token, totp, totp_matches,
)
from sandbox.auth0.query import QuerySyntaxError, parse
from sandbox.demo import TENANTS

CLAIM_NAMESPACE = "https://papergraph.dev/"
DEFAULT_CONNECTION = "Username-Password-Authentication"  # AUT-4: the `Auth0.App.Connection` default
DEFAULT_TOKEN_LIFETIME = 86_400
DEFAULT_USER_SCOPE = "openid profile email"
M2M_CLIENT_ID = "papergraph-m2m"
M2M_CLIENT_SECRET = "development-only-secret-change-me"
SPA_CLIENT_ID = "papergraph-spa"
MANAGEMENT_SCOPES = ("read:users", "update:users", "create:users", "delete:users", "create:user_tickets",
                     "read:authentication_methods", "create:authentication_methods",
                     "delete:authentication_methods")
PARTNER_SCOPES = ("read:subscriptions", "write:payments")
TICKET_TTL_DEFAULT = 432_000  # Auth0's default for password-change tickets: five days
MFA_TOKEN_TTL = 600
MAX_SEARCH_RESULTS = 1000  # Auth0 pages through the first 1000 matches only
MAX_PER_PAGE = 100

GRANT_CLIENT_CREDENTIALS = "client_credentials"
GRANT_PASSWORD = "password"
GRANT_PASSWORD_REALM = "http://auth0.com/oauth/grant-type/password-realm"
GRANT_MFA_OTP = "http://auth0.com/oauth/grant-type/mfa-otp"

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
USER_STRING_FIELDS = ("email", "password", "given_name", "family_name", "name", "nickname", "picture")
CREATE_FIELDS = {*USER_STRING_FIELDS, "connection", "user_id", "user_metadata", "app_metadata", "email_verified",
                 "verify_email", "blocked"}
UPDATE_FIELDS = {*USER_STRING_FIELDS, "connection", "client_id", "user_metadata", "app_metadata",
                 "email_verified", "verify_email", "blocked"}


class OAuthError(Exception):
    """A refusal of the Authentication API (`/oauth/token`, `/userinfo`)."""

    def __init__(self, status: int, error: str, description: str, **extra: Any) -> None:
        super().__init__(description)
        self.status, self.error, self.description, self.extra = status, error, description, extra

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "error_description": self.description, **self.extra}


class ManagementError(Exception):
    """A refusal of the Management API (`/api/v2`)."""

    def __init__(self, status: int, message: str, error_code: str) -> None:
        super().__init__(message)
        self.status, self.message, self.error_code = status, message, error_code

    def body(self) -> dict[str, Any]:
        return {"statusCode": self.status, "error": HTTPStatus(self.status).phrase, "message": self.message,
                "errorCode": self.error_code}


def _invalid_body(message: str) -> ManagementError:
    return ManagementError(400, f"Payload validation error: {message}", "invalid_body")


def default_clients(issuer: str, audience: str) -> dict[str, dict[str, Any]]:
    """The applications of the sandbox tenant. A client is `{client_secret (None: a public client that
    cannot keep one, like a browser app), grant_types, audiences: {audience: [scopes]}, tenant?,
    token_lifetime?}`; `audiences` plays Auth0's client grants (which APIs, with which scopes)."""
    clients: dict[str, dict[str, Any]] = {
        M2M_CLIENT_ID: {
            "client_secret": M2M_CLIENT_SECRET, "grant_types": [GRANT_CLIENT_CREDENTIALS],
            "audiences": {issuer + "api/v2/": list(MANAGEMENT_SCOPES)},
        },
        SPA_CLIENT_ID: {
            "client_secret": None, "grant_types": [GRANT_PASSWORD, GRANT_PASSWORD_REALM, GRANT_MFA_OTP],
            "audiences": {audience: []},
        },
    }
    for tenant in TENANTS:  # MGR-3: a partner application acts on one tenant, with scopes
        name = f"partner-{tenant['code'].lower()}"
        clients[name] = {
            "client_secret": f"{name}-secret", "grant_types": [GRANT_CLIENT_CREDENTIALS],
            "audiences": {audience: list(PARTNER_SCOPES)}, "tenant": tenant["code"],
        }
    return clients


def password_is_strong(password: str) -> bool:
    """USR-5, configured as the connection's password policy: 8+ characters, a digit, a special one."""
    return len(password) >= 8 and any(c.isdigit() for c in password) and any(not c.isalnum() for c in password)


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Auth0Store:
    def __init__(self, *, issuer: str, audience: str, clients: dict[str, dict[str, Any]] | None = None,
                 clock: Callable[[], float] = time.time, signing_key: SigningKey | None = None,
                 public_url: str | None = None) -> None:
        self.issuer = issuer if issuer.endswith("/") else issuer + "/"
        # where browsers open ticket pages: the issuer unless the emulator is mounted elsewhere (embedded mode)
        self.public_url = (public_url.rstrip("/") + "/") if public_url else self.issuer
        self.audience = audience
        self.management_audience = self.issuer + "api/v2/"
        self.clock = clock
        # keys survive `reset()`: tokens already handed out stay verifiable; rotation is its own operation
        self.keys: list[SigningKey] = [signing_key or SigningKey()]
        self._extra_clients = copy.deepcopy(clients or {})
        self.reset()

    def reset(self) -> None:
        self.clients = {**default_clients(self.issuer, self.audience), **copy.deepcopy(self._extra_clients)}
        self.connections = {DEFAULT_CONNECTION}
        self.users: dict[str, dict[str, Any]] = {}
        self.by_email: dict[tuple[str, str], str] = {}  # (connection, lower-case e-mail) → user_id
        self.tickets: dict[str, dict[str, Any]] = {}
        self.mfa_tokens: dict[str, dict[str, Any]] = {}
        self.outbox: list[dict[str, Any]] = []  # e-mails Auth0 would send (verification, …)
        self.logouts: list[dict[str, Any]] = []  # browser visits of /v2/logout: {client_id, federated, returnTo}

    # keys and tokens -------------------------------------------------------------------------------
    @property
    def signing_key(self) -> SigningKey:
        return self.keys[-1]

    def rotate_keys(self, drop_old: bool = False) -> SigningKey:
        """The new key signs from now on; old keys stay published (unless dropped) so tokens they signed
        keep verifying until they expire, as Auth0's rotation does."""
        key = SigningKey()
        self.keys = [key] if drop_old else [*self.keys, key]
        return key

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.jwk() for key in self.keys]}

    def issue_token(self, *, sub: str, audience: str | list[str] | None = None, claims: dict[str, Any] | None = None,
                    expires_in: int | None = None, scope: str | None = None, azp: str | None = None,
                    gty: str | None = None) -> str:
        """Mint an access token directly: tests use it to act as any principal without a login."""
        now = int(self.clock())
        payload: dict[str, Any] = {
            "iss": self.issuer, "sub": sub, "aud": audience or self.audience, "iat": now,
            "exp": now + (DEFAULT_TOKEN_LIFETIME if expires_in is None else expires_in),
        }
        if azp:
            payload["azp"] = azp
        if scope:
            payload["scope"] = scope
        if gty:
            payload["gty"] = gty
        payload.update(claims or {})
        return self.signing_key.sign(payload)

    def verify(self, token: str, audience: str) -> dict[str, Any]:
        """Claims of a token this tenant issued for `audience`; `ValueError` saying why otherwise."""
        try:
            header, claims, signing_input, signature = split_token(token)
        except MalformedToken as exc:
            raise ValueError(f"Invalid token: {exc}") from None
        key = next((k for k in self.keys if k.kid == header.get("kid")), None)
        if header.get("alg") != "RS256" or key is None or not key.verifies(signing_input, signature):
            raise ValueError("Invalid token")
        if claims.get("iss") != self.issuer:
            raise ValueError(f"Bad issuer: {claims.get('iss')}")
        audiences = claims.get("aud") if isinstance(claims.get("aud"), list) else [claims.get("aud")]
        if audience not in audiences:
            raise ValueError(f"Bad audience: {' '.join(map(str, audiences))}")
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= self.clock():
            raise ValueError("Expired token received for JSON Web Token validation")
        return claims

    # the Authentication API: /oauth/token ------------------------------------------------------------
    def token(self, params: dict[str, Any]) -> dict[str, Any]:
        grant_type = params.get("grant_type")
        if not grant_type:
            raise OAuthError(400, "invalid_request", "Missing required parameter: grant_type")
        grants = {GRANT_CLIENT_CREDENTIALS: self._client_credentials, GRANT_PASSWORD: self._password,
                  GRANT_PASSWORD_REALM: self._password, GRANT_MFA_OTP: self._mfa_otp}
        if grant_type not in grants:
            raise OAuthError(400, "unsupported_grant_type", f"Unsupported grant type: {grant_type}")
        client_id = _required(params, "client_id")
        client = self.clients.get(client_id)
        secret = client.get("client_secret") if client else None
        # a confidential client must prove it is itself; a public one (no secret) cannot
        if client is None or (secret is not None and params.get("client_secret") != secret):
            raise OAuthError(401, "access_denied", "Unauthorized")
        if grant_type not in client["grant_types"]:
            raise OAuthError(403, "unauthorized_client", f"Grant type '{grant_type}' not allowed for the client.")
        return grants[grant_type](client_id, client, params)

    def _audience_scopes(self, client: dict[str, Any], audience: str | None) -> tuple[str, list[str]]:
        audience = audience or self.audience
        if audience not in client["audiences"]:
            raise OAuthError(403, "access_denied",
                             f'Client is not authorized to access "{audience}". You need to create a "client-grant" '
                             "associated to this API. See: "
                             "https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants")
        return audience, client["audiences"][audience]

    def _lifetime(self, client: dict[str, Any]) -> int:
        return int(client.get("token_lifetime") or DEFAULT_TOKEN_LIFETIME)

    def _client_credentials(self, client_id: str, client: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        audience, granted = self._audience_scopes(client, params.get("audience"))
        requested = str(params.get("scope") or "").split()
        scopes = [s for s in requested if s in granted] if requested else list(granted)
        claims: dict[str, Any] = {}
        if client.get("tenant") and audience == self.audience:
            claims = {CLAIM_NAMESPACE + "tenant": client["tenant"], CLAIM_NAMESPACE + "principal": "partner"}
        lifetime = self._lifetime(client)
        token = self.issue_token(sub=f"{client_id}@clients", audience=audience, claims=claims, expires_in=lifetime,
                                 scope=" ".join(scopes), azp=client_id, gty="client-credentials")
        return {"access_token": token, "scope": " ".join(scopes), "expires_in": lifetime, "token_type": "Bearer"}

    def _password(self, client_id: str, client: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        username, password = _required(params, "username"), _required(params, "password")
        connection = DEFAULT_CONNECTION
        if params["grant_type"] == GRANT_PASSWORD_REALM:
            connection = _required(params, "realm")
            if connection not in self.connections:
                raise OAuthError(400, "invalid_request", "Unknown realm")
        audience, _ = self._audience_scopes(client, params.get("audience"))
        user = self.users.get(self.by_email.get((connection, username.strip().lower()), ""))
        if user is None or not password_matches(password, user["_password"]):
            raise OAuthError(403, "invalid_grant", "Wrong email or password.")
        if user.get("blocked"):
            raise OAuthError(401, "unauthorized", "user is blocked")
        scope = str(params.get("scope") or DEFAULT_USER_SCOPE)
        if user["app_metadata"].get("mfa_enrolled"):
            mfa_token = secrets.token_urlsafe(24)
            self.mfa_tokens[mfa_token] = {"user_id": user["user_id"], "client_id": client_id, "audience": audience,
                                          "scope": scope, "expires_at": self.clock() + MFA_TOKEN_TTL}
            raise OAuthError(403, "mfa_required", "Multifactor authentication required", mfa_token=mfa_token)
        return self._user_tokens(user, client_id, client, audience, scope, mfa=False)

    def _mfa_otp(self, client_id: str, client: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        pending = self.mfa_tokens.get(_required(params, "mfa_token"))
        if pending is None or pending["client_id"] != client_id:
            raise OAuthError(403, "invalid_grant", "Malformed mfa_token")
        if pending["expires_at"] <= self.clock():
            del self.mfa_tokens[params["mfa_token"]]
            raise OAuthError(403, "expired_token", "mfa_token is expired")
        user = self.users.get(pending["user_id"])
        if user is None or not totp_matches(user["_mfa_secret"], str(_required(params, "otp")), self.clock()):
            raise OAuthError(403, "invalid_grant", "Invalid otp_code.")
        del self.mfa_tokens[params["mfa_token"]]  # single use
        return self._user_tokens(user, client_id, client, pending["audience"], pending["scope"], mfa=True)

    def _user_tokens(self, user: dict[str, Any], client_id: str, client: dict[str, Any], audience: str, scope: str,
                     *, mfa: bool) -> dict[str, Any]:
        now = self.clock()
        user["logins_count"] = user.get("logins_count", 0) + 1
        user["last_login"] = _iso(now)
        lifetime = self._lifetime(client)
        openid = "openid" in scope.split()
        token = self.issue_token(
            sub=user["user_id"], audience=[audience, self.issuer + "userinfo"] if openid else audience,
            claims=self.custom_claims(user, mfa=mfa), expires_in=lifetime, scope=scope, azp=client_id,
            gty="password",
        )
        answer: dict[str, Any] = {"access_token": token, "scope": scope, "expires_in": lifetime,
                                  "token_type": "Bearer"}
        if openid:
            answer["id_token"] = self.issue_token(sub=user["user_id"], audience=client_id, expires_in=36_000,
                                                  claims=self.profile(user))
        return answer

    def custom_claims(self, user: dict[str, Any], *, mfa: bool) -> dict[str, Any]:
        """papergraph's claims, from `app_metadata` as an Auth0 post-login Action would add them."""
        meta = user["app_metadata"]
        staff = meta.get("role") == "staff"
        claims: dict[str, Any] = {
            CLAIM_NAMESPACE + "tenant": meta.get("paperCode"),
            CLAIM_NAMESPACE + "principal": "staff" if staff else "customer",
            CLAIM_NAMESPACE + "mfa": mfa,
        }
        if staff:
            claims[CLAIM_NAMESPACE + "access"] = dict(meta.get("access") or {})  # MGR-1
        if mfa:
            claims["amr"] = ["mfa"]  # MGR-2: the second factor was given in this login
        return claims

    def profile(self, user: dict[str, Any]) -> dict[str, Any]:
        """The OpenID Connect profile (`/userinfo`, ID tokens)."""
        return {"sub": user["user_id"], **{k: user[k] for k in (
            "email", "email_verified", "name", "given_name", "family_name", "nickname", "picture", "updated_at",
        ) if user.get(k) is not None}}

    def userinfo(self, token: str) -> dict[str, Any]:
        try:
            claims = self.verify(token, self.issuer + "userinfo")
        except ValueError as exc:
            raise OAuthError(401, "invalid_token", str(exc)) from None
        user = self.users.get(claims["sub"])
        if user is None:
            raise OAuthError(401, "invalid_token", "The user does not exist.")
        return self.profile(user)

    def otp(self, user_id: str) -> str:
        """The code the user's authenticator app shows now (sandbox only: tests log in as MFA staff)."""
        user = self.users.get(user_id)
        if user is None or not user.get("_mfa_secret"):
            raise ManagementError(404, "The user has no enrolled authenticator.", "inexistent_user")
        return totp(user["_mfa_secret"], self.clock())

    # the Management API: /api/v2 -----------------------------------------------------------------
    def authorize_management(self, authorization: str | None, scope: str) -> dict[str, Any]:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ManagementError(401, "Missing authentication", "missing_authentication")
        try:
            claims = self.verify(token.strip(), self.management_audience)
        except ValueError as exc:
            raise ManagementError(401, str(exc), "invalid_token") from None
        if scope not in str(claims.get("scope", "")).split():
            raise ManagementError(403, f"Insufficient scope, expected any of: {scope}", "insufficient_scope")
        return claims

    def public(self, user: dict[str, Any]) -> dict[str, Any]:
        view = {k: copy.deepcopy(v) for k, v in user.items() if not k.startswith("_") and k != "connection"}
        view["identities"] = [{"connection": user["connection"], "provider": "auth0",
                               "user_id": user["user_id"].split("|", 1)[-1], "isSocial": False}]
        return view

    def add_user(self, data: dict[str, Any]) -> dict[str, Any]:
        """Load a user as stored (demo data, `/_sandbox/load`): no password policy, ids kept. Users carry
        `app_metadata.paperCode` (their tenant; taken from `tenant` when missing), optionally `role:
        staff`, `access` and `mfa_enrolled`."""
        app_metadata = dict(data.get("app_metadata") or {})
        if data.get("tenant"):
            app_metadata.setdefault("paperCode", data["tenant"])
        connection = data.get("connection") or DEFAULT_CONNECTION
        self.connections.add(connection)
        user = self._new_user(
            connection=connection, email=data["email"], password=data.get("password") or secrets.token_urlsafe(18),
            user_id=data.get("user_id"),
            fields={**{k: data[k] for k in ("given_name", "family_name", "name", "nickname", "picture", "blocked")
                       if data.get(k) is not None},
                    "email_verified": bool(data.get("email_verified", False)),
                    "user_metadata": dict(data.get("user_metadata") or {}), "app_metadata": app_metadata},
        )
        if data.get("mfa_secret"):
            user["_mfa_secret"] = data["mfa_secret"]
        return user

    def _new_user(self, *, connection: str, email: str, password: str, user_id: str | None,
                  fields: dict[str, Any]) -> dict[str, Any]:
        email = email.strip().lower()  # Auth0 database connections keep e-mails in lower case
        if (connection, email) in self.by_email:
            raise ManagementError(409, "The user already exists.", "auth0_idp_error")
        if user_id is None:
            user_id = "auth0|" + secrets.token_hex(12)
        elif "|" not in user_id:
            user_id = "auth0|" + user_id  # a custom id on a database connection gets the provider prefix
        if user_id in self.users:
            raise ManagementError(409, "The user already exists.", "auth0_idp_error")
        now = _iso(self.clock())
        user: dict[str, Any] = {
            "user_id": user_id, "email": email, "email_verified": False, "created_at": now, "updated_at": now,
            "logins_count": 0, "user_metadata": {}, "app_metadata": {}, **fields, "connection": connection,
            "_password": password_hash(password),
        }
        user.setdefault("name", " ".join(filter(None, (user.get("given_name"), user.get("family_name")))) or email)
        user.setdefault("nickname", email.split("@")[0])
        self._sync_mfa(user)
        self.users[user_id] = user
        self.by_email[(connection, email)] = user_id
        return user

    def _sync_mfa(self, user: dict[str, Any]) -> None:
        if user["app_metadata"].get("mfa_enrolled") and not user.get("_mfa_secret"):
            user["_mfa_secret"] = new_totp_secret()

    def create_user(self, body: dict[str, Any]) -> dict[str, Any]:
        _check_fields(body, CREATE_FIELDS)
        for name in ("connection", "email", "password"):
            if not body.get(name):
                raise _invalid_body(f"'Missing required property: {name}'.")
        if body["connection"] not in self.connections:
            raise ManagementError(400, "The connection does not exist.", "inexistent_connection")
        _check_email(body["email"])
        _check_password(body["password"])
        fields = {k: body[k] for k in CREATE_FIELDS - {"connection", "email", "password", "user_id", "verify_email"}
                  if body.get(k) is not None}
        user = self._new_user(connection=body["connection"], email=body["email"], password=body["password"],
                              user_id=body.get("user_id"), fields=copy.deepcopy(fields))
        if body.get("verify_email") and not user["email_verified"]:
            self.outbox.append({"type": "verify_email", "user_id": user["user_id"], "email": user["email"]})
        return self.public(user)

    def get_user(self, user_id: str) -> dict[str, Any]:
        user = self.users.get(user_id)
        if user is None:
            raise ManagementError(404, "The user does not exist.", "inexistent_user")
        return user

    def update_user(self, user_id: str, body: dict[str, Any]) -> dict[str, Any]:
        _check_fields(body, UPDATE_FIELDS)
        user = self.get_user(user_id)
        if "email" in body and "password" in body:
            raise ManagementError(400, "Cannot update password and email simultaneously", "operation_not_supported")
        new_email = None
        if body.get("email") is not None:
            _check_email(body["email"])
            new_email = body["email"].strip().lower()
            owner = self.by_email.get((user["connection"], new_email))
            if owner is not None and owner != user_id:
                raise ManagementError(400, "The specified new email already exists", "auth0_idp_error")
        if body.get("password") is not None:
            _check_password(body["password"])
        # every check passed: apply
        if new_email is not None and new_email != user["email"]:
            del self.by_email[(user["connection"], user["email"])]
            self.by_email[(user["connection"], new_email)] = user_id
            user["email"] = new_email
            user["email_verified"] = bool(body.get("email_verified", False))  # a new address is unverified
        if body.get("password") is not None:
            user["_password"] = password_hash(body["password"])
        for name in ("given_name", "family_name", "name", "nickname", "picture", "email_verified", "blocked"):
            if name in body:
                user[name] = body[name]
        for name in ("user_metadata", "app_metadata"):
            if name in body:
                user[name] = _merge_metadata(user[name], body[name])
        self._sync_mfa(user)
        if body.get("verify_email") and not user["email_verified"]:
            self.outbox.append({"type": "verify_email", "user_id": user_id, "email": user["email"]})
        user["updated_at"] = _iso(self.clock())
        return self.public(user)

    def delete_user(self, user_id: str) -> None:
        user = self.users.pop(user_id, None)  # Auth0 answers 204 for an unknown id too
        if user is not None:
            del self.by_email[(user["connection"], user["email"])]

    # authentication methods (MGR-2: a manager's TOTP authenticator, enrolled by papergraph) ---------
    def authentication_methods(self, user_id: str) -> list[dict[str, Any]]:
        user = self.get_user(user_id)
        return [copy.deepcopy(m) for m in user.get("_methods", [])]

    def create_authentication_method(self, user_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """`{type: "totp", name?, totp_secret}`: the user's password logins then need the TOTP code (the
        403 `mfa_required` and mfa-otp grant of `_password`/`_mfa_otp`)."""
        extra = sorted(set(body) - {"type", "name", "totp_secret"})
        if extra:
            raise _invalid_body(f"'Additional properties not allowed: {','.join(extra)}'.")
        if body.get("type") != "totp":
            raise _invalid_body("'No enum match for: " + str(body.get("type")) + "' on property type.")
        secret = str(body.get("totp_secret") or "")
        if len(secret) < 16 or not all(c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" for c in secret):
            raise _invalid_body("'Object didn't pass validation for format base32' on property totp_secret.")
        user = self.get_user(user_id)
        if any(m["type"] == "totp" for m in user.get("_methods", [])):
            raise ManagementError(409, "The user already has a totp authentication method.", "operation_not_supported")
        method = {"id": "totp|dev_" + secrets.token_hex(8), "type": "totp", "name": body.get("name") or "totp",
                  "confirmed": True, "created_at": _iso(self.clock())}
        user.setdefault("_methods", []).append(method)
        user["_mfa_secret"] = secret
        user["app_metadata"]["mfa_enrolled"] = True
        return copy.deepcopy(method)

    def delete_authentication_method(self, user_id: str, method_id: str) -> None:
        user = self.get_user(user_id)
        methods = user.get("_methods", [])
        if not any(m["id"] == method_id for m in methods):
            raise ManagementError(404, "Authentication method not found.", "inexistent_authentication_method")
        user["_methods"] = [m for m in methods if m["id"] != method_id]
        user.pop("_mfa_secret", None)
        user["app_metadata"].pop("mfa_enrolled", None)

    def search(self, q: str) -> list[dict[str, Any]]:
        """Users matching the query, oldest first."""
        try:
            query = parse(q)
        except QuerySyntaxError as exc:
            raise ManagementError(400, f"Invalid query: {exc}", "invalid_query_string") from None
        ids = query.exact_values("user_id")
        emails = query.exact_values("email")
        if ids is not None:
            candidates = (self.users[i] for i in ids if i in self.users)
        elif emails is not None:
            wanted = {e.lower() for e in emails}
            candidates = (self.users[i] for (_, email), i in self.by_email.items() if email in wanted)
        else:
            candidates = iter(self.users.values())
        found = [user for user in candidates if query.matches(user)]
        found.sort(key=lambda user: (user["created_at"], user["user_id"]))
        return found

    def users_by_email(self, email: str) -> list[dict[str, Any]]:
        wanted = email.strip().lower()
        return [self.public(self.users[i]) for (_, address), i in self.by_email.items() if address == wanted]

    def password_change_ticket(self, body: dict[str, Any]) -> str:
        _check_fields(body, {"user_id", "result_url", "ttl_sec", "mark_email_as_verified", "includeEmailInRedirect",
                             "client_id"})
        if not body.get("user_id"):
            raise _invalid_body("'Missing required property: user_id'.")
        ttl = body.get("ttl_sec") or TICKET_TTL_DEFAULT  # 0 means the default, as in Auth0
        if not isinstance(ttl, int) or ttl < 0:
            raise _invalid_body("'Expected type integer' on property ttl_sec.")
        user = self.get_user(body["user_id"])
        ticket = secrets.token_urlsafe(24)
        self.tickets[ticket] = {"user_id": user["user_id"], "expires_at": self.clock() + ttl,
                                "result_url": body.get("result_url"),
                                "mark_email_as_verified": bool(body.get("mark_email_as_verified"))}
        return f"{self.public_url}lo/reset?ticket={ticket}#"

    def logout(self, client_id: str | None, federated: bool, return_to: str | None) -> None:
        """`GET /v2/logout`: ends the browser's Auth0 session and, with `federated`, the upstream IdP's (SSN-4).
        The emulator keeps no browser sessions, so it records the visit; an unknown client is refused like
        Auth0's error page, and `returnTo` must be an absolute http(s) URL (Auth0 checks its allow-list)."""
        if client_id is not None and client_id not in self.clients:
            raise OAuthError(400, "invalid_request", "Unknown client")
        if return_to is not None and not return_to.startswith(("http://", "https://")):
            raise OAuthError(400, "invalid_request", "returnTo must be an absolute URL")
        self.logouts.append({"client_id": client_id, "federated": federated, "returnTo": return_to})

    def redeem_ticket(self, ticket: str, new_password: str) -> str | None:
        """The reset page's form: set the password once, then the ticket is spent. → the result URL."""
        entry = self.tickets.get(ticket)
        if entry is None or entry["expires_at"] <= self.clock() or entry["user_id"] not in self.users:
            raise OAuthError(400, "invalid_request", "This ticket was expired or already used.")
        _check_password(new_password)
        user = self.users[entry["user_id"]]
        user["_password"] = password_hash(new_password)
        if entry["mark_email_as_verified"]:
            user["email_verified"] = True
        user["updated_at"] = _iso(self.clock())
        del self.tickets[ticket]
        return entry["result_url"]


def _required(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if not value:
        raise OAuthError(400, "invalid_request", f"Missing required parameter: {name}")
    return str(value)


def _check_fields(body: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(body) - allowed)
    if extra:
        raise _invalid_body(f"'Additional properties not allowed: {','.join(extra)}'.")
    for name in USER_STRING_FIELDS:
        if name in body and body[name] is not None and not isinstance(body[name], str):
            raise _invalid_body(f"'Expected type string' on property {name}.")
    for name in ("email_verified", "verify_email", "blocked"):
        if name in body and not isinstance(body[name], bool):
            raise _invalid_body(f"'Expected type boolean' on property {name}.")
    for name in ("user_metadata", "app_metadata"):
        if name in body and not isinstance(body[name], dict):
            raise _invalid_body(f"'Expected type object' on property {name}.")


def _check_email(email: str) -> None:
    if not EMAIL_PATTERN.match(email.strip()):
        raise _invalid_body(f"'Object didn't pass validation for format email: {email}' on property email.")


def _check_password(password: str) -> None:
    if not password_is_strong(password):
        raise ManagementError(400, "PasswordStrengthError: Password is too weak", "PasswordStrengthError")


def _merge_metadata(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Auth0 merges metadata at the first level only; a key set to null is removed."""
    merged = {**current, **copy.deepcopy(changes)}
    return {k: v for k, v in merged.items() if v is not None}
