"""Registrations (users) and their lookups: pure rules, no I/O (USR-1, USR-2, USR-4, LNK-1).

A rule violation raises `RegistrationRuleError`, which names the offending argument (`field`, a path
such as `["metadata", "3", "key"]`) so the GraphQL layer can turn it into a BAD_USER_INPUT error.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Sequence

MG2 = "MG2"
LITE = "LITE"
UNVERIFIED = "UNVERIFIED"
STANDARD = "STANDARD"

MAX_METADATA_FILTERS = 10
MAX_METADATA_TEXT = 100
MAX_REGISTRATION_ID = 2**31 - 1  # registration.id is a 32-bit integer column

# Characters that render as nothing (or as a plain space) but make two e-mail addresses differ (USR-4).
# Control (Cc) and format (Cf) characters are rejected by category; these are the usual suspects that
# are not in those categories.
_INVISIBLE = {
    "\u00a0",  # no-break space
    "\u115f", "\u1160", "\u3164", "\uffa0",  # Hangul fillers
    "\u2000", "\u2001", "\u2002", "\u2003", "\u2004", "\u2005", "\u2006", "\u2007", "\u2008", "\u2009", "\u200a",
    "\u2028", "\u2029", "\u202f", "\u205f", "\u3000",
    "\u2800",  # braille blank
}


class RegistrationRuleError(ValueError):
    """A lookup or input that breaks a registration rule; `field` is the path of the argument at fault."""

    def __init__(self, message: str, field: Sequence[str], rule: str) -> None:
        super().__init__(message)
        self.field = list(field)
        self.rule = rule


def registration_state(user_provider: str | None, *, has_password: bool, email_verified: bool) -> str:
    """USR-1: a tenant on a third-party identity provider always reports STANDARD; on the platform's own
    auth (MG2), no password → LITE, then not verified → UNVERIFIED, else STANDARD."""
    if (user_provider or "").strip().upper() != MG2:
        return STANDARD
    if not has_password:
        return LITE
    if not email_verified:
        return UNVERIFIED
    return STANDARD


def may_authenticate(*, has_password: bool, email_verified: bool) -> bool:
    """USR-8 on every provider: a registration without a password (LITE) or whose e-mail is not verified
    (UNVERIFIED) is refused authentication. The facts are the registration's own, not USR-1's reported
    state, which says STANDARD for every third-party provider (an Auth0 self-service sign-up that has not
    verified its e-mail is still UNVERIFIED here)."""
    return has_password and email_verified


def clean_email(email: str, field: Sequence[str] = ("email",)) -> str:
    """USR-4: the address trimmed; rejected when it contains an invisible or control character
    (zero-width space, no-break space, soft hyphen, BOM, …) or is blank once trimmed."""
    trimmed = email.strip()
    if not trimmed:
        raise RegistrationRuleError("E-mail address must not be blank", field, "USR-4")
    for char in trimmed:
        if char in _INVISIBLE or char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            raise RegistrationRuleError(
                f"E-mail address contains an invisible or control character (U+{ord(char):04X})", field, "USR-4"
            )
    return trimmed


@dataclass(frozen=True)
class MetadataFilter:
    key: str
    value: str


@dataclass(frozen=True)
class UserLookup:
    """A validated `users` lookup: an e-mail, an encrypted CRID, or metadata and/or name-prefix filters."""

    email: str | None = None
    metadata: tuple[MetadataFilter, ...] = field(default_factory=tuple)
    encrypted_crid: str | None = None
    first_name: str | None = None  # SUB-2/USR-2 (issue 17): a case-insensitive prefix
    last_name: str | None = None

    @property
    def single(self) -> bool:
        """USR-2: an e-mail or CRID lookup answers at most one user."""
        return self.email is not None or self.encrypted_crid is not None


EMPTY_LOOKUP_MESSAGE = "Please enter a value in at least one of the input fields."


def validate_user_lookup(
    email: str | None = None,
    metadata: Sequence[MetadataFilter] | None = None,
    encrypted_crid: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
) -> UserLookup:
    """USR-2: an e-mail or metadata filters, never both; at most 10 metadata filters, each key and value
    at most 100 characters; an encrypted CRID is a lookup key of its own, so it combines with neither.
    The e-mail is cleaned by USR-4. First and last name are case-insensitive prefixes (issue 17), combined with
    each other and with metadata, never with an e-mail or CRID. No criterion at all is a validation error."""
    filters = tuple(metadata or ())
    names = {}
    for name, value in (("firstName", first_name), ("lastName", last_name)):
        if value is not None and value.strip():
            if len(value.strip()) > MAX_METADATA_TEXT:
                raise RegistrationRuleError(f"`{name}` must be at most {MAX_METADATA_TEXT} characters", [name],
                                            "USR-2")
            names[name] = value.strip()
    if names and (email is not None or encrypted_crid is not None):
        raise RegistrationRuleError("Names narrow a metadata lookup or stand alone; an e-mail or CRID finds one user",
                                    [next(iter(names))], "USR-2")
    if email is None and encrypted_crid is None and not filters and not names:
        raise RegistrationRuleError(EMPTY_LOOKUP_MESSAGE, [], "USR-2")
    if email is not None and filters:
        raise RegistrationRuleError("Look users up by e-mail or by metadata, not both", ["metadata"], "USR-2")
    if encrypted_crid is not None and (email is not None or filters):
        raise RegistrationRuleError(
            "An encrypted CRID lookup cannot be combined with e-mail or metadata filters", ["encryptedCrid"], "USR-2"
        )
    if len(filters) > MAX_METADATA_FILTERS:
        raise RegistrationRuleError(
            f"At most {MAX_METADATA_FILTERS} metadata filters are allowed, got {len(filters)}", ["metadata"], "USR-2"
        )
    for index, item in enumerate(filters):
        if not item.key:
            raise RegistrationRuleError("A metadata filter key must not be empty", ["metadata", str(index), "key"],
                                        "USR-2")
        for name, text in (("key", item.key), ("value", item.value)):
            if len(text) > MAX_METADATA_TEXT:
                raise RegistrationRuleError(
                    f"A metadata filter {name} must be at most {MAX_METADATA_TEXT} characters",
                    ["metadata", str(index), name], "USR-2",
                )
    cleaned = clean_email(email) if email is not None else None
    if encrypted_crid is not None and not encrypted_crid.strip():
        raise RegistrationRuleError("Encrypted CRID must not be blank", ["encryptedCrid"], "USR-2")
    return UserLookup(email=cleaned, metadata=filters,
                      encrypted_crid=encrypted_crid.strip() if encrypted_crid is not None else None,
                      first_name=names.get("firstName"), last_name=names.get("lastName"))


@dataclass(frozen=True)
class LinkLookup:
    crid: str | None = None
    registration_id: int | None = None
    subscription_id: str | None = None


def validate_link_lookup(
    crid: str | None = None, registration_id: str | None = None, subscription_id: str | None = None
) -> LinkLookup:
    """LNK-1: links are listed by CRID, by registration id or by subscription id — at least one of them
    (when several are given, a link must match all)."""
    crid = crid.strip() if crid is not None else None
    subscription_id = subscription_id.strip() if subscription_id is not None else None
    registration = registration_id.strip() if registration_id is not None else None
    if not crid and not registration and not subscription_id:
        raise RegistrationRuleError(
            "Give at least one of crid, registrationId or subscriptionId", ["crid"], "LNK-1"
        )
    number = None
    if registration:
        if not (registration.isascii() and registration.isdigit()) or int(registration) > MAX_REGISTRATION_ID:
            raise RegistrationRuleError("registrationId must be a registration's numeric id", ["registrationId"],
                                        "LNK-1")
        number = int(registration)
    return LinkLookup(crid=crid or None, registration_id=number, subscription_id=subscription_id or None)
