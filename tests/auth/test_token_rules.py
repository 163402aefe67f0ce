"""AUT-1 on `auth/tokens.py` itself: RS256 only, issuer, audience, expiry (with its leeway), subject and a
known key id; the JWKS cache refetches once for an unknown key id and not again within `refetch_interval`;
a verified token is remembered until its expiry, at most `VERIFIED_CACHE_SECONDS`, and forgotten when the key
set changes; `IssuerRouter` picks the verifier by the token's issuer (SSN-3). tests/auth/test_tokens.py shows
the same through the endpoint; these run as plain functions, fast enough for `make mutate` per mutant.
The clocks the module reads (`time.monotonic`, `time.time`) are a fake that a test moves by hand."""

from __future__ import annotations

import base64
import time as real_time

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

import auth.tokens as tokens
from auth.tokens import (
    ACCEPTED_ALGORITHMS,
    VERIFIED_CACHE_SECONDS,
    VERIFIED_CACHE_SIZE,
    InvalidToken,
    IssuerRouter,
    JwksCache,
    TokenVerifier,
)

ISSUER = "https://tenant.example/"
AUDIENCE = "https://api.papergraph.dev"
KEY = RSAKey.generate_key(2048)
OTHER_KEY = RSAKey.generate_key(2048)


class Clock:
    """Stands in for the `time` module inside auth.tokens; joserfc's expiry check still reads the real clock,
    so `wall` starts at the real time."""

    def __init__(self) -> None:
        self.mono = 100_000.0  # a monotonic clock's reading is large: time since boot
        self.wall = real_time.time()

    def monotonic(self) -> float:
        return self.mono

    def time(self) -> float:
        return self.wall


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(tokens, "time", fake)
    return fake


def jwk(key: RSAKey, kid: str, **extra) -> dict:
    return {**key.as_dict(private=False), "kid": kid, **extra}


class Provider:
    """The identity provider's JWKS endpoint: what it publishes now, and how often it was asked."""

    def __init__(self, *keys: dict) -> None:
        self.keys = list(keys)
        self.calls = 0

    async def fetch(self) -> dict:
        self.calls += 1
        return {"keys": list(self.keys)}


def claims(**overrides) -> dict:
    now = int(real_time.time())
    values = {"iss": ISSUER, "aud": AUDIENCE, "sub": "auth0|abc", "iat": now, "exp": now + 3600}
    values.update(overrides)
    return {name: value for name, value in values.items() if value is not None}


def token(body: dict | None = None, *, key=KEY, kid: object = "k1", alg: str = "RS256") -> str:
    header = {"alg": alg, "typ": "JWT"}
    if kid is not None:
        header["kid"] = kid
    return jwt.encode(header, claims() if body is None else body, key)


def verifier(provider: Provider, **cache) -> TokenVerifier:
    return TokenVerifier(JwksCache(provider.fetch, **cache), issuer=ISSUER, audience=AUDIENCE)


async def refusal(check: TokenVerifier, text: str) -> str:
    with pytest.raises(InvalidToken) as caught:
        await check.verify(text)
    assert caught.value.reason == str(caught.value)
    return caught.value.reason


def test_aut1_rs256_only_and_the_cache_bounds():
    assert ACCEPTED_ALGORITHMS == ["RS256"]
    assert (VERIFIED_CACHE_SIZE, VERIFIED_CACHE_SECONDS) == (4096, 300.0)


async def test_aut1_a_good_token_verifies_and_answers_its_claims(clock):
    body = claims()
    check = verifier(Provider(jwk(KEY, "k1")))

    assert await check.verify(token(body)) == body
    assert (check.leeway, check.issuer, check.audience) == (30, ISSUER, AUDIENCE)


async def test_aut1_an_audience_list_containing_the_api_is_accepted(clock):
    check = verifier(Provider(jwk(KEY, "k1")))

    assert (await check.verify(token(claims(aud=["other", AUDIENCE]))))["aud"] == ["other", AUDIENCE]


