"""Access levels (ENT-2, ENT-3) and access codes (ENT-1, ENT-4), as pure functions.

Decisions where the documents are silent:
- "Has a subscription" means an active one: ACTIVE, PAUSED and IN_GRACE count; STOPPED and
  PERMANENTLY_STOPPED do not. A registration whose only subscriptions are stopped gets PURCHASE (it has
  to buy again; a restart is a purchase as far as access goes), even if the stopped offer included it.
- A temporary entitlement in force for the code gives PREMIUM whatever the subscriptions (ENT-3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import Enum
from typing import Iterable, Optional
from zoneinfo import ZoneInfo

ACTIVE_STATUSES = frozenset({"ACTIVE", "PAUSED", "IN_GRACE"})


class AccessLevel(Enum):
    PREMIUM = "PREMIUM"
    UPGRADE = "UPGRADE"
    PURCHASE = "PURCHASE"


# ENT-4 (and ENT-1's SS_Access_04), as the source platform words them
ACCESS_CODES: dict[str, str] = {
    "SS_Access_01": "Access Success",
    "SS_Access_02": "Access No Authorized",
    "SS_Access_03": "Get Access Level has failed",
    "SS_Access_04": "Unable to perform redirection because configuration is missing",
}


@dataclass(frozen=True)
class HeldSubscription:
    """What the rule needs of one linked subscription: its status and the entitlements its offer includes."""

    subscription_id: str
    status: str
    entitlement_codes: frozenset[str]
    pass_expired: bool = False  # SUB-5/BUY-9: a day pass past its end grants nothing

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES and not self.pass_expired


DAY_PASS_KIND = "PAID_PASS"


def day_pass_ends_at(start: date, time_zone: str) -> datetime:
    """SUB-5 refined by BUY-9 (decision on "until midnight the following day"): a day pass bought on day D
    grants access until 00:00 of D+2 in the tenant's time zone; the instant returned is that midnight."""
    return datetime.combine(start + timedelta(days=2), time(0), tzinfo=ZoneInfo(time_zone))


def day_pass_expired(kind: str, start: Optional[date], now: datetime, time_zone: str) -> bool:
    """SUB-5/BUY-9: whether a subscription is a day pass whose access has ended at `now` (aware). A stopped
    day pass grants none either, through its status (ENT-2)."""
    if kind != DAY_PASS_KIND or start is None:
        return False
    return now >= day_pass_ends_at(start, time_zone)


@dataclass(frozen=True)
class AccessDecision:
    level: AccessLevel
    granting_subscription_ids: tuple[str, ...] = ()
    temporary: bool = False


def access_level(entitlement_code: str, subscriptions: Iterable[HeldSubscription],
                 temporary_codes: Iterable[str] = ()) -> AccessDecision:
    """ENT-2: PREMIUM when an active subscription's offer includes the entitlement (or, ENT-3, a temporary
    entitlement for it is in force); UPGRADE when there is an active subscription that does not include
    it; PURCHASE when there is no active subscription."""
    active = [s for s in subscriptions if s.active]
    granting = tuple(s.subscription_id for s in active if entitlement_code in s.entitlement_codes)
    temporary = entitlement_code in set(temporary_codes)
    if granting or temporary:
        return AccessDecision(AccessLevel.PREMIUM, granting, temporary)
    if active:
        return AccessDecision(AccessLevel.UPGRADE)
    return AccessDecision(AccessLevel.PURCHASE)


def access_code(level: AccessLevel, redirect_url: Optional[str]) -> str:
    """ENT-1/ENT-4: the code an access request reports. Access granted without a redirect configured is
    still a success for the user, reported as SS_Access_04."""
    if level is not AccessLevel.PREMIUM:
        return "SS_Access_02"
    return "SS_Access_01" if redirect_url else "SS_Access_04"
