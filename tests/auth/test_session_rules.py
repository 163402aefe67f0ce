"""SSN-3 and SSN-4 on `auth/issuer.py` and `auth/sessions.py` themselves, with a fake repository and a fake clock:
papergraph's own signing keys (made on first use, re-read every `KEY_CACHE_SECONDS`, rotated, published while
their tokens may live), the tokens it signs, and the sign-out check with its per-process cache. The same flows
run through the API in tests/graphql/sessions/; these are fast enough for `make mutate` per mutant."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

import auth.issuer as issuer_module
import auth.sessions as sessions_module
from auth.issuer import KEY_CACHE_SECONDS, PURPOSE, OwnTokenIssuer, own_issuer
from auth.principals import ANONYMOUS, Principal, PrincipalKind
from auth.sessions import CACHE_SECONDS, CACHE_SIZE, SessionGuard
from domain.crypto import unseal

SECRET = "a-test-secret-key-of-some-length-0123456789"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(issuer_module.time, "monotonic", fake.monotonic)
    return fake


# -- SSN-3: papergraph's own signing keys ------------------------------------------------------------------
class KeyStore:
    """SessionRepository's signing-key half, in memory."""

    def __init__(self) -> None:
        self.keys: list[Any] = []
        self.reads: list[datetime] = []
        self.adds: list[bool] = []

    async def signing_keys(self, published_since: datetime) -> list[Any]:
        self.reads.append(published_since)
        return [k for k in self.keys if k.retired_at is None or k.retired_at > published_since]

    async def add_signing_key(self, key, *, retire_others: bool):
        self.adds.append(retire_others)
        if retire_others:
            for other in self.keys:
                if other.retired_at is None:
                    other.retired_at = datetime.now(timezone.utc)
        self.keys.append(key)
        return key


def issuer(store: KeyStore, seconds: int = 900) -> OwnTokenIssuer:
    own = OwnTokenIssuer(None, secret_key=SECRET, issuer="https://pg.example/", audience="https://api.pg",
                         access_token_seconds=seconds)
    own.repository = store  # type: ignore[assignment]
    return own


def test_ssn3_the_issuer_is_the_public_url_with_one_slash():
    assert own_issuer("https://pg.example") == "https://pg.example/"
    assert own_issuer("https://pg.example///") == "https://pg.example/"
    assert own_issuer("https://pg.example/BOX/") == "https://pg.example/BOX/"  # only slashes are trimmed
    assert (PURPOSE, KEY_CACHE_SECONDS) == ("signing-key", 30.0)


def test_ssn3_retired_keys_stay_published_for_a_tokens_life_and_the_leeway():
    own = issuer(KeyStore(), seconds=900)

    assert own.publish_for == timedelta(seconds=930)
    assert (own.issuer, own.audience, own.secret_key) == ("https://pg.example/", "https://api.pg", SECRET)


def test_ssn3_the_first_use_makes_a_key_and_publishes_it(clock):
    store = KeyStore()
    own = issuer(store)

    document = asyncio.run(own.jwks())

    [key] = store.keys
    assert store.adds == [False]
    assert key.kid.startswith("pg-") and len(key.kid) == 19
    assert key.public_jwk["kid"] == key.kid and key.public_jwk["use"] == "sig" and key.public_jwk["alg"] == "RS256"
    assert "d" not in key.public_jwk  # the public half only
    assert document == {"keys": [key.public_jwk]}
    private = unseal(SECRET, PURPOSE, key.sealed_private_key, max_length=1 << 16)
    assert private.startswith("-----BEGIN PRIVATE KEY-----")


def test_ssn3_keys_are_read_again_only_after_key_cache_seconds(clock):
    store = KeyStore()
    own = issuer(store)
    asyncio.run(own.jwks())
    assert len(store.reads) == 1

    clock.now += KEY_CACHE_SECONDS - 0.1
    asyncio.run(own.jwks())
    assert len(store.reads) == 1
    clock.now += 0.1
    asyncio.run(own.jwks())
    assert len(store.reads) == 2
    assert store.adds == [False]  # a key exists: no second one made


def test_ssn3_keys_are_read_for_the_window_their_tokens_may_live(clock, monkeypatch):
    monkeypatch.setattr(issuer_module, "utcnow", lambda: NOW)
    store = KeyStore()

    asyncio.run(issuer(store, seconds=900).jwks())

    assert store.reads == [NOW - timedelta(seconds=930)]


def test_ssn3_a_token_is_signed_by_the_newest_active_key_with_its_claims(clock):
    store = KeyStore()
    own = issuer(store)
    asyncio.run(own.jwks())
    rotated = asyncio.run(own.rotate())
    assert store.adds == [False, True]

    text = asyncio.run(own.issue({"sub": "C1", "scope": "x"}, now=NOW + timedelta(microseconds=123456),
                                 expires_at=NOW + timedelta(minutes=15, seconds=0.9)))

    keys = KeySet.import_key_set(asyncio.run(own.jwks()))  # rotation re-reads at once: both published
    assert len(keys.keys) == 2
    decoded = jwt.decode(text, keys, algorithms=["RS256"])
    assert decoded.header == {"alg": "RS256", "kid": rotated.kid, "typ": "JWT"}
    assert decoded.claims == {"iss": "https://pg.example/", "aud": "https://api.pg", "sub": "C1", "scope": "x",
                              "iat": round(NOW.timestamp() + 0.123, 3), "exp": int(NOW.timestamp()) + 900}