@pytest.mark.parametrize("body,claim", [
    (claims(iss="https://elsewhere.example/"), "iss"),
    (claims(iss=None), "iss"),
    (claims(aud="https://other.api"), "aud"),
    (claims(aud=None), "aud"),
    (claims(exp=None), "exp"),  # issue 20 #4: a token without expiry is refused
    (claims(sub=None), "sub"),  # issue 20 #4: a token without a subject is refused
])
async def test_aut1_issuer_audience_expiry_and_subject_are_required_and_checked(clock, body, claim):
    check = verifier(Provider(jwk(KEY, "k1")))

    reason = await refusal(check, token(body))

    assert claim in reason and reason.startswith(("invalid_claim: ", "missing_claim: "))


async def test_aut1_expiry_and_not_before_with_a_30_second_leeway(clock):
    now = int(real_time.time())
    check = verifier(Provider(jwk(KEY, "k1")))

    assert (await check.verify(token(claims(exp=now - 10))))["sub"] == "auth0|abc"  # inside the leeway
    assert (await check.verify(token(claims(nbf=now + 10))))["sub"] == "auth0|abc"
    assert (await refusal(check, token(claims(exp=now - 120)))).startswith("expired_token")
    assert await refusal(check, token(claims(nbf=now + 600))) == "invalid_claim: The token is not yet valid"


async def test_aut1_a_signature_by_another_key_is_refused(clock):
    check = verifier(Provider(jwk(KEY, "k1")))

    assert await refusal(check, token(key=OTHER_KEY)) == "bad_signature"


@pytest.mark.parametrize("header_alg,key", [("HS256", OctKey.import_key("a-shared-secret-of-32-bytes-long!")),
                                            ("RS512", KEY)])
async def test_aut1_another_algorithm_is_refused_before_any_key_is_fetched(clock, header_alg, key):
    provider = Provider(jwk(KEY, "k1"))
    check = verifier(provider)

    assert await refusal(check, jwt.encode({"alg": header_alg, "kid": "k1"}, claims(), key,
                                           algorithms=[header_alg])) == "unsupported algorithm"
    assert provider.calls == 0 and check.verifications == 1


async def test_aut1_alg_none_is_refused(clock):
    check = verifier(Provider(jwk(KEY, "k1")))
    text = token()
    header, body, _ = text.split(".")
    unsigned = tokens.orjson.dumps({"alg": "none", "kid": "k1"})
    none_header = base64.urlsafe_b64encode(unsigned).rstrip(b"=").decode()

    assert await refusal(check, f"{none_header}.{body}.") == "unsupported algorithm"
    assert header != none_header


@pytest.mark.parametrize("text", ["", "not-a-token", "a.b", "é.é.é", "eyJ9.e30.sig"])
async def test_aut1_a_malformed_token_is_refused(clock, text):
    provider = Provider(jwk(KEY, "k1"))

    assert await refusal(verifier(provider), text) == "malformed token"
    assert provider.calls == 0


@pytest.mark.parametrize("kid", [None, "", 7])
async def test_aut1_a_token_without_a_key_id_is_refused_before_any_fetch(clock, kid):
    provider = Provider(jwk(KEY, "k1"))

    text = token(kid=None)
    if kid is not None:  # joserfc signs no header with such a kid: the header is written by hand
        header = base64.urlsafe_b64encode(tokens.orjson.dumps({"alg": "RS256", "kid": kid})).rstrip(b"=").decode()
        text = header + text[text.index("."):]
    assert await refusal(verifier(provider), text) == "unknown signing key"
    assert provider.calls == 0


async def test_aut1_an_unknown_key_id_refetches_once_per_interval(clock):
    provider = Provider(jwk(KEY, "k1"))
    check = verifier(provider)  # refetch_interval 30 s by default
    await check.verify(token())
    assert (provider.calls, check.jwks.fetches, check.jwks.generation) == (1, 1, 1)

    # a rotation: k2 is published; the first token naming it refetches at once
    provider.keys.append(jwk(OTHER_KEY, "k2"))
    assert (await check.verify(token(key=OTHER_KEY, kid="k2")))["sub"] == "auth0|abc"
    assert (provider.calls, check.jwks.generation) == (2, 2)

    # a flood of unknown ids: no second refetch within the interval
    # a flood of unknown ids: no refetch within the interval that the k2 refetch started
    for kid in ("forged", "forged", "forged-2"):
        assert await refusal(check, token(kid=kid)) == "unknown signing key"
    assert provider.calls == 2
    clock.mono += 29.9
    assert await refusal(check, token(kid="forged-3")) == "unknown signing key"
    assert provider.calls == 2
    clock.mono += 0.1  # exactly the interval: one more refetch
    assert await refusal(check, token(kid="forged-4")) == "unknown signing key"
    assert provider.calls == 3
    assert await refusal(check, token(kid="forged-5")) == "unknown signing key"
    assert provider.calls == 3


