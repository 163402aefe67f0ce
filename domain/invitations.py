"""Invitations (INV-1..INV-6), as pure rules.

Decisions where the documents are silent (docs/invitations.md):
- An invitation link carries a sealed token of the invitation's id and expiry; it works once (the invitation
  leaves PENDING when accepted) and for `INVITATION_TTL` (14 days, INV-4).
- Pending invitations count as guest links for LNK-2 and as links for OFR-7 (INV-3); acceptance re-checks with
  the invitation itself no longer pending.
- Invitation metadata follows USR-3 (camelCase, 100 characters); the phone key is `phoneNumber`, and `phone`
  (or the old `Phone`) is refused (INV-5).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Sequence

from domain.crypto import InvalidToken, seal, unseal
from domain.links import GUEST, check_allowed_registrations, check_link_limits
from domain.money import RuleError
from domain.registrations import RegistrationRuleError
from domain.users import validate_metadata

INVITATION_TTL = timedelta(days=14)
PURPOSE = "invitation"
PENDING, ACCEPTED, CANCELLED = "PENDING", "ACCEPTED", "CANCELLED"
EVENT_INVITE = "INVITEGUEST"
EVENT_UPDATE = "UPDATEINVITATION"
EVENT_CANCEL = "CANCELINVITATION"
EVENT_ACCEPT = "ACCEPTINVITATION"
MAX_INVITEES = 20


def invitation_expiry(now: datetime) -> datetime:
    return (now + INVITATION_TTL).replace(microsecond=0)


def invitation_token(secret_key: str, invitation_id: int, expires_at: datetime) -> str:
    return seal(secret_key, PURPOSE, f"{invitation_id}:{int(expires_at.timestamp())}")


def read_invitation_token(secret_key: str, token: str) -> tuple[int, datetime]:
    """(invitation id, expiry) of a token papergraph issued; `InvalidToken` otherwise."""
    plaintext = unseal(secret_key, PURPOSE, (token or "").strip())
    try:
        invitation_id, expires = plaintext.split(":")
        return int(invitation_id), datetime.fromtimestamp(int(expires), tz=timezone.utc)
    except ValueError as error:
        raise InvalidToken("token is not valid") from error


def validate_invitation_metadata(metadata: Any, field: Sequence[str]) -> dict[str, Any]:
    """INV-5: USR-3's metadata rules; the phone key is `phoneNumber`, `phone` is refused."""
    cleaned = validate_metadata(metadata, field)
    for key in cleaned:
        if key.lower() == "phone":
            raise RegistrationRuleError("The phone key is `phoneNumber`", [*field, key], "INV-5")
    return cleaned


def check_invitation_limits(link_roles: Iterable[str], pending: int, new: int, *, owners_limit: int,
                            guests_limit: int, max_links: int, allowed_registrations: int | None,
                            field: Sequence[str]) -> None:
    """INV-3: the links, the pending invitations and `new` more guests fit LNK-2's limits and, when the
    subscription's offer is known, its allowed registrations (OFR-7)."""
    roles = list(link_roles) + [GUEST] * pending
    for _ in range(new):
        check_link_limits(roles, GUEST, owners_limit=owners_limit, guests_limit=guests_limit, max_links=max_links,
                          field=field)
        roles.append(GUEST)
    check_allowed_registrations(len(roles), allowed_registrations, field)


def is_current(state: str, expires_at: datetime, now: datetime) -> bool:
    return state == PENDING and now < expires_at
