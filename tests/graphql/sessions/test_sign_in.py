"""Sign-in of own-auth (MG2) tenants through the public API (SSN-1..SSN-5, USR-8): papergraph issues RS256
access tokens signed by its own key (published at /.well-known/jwks.json, verified like Auth0's) and rotating
refresh tokens."""

from __future__ import annotations

from datetime import timedelta

import httpx
import sqlalchemy as sa
from joserfc import jwt
from joserfc.jwk import KeySet

from datasources.models import RefreshToken
from sandbox.demo import CUSTOMER_PASSWORD, generate
from tests.conftest import bearer, graphql
from tests.graphql.own_tenant import own_registration

SIGN_IN = """
mutation ($login: String!, $password: String!) {
  signIn(input: {loginName: $login, password: $password}) {
    session { accessToken accessTokenExpiresAt refreshToken sessionExpiresAt }
    userErrors { code field message }
  }
}
"""
REFRESH = """
mutation ($token: String!) {
  refreshSession(input: {refreshToken: $token}) { session { accessToken refreshToken } userErrors { code } }
}
"""
SIGN_OUT = "mutation { signOut { signedOut userErrors { code } } }"
ME = "{ me { crid email } }"
PASSWORD = "Right-pass-12"


async def mg2_user(own_tenant, **fields):
    from domain.passwords import hash_password

    tenant = await own_tenant("CIRCPRO", settings={"Flow.UserProvider": "MG2"})
    registration = await own_registration(tenant, password_hash=hash_password(PASSWORD), **fields)
    return tenant, registration


async def sign_in(client, tenant, login, password=PASSWORD) -> dict:
    answer = await graphql(client, SIGN_IN, {"login": login, "password": password}, **tenant.headers)
    assert "errors" not in answer, answer
    return answer["data"]["signIn"]


async def test_ssn3_sign_in_answers_a_papergraph_token_the_api_accepts(api_client, own_tenant, settings):
    # given
    tenant, registration = await mg2_user(own_tenant)
    # when
    payload = await sign_in(api_client, tenant, registration.email.upper())  # login names ignore case
    # then
    assert payload["userErrors"] == []
    token = payload["session"]["accessToken"]
    me = await graphql(api_client, ME, **bearer(token))
    assert me["data"]["me"] == {"crid": registration.crid, "email": registration.email}
    jwks = (await api_client.get("/.well-known/jwks.json")).json()
    claims = jwt.decode(token, KeySet.import_key_set(jwks)).claims
    assert claims["iss"] == settings.public_base_url + "/" and claims["sub"] == registration.crid
    assert claims["https://papergraph.dev/igmRegID"]  # SSN-3: the encrypted CRID finds the registration again
    assert claims["auth_time"] <= claims["iat"] and claims["exp"] - claims["iat"] <= 900
    assert jwt.decode(token, KeySet.import_key_set(jwks)).header["alg"] == "RS256"


async def test_ssn2_wrong_password_and_unknown_login_get_the_same_neutral_error(api_client, own_tenant):
    # given
    tenant, registration = await mg2_user(own_tenant)
    # when
    wrong = await sign_in(api_client, tenant, registration.email, "Wrong-pass-12")
    unknown = await sign_in(api_client, tenant, "nobody@example.com")
    # then
    assert wrong == unknown == {"session": None, "userErrors": [{
        "code": "INVALID_CREDENTIALS", "field": None, "message": "The login name or the password is wrong"}]}


async def test_ssn2_wrong_passwords_are_throttled_even_for_the_right_one(api_client, own_tenant):
    # given: five wrong passwords
    tenant, registration = await mg2_user(own_tenant)
    for _ in range(5):
        assert (await sign_in(api_client, tenant, registration.email, "Wrong-pass-12"))["userErrors"][0]["code"] == \
            "INVALID_CREDENTIALS"
    # when
    right = await sign_in(api_client, tenant, registration.email)
    # then
    assert right["session"] is None and [e["code"] for e in right["userErrors"]] == ["TOO_MANY_ATTEMPTS"]


async def test_usr8_unverified_and_lite_registrations_get_no_session(api_client, own_tenant):
    # given
    tenant, unverified = await mg2_user(own_tenant, email_verified=False)
    lite = await own_registration(tenant, password_hash=None, has_password=False)
    # when
    refused = await sign_in(api_client, tenant, unverified.email)
    no_password = await sign_in(api_client, tenant, lite.email)
    # then
    assert [e["code"] for e in refused["userErrors"]] == ["REGISTRATION_NOT_VERIFIED"] and refused["session"] is None
    assert [e["code"] for e in no_password["userErrors"]] == ["INVALID_CREDENTIALS"]


async def test_ssn1_auth0_tenants_sign_in_with_auth0(api_client):
    # when: NCSDEMO keeps its customers in Auth0
    answer = await graphql(api_client, SIGN_IN, {"login": "a@example.com", "password": PASSWORD}, x_tenant="NCSDEMO")
    # then
    assert [e["code"] for e in answer["data"]["signIn"]["userErrors"]] == ["USE_IDENTITY_PROVIDER"]


