"""Rules of the user (registration) mutations, as pure functions: metadata (USR-3), CRID changes
(USR-6), the expiring links of forgot-password and e-mail verification (USR-7) and the event each
operation records (USR-9).

Decisions where the documents are silent:
- Links expire after 24 hours (`LINK_TTL`). A link is an AES-SIV token (domain/crypto.py, its own
  purpose per kind of link) carrying the id of the event that issued it and its expiry; it is
  single-use through a `consumed_token` row, not through anything in the token itself.
- Only the newest forgot-password link of a registration is valid: asking again retires older links.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping, Sequence

from domain.crypto import InvalidToken, encrypt_crid, seal, unseal
from domain.registrations import MAX_METADATA_TEXT, RegistrationRuleError
from domain.text import forbidden_character

LINK_TTL = timedelta(hours=24)
RECENT_SIGN_IN = timedelta(minutes=5)  # USR-10 (decision)
FORGOT_PASSWORD = "forgot-password"
VERIFY_EMAIL = "verify-email"
CRID_BLANK = "Customer Registration ID cannot be blank"
MAX_CRID = 128
MAX_NAME = 100
MAX_METADATA_DEPTH = 10

# USR-9 / NOT-1: the event type code each user operation records (source names where the source has one)
EVENT_CREATE = "CREATELOGIN"
EVENT_CREATE_PENDING = "CREATEPENDING"  # created, waiting for the e-mail to be verified
EVENT_UPDATE = "UPDATEUSER"
EVENT_CHANGE_EMAIL = "CHGEMAIL"
EVENT_CHANGE_PASSWORD = "CHGPASSWORD"
EVENT_CHANGE_CRID = "CHGCRID"
EVENT_FORGOT_PASSWORD_START = "PWDREQ"
EVENT_FORGOT_PASSWORD_FINISH = "PWDRESET"
EVENT_VERIFICATION_CODE = "VERIFYCODE"
EVENT_VERIFIED = "VERIFYEMAIL"

_CAMEL_KEY = re.compile(r"^[a-z][A-Za-z0-9]*$")


def validate_metadata(metadata: Any, field: Sequence[str] = ("metadata",)) -> dict[str, Any]:
    """USR-3: metadata is a camelCase object; every key and every non-object value (as text) is at most
    100 characters, nested objects included. First and last name are top-level fields, not metadata."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise RegistrationRuleError("Metadata must be an object", field, "USR-3")
    _check_object(metadata, list(field), 0)
    return dict(metadata)


def _check_object(value: Mapping[str, Any], path: list[str], depth: int) -> None:
    if depth > MAX_METADATA_DEPTH:
        raise RegistrationRuleError(f"Metadata may nest at most {MAX_METADATA_DEPTH} levels", path, "USR-3")
    for key, item in value.items():
        here = [*path, str(key)]
        if not isinstance(key, str) or not _CAMEL_KEY.match(key):
            raise RegistrationRuleError(f"Metadata key {key!r} must be camelCase", here, "USR-3")
        if len(key) > MAX_METADATA_TEXT:
            raise RegistrationRuleError(f"A metadata key must be at most {MAX_METADATA_TEXT} characters", here,
                                        "USR-3")
        if depth == 0 and key in ("firstName", "lastName"):
            raise RegistrationRuleError(f"{key} is a top-level field, not metadata", here, "USR-3")
        if isinstance(item, Mapping):
            _check_object(item, here, depth + 1)
        elif isinstance(item, list):
            for index, element in enumerate(item):
                if isinstance(element, Mapping):
                    _check_object(element, [*here, str(index)], depth + 1)
                else:
                    _check_value(element, [*here, str(index)])
        else:
            _check_value(item, here)


def _check_value(value: Any, path: list[str]) -> None:
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    if len(text) > MAX_METADATA_TEXT:
        raise RegistrationRuleError(f"A metadata value must be at most {MAX_METADATA_TEXT} characters", path, "USR-3")


