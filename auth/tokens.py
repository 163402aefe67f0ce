"""Access-token verification against the identity provider's JWKS (AUT-1).

Only RS256 is accepted: `alg: none`, HS256 signed with the public key ("algorithm confusion") and
tokens naming an unknown `kid` are rejected. The JWKS is cached; an unknown `kid` triggers one refetch
(single-flight, and at most one per `refetch_interval`), so a rotated key is picked up at once and a
flood of forged tokens cannot hammer the identity provider. Checks: signature, `iss`, `aud` (a string or a list containing the API
identifier), `exp` and `nbf` with a small leeway.

joserfc is authlib's own JOSE implementation (authlib.jose is deprecated in its favour and depends on it).

A front end sends the same token with every request for as long as it lives, and an RS256 check with the
claims registry costs about a third of a millisecond of CPU (`python -m bench profile --cprofile`). So a
verified token's claims are remembered, keyed by the whole token (signature included: a token differing in
any byte is verified afresh), until the token's own expiry (with the same leeway), at most
`VERIFIED_CACHE_SECONDS`, and only while the JWKS it was checked against is the current one: a refetched
key set forgets them all.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from typing import Any, Awaitable, Callable

import orjson
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

ACCEPTED_ALGORITHMS = ["RS256"]
VERIFIED_CACHE_SIZE = 4096  # tokens whose claims are remembered, per process (the oldest go first)
VERIFIED_CACHE_SECONDS = 300.0  # the longest a verified token is trusted without checking it again


class InvalidToken(Exception):
    """The bearer token cannot be trusted; `reason` is safe to show (no token content)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JwksCache:
    """The identity provider's signing keys. Fetched on first use and again after `max_age`; a token naming
    a key id the cache does not know (a rotation) triggers one refetch — single-flight, and at most one such
    refetch per `refetch_interval`, so a flood of forged tokens costs the provider one request, not one each."""

    def __init__(self, fetch: Callable[[], Awaitable[dict[str, Any]]], *, refetch_interval: float = 30.0,
                 max_age: float = 3600.0) -> None:
        self._fetch = fetch
        self._refetch_interval = refetch_interval
        self._max_age = max_age
        self._keys: KeySet | None = None
        self._kids: set[str] = set()
        self._fetched_at = float("-inf")
        self._unknown_kid_refetch_at = float("-inf")
        self._lock = asyncio.Lock()
        self.fetches = 0
        self.generation = 0  # changes with every key set fetched

    def _fresh_with(self, kid: str) -> bool:
        return self._keys is not None and kid in self._kids and time.monotonic() - self._fetched_at < self._max_age

    async def key_set_for(self, kid: str) -> KeySet:
        if self._fresh_with(kid):
            return self._keys
        async with self._lock:
            if self._fresh_with(kid):  # another coroutine refreshed while we waited
                return self._keys
            now = time.monotonic()
            if self._keys is None or now - self._fetched_at >= self._max_age:
                await self._refresh()
            elif kid not in self._kids and now - self._unknown_kid_refetch_at >= self._refetch_interval:
                self._unknown_kid_refetch_at = now
                await self._refresh()
        if self._keys is None or kid not in self._kids:
            raise InvalidToken("unknown signing key")
        return self._keys

    async def _refresh(self) -> None:
        self.fetches += 1
        document = await self._fetch()
        keys = [k for k in document.get("keys", []) if k.get("kty") == "RSA" and k.get("use", "sig") == "sig"]
        # a document without a usable key (none at all, or only encryption or non-RSA keys) is an empty key set:
        # every token is then refused as naming an unknown key, where importing nothing raised a 500
        self._keys = KeySet.import_key_set({"keys": keys}) if keys else KeySet([])
        self._kids = {k["kid"] for k in keys if "kid" in k}
        self._fetched_at = time.monotonic()
        self.generation += 1