async def test_aut1_a_known_key_id_is_served_from_the_cache_until_max_age(clock):
    provider = Provider(jwk(KEY, "k1"))
    cache = JwksCache(provider.fetch, refetch_interval=30.0, max_age=3600.0)

    first = await cache.key_set_for("k1")
    clock.mono += 3599.9
    assert await cache.key_set_for("k1") is first and provider.calls == 1
    clock.mono += 0.1  # max_age reached: fetched again
    assert await cache.key_set_for("k1") is not first and provider.calls == 2


async def test_aut1_a_retired_key_is_refused_after_the_refetch(clock):
    provider = Provider(jwk(KEY, "k1"))
    cache = JwksCache(provider.fetch, max_age=60.0)
    await cache.key_set_for("k1")
    provider.keys = [jwk(OTHER_KEY, "k2")]
    clock.mono += 60.0

    with pytest.raises(InvalidToken, match="^unknown signing key$"):
        await cache.key_set_for("k1")
    assert provider.calls == 2


async def test_aut1_only_rsa_signing_keys_are_used(clock):
    provider = Provider(jwk(KEY, "enc", use="enc"), {"kty": "oct", "k": "c2VjcmV0", "kid": "oct"},
                        jwk(OTHER_KEY, "sig", use="sig"), jwk(KEY, "plain"))
    cache = JwksCache(provider.fetch)

    assert len((await cache.key_set_for("sig")).keys) == 2
    for kid in ("enc", "oct"):
        with pytest.raises(InvalidToken, match="^unknown signing key$"):
            await cache.key_set_for(kid)


async def test_aut1_a_remembered_token_is_not_verified_again_until_its_expiry(clock):
    provider = Provider(jwk(KEY, "k1"))
    check = verifier(provider)
    now = int(clock.wall)
    text = token(claims(exp=now + 100))

    first = await check.verify(text)
    first["sub"] = "changed by the caller"
    assert (await check.verify(text))["sub"] == "auth0|abc"  # a copy each time
    assert check.verifications == 1
    clock.wall = now + 100 + 30 - 0.5  # within exp + leeway: still remembered
    await check.verify(text)
    assert check.verifications == 1
    clock.wall = now + 100 + 30  # exp + leeway: checked again
    await check.verify(text)
    assert check.verifications == 2


async def test_aut1_a_token_is_remembered_at_most_verified_cache_seconds(clock):
    check = verifier(Provider(jwk(KEY, "k1")))
    text = token(claims(exp=int(clock.wall) + 3600))

    await check.verify(text)
    clock.wall += VERIFIED_CACHE_SECONDS - 1
    await check.verify(text)
    assert check.verifications == 1
    clock.wall += 1
    await check.verify(text)
    assert check.verifications == 2


async def test_aut1_a_token_differing_in_any_byte_is_verified_afresh(clock):
    check = verifier(Provider(jwk(KEY, "k1")))
    text = token()
    await check.verify(text)

    assert await refusal(check, text[:-2] + ("A" if text[-2] != "A" else "B") + text[-1]) in (
        "bad_signature", "malformed token")
    assert check.verifications == 2


async def test_aut1_a_new_key_set_forgets_every_remembered_token(clock):
    provider = Provider(jwk(KEY, "k1"))
    check = verifier(provider)
    text = token()
    await check.verify(text)
    provider.keys.append(jwk(OTHER_KEY, "k2"))
    await check.verify(token(key=OTHER_KEY, kid="k2"))  # refetches: generation 2
    assert check.verifications == 2

    await check.verify(text)

    assert check.verifications == 3


