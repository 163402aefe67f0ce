"""Staff second factor (MGR-2): TOTP authenticators (RFC 6238, 30-second codes, 6 digits), as authenticator
apps implement them. Pure: the secret is stored sealed (domain/crypto.py) by the caller."""

from __future__ import annotations

from urllib.parse import quote

import pyotp

from domain.crypto import seal, unseal

MFA_PURPOSE = "manager-totp"
ISSUER = "papergraph"
CODE_DIGITS = 6
STEP_SECONDS = 30
DRIFT_STEPS = 1  # one step either side: the clock drift authenticator apps are allowed


def new_secret() -> str:
    return pyotp.random_base32(32)


def otpauth_uri(secret: str, tenant_code: str, account: str) -> str:
    """What an authenticator app scans (as a QR code) to add the account."""
    return pyotp.TOTP(secret, digits=CODE_DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=f"{tenant_code}:{account}", issuer_name=quote(ISSUER))


def code_matches(secret: str, code: str, at: float | None = None) -> bool:
    """A 6-digit code of the current 30-second step or one either side."""
    code = (code or "").strip()
    if len(code) != CODE_DIGITS or not code.isdigit():
        return False
    return pyotp.TOTP(secret, digits=CODE_DIGITS, interval=STEP_SECONDS).verify(
        code, for_time=at, valid_window=DRIFT_STEPS)


def current_code(secret: str, at: float | None = None) -> str:
    totp = pyotp.TOTP(secret, digits=CODE_DIGITS, interval=STEP_SECONDS)
    return totp.at(at) if at is not None else totp.now()


def seal_secret(secret_key: str, secret: str) -> str:
    return seal(secret_key, MFA_PURPOSE, secret)


def unseal_secret(secret_key: str, sealed: str) -> str:
    return unseal(secret_key, MFA_PURPOSE, sealed)