class TokenVerifier:
    def __init__(self, jwks: JwksCache, *, issuer: str, audience: str, leeway: int = 30) -> None:
        self.jwks = jwks
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self._verified: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self._verified_generation = -1
        self.verifications = 0  # signature checks made (a remembered token costs none)
        self._registry = jwt.JWTClaimsRegistry(
            leeway=leeway,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
            sub={"essential": True},
        )

    async def verify(self, token: str) -> dict[str, Any]:
        remembered = self._remembered().get(token)
        if remembered is not None:
            if time.time() < remembered[0]:
                return dict(remembered[1])
            del self._verified[token]
        claims = await self._verify(token)
        self._remember(token, claims)
        return dict(claims)

    def _remembered(self) -> OrderedDict[str, tuple[float, dict[str, Any]]]:
        """The remembered tokens, forgotten all at once when the key set changed since they were checked."""
        if self._verified_generation != self.jwks.generation:
            self._verified.clear()
            self._verified_generation = self.jwks.generation
        return self._verified

    def _remember(self, token: str, claims: dict[str, Any]) -> None:
        expires = claims.get("exp")
        if not isinstance(expires, (int, float)):
            return
        self._remembered()[token] = (min(expires + self.leeway, time.time() + VERIFIED_CACHE_SECONDS), claims)
        while len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)

    async def _verify(self, token: str) -> dict[str, Any]:
        self.verifications += 1
        try:
            header = extract_compact(token.encode("ascii")).protected
        except (JoseError, ValueError, UnicodeError):
            raise InvalidToken("malformed token")
        if header.get("alg") not in ACCEPTED_ALGORITHMS:
            raise InvalidToken("unsupported algorithm")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("unknown signing key")
        keys = await self.jwks.key_set_for(kid)
        try:
            decoded = jwt.decode(token, keys, algorithms=ACCEPTED_ALGORITHMS)
            self._registry.validate(decoded.claims)
        except JoseError as error:
            raise InvalidToken(_reason(error))
        return decoded.claims


def _reason(error: JoseError) -> str:
    text = getattr(error, "error", None) or type(error).__name__
    description = getattr(error, "description", "") or ""
    return f"{text}: {description}".strip(": ")


class IssuerRouter:
    """Several identity providers, one verification path: the token's (unverified) `iss` picks the
    `TokenVerifier` of that issuer (Auth0's, or papergraph's own for MG2 tenants, auth/issuer.py), which then
    checks everything, the issuer included. An unknown issuer goes to the default verifier, which refuses it. The
    verifier of a token it accepted is remembered for that token (as many as `VERIFIED_CACHE_SIZE`)."""

    def __init__(self, default: TokenVerifier, others: list[TokenVerifier]) -> None:
        self.default = default
        self.by_issuer = {verifier.issuer: verifier for verifier in others}
        # token → the verifier `for_token` picked, once that verifier accepted it: the same token comes with every
        # request of a session, and decoding its header and payload again cost more than the verifier's own
        # remembered answer (39 µs against 3, timeit). Only accepted tokens, as many as a verifier remembers
        self._routes: OrderedDict[str, TokenVerifier] = OrderedDict()

    def for_token(self, token: str) -> TokenVerifier:
        try:
            payload = orjson.loads(extract_compact(token.encode("ascii")).payload)
            issuer = payload.get("iss") if isinstance(payload, dict) else None
        except (JoseError, ValueError, UnicodeError, orjson.JSONDecodeError):
            return self.default
        return self.by_issuer.get(issuer, self.default) if isinstance(issuer, str) else self.default

    async def verify(self, token: str) -> dict[str, Any]:
        verifier = self._routes.get(token)
        if verifier is not None:
            return await verifier.verify(token)
        verifier = self.for_token(token)
        claims = await verifier.verify(token)  # raises InvalidToken: nothing remembered
        self._routes[token] = verifier
        while len(self._routes) > VERIFIED_CACHE_SIZE:
            self._routes.popitem(last=False)
        return claims