async def test_ssn3_refresh_rotates_and_a_reused_refresh_token_revokes_the_family(api_client, own_tenant):
    # given
    tenant, registration = await mg2_user(own_tenant)
    first = (await sign_in(api_client, tenant, registration.email))["session"]
    # when: the refresh token is used, then used again (stolen), then the newest one is tried
    rotated = (await graphql(api_client, REFRESH, {"token": first["refreshToken"]}, **tenant.headers))["data"]
    reused = (await graphql(api_client, REFRESH, {"token": first["refreshToken"]}, **tenant.headers))["data"]
    newest = (await graphql(api_client, REFRESH, {"token": rotated["refreshSession"]["session"]["refreshToken"]},
                            **tenant.headers))["data"]
    # then
    assert rotated["refreshSession"]["userErrors"] == []
    assert rotated["refreshSession"]["session"]["refreshToken"] != first["refreshToken"]
    me = await graphql(api_client, ME, **bearer(rotated["refreshSession"]["session"]["accessToken"]))
    assert me["data"]["me"]["crid"] == registration.crid
    assert reused["refreshSession"] == {"session": None, "userErrors": [{"code": "INVALID_REFRESH_TOKEN"}]}
    assert newest["refreshSession"] == {"session": None, "userErrors": [{"code": "INVALID_REFRESH_TOKEN"}]}


async def test_ssn5_an_idle_or_too_old_session_cannot_be_refreshed(api_client, own_tenant, services):
    # given: two sessions, one idle for 31 minutes, one started 24 hours ago
    tenant, registration = await mg2_user(own_tenant)
    idle = (await sign_in(api_client, tenant, registration.email))["session"]
    old = (await sign_in(api_client, tenant, registration.email))["session"]
    from datasources.models import utcnow
    from domain.sessions import token_hash

    async with services.db.session() as session:
        await session.execute(sa.update(RefreshToken).where(RefreshToken.token_hash == token_hash(idle["refreshToken"]))
                              .values(created_at=utcnow() - timedelta(minutes=31)))
        await session.execute(sa.update(RefreshToken).where(RefreshToken.token_hash == token_hash(old["refreshToken"]))
                              .values(session_started_at=utcnow() - timedelta(hours=24)))
        await session.commit()
    # when
    answers = [(await graphql(api_client, REFRESH, {"token": s["refreshToken"]}, **tenant.headers))["data"]
               for s in (idle, old)]
    # then
    assert [a["refreshSession"]["userErrors"] for a in answers] == [[{"code": "SESSION_EXPIRED"}]] * 2


async def test_ssn4_sign_out_refuses_older_tokens_and_ends_refresh(api_client, own_tenant):
    # given: two sessions (two devices)
    tenant, registration = await mg2_user(own_tenant)
    phone = (await sign_in(api_client, tenant, registration.email))["session"]
    laptop = (await sign_in(api_client, tenant, registration.email))["session"]
    # when
    out = await graphql(api_client, SIGN_OUT, **bearer(phone["accessToken"]))
    # then
    assert out["data"]["signOut"] == {"signedOut": True, "userErrors": []}
    for session in (phone, laptop):
        refused = await api_client.post("/graphql", json={"query": ME}, headers=bearer(session["accessToken"]))
        assert refused.status_code == 401
        again = await graphql(api_client, REFRESH, {"token": session["refreshToken"]}, **tenant.headers)
        assert again["data"]["refreshSession"]["session"] is None
    fresh = (await sign_in(api_client, tenant, registration.email))["session"]  # a new sign-in works at once
    assert (await graphql(api_client, ME, **bearer(fresh["accessToken"])))["data"]["me"]["crid"] == registration.crid


async def test_ssn3_key_rotation_keeps_older_tokens_valid_until_they_expire(api_client, own_tenant, services):
    # given: a token signed by the current key
    tenant, registration = await mg2_user(own_tenant)
    before = (await sign_in(api_client, tenant, registration.email))["session"]["accessToken"]
    # when: the key rotates (papergraph rotate-signing-key)
    await services.own_tokens.rotate()
    after = (await sign_in(api_client, tenant, registration.email))["session"]["accessToken"]
    # then: both keys are published and both tokens are accepted
    kids = [key["kid"] for key in (await api_client.get("/.well-known/jwks.json")).json()["keys"]]
    header = lambda token: jwt.decode(token, KeySet.import_key_set({"keys": (  # noqa: E731
        services.own_tokens._keys and [dict(k.public_jwk) for k in services.own_tokens._keys])})).header["kid"]
    assert header(before) != header(after) and {header(before), header(after)} <= set(kids)
    for token in (before, after):
        assert (await graphql(api_client, ME, **bearer(token)))["data"]["me"]["crid"] == registration.crid


async def test_ssn3_the_demo_mg2_customer_signs_in_with_the_demo_password(api_client):
    # given: CPRDEMO keeps its customers in papergraph (MG2)
    customer = next(r for r in generate(1).registrations if r["tenant"] == "CPRDEMO" and r["has_password"]
                    and r["email_verified"])
    # when
    answer = await graphql(api_client, SIGN_IN, {"login": customer["email"], "password": CUSTOMER_PASSWORD},
                           x_tenant="CPRDEMO")
    # then
    assert answer["data"]["signIn"]["userErrors"] == []
    token = answer["data"]["signIn"]["session"]["accessToken"]
    assert (await graphql(api_client, ME, **bearer(token)))["data"]["me"]["crid"] == customer["crid"]


async def test_ssn3_forged_papergraph_issuer_is_refused(api_client, settings):
    # given: a token claiming papergraph's issuer, signed by some other key
    from joserfc.jwk import RSAKey

    other = RSAKey.generate_key(2048)
    forged = jwt.encode({"alg": "RS256", "kid": "pg-forged"}, {
        "iss": settings.public_base_url + "/", "aud": settings.auth0_audience, "sub": "mg2|x",
        "exp": 4102444800, "https://papergraph.dev/tenant": "CPRDEMO"}, other)
    # when
    answer = await api_client.post("/graphql", json={"query": ME}, headers=bearer(forged))
    # then
    assert answer.status_code == 401


__all__ = ["httpx"]