def clean_name(value: str | None, field: Sequence[str]) -> str | None:
    """A first or last name: trimmed, at most MAX_NAME characters, free text (issue 14 #15: no control, line
    break or bidi character)."""
    if value is None:
        return None
    value = value.strip()
    if forbidden_character(value) is not None:
        raise RegistrationRuleError(f"`{field[-1]}` contains a control or invisible character", field, "USR-3")
    if len(value) > MAX_NAME:
        raise RegistrationRuleError(f"Must be at most {MAX_NAME} characters", field, "USR-3")
    return value or None


@dataclass(frozen=True)
class CridChange:
    crid: str
    encrypted_crid: str


def validate_crid_change(secret_key: str, new_crid: str | None, new_encrypted_crid: str | None) -> CridChange:
    """USR-6: the new CRID is required ("Customer Registration ID cannot be blank"); given alone, its
    encrypted CRID is computed; an encrypted CRID alone is a validation error; given both, the encrypted
    one must be the new CRID's (papergraph computes it, so a different one could never be looked up)."""
    crid = (new_crid or "").strip()
    if not crid:
        if new_encrypted_crid is not None and new_encrypted_crid.strip():
            raise RegistrationRuleError("The CRID must be given with the encrypted CRID", ["customerRegistrationId"],
                                        "USR-6")
        raise RegistrationRuleError(CRID_BLANK, ["customerRegistrationId"], "USR-6")
    if len(crid) > MAX_CRID:
        raise RegistrationRuleError(f"Customer Registration ID must be at most {MAX_CRID} characters",
                                    ["customerRegistrationId"], "USR-6")
    computed = encrypt_crid(secret_key, crid)
    if new_encrypted_crid is not None and new_encrypted_crid.strip() and new_encrypted_crid.strip() != computed:
        raise RegistrationRuleError("The encrypted CRID does not belong to the CRID", ["encryptedCustomerRegistrationId"],
                                    "USR-6")
    return CridChange(crid=crid, encrypted_crid=computed)


# -- USR-7: expiring, single-use links -------------------------------------------------------------
@dataclass(frozen=True)
class LinkClaim:
    event_id: int
    expires_at: datetime


def link_token(secret_key: str, purpose: str, event_id: int, expires_at: datetime) -> str:
    """The token a link carries: the issuing event's id and the expiry, sealed for `purpose`. Computable
    again from the event (its id and `details.expiresAt`), so whoever sends the e-mail can build it."""
    return seal(secret_key, purpose, f"{event_id}:{int(expires_at.timestamp())}")


def read_link_token(secret_key: str, purpose: str, token: str) -> LinkClaim:
    """The claim of a token; `InvalidToken` when it was not issued by papergraph for `purpose`."""
    plaintext = unseal(secret_key, purpose, (token or "").strip())
    try:
        event_id, expires = plaintext.split(":")
        return LinkClaim(int(event_id), datetime.fromtimestamp(int(expires), tz=timezone.utc))
    except ValueError as error:
        raise InvalidToken("token is not valid") from error


def link_expiry(issued_at: datetime) -> datetime:
    return (issued_at + LINK_TTL).replace(microsecond=0)


def link_is_current(claim: LinkClaim, now: datetime) -> bool:
    return now < claim.expires_at


def password_change_allowed(*, current_password_ok: bool, signed_in_at: datetime | None, now: datetime) -> bool:
    """USR-10: a customer changes their password with the current password, or within `RECENT_SIGN_IN` of
    signing in (a token's `auth_time`, else its `iat`; a sign-in dated in the future by more than a minute of
    clock skew does not count). A password-reset link needs neither (USR-7: the link is the proof)."""
    if current_password_ok:
        return True
    if signed_in_at is None:
        return False
    return now - RECENT_SIGN_IN <= signed_in_at <= now + timedelta(minutes=1)
