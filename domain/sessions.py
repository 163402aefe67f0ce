"""Sign-in and sessions of own-auth (MG2) tenants (SSN): pure rules, no I/O.

Decisions where the documents are silent (docs/sign-in.md):
- Access tokens live `access_token_seconds` (15 min by default) and never past the session's absolute end.
- A session ends after `idle` without a refresh (30 min) or `absolute` after its sign-in (24 h) (SSN-5).
- Refresh tokens are opaque, single-use and rotate; presenting a used one again revokes its whole family
  (the thief and the owner both lose the session: the owner signs in again).
- Sign-out sets LastLogoutDate: every token issued before it is refused (SSN-4). Access tokens papergraph
  issues carry a fractional `iat` (RFC 7519 NumericDate), so a sign-in in the same second as a sign-out is not
  mistaken for an older one.
- Wrong passwords are throttled per tenant and login name: after `MAX_FAILURES` within `FAILURE_WINDOW`
  further attempts are refused without checking the password until the window has passed.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SessionLimits:
    access: timedelta
    idle: timedelta
    absolute: timedelta


def access_token_expiry(now: datetime, session_started_at: datetime, limits: SessionLimits) -> datetime:
    """SSN-5: the access token's `exp`: its lifetime, but never past the session's absolute end."""
    return min(now + limits.access, session_started_at + limits.absolute)


def session_expired(now: datetime, session_started_at: datetime, last_refreshed_at: datetime,
                    limits: SessionLimits) -> bool:
    """SSN-5: idle (no refresh for `idle`) or past its absolute end."""
    return now - last_refreshed_at > limits.idle or now - session_started_at >= limits.absolute


def issued_before_logout(issued_at: float | None, last_logout_at: datetime | None) -> bool:
    """SSN-4: a token issued before the registration's last sign-out is refused (no `iat`: refused too)."""
    if last_logout_at is None:
        return False
    return issued_at is None or issued_at < last_logout_at.timestamp()


class FailureWindow:
    """Wrong-password attempts per key (tenant, login name) in the last `window`; in-process. A shared limiter
    (Redis) can take its place through the same two methods."""

    def __init__(self, max_failures: int = MAX_FAILURES, window: timedelta = FAILURE_WINDOW,
                 max_keys: int = 100_000) -> None:
        self.max_failures = max_failures
        self.window = window.total_seconds()
        self.max_keys = max_keys
        self._failures: dict[tuple, deque[float]] = {}

    def _recent(self, key: tuple, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and now - times[0] >= self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def blocked(self, key: tuple, now: float) -> bool:
        return len(self._recent(key, now)) >= self.max_failures

    def failed(self, key: tuple, now: float) -> None:
        if len(self._failures) >= self.max_keys and key not in self._failures:
            self._failures.pop(next(iter(self._failures)))  # the oldest key goes first
        self._recent(key, now)
        self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, key: tuple) -> None:
        self._failures.pop(key, None)
