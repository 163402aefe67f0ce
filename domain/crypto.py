"""Reversible tokens papergraph issues itself, keyed by `settings.secret_key` (USR-2, USR-6).

The encrypted CRID is a lookup key clients keep, so it must be stable: the same CRID always gives the
same token. It is AES-SIV (RFC 5297, deterministic authenticated encryption): tamper-proof, reveals
nothing but equality, and needs no nonce to be stored. Each purpose gets its own key, derived from the
secret with HKDF, so a token of one purpose never opens as another.
"""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

CRID_PURPOSE = "encrypted-crid"
MAX_TOKEN_LENGTH = 1024


class InvalidToken(ValueError):
    """The token is malformed, was issued with another key or purpose, or was altered."""


@lru_cache(maxsize=32)
def _cipher(secret_key: str, purpose: str) -> AESSIV:
    key = HKDF(algorithm=hashes.SHA256(), length=64, salt=b"papergraph", info=f"papergraph/{purpose}".encode()
               ).derive(secret_key.encode())
    return AESSIV(key)


def seal(secret_key: str, purpose: str, plaintext: str) -> str:
    """A URL-safe token carrying `plaintext`, readable only with the same key and purpose."""
    sealed = _cipher(secret_key, purpose).encrypt(plaintext.encode(), [purpose.encode()])
    return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode()


def unseal(secret_key: str, purpose: str, token: str, max_length: int = MAX_TOKEN_LENGTH) -> str:
    """The plaintext of a `seal` token; `InvalidToken` for anything else. `max_length` bounds what a client may
    send; papergraph's own sealed values (a signing key) may be longer."""
    if not token or len(token) > max_length:
        raise InvalidToken("token is empty or too long")
    try:
        raw = base64.urlsafe_b64decode(token.encode("ascii") + b"=" * (-len(token) % 4))
        return _cipher(secret_key, purpose).decrypt(raw, [purpose.encode()]).decode()
    except (InvalidTag, ValueError, binascii.Error, UnicodeError) as error:
        raise InvalidToken("token is not valid") from error


def encrypt_crid(secret_key: str, crid: str) -> str:
    """The encrypted CRID of a registration (USR-2 lookup key; USR-6 computes it from the CRID)."""
    return seal(secret_key, CRID_PURPOSE, crid)


def decrypt_crid(secret_key: str, token: str) -> str:
    return unseal(secret_key, CRID_PURPOSE, token)
