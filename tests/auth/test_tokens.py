"""AUT-1 through the public endpoint: a token papergraph cannot trust is answered 401 with
`WWW-Authenticate` and no data, whatever is wrong with it; a good one signs the request in; the tenant is
the token's (TEN-1). Tokens are built here byte by byte, or signed by the Auth0 emulator's own key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from cryptography.hazmat.primitives import serialization

from sandbox.auth0.crypto import SigningKey
from sandbox.faults import FaultRule
from tests.conftest import CLAIM, bearer
from tests.support import without_cost

VIEWER = "{ viewer { kind tenant subject } }"
ME = "{ me { crid } }"
CUSTOMER = "auth0|431dcdaeca76f8cc2fe9e08a"  # not looked up by these tests: `viewer` needs no registration


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(value: dict) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


@pytest.fixture
def store(app):
    return app.state.sandboxes["auth0"].state.store


@pytest.fixture
def claims(store, settings) -> dict:
    now = int(time.time())
    return {"iss": store.issuer, "sub": CUSTOMER, "aud": settings.auth0_audience, "iat": now, "exp": now + 600,
            CLAIM + "tenant": "NCSDEMO", CLAIM + "principal": "customer"}


async def _post(client, token: str | None, query: str = VIEWER, **headers):
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    return await client.post("/graphql", json={"query": query}, headers=headers)


def _assert_unauthorized(response, error: str = "invalid_token") -> dict:
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="papergraph"') and f'error="{error}"' in challenge
    body = response.json()
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    return body


async def test_aut1_a_token_signed_by_the_identity_provider_signs_the_request_in(api_client, store, claims):
    # given
    token = store.signing_key.sign(claims)

    # when
    response = await _post(api_client, token)

    # then
    assert response.status_code == 200
    assert without_cost(response.json()) == {"data": {"viewer": {"kind": "CUSTOMER", "tenant": "NCSDEMO", "subject": CUSTOMER}}}


async def test_aut1_an_audience_list_containing_the_api_identifier_is_accepted(api_client, store, claims):
    token = store.signing_key.sign({**claims, "aud": ["https://other.example", claims["aud"]]})

    response = await _post(api_client, token)

    assert response.status_code == 200 and response.json()["data"]["viewer"]["kind"] == "CUSTOMER"


async def test_no_token_is_anonymous_for_the_named_tenant(api_client):
    response = await _post(api_client, None, **{"x-tenant": "SAXDEMO"})

    assert response.status_code == 200
    assert without_cost(response.json()) == {"data": {"viewer": {"kind": "ANONYMOUS", "tenant": "SAXDEMO", "subject": None}}}


async def test_aut1_forged_signature_is_rejected(api_client, store, claims):
    # given: signed by another key that claims the provider's key id
    forger = SigningKey(kid=store.signing_key.kid)

    response = await _post(api_client, forger.sign(claims))

    _assert_unauthorized(response)


async def test_aut1_tampered_claims_are_rejected(api_client, store, claims):
    # given: a genuine token whose payload is swapped for a staff one
    header, _, signature = store.signing_key.sign(claims).split(".")
    payload = _segment({**claims, CLAIM + "principal": "staff", CLAIM + "access": {"settings": "FULL_CONTROL"}})

    response = await _post(api_client, f"{header}.{payload}.{signature}")

    _assert_unauthorized(response)


@pytest.mark.parametrize("change, reason", [
    ({"exp": -120}, "expired"),  # exp two minutes ago, beyond the 30 s leeway
    ({"nbf": 600}, "not yet valid"),
    ({"aud": "https://api.someone-else.example"}, "wrong audience"),
    ({"aud": ["https://a.example", "https://b.example"]}, "audience list without ours"),
    ({"iss": "https://evil.example/"}, "wrong issuer"),
])
async def test_aut1_claims_that_do_not_hold_are_rejected(api_client, store, claims, change, reason):
    # given
    now = int(time.time())
    changed = {k: (now + v if k in ("exp", "nbf") else v) for k, v in change.items()}
    token = store.signing_key.sign({**claims, **changed})

    # when
    response = await _post(api_client, token)

    # then
    _assert_unauthorized(response)


async def test_aut1_expiry_within_the_leeway_is_still_accepted(api_client, store, claims):
    token = store.signing_key.sign({**claims, "exp": int(time.time()) - 10})  # leeway is 30 s

    response = await _post(api_client, token)

    assert response.status_code == 200


async def test_aut1_alg_none_is_rejected(api_client, store, claims):
    token = f"{_segment({'alg': 'none', 'typ': 'JWT', 'kid': store.signing_key.kid})}.{_segment(claims)}."

    response = await _post(api_client, token)

    body = _assert_unauthorized(response)
    assert "unsupported algorithm" in body["errors"][0]["message"]


async def test_aut1_hs256_signed_with_the_public_key_is_rejected(api_client, store, claims):
    # given: the classic algorithm confusion: HMAC keyed with the published RSA public key
    public_pem = store.signing_key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = f"{_segment({'alg': 'HS256', 'typ': 'JWT', 'kid': store.signing_key.kid})}.{_segment(claims)}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()

    response = await _post(api_client, f"{signing_input}.{_b64(signature)}")

    body = _assert_unauthorized(response)
    assert "unsupported algorithm" in body["errors"][0]["message"]


async def test_aut1_unknown_kid_is_rejected_after_one_throttled_jwks_refetch(api_client, app, store, claims):
    # given: papergraph has the keys (a first good request), then a flood of tokens naming an unknown key
    control = app.state.sandboxes["auth0"].state.control
    assert (await _post(api_client, store.signing_key.sign(claims))).status_code == 200
    control.requests.clear()
    stranger = SigningKey(kid="not-a-key-of-ours")

    # when
    responses = [await _post(api_client, stranger.sign(claims)) for _ in range(20)]

    # then: every one refused, and the identity provider asked for its keys once, not twenty times
    for response in responses:
        _assert_unauthorized(response)
    assert [r["path"] for r in control.requests].count("/.well-known/jwks.json") == 1


async def test_aut1_a_rotated_key_is_found_by_refetching_the_jwks(api_client, app, store, claims):
    # given: papergraph cached the keys, then the provider rotates to a new signing key
    assert (await _post(api_client, store.signing_key.sign(claims))).status_code == 200
    store.rotate_keys(drop_old=False)

    # when: a token signed by the new key (its kid unknown to the cache)
    response = await _post(api_client, store.signing_key.sign(claims))

    # then
    assert response.status_code == 200


@pytest.mark.parametrize("authorization, error", [
    ("Basic dXNlcjpwYXNz", "invalid_request"),
    ("Bearer", "invalid_request"),
    ("Bearer not-a-jwt", "invalid_token"),
    ("Bearer a.b.c", "invalid_token"),
])
async def test_malformed_authorization_is_unauthorized(api_client, authorization, error):
    response = await api_client.post("/graphql", json={"query": VIEWER}, headers={"authorization": authorization})

    _assert_unauthorized(response, error)


async def test_a_token_without_a_tenant_is_rejected(api_client, store, claims):
    token = store.signing_key.sign({k: v for k, v in claims.items() if k != CLAIM + "tenant"})

    response = await _post(api_client, token)

    body = _assert_unauthorized(response)
    assert "no tenant" in body["errors"][0]["message"]


async def test_ten1_a_header_naming_another_tenant_is_refused(api_client, tokens):
    # given: a staff token of NCSDEMO asking for MTXDEMO's data
    response = await _post(api_client, tokens.staff("NCSDEMO"), "{ householdLevels { id } }", **{"x-tenant": "MTXDEMO"})

    # then
    assert response.status_code == 403
    body = response.json()
    assert "data" not in body and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_ten1_a_header_naming_the_tokens_own_tenant_is_fine(api_client, tokens):
    response = await _post(api_client, tokens.staff("MTXDEMO"), VIEWER, **{"x-tenant": "MTXDEMO"})

    assert response.status_code == 200 and response.json()["data"]["viewer"]["tenant"] == "MTXDEMO"


async def test_the_identity_provider_down_with_no_cached_keys_is_503_not_401(api_client, app, store, claims):
    # given: the JWKS cannot be fetched
    control = app.state.sandboxes["auth0"].state.control
    control.rules.append(FaultRule(path="^/.well-known/jwks.json", status=503))

    response = await _post(api_client, store.signing_key.sign(claims))

    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"


async def test_a_denied_field_is_null_with_its_code_and_the_rest_resolves(api_client, tokens):
    # given: a customer asks for the catalog (anyone) and the household levels (staff only)
    query = "{ catalog(first: 1) { totalCount } householdLevels { id } }"

    # when
    response = await _post(api_client, tokens.customer(CUSTOMER), query)

    # then
    body = response.json()
    assert response.status_code == 200
    assert body["data"]["catalog"]["totalCount"] >= 1 and body["data"]["householdLevels"] is None
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["householdLevels"], "FORBIDDEN")]


async def test_anonymous_denial_is_unauthenticated(api_client):
    body = (await _post(api_client, None, "{ householdLevels { id } }")).json()

    assert body["data"] == {"householdLevels": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]


# -- remembered verifications (auth/tokens.py) ----------------------------------------------------------
@pytest.fixture
def verifier(app):
    return app.state.services.tokens


async def test_a_token_sent_again_is_not_verified_again(api_client, store, claims, verifier):
    token = store.signing_key.sign(claims)
    first = await _post(api_client, token)
    checks = verifier.verifications

    again = await _post(api_client, token)

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert verifier.verifications == checks


async def test_aut1_a_remembered_token_is_refused_once_it_expires(api_client, store, claims, verifier, monkeypatch):
    token = store.signing_key.sign({**claims, "exp": int(time.time()) + 60})
    assert (await _post(api_client, token)).status_code == 200

    later = time.time() + 60 + verifier.leeway + 1
    monkeypatch.setattr(time, "time", lambda: later)  # the clock of the cache and of the claims check

    _assert_unauthorized(await _post(api_client, token))


async def test_aut1_a_forged_signature_is_not_served_from_a_remembered_token(api_client, store, claims):
    token = store.signing_key.sign(claims)
    assert (await _post(api_client, token)).status_code == 200
    head, body, signature = token.split(".")
    forged = f"{head}.{body}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"

    _assert_unauthorized(await _post(api_client, forged))


async def test_a_refetched_key_set_forgets_remembered_tokens(api_client, store, claims, verifier):
    token = store.signing_key.sign(claims)
    assert (await _post(api_client, token)).status_code == 200
    checks = verifier.verifications
    verifier.jwks.generation += 1  # what a refetch of the JWKS does

    assert (await _post(api_client, token)).status_code == 200
    assert verifier.verifications == checks + 1
