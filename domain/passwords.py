"""Passwords: the policy (USR-5) and the hash papergraph keeps for tenants on its own auth (`MG2`).

The hash is scrypt (RFC 7914) from the standard library's `hashlib.scrypt`: memory-hard, so no new
dependency is needed for a modern scheme. Stored as `scrypt$<log2 n>$<r>$<p>$<salt b64>$<hash b64>`, so
the cost can be raised later and old hashes still verify (`needs_rehash` says when to upgrade one).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import string
from typing import Sequence

from domain.registrations import RegistrationRuleError

MIN_LENGTH = 8
MAX_LENGTH = 128  # bounds the work a hash costs; far beyond any real password
SPECIALS = set(string.punctuation)
PASSWORD_POLICY = ("Password must be at least 8 characters long and include at least one numeral and one "
                   "special character")

SCRYPT_LOG2_N = 14  # n = 16384, r = 8: 16 MiB and a few tens of milliseconds per hash
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_LENGTH = 32
PREFIX = "scrypt"


def validate_password(password: str, field: Sequence[str] = ("password",)) -> str:
    """USR-5: at least 8 characters, at least one digit and one special character (any ASCII
    punctuation). The password is kept as given: leading or trailing spaces are part of it."""
    if len(password) < MIN_LENGTH or len(password) > MAX_LENGTH:
        raise RegistrationRuleError(PASSWORD_POLICY if len(password) < MIN_LENGTH
                                    else f"Password must be at most {MAX_LENGTH} characters long", field, "USR-5")
    if not any(char.isdigit() for char in password) or not any(char in SPECIALS for char in password):
        raise RegistrationRuleError(PASSWORD_POLICY, field, "USR-5")
    return password


def generate_password() -> str:
    """A random password that satisfies USR-5, for passwordless users (USR-3): nobody ever knows it; the
    user sets their own through the change-password link."""
    return secrets.token_urlsafe(24) + "7!"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, log2_n: int = SCRYPT_LOG2_N) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2 ** log2_n, r=SCRYPT_R, p=SCRYPT_P,
                            maxmem=2 ** 26, dklen=SCRYPT_LENGTH)
    return f"{PREFIX}${log2_n}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str | None) -> bool:
    """Constant-time comparison; any malformed or foreign hash simply does not verify."""
    if not stored:
        return False
    try:
        prefix, log2_n, r, p, salt, digest = stored.split("$")
        if prefix != PREFIX:
            return False
        expected = _unb64(digest)
        actual = hashlib.scrypt(password.encode(), salt=_unb64(salt), n=2 ** int(log2_n), r=int(r), p=int(p),
                                maxmem=2 ** 26, dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def needs_rehash(stored: str) -> bool:
    parts = stored.split("$")
    return len(parts) != 6 or parts[0] != PREFIX or int(parts[1]) < SCRYPT_LOG2_N