def test_ssn3_claims_given_override_the_defaults(clock):
    own = issuer(KeyStore())

    text = asyncio.run(own.issue({"aud": "other"}, now=NOW, expires_at=NOW))

    assert jwt.decode(text, KeySet.import_key_set(asyncio.run(own.jwks()))).claims["aud"] == "other"


# -- SSN-4: tokens issued before the last sign-out -----------------------------------------------------------
class Logouts:
    def __init__(self, last: datetime | None) -> None:
        self.last = last
        self.asked: list[tuple[str, str]] = []

    async def last_logout(self, tenant_code: str, crid: str):
        self.asked.append((tenant_code, crid))
        return self.last


@pytest.fixture
def session_clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(sessions_module.time, "monotonic", fake.monotonic)
    return fake


def guard(last: datetime | None) -> tuple[SessionGuard, Logouts]:
    logouts = Logouts(last)
    session_guard = SessionGuard(None)
    session_guard.repository = logouts  # type: ignore[assignment]
    return session_guard, logouts


def customer(crid: str = "C1", tenant: str | None = "T1") -> Principal:
    return Principal(PrincipalKind.CUSTOMER, tenant=tenant, subject=crid)


def refused(session_guard: SessionGuard, principal: Principal, claims: dict) -> bool:
    return asyncio.run(session_guard.refused(principal, claims))


def test_ssn4_cache_bounds():
    assert (CACHE_SECONDS, CACHE_SIZE) == (5.0, 10_000)


def test_ssn4_a_token_issued_before_the_last_sign_out_is_refused(session_clock):
    session_guard, logouts = guard(NOW)

    assert refused(session_guard, customer(), {"iat": NOW.timestamp() - 1}) is True
    assert refused(session_guard, customer(), {"iat": NOW.timestamp() + 1}) is False
    assert refused(session_guard, customer(), {"iat": "yesterday"}) is True  # no usable iat: older
    assert logouts.asked == [("T1", "C1")]  # read once, then remembered


def test_ssn4_without_a_sign_out_nothing_is_refused(session_clock):
    session_guard, _ = guard(None)

    assert refused(session_guard, customer(), {"iat": 1.0}) is False


@pytest.mark.parametrize("principal", [
    ANONYMOUS,
    Principal(PrincipalKind.STAFF, tenant="T1", subject="auth0|s"),
    Principal(PrincipalKind.PARTNER, tenant="T1", subject="x@clients"),
    customer(tenant=None),
    customer(crid=""),
])
def test_ssn4_only_customers_with_a_tenant_and_subject_are_checked(session_clock, principal):
    session_guard, logouts = guard(NOW)

    assert refused(session_guard, principal, {"iat": 0}) is False
    assert logouts.asked == []


def test_ssn4_the_last_sign_out_is_remembered_for_cache_seconds(session_clock):
    session_guard, logouts = guard(None)
    refused(session_guard, customer(), {"iat": 1.0})
    logouts.last = NOW

    session_clock.now += CACHE_SECONDS - 0.1
    assert refused(session_guard, customer(), {"iat": 1.0}) is False
    session_clock.now += 0.1
    assert refused(session_guard, customer(), {"iat": 1.0}) is True
    assert len(logouts.asked) == 2


def test_ssn4_the_process_that_signs_out_forgets_at_once(session_clock):
    session_guard, logouts = guard(None)
    refused(session_guard, customer(), {"iat": 1.0})
    logouts.last = NOW

    session_guard.forget("T1", "C1")
    session_guard.forget("T1", "unknown")  # nothing remembered: nothing to do

    assert refused(session_guard, customer(), {"iat": 1.0}) is True


def test_ssn4_the_oldest_remembered_customer_goes_first(session_clock, monkeypatch):
    monkeypatch.setattr(sessions_module, "CACHE_SIZE", 2)
    session_guard, logouts = guard(None)
    for crid in ("A", "B", "C"):
        refused(session_guard, customer(crid), {"iat": 1.0})
    assert len(logouts.asked) == 3

    refused(session_guard, customer("C"), {"iat": 1.0})
    refused(session_guard, customer("B"), {"iat": 1.0})
    assert len(logouts.asked) == 3
    refused(session_guard, customer("A"), {"iat": 1.0})
    assert logouts.asked[-1] == ("T1", "A")


def test_ssn3_ssn4_the_issuer_and_the_guard_read_through_a_repository_of_the_database_given():
    db = object()

    assert OwnTokenIssuer(db, secret_key=SECRET, issuer="i", audience="a", access_token_seconds=1).repository.db is db
    assert SessionGuard(db).repository.db is db


def test_ssn3_a_new_key_is_2048_bit_rsa_made_now(clock, monkeypatch):
    import base64 as b64

    monkeypatch.setattr(issuer_module, "utcnow", lambda: NOW)
    store = KeyStore()
    asyncio.run(issuer(store).jwks())

    [key] = store.keys
    modulus = b64.urlsafe_b64decode(key.public_jwk["n"] + "=" * (-len(key.public_jwk["n"]) % 4))
    assert (key.public_jwk["kty"], len(modulus) * 8) == ("RSA", 2048)
    assert key.created_at == NOW and key.retired_at is None