async def test_aut1_the_oldest_remembered_token_goes_first(clock, monkeypatch):
    monkeypatch.setattr(tokens, "VERIFIED_CACHE_SIZE", 2)
    check = verifier(Provider(jwk(KEY, "k1")))
    first, second, third = (token(claims(sub=f"s{n}")) for n in range(3))
    for text in (first, second, third):
        await check.verify(text)
    assert check.verifications == 3

    await check.verify(third)
    await check.verify(second)
    assert check.verifications == 3
    await check.verify(first)  # evicted when the third came
    assert check.verifications == 4


async def test_aut1_a_token_whose_exp_is_not_a_number_is_not_remembered(clock):
    check = verifier(Provider(jwk(KEY, "k1")))
    check._remember("t", {"exp": "soon"})
    check._remember("u", {})

    assert dict(check._remembered()) == {}


class Named:
    def __init__(self, issuer: str) -> None:
        self.issuer = issuer

    async def verify(self, text: str) -> dict:
        return {"by": self.issuer, "token": text}


@pytest.mark.parametrize("body,chosen", [
    (claims(iss="https://own.papergraph/"), "https://own.papergraph/"),
    (claims(iss=ISSUER), ISSUER),
    (claims(iss="https://unknown.example/"), ISSUER),
    (claims(iss=None), ISSUER),
    (claims(iss=7), ISSUER),
    (claims(iss=["https://own.papergraph/"]), ISSUER),  # not a string (nor hashable): the default
])
async def test_ssn3_the_issuer_picks_the_verifier_and_an_unknown_one_goes_to_the_default(body, chosen):
    router = IssuerRouter(Named(ISSUER), [Named("https://own.papergraph/")])  # type: ignore[list-item]

    text = token(body)
    assert router.for_token(text).issuer == chosen
    assert await router.verify(text) == {"by": chosen, "token": text}


def _compact(header: bytes, payload: bytes) -> str:
    return ".".join(base64.urlsafe_b64encode(part).rstrip(b"=").decode() for part in (header, payload, b"sig"))


@pytest.mark.parametrize("text", ["garbage", _compact(b'{"alg":"RS256"}', b'[1]'),
                                  _compact(b'{"alg":"RS256"}', b'"https://own.papergraph/"'),
                                  _compact(b'{"alg":"RS256"}', b"not json"), "\u00e9.e30.sig"])
def test_ssn3_a_token_whose_payload_is_not_an_object_goes_to_the_default(text):
    default = Named(ISSUER)
    router = IssuerRouter(default, [Named("https://own.papergraph/")])  # type: ignore[arg-type,list-item]

    assert router.for_token(text) is default


class CodeOnly(tokens.JoseError):
    error = "X_CODE"


def test_aut1_a_refusals_reason_is_the_errors_code_and_description():
    from joserfc.errors import BadSignatureError, JoseError

    assert tokens._reason(BadSignatureError()) == "bad_signature"
    assert tokens._reason(BadSignatureError("the key said no")) == "bad_signature: the key said no"
    assert tokens._reason(JoseError("something")) == "JoseError: something"  # no code: the error's name
    assert tokens._reason(CodeOnly()) == "X_CODE"  # no description: the code alone, nothing else stripped
    assert tokens._reason(CodeOnly("said X")) == "X_CODE: said X"


async def test_aut1_the_key_set_is_fetched_again_after_an_hour_by_default(clock):
    provider = Provider(jwk(KEY, "k1"))
    cache = JwksCache(provider.fetch)  # as services.py builds it: the default max_age
    first = await cache.key_set_for("k1")

    clock.mono += 3599.9
    assert await cache.key_set_for("k1") is first
    clock.mono += 0.1
    assert await cache.key_set_for("k1") is not first
    assert (provider.calls, cache.fetches, cache.generation) == (2, 2, 2)


@pytest.mark.parametrize("document", [{}, {"keys": []}, {"keys": [jwk(KEY, "enc", use="enc")]}])
async def test_aut1_a_key_set_without_a_usable_key_refuses_every_token_as_unknown(clock, document):
    """It used to raise joserfc's MissingKeyError out of the verifier: a 500 for every signed request."""
    async def fetch() -> dict:
        return document

    check = TokenVerifier(JwksCache(fetch), issuer=ISSUER, audience=AUDIENCE)

    assert await refusal(check, token()) == "unknown signing key"
    assert check.jwks.fetches == 1
