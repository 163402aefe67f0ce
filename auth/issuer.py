"""papergraph as the identity provider of own-auth (MG2) tenants (SSN-3): the RS256 access tokens it issues,
signed by its own key kept in the database (sealed with the secret key), rotated by
`papergraph rotate-signing-key`, and published at `/.well-known/jwks.json`. They are verified by the same
`TokenVerifier` as Auth0's (auth/tokens.py), against that JWKS: `IssuerRouter` picks the verifier by the
token's issuer and nothing else differs.

After a rotation the new key signs at once in every process (each re-reads the keys at most every
`KEY_CACHE_SECONDS`, and at once in the process that rotated); the retired key stays published for the
longest an access token lives, so tokens it signed stay valid until they expire.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey

from datasources.models import SigningKey, utcnow
from datasources.repositories.sessions import SessionRepository
from domain.crypto import seal, unseal

PURPOSE = "signing-key"
KEY_CACHE_SECONDS = 30.0


def own_issuer(public_url: str) -> str:
    return public_url.rstrip("/") + "/"


class OwnTokenIssuer:
    def __init__(self, db, *, secret_key: str, issuer: str, audience: str, access_token_seconds: int,
                 leeway: int = 30) -> None:
        self.repository = SessionRepository(db)
        self.secret_key = secret_key
        self.issuer = issuer
        self.audience = audience
        self.publish_for = timedelta(seconds=access_token_seconds + leeway)
        self._keys: list[SigningKey] = []
        self._read_at = float("-inf")
        self._lock = asyncio.Lock()

    async def _current(self) -> list[SigningKey]:
        if time.monotonic() - self._read_at < KEY_CACHE_SECONDS and self._keys:
            return self._keys
        async with self._lock:
            if time.monotonic() - self._read_at < KEY_CACHE_SECONDS and self._keys:
                return self._keys
            keys = await self.repository.signing_keys(utcnow() - self.publish_for)
            if not any(key.retired_at is None for key in keys):  # the first use ever: make one
                keys.append(await self.repository.add_signing_key(self._new_key(), retire_others=False))
            self._keys, self._read_at = keys, time.monotonic()
            return keys

    def _new_key(self) -> SigningKey:
        key = RSAKey.generate_key(2048)
        kid = f"pg-{uuid.uuid4().hex[:16]}"
        public = {**key.as_dict(private=False), "kid": kid, "use": "sig", "alg": "RS256"}
        return SigningKey(kid=kid, sealed_private_key=seal(self.secret_key, PURPOSE, key.as_pem(private=True).decode()),
                          public_jwk=public, created_at=utcnow())

    async def rotate(self) -> SigningKey:
        """A new signing key; the others retire (still published while their tokens may live)."""
        key = await self.repository.add_signing_key(self._new_key(), retire_others=True)
        self._read_at = float("-inf")
        return key

    async def jwks(self) -> dict[str, Any]:
        return {"keys": [dict(key.public_jwk) for key in await self._current()]}

    async def issue(self, claims: dict[str, Any], *, now: datetime, expires_at: datetime) -> str:
        signing = [key for key in await self._current() if key.retired_at is None][-1]
        private = RSAKey.import_key(unseal(self.secret_key, PURPOSE, signing.sealed_private_key, max_length=1 << 16))
        body = {"iss": self.issuer, "aud": self.audience, "iat": round(now.timestamp(), 3),
                "exp": int(expires_at.timestamp()), **claims}
        return jwt.encode({"alg": "RS256", "kid": signing.kid, "typ": "JWT"}, body, private)
