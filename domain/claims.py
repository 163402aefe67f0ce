"""Claiming a purchase (BUY-10), as pure rules.

An anonymous purchase made with the e-mail of an existing registration waits (`pending_claim`); the
e-mail's owner receives a link (CLAIMPURCHASE, MSG-1) carrying a sealed token of the claim's id and expiry.

Decisions where the documents are silent (docs/consent.md):
- The link works once and for `CLAIM_TTL` (30 days: longer than an invitation's 14, because the subscription
  is paid for and its owner may be away). After that only staff with FULL_CONTROL link it (LNK-4).
- Only the registration with the purchase's e-mail (compared as USR-4 cleans it, case-insensitively), signed
  in (so verified and with a password, USR-8), may read or use it; anyone else learns only that the link is
  not theirs, never whose it is.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from domain.crypto import InvalidToken, seal, unseal

CLAIM_TTL = timedelta(days=30)
PURPOSE = "purchase-claim"
EVENT_CLAIM_OFFERED = "CLAIMPURCHASE"


def claim_expiry(created_at: datetime) -> datetime:
    if created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=timezone.utc)
    return (created_at + CLAIM_TTL).replace(microsecond=0)


def claim_token(secret_key: str, claim_id: int, expires_at: datetime) -> str:
    return seal(secret_key, PURPOSE, f"{claim_id}:{int(expires_at.timestamp())}")


def read_claim_token(secret_key: str, token: str) -> tuple[int, datetime]:
    """(claim id, expiry) of a token papergraph issued; `InvalidToken` otherwise."""
    plaintext = unseal(secret_key, PURPOSE, (token or "").strip())
    try:
        claim_id, expires = plaintext.split(":")
        return int(claim_id), datetime.fromtimestamp(int(expires), tz=timezone.utc)
    except ValueError as error:
        raise InvalidToken("token is not valid") from error


def same_email(a: str | None, b: str | None) -> bool:
    """Whether two cleaned e-mail addresses name the same mailbox (case-insensitive, as registrations are found)."""
    return bool(a) and bool(b) and a.strip().lower() == b.strip().lower()
