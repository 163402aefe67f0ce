"""The Auth0 emulator answers as Auth0 does: discovery, token grants, custom claims, the Management API's
users, tickets, key rotation, and the sandbox admin routes. Tokens are checked with joserfc, an
implementation independent of the emulator's own signing code."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError
from joserfc.jwk import KeySet

from sandbox.auth0 import M2M_CLIENT_ID, M2M_CLIENT_SECRET, SPA_CLIENT_ID, create_app, load_demo
from sandbox.auth0.crypto import totp
from sandbox.demo import generate
from tests.support import free_port

ISSUER = "http://auth0.test/"
API = "https://api.papergraph.dev"
MANAGEMENT = ISSUER + "api/v2/"
NS = "https://papergraph.dev/"
PASSWORD = "Demo-pass-1!"
STAFF_ACCESS = {"subscriptions": "FULL_CONTROL", "payments": "READ_ONLY"}


@pytest.fixture
def app():
    app = create_app(issuer=ISSUER, audience=API,
                     clients={"short-lived": {"client_secret": "s", "grant_types": ["client_credentials"],
                                              "audiences": {MANAGEMENT: ["read:users"]}, "token_lifetime": 60}})
    store = app.state.store
    load_demo(store, generate(1))
    store.add_user({"user_id": "auth0|staff-mtx", "email": "desk@mtxdemo.example.com", "password": PASSWORD,
                    "email_verified": True, "app_metadata": {"paperCode": "MTXDEMO", "role": "staff",
                                                             "access": STAFF_ACCESS, "mfa_enrolled": True}})
    store.add_user({"user_id": "auth0|staff-ncs", "email": "desk@ncsdemo.example.com", "password": PASSWORD,
                    "app_metadata": {"paperCode": "NCSDEMO", "role": "staff", "access": STAFF_ACCESS}})
    return app


@pytest.fixture
async def auth0(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=ISSUER.rstrip("/")) as client:
        yield client


@pytest.fixture
def customer(app):
    return next(u for u in app.state.store.users.values() if u["app_metadata"]["paperCode"] == "NCSDEMO")


@pytest.fixture
async def admin_headers(auth0):
    answer = await auth0.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": M2M_CLIENT_ID,
                                                    "client_secret": M2M_CLIENT_SECRET, "audience": MANAGEMENT})
    return {"authorization": f"Bearer {answer.json()['access_token']}"}


async def claims_of(auth0, token: str) -> dict:
    keys = KeySet.import_key_set((await auth0.get("/.well-known/jwks.json")).json())
    return jwt.decode(token, keys, algorithms=["RS256"]).claims


async def sign_in(auth0, username: str, password: str = PASSWORD, **extra) -> httpx.Response:
    return await auth0.post("/oauth/token", data={"grant_type": "password", "username": username,
                                                  "password": password, "client_id": SPA_CLIENT_ID,
                                                  "audience": API, **extra})


# discovery ----------------------------------------------------------------------------------------
async def test_aut_1_discovery_documents_name_the_issuer_and_its_rsa_keys(auth0):
    # when
    config = (await auth0.get("/.well-known/openid-configuration")).json()
    jwks = (await auth0.get("/.well-known/jwks.json")).json()
    # then
    assert config["issuer"] == ISSUER
    assert config["jwks_uri"] == ISSUER + ".well-known/jwks.json"
    assert config["token_endpoint"] == ISSUER + "oauth/token"
    assert config["userinfo_endpoint"] == ISSUER + "userinfo"
    assert config["authorization_endpoint"] == ISSUER + "authorize"
    [key] = jwks["keys"]
    assert (key["kty"], key["alg"], key["use"]) == ("RSA", "RS256", "sig")
    assert key["kid"] and len(base64.urlsafe_b64decode(key["n"] + "==")) * 8 == 2048
    assert "d" not in key  # never the private part


# client credentials ---------------------------------------------------------------------------------
async def test_client_credentials_for_the_management_api(auth0):
    # when
    answer = await auth0.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": M2M_CLIENT_ID,
                                                    "client_secret": M2M_CLIENT_SECRET, "audience": MANAGEMENT})
    # then
    assert answer.status_code == 200
    body = answer.json()
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 86400)
    claims = await claims_of(auth0, body["access_token"])
    assert claims["iss"] == ISSUER and claims["aud"] == MANAGEMENT
    assert claims["sub"] == f"{M2M_CLIENT_ID}@clients" and claims["azp"] == M2M_CLIENT_ID
    assert claims["gty"] == "client-credentials"
    assert claims["exp"] - claims["iat"] == 86400
    assert set(claims["scope"].split()) == {"read:users", "update:users", "create:users", "delete:users",
                                            "create:user_tickets", "read:authentication_methods",
                                            "create:authentication_methods", "delete:authentication_methods"}
    assert not any(name.startswith(NS) for name in claims)


async def test_client_credentials_as_json_and_with_basic_authentication(auth0):
    # when
    as_json = await auth0.post("/oauth/token", json={"grant_type": "client_credentials", "client_id": M2M_CLIENT_ID,
                                                     "client_secret": M2M_CLIENT_SECRET, "audience": MANAGEMENT,
                                                     "scope": "read:users"})
    basic = await auth0.post("/oauth/token", auth=(M2M_CLIENT_ID, M2M_CLIENT_SECRET),
                             data={"grant_type": "client_credentials", "audience": MANAGEMENT})
    # then
    assert as_json.status_code == basic.status_code == 200
    assert as_json.json()["scope"] == "read:users"  # a requested subset of the grant
    assert (await claims_of(auth0, basic.json()["access_token"]))["sub"] == f"{M2M_CLIENT_ID}@clients"


async def test_mgr_3_partner_token_names_its_tenant_and_scopes(auth0):
    # when
    answer = await auth0.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "partner-ncsdemo",
                                                    "client_secret": "partner-ncsdemo-secret", "audience": API})
    # then
    claims = await claims_of(auth0, answer.json()["access_token"])
    assert claims["aud"] == API
    assert claims[NS + "tenant"] == "NCSDEMO" and claims[NS + "principal"] == "partner"
    assert claims["scope"] == "read:subscriptions write:payments"


async def test_client_token_lifetime_is_the_clients_own(auth0):
    answer = await auth0.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "short-lived",
                                                    "client_secret": "s", "audience": MANAGEMENT})
    claims = await claims_of(auth0, answer.json()["access_token"])
    assert answer.json()["expires_in"] == 60 and claims["exp"] - claims["iat"] == 60


@pytest.mark.parametrize(("body", "status", "error", "description"), [
    ({"grant_type": "client_credentials", "client_id": M2M_CLIENT_ID, "client_secret": "wrong",
      "audience": MANAGEMENT}, 401, "access_denied", "Unauthorized"),
    ({"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "x", "audience": MANAGEMENT},
     401, "access_denied", "Unauthorized"),
    ({"grant_type": "client_credentials", "client_id": M2M_CLIENT_ID, "client_secret": M2M_CLIENT_SECRET,
      "audience": "https://elsewhere/"}, 403, "access_denied",
     'Client is not authorized to access "https://elsewhere/"'),
    ({"grant_type": "authorization_code", "client_id": M2M_CLIENT_ID}, 400, "unsupported_grant_type",
     "Unsupported grant type: authorization_code"),
    ({"client_id": M2M_CLIENT_ID}, 400, "invalid_request", "Missing required parameter: grant_type"),
    ({"grant_type": "client_credentials"}, 400, "invalid_request", "Missing required parameter: client_id"),
    ({"grant_type": "password", "client_id": M2M_CLIENT_ID, "client_secret": M2M_CLIENT_SECRET, "username": "a",
      "password": "b"}, 403, "unauthorized_client", "Grant type 'password' not allowed for the client."),
    ({"grant_type": "client_credentials", "client_id": SPA_CLIENT_ID, "audience": API}, 403, "unauthorized_client",
     "Grant type 'client_credentials' not allowed for the client."),
])
async def test_token_endpoint_refusals_have_auth0s_shape(auth0, body, status, error, description):
    # when
    answer = await auth0.post("/oauth/token", data=body)
    # then
    assert answer.status_code == status
    assert answer.json()["error"] == error
    assert answer.json()["error_description"].startswith(description)


# password grants and custom claims ----------------------------------------------------------------
async def test_customer_password_grant_carries_tenant_and_principal_claims(auth0, customer):
    # when
    answer = await sign_in(auth0, customer["email"].upper())  # e-mails match case-insensitively
    # then
    assert answer.status_code == 200
    body = answer.json()
    claims = await claims_of(auth0, body["access_token"])
    assert claims["aud"] == [API, ISSUER + "userinfo"]
    assert claims["sub"] == customer["user_id"] and claims["azp"] == SPA_CLIENT_ID
    assert claims["gty"] == "password" and claims["scope"] == "openid profile email"
    assert claims[NS + "tenant"] == "NCSDEMO" and claims[NS + "principal"] == "customer"
    assert claims[NS + "mfa"] is False and NS + "access" not in claims and "amr" not in claims
    id_claims = await claims_of(auth0, body["id_token"])
    assert id_claims["aud"] == SPA_CLIENT_ID and id_claims["email"] == customer["email"]


async def test_userinfo_answers_the_profile_of_the_tokens_user(auth0, customer):
    # given
    token = (await sign_in(auth0, customer["email"])).json()["access_token"]
    # when
    profile = await auth0.get("/userinfo", headers={"authorization": f"Bearer {token}"})
    refused = await auth0.get("/userinfo")
    # then
    assert profile.status_code == 200
    assert profile.json()["sub"] == customer["user_id"] and profile.json()["email"] == customer["email"]
    assert refused.status_code == 401


async def test_aut_4_password_realm_grant_uses_the_named_connection(app, auth0):
    # given a user on the tenant's own connection
    app.state.store.add_user({"email": "ext@example.com", "password": PASSWORD, "connection": "Harbour-Post-DB",
                              "app_metadata": {"paperCode": "SAXDEMO"}})
    realm = "http://auth0.com/oauth/grant-type/password-realm"
    # when
    on_realm = await sign_in(auth0, "ext@example.com", grant_type=realm, realm="Harbour-Post-DB")
    on_default = await sign_in(auth0, "ext@example.com")
    # then
    assert on_realm.status_code == 200
    assert on_default.status_code == 403


async def test_wrong_password_unknown_user_and_blocked_user_are_refused(app, auth0, customer):
    # given
    blocked = list(app.state.store.users.values())[1]
    blocked["blocked"] = True
    # when
    wrong = await sign_in(auth0, customer["email"], "Not-the-one-1!")
    unknown = await sign_in(auth0, "nobody@example.com")
    refused = await sign_in(auth0, blocked["email"])
    # then
    assert wrong.status_code == unknown.status_code == 403
    assert wrong.json() == unknown.json() == {"error": "invalid_grant", "error_description": "Wrong email or password."}
    assert refused.status_code == 401 and refused.json()["error_description"] == "user is blocked"


async def test_mgr_1_staff_token_carries_access_levels(auth0):
    claims = await claims_of(auth0, (await sign_in(auth0, "desk@ncsdemo.example.com")).json()["access_token"])
    assert claims[NS + "principal"] == "staff" and claims[NS + "tenant"] == "NCSDEMO"
    assert claims[NS + "access"] == STAFF_ACCESS and claims[NS + "mfa"] is False


async def test_mgr_2_mfa_enrolled_staff_log_in_with_a_totp_code(app, auth0):
    # given
    challenge = await sign_in(auth0, "desk@mtxdemo.example.com")
    assert challenge.status_code == 403 and challenge.json()["error"] == "mfa_required"
    mfa_token = challenge.json()["mfa_token"]
    otp_grant = "http://auth0.com/oauth/grant-type/mfa-otp"
    # when
    wrong = await auth0.post("/oauth/token", data={"grant_type": otp_grant, "client_id": SPA_CLIENT_ID,
                                                   "mfa_token": mfa_token, "otp": "000000"})
    code = (await auth0.get("/_sandbox/otp/auth0|staff-mtx")).json()["otp"]
    right = await auth0.post("/oauth/token", data={"grant_type": otp_grant, "client_id": SPA_CLIENT_ID,
                                                   "mfa_token": mfa_token, "otp": code})
    replay = await auth0.post("/oauth/token", data={"grant_type": otp_grant, "client_id": SPA_CLIENT_ID,
                                                    "mfa_token": mfa_token, "otp": code})
    # then
    assert code == totp(app.state.store.users["auth0|staff-mtx"]["_mfa_secret"], time.time())
    assert wrong.status_code == 403 and wrong.json()["error"] == "invalid_grant"
    assert right.status_code == 200
    claims = await claims_of(auth0, right.json()["access_token"])
    assert claims[NS + "mfa"] is True and claims["amr"] == ["mfa"]
    assert claims[NS + "access"] == STAFF_ACCESS
    assert replay.status_code == 403  # an mfa_token is spent once used


# Management API: authentication ---------------------------------------------------------------------
async def test_management_api_requires_a_management_token_with_the_scope(app, auth0, customer):
    # given
    store = app.state.store
    user_token = (await sign_in(auth0, customer["email"])).json()["access_token"]
    read_only = store.issue_token(sub="x@clients", audience=MANAGEMENT, scope="read:users")
    expired = store.issue_token(sub="x@clients", audience=MANAGEMENT, scope="read:users", expires_in=-1)
    # when
    missing = await auth0.get("/api/v2/users")
    wrong_audience = await auth0.get("/api/v2/users", headers={"authorization": f"Bearer {user_token}"})
    too_old = await auth0.get("/api/v2/users", headers={"authorization": f"Bearer {expired}"})
    no_scope = await auth0.delete(f"/api/v2/users/{customer['user_id']}",
                                  headers={"authorization": f"Bearer {read_only}"})
    forged = await auth0.get("/api/v2/users", headers={"authorization": f"Bearer {read_only[:-4]}AAAA"})
    # then
    assert missing.status_code == wrong_audience.status_code == too_old.status_code == forged.status_code == 401
    assert missing.json() == {"statusCode": 401, "error": "Unauthorized", "message": "Missing authentication",
                              "errorCode": "missing_authentication"}
    assert wrong_audience.json()["message"].startswith("Bad audience")
    assert too_old.json()["message"] == "Expired token received for JSON Web Token validation"
    assert no_scope.status_code == 403
    assert no_scope.json() == {"statusCode": 403, "error": "Forbidden", "errorCode": "insufficient_scope",
                               "message": "Insufficient scope, expected any of: delete:users"}
    assert customer["user_id"] in store.users


# Management API: users ----------------------------------------------------------------------------
NEW_USER = {"connection": "Username-Password-Authentication", "email": " New.Reader@Example.com ",
            "password": "Brand-new-1!", "given_name": "New", "family_name": "Reader",
            "user_metadata": {"favouriteSection": "sport"}, "app_metadata": {"paperCode": "NCSDEMO"}}


async def test_create_user_then_read_it_back(auth0, admin_headers):
    # when
    created = await auth0.post("/api/v2/users", json={**NEW_USER, "verify_email": True}, headers=admin_headers)
    # then
    assert created.status_code == 201
    user = created.json()
    assert user["user_id"].startswith("auth0|") and user["email"] == "new.reader@example.com"
    assert user["email_verified"] is False and user["name"] == "New Reader"
    assert user["identities"] == [{"connection": "Username-Password-Authentication", "provider": "auth0",
                                   "user_id": user["user_id"].split("|")[1], "isSocial": False}]
    assert "password" not in user and not any(k.startswith("_") for k in user)
    read = await auth0.get(f"/api/v2/users/{user['user_id']}", headers=admin_headers)
    assert read.json() == user
    assert (await sign_in(auth0, "new.reader@example.com", "Brand-new-1!")).status_code == 200


@pytest.mark.parametrize(("change", "status", "message", "error_code"), [
    ({"email": "ada.andersen.0@ncsdemo.example.com"}, 409, "The user already exists.", "auth0_idp_error"),
    ({"password": "short1!"}, 400, "PasswordStrengthError: Password is too weak", "PasswordStrengthError"),
    ({"password": "no-digits-here!"}, 400, "PasswordStrengthError: Password is too weak", "PasswordStrengthError"),
    ({"password": "NoSpecial123"}, 400, "PasswordStrengthError: Password is too weak", "PasswordStrengthError"),
    ({"connection": None}, 400, "Payload validation error: 'Missing required property: connection'.", "invalid_body"),
    ({"email": None}, 400, "Payload validation error: 'Missing required property: email'.", "invalid_body"),
    ({"connection": "Nope"}, 400, "The connection does not exist.", "inexistent_connection"),
    ({"email": "not-an-email"}, 400, "Payload validation error: 'Object didn't pass validation for format email: "
                                     "not-an-email' on property email.", "invalid_body"),
    ({"phone": "1"}, 400, "Payload validation error: 'Additional properties not allowed: phone'.", "invalid_body"),
])
async def test_create_user_refusals(auth0, admin_headers, change, status, message, error_code):
    # when
    answer = await auth0.post("/api/v2/users", json={k: v for k, v in {**NEW_USER, **change}.items() if v is not None},
                              headers=admin_headers)
    # then
    assert answer.status_code == status
    assert answer.json() == {"statusCode": status, "error": "Conflict" if status == 409 else "Bad Request",
                             "message": message, "errorCode": error_code}


async def test_update_user_merges_metadata_and_checks_email_and_password(app, auth0, admin_headers, customer):
    # given
    other = next(u for u in app.state.store.users.values() if u["user_id"] != customer["user_id"])
    path = f"/api/v2/users/{customer['user_id']}"
    await auth0.patch(path, json={"user_metadata": {"a": 1, "b": {"x": 1}}}, headers=admin_headers)
    # when
    updated = await auth0.patch(path, json={"user_metadata": {"a": None, "b": {"y": 2}}, "given_name": "Adah",
                                            "app_metadata": {"internalId": "nav-1"}}, headers=admin_headers)
    taken = await auth0.patch(path, json={"email": other["email"]}, headers=admin_headers)
    both = await auth0.patch(path, json={"email": "x@example.com", "password": "Other-pass-2!"}, headers=admin_headers)
    moved = await auth0.patch(path, json={"email": "Moved@Example.com"}, headers=admin_headers)
    unknown = await auth0.patch("/api/v2/users/auth0|nobody", json={"given_name": "x"}, headers=admin_headers)
    # then
    assert updated.status_code == 200
    assert updated.json()["user_metadata"] == {"b": {"y": 2}}  # one level deep; null removes
    assert updated.json()["app_metadata"] == {"paperCode": "NCSDEMO", "internalId": "nav-1"}
    assert updated.json()["given_name"] == "Adah"
    assert taken.status_code == 400 and taken.json()["message"] == "The specified new email already exists"
    assert both.status_code == 400
    assert moved.json()["email"] == "moved@example.com" and moved.json()["email_verified"] is False
    assert unknown.status_code == 404 and unknown.json()["errorCode"] == "inexistent_user"


async def test_delete_user_is_204_also_for_an_unknown_user(auth0, admin_headers, customer):
    # when
    deleted = await auth0.delete(f"/api/v2/users/{customer['user_id']}", headers=admin_headers)
    again = await auth0.delete(f"/api/v2/users/{customer['user_id']}", headers=admin_headers)
    gone = await auth0.get(f"/api/v2/users/{customer['user_id']}", headers=admin_headers)
    # then
    assert deleted.status_code == again.status_code == 204
    assert gone.status_code == 404
    assert gone.json() == {"statusCode": 404, "error": "Not Found", "message": "The user does not exist.",
                           "errorCode": "inexistent_user"}


async def test_aut_3_search_by_email_tenant_and_ids_with_totals_and_pages(app, auth0, admin_headers, customer):
    # given
    ids = [u["user_id"] for u in list(app.state.store.users.values())[:3]]
    # when
    by_email = await auth0.get("/api/v2/users", headers=admin_headers,
                               params={"q": f'email:"{customer["email"].upper()}"', "search_engine": "v3"})
    tenant_page = await auth0.get("/api/v2/users", headers=admin_headers, params={
        "q": 'app_metadata.paperCode:"MTXDEMO" AND email_verified:true', "page": 1, "per_page": 10,
        "include_totals": "true"})
    by_ids = await auth0.get("/api/v2/users", headers=admin_headers,
                             params={"q": f'user_id:("{ids[2]}" OR "{ids[0]}" OR "auth0|nobody")'})
    # then
    assert [u["user_id"] for u in by_email.json()] == [customer["user_id"]]
    page = tenant_page.json()
    # 25 demo customers, 4 demo staff (one per access level) and this module's MTX staff user, all verified
    assert (page["start"], page["limit"], page["length"], page["total"]) == (10, 10, 10, 25 + 4 + 1)
    assert all(u["app_metadata"]["paperCode"] == "MTXDEMO" for u in page["users"])
    assert sorted(u["user_id"] for u in by_ids.json()) == sorted([ids[0], ids[2]])


@pytest.mark.parametrize(("params", "error_code"), [
    ({"q": 'email:"unterminated'}, "invalid_query_string"),
    ({"q": "email"}, "invalid_query_string"),
    ({"per_page": 101}, "invalid_query_string"),
    ({"page": 10, "per_page": 100}, "invalid_paging"),  # only the first 1000 results can be paged through
    ({"search_engine": "v1"}, "invalid_query_string"),
])
async def test_search_refusals(auth0, admin_headers, params, error_code):
    answer = await auth0.get("/api/v2/users", params=params, headers=admin_headers)
    assert answer.status_code == 400 and answer.json()["errorCode"] == error_code


async def test_users_by_email(auth0, admin_headers, customer):
    found = await auth0.get("/api/v2/users-by-email", params={"email": customer["email"]}, headers=admin_headers)
    missing = await auth0.get("/api/v2/users-by-email", headers=admin_headers)
    assert [u["user_id"] for u in found.json()] == [customer["user_id"]]
    assert missing.status_code == 400


async def test_usr_3_password_change_ticket_sets_the_password_once(app, auth0, admin_headers, customer):
    # when
    answer = await auth0.post("/api/v2/tickets/password-change", headers=admin_headers,
                              json={"user_id": customer["user_id"], "result_url": "https://ss.example.com/done",
                                    "ttl_sec": 3600})
    ticket_url = answer.json()["ticket"]
    ticket = parse_qs(urlsplit(ticket_url).query)["ticket"][0]
    weak = await auth0.post("/lo/reset", data={"ticket": ticket, "newPassword": "weak"})
    done = await auth0.post("/lo/reset", data={"ticket": ticket, "newPassword": "Fresh-pass-9!"})
    reused = await auth0.post("/lo/reset", data={"ticket": ticket, "newPassword": "Other-pass-9!"})
    unknown_user = await auth0.post("/api/v2/tickets/password-change", headers=admin_headers,
                                    json={"user_id": "auth0|nobody"})
    # then
    assert answer.status_code == 201 and ticket_url.startswith(ISSUER + "lo/reset?ticket=")
    assert weak.status_code == 400
    assert done.status_code == 303 and done.headers["location"] == "https://ss.example.com/done"
    assert reused.status_code == 400
    assert (await sign_in(auth0, customer["email"], "Fresh-pass-9!")).status_code == 200
    assert unknown_user.status_code == 404


async def test_password_change_ticket_expires(app, auth0, admin_headers, customer):
    # given
    store = app.state.store
    ticket_url = (await auth0.post("/api/v2/tickets/password-change", headers=admin_headers,
                                   json={"user_id": customer["user_id"], "ttl_sec": 60})).json()["ticket"]
    ticket = parse_qs(urlsplit(ticket_url).query)["ticket"][0]
    now = time.time()
    store.clock = lambda: now + 61
    # when
    answer = await auth0.post("/lo/reset", data={"ticket": ticket, "newPassword": "Fresh-pass-9!"})
    # then
    assert answer.status_code == 400


# keys --------------------------------------------------------------------------------------------
async def test_key_rotation_keeps_old_tokens_valid_until_the_old_key_is_dropped(app, auth0):
    # given a token signed with the first key
    store = app.state.store
    old = store.issue_token(sub="m2m@clients", audience=MANAGEMENT, scope="read:users")
    old_kid = store.keys[0].kid
    # when the key rotates
    rotated = (await auth0.post("/_sandbox/rotate-keys")).json()
    new = store.issue_token(sub="m2m@clients", audience=MANAGEMENT, scope="read:users")
    # then both verify, the new token names the new key
    assert rotated["kids"] == [old_kid, rotated["kid"]]
    assert (await auth0.get("/api/v2/users", headers={"authorization": f"Bearer {old}"})).status_code == 200
    published = KeySet.import_key_set((await auth0.get("/.well-known/jwks.json")).json())
    assert jwt.decode(new, published).header["kid"] == rotated["kid"]
    # and when the old key is dropped, its tokens are refused
    dropped = (await auth0.post("/_sandbox/rotate-keys", json={"dropOld": True})).json()
    assert dropped["kids"] == [dropped["kid"]]
    assert (await auth0.get("/api/v2/users", headers={"authorization": f"Bearer {old}"})).status_code == 401
    with pytest.raises(InvalidKeyIdError):
        jwt.decode(old, KeySet.import_key_set((await auth0.get("/.well-known/jwks.json")).json()))


# sandbox admin ------------------------------------------------------------------------------------
async def test_admin_tokens_mint_any_principal(auth0):
    # when
    answer = await auth0.post("/_sandbox/tokens", json={
        "sub": "auth0|someone", "claims": {NS + "tenant": "SAXDEMO", NS + "principal": "customer"},
        "expires_in": 120, "scope": "openid"})
    # then
    claims = await claims_of(auth0, answer.json()["access_token"])
    assert claims["aud"] == API and claims["iss"] == ISSUER and claims["sub"] == "auth0|someone"
    assert claims[NS + "tenant"] == "SAXDEMO" and claims["exp"] - claims["iat"] == 120


async def test_admin_load_is_additive_and_reset_empties(app, auth0):
    # given
    before = len(app.state.store.users)
    # when
    loaded = await auth0.post("/_sandbox/load", json={"users": [
        {"tenant": "NCSDEMO", "user_id": "auth0|loaded", "email": "loaded@example.com", "password": PASSWORD}]})
    duplicate = await auth0.post("/_sandbox/load", json={"users": [
        {"user_id": "auth0|other", "email": "loaded@example.com", "password": PASSWORD}]})
    # then
    assert loaded.json() == {"loaded": 1, "users": before + 1}
    assert app.state.store.users["auth0|loaded"]["app_metadata"] == {"paperCode": "NCSDEMO"}
    assert duplicate.status_code == 409
    assert (await auth0.post("/_sandbox/reset")).status_code == 200
    assert app.state.store.users == {}


async def test_requests_are_counted_and_faults_injected(app, auth0):
    # when
    await auth0.get("/.well-known/jwks.json")
    faulted = await auth0.get("/.well-known/jwks.json", headers={"x-sandbox-fault": "status=503"})
    # then
    assert faulted.status_code == 503
    assert app.state.control.count("GET", "/.well-known/jwks.json") == 2
    assert (await auth0.get("/_sandbox/requests")).json()["total"] == 2


def test_runs_alone_with_the_issuer_from_its_port():
    # given
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "sandbox.auth0", "--port", str(port), "--scale", "1"],
                               cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                config = httpx.get(f"http://127.0.0.1:{port}/.well-known/openid-configuration").json()
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        # when a demo user signs in
        answer = httpx.post(f"http://127.0.0.1:{port}/oauth/token", data={
            "grant_type": "password", "client_id": SPA_CLIENT_ID, "username": "ada.andersen.0@ncsdemo.example.com",
            "password": PASSWORD})
        # then
        assert config["issuer"] == f"http://127.0.0.1:{port}/"
        assert answer.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)


# /v2/logout (SSN-4: Auth0.App.LogOutFromIDP) -----------------------------------------------------------
@pytest.mark.parametrize("query, federated", [
    ({"returnTo": "https://reader.example.com/bye", "federated": ""}, True),
    ({"returnTo": "https://reader.example.com/bye", "client_id": SPA_CLIENT_ID}, False),
], ids=["federated", "auth0-session-only"])
async def test_ssn_4_logout_returns_the_browser_and_records_whether_the_idp_session_ends(app, auth0, query, federated):
    response = await auth0.get("/v2/logout", params=query)

    assert response.status_code == 302 and response.headers["location"] == "https://reader.example.com/bye"
    assert app.state.store.logouts == [{"client_id": query.get("client_id"), "federated": federated,
                                        "returnTo": "https://reader.example.com/bye"}]


async def test_ssn_4_logout_without_return_to_shows_a_page(app, auth0):
    response = await auth0.get("/v2/logout")

    assert response.status_code == 200 and "logged out" in response.text


@pytest.mark.parametrize("query", [{"client_id": "no-such-client"}, {"returnTo": "javascript:alert(1)"}],
                         ids=["unknown-client", "relative-return"])
async def test_ssn_4_logout_refuses_an_unknown_client_or_a_non_http_return(app, auth0, query):
    response = await auth0.get("/v2/logout", params=query)

    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert app.state.store.logouts == []
