"""The Auth0 emulator's cryptography: RS256 JSON Web Tokens, the JWKS it publishes, and TOTP codes.

Written directly on `cryptography` rather than a JOSE library so the emulator signs exactly what Auth0
signs (compact JWS, header `{"alg": "RS256", "typ": "JWT", "kid"}`) and papergraph's verifier
(`auth.tokens`, joserfc) is tested against an independent implementation, not against itself.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import secrets
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

RSA_KEY_BITS = 2048
TOTP_STEP_SECONDS = 30  # MGR-2: 30-second codes, as authenticator apps use
TOTP_DIGITS = 6


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _int_b64(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


@dataclass
class SigningKey:
    """One RSA key pair of the tenant; `kid` is what tokens name in their header and the JWKS lists."""

    kid: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    private_key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS)
    )

    def jwk(self) -> dict[str, Any]:
        numbers = self.private_key.public_key().public_numbers()
        return {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
                "n": _int_b64(numbers.n), "e": _int_b64(numbers.e)}

    def sign(self, claims: dict[str, Any]) -> str:
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        signing_input = f"{_segment(header)}.{_segment(claims)}".encode("ascii")
        signature = self.private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input.decode('ascii')}.{b64url(signature)}"

    def verifies(self, signing_input: bytes, signature: bytes) -> bool:
        try:
            self.private_key.public_key().verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return False
        return True


def kept_key(path: Path) -> SigningKey:
    """The signing key kept in `path` (PEM, PKCS#8, mode 0600), made and written there the first time, so tokens
    signed before a restart still verify after it (issue 19 item 6). Its `kid` is the key's RFC 7638 thumbprint,
    the same on every start. A new key is written to a temporary file and linked into place, which fails if
    another process got there first: then that process's key is read, so concurrent starts agree on one key."""
    if not path.exists():
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS)
        pem = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(pem)
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass  # another process kept its key first: use that one
        finally:
            temporary.unlink(missing_ok=True)
    return _loaded_key(path.read_bytes())


@functools.lru_cache(maxsize=8)
def _loaded_key(pem: bytes) -> SigningKey:
    """Loading checks the RSA key, about half a second of CPU: done once per process and key (a test session
    starts hundreds of apps on one database). Keyed by the file's content, so a replaced file is loaded anew."""
    private_key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise ValueError("the key file does not hold an RSA private key")
    return SigningKey(kid=thumbprint(SigningKey(kid="", private_key=private_key).jwk()), private_key=private_key)


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638: the SHA-256 of the key's required members, in order, without spaces."""
    canonical = json.dumps({"e": jwk["e"], "kty": jwk["kty"], "n": jwk["n"]}, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode()).digest())


def _segment(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":"), sort_keys=True).encode())


class MalformedToken(ValueError):
    """Not a compact RS256 JWS this tenant could have issued."""


def split_token(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """→ (header, claims, signing input, signature), without checking the signature."""
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedToken("not a compact JWS")
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedToken("undecodable segment") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise MalformedToken("header and payload must be JSON objects")
    return header, claims, f"{parts[0]}.{parts[1]}".encode("ascii"), signature


def new_totp_secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii").rstrip("=")


def totp(secret: str, at: float) -> str:
    """RFC 6238 code (HMAC-SHA1, 30-second step, 6 digits): what an authenticator app shows at `at`."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(at // TOTP_STEP_SECONDS)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**TOTP_DIGITS).zfill(TOTP_DIGITS)


def totp_matches(secret: str, code: str, at: float) -> bool:
    """Accepts the current step and one either side, the drift real authenticators are allowed."""
    return any(hmac.compare_digest(totp(secret, at + drift * TOTP_STEP_SECONDS), code) for drift in (-1, 0, 1))


def password_hash(password: str, salt: str | None = None) -> str:
    """Salted SHA-256: enough for an emulator that loads tens of thousands of demo users at start-up, where
    a deliberately slow KDF would take minutes. Never used outside the sandbox."""
    salt = salt or secrets.token_hex(8)
    return f"{salt}${hashlib.sha256((salt + password).encode()).hexdigest()}"


def password_matches(password: str, stored: str) -> bool:
    salt, _, _ = stored.partition("$")
    return hmac.compare_digest(password_hash(password, salt), stored)
