"""Who is asking: anonymous, a customer (a CRID), staff with per-section access levels, or a partner
with scopes — always for exactly one tenant (TEN-1, MGR-1, MGR-3)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, Mapping

CLAIM_NAMESPACE = "https://papergraph.dev/"
# MGR-1: the sections of the staff console, each with its own access level (and a partner's scopes)
SUBSCRIPTIONS = "subscriptions"
REGISTRATIONS = "registrations"
PAYMENTS = "payments"
HOUSEHOLD_LEVELS = "household_levels"
ENTITLEMENTS = "entitlements"
OFFERS = "offers"
SETTINGS = "settings"
SECTIONS = (SUBSCRIPTIONS, REGISTRATIONS, PAYMENTS, HOUSEHOLD_LEVELS, ENTITLEMENTS, OFFERS, SETTINGS)


class PrincipalKind(str, Enum):
    ANONYMOUS = "anonymous"
    CUSTOMER = "customer"
    STAFF = "staff"
    PARTNER = "partner"


class AccessLevel(str, Enum):
    """MGR-1: read needs READ_ONLY or more; every change needs FULL_CONTROL."""

    NO_ACCESS = "NO_ACCESS"
    READ_ONLY = "READ_ONLY"
    FULL_CONTROL = "FULL_CONTROL"


_RANK = {AccessLevel.NO_ACCESS: 0, AccessLevel.READ_ONLY: 1, AccessLevel.FULL_CONTROL: 2}


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    tenant: str | None = None
    subject: str | None = None
    access: Mapping[str, AccessLevel] = field(default_factory=dict)
    scopes: frozenset[str] = frozenset()
    mfa: bool = False
    authenticated_at: float | None = None  # when the user signed in: the token's `auth_time`, else its `iat`

    @property
    def crid(self) -> str | None:
        return self.subject if self.kind == PrincipalKind.CUSTOMER else None

    @property
    def is_anonymous(self) -> bool:
        return self.kind == PrincipalKind.ANONYMOUS

    def access_to(self, section: str) -> AccessLevel:
        return self.access.get(section, AccessLevel.NO_ACCESS)

    def has_level(self, section: str, level: AccessLevel) -> bool:
        return _RANK[self.access_to(section)] >= _RANK[level]

    def can_read(self, section: str) -> bool:
        return _RANK[self.access_to(section)] >= _RANK[AccessLevel.READ_ONLY]

    def can_change(self, section: str) -> bool:
        return self.access_to(section) == AccessLevel.FULL_CONTROL


ANONYMOUS = Principal(PrincipalKind.ANONYMOUS)


def principal_key(principal: Principal) -> str | None:
    """Who did something, as stored with it (`customer:<crid>`, `staff:<sub>`, `partner:<sub>`); None for
    an anonymous request (BUY-11: who started a payment session)."""
    if principal.is_anonymous or not principal.subject:
        return None
    return f"{principal.kind.value}:{principal.subject}"[:160]


def with_access_overrides(principal: Principal, levels: Mapping[str, str]) -> Principal:
    """A staff principal whose access levels stored by papergraph (MGR-1) replace the token's. Once papergraph
    stores any level for a manager the stored set is the whole truth (a section never stored is NO_ACCESS), so
    `managerAccess` and `viewer.access` read the same levels; with nothing stored the token's claims apply."""
    if not levels:
        return principal
    access: dict[str, AccessLevel] = {}
    for section, level in levels.items():
        if section in SECTIONS and level in AccessLevel.__members__:
            access[section] = AccessLevel(level)
    return replace(principal, access=access)


class InvalidClaims(ValueError):
    """A verified token whose claims do not have the shapes papergraph reads (issue 14 #12): answered 401 with
    this reason, like any other unusable token."""


def _claim(claims: Mapping[str, Any], name: str, kind: type | tuple[type, ...], shape: str) -> Any:
    value = claims.get(name)
    if value is not None and not isinstance(value, kind):
        raise InvalidClaims(f"the `{name}` claim must be {shape}")
    return value


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    """Map verified token claims to a principal. Client-credentials tokens (`gty` or a `@clients`
    subject) are partners and never customers (MGR-3). A claim of the wrong shape (an access claim that is a
    string or a list, a tenant that is not a string, …) raises `InvalidClaims`."""
    tenant = _claim(claims, CLAIM_NAMESPACE + "tenant", str, "a string")
    kind_claim = _claim(claims, CLAIM_NAMESPACE + "principal", str, "a string")
    subject = _claim(claims, "sub", str, "a string") or ""
    scopes = frozenset((_claim(claims, "scope", str, "a space-separated string") or "").split())
    is_machine = claims.get("gty") == "client-credentials" or subject.endswith("@clients")
    if is_machine:
        kind = PrincipalKind.PARTNER
    elif kind_claim == "staff":
        kind = PrincipalKind.STAFF
    else:
        kind = PrincipalKind.CUSTOMER
    access: dict[str, AccessLevel] = {}
    if kind == PrincipalKind.STAFF:
        levels = _claim(claims, CLAIM_NAMESPACE + "access", Mapping, "an object mapping each section to an access level") or {}
        for section, level in levels.items():
            if not isinstance(level, str):
                raise InvalidClaims(f"the `{CLAIM_NAMESPACE}access` claim must map each section to a level name")
            if section in SECTIONS and level in AccessLevel.__members__:
                access[section] = AccessLevel(level)
    mfa_claim = _claim(claims, CLAIM_NAMESPACE + "mfa", bool, "true or false")
    amr = _claim(claims, "amr", list, "a list of strings") or []
    mfa = bool(mfa_claim) or "mfa" in amr or "otp" in amr
    return Principal(kind=kind, tenant=tenant or None, subject=subject, access=access,
                     scopes=scopes, mfa=mfa, authenticated_at=_signed_in_at(claims))


def _signed_in_at(claims: Mapping[str, Any]) -> float | None:
    """USR-10: `auth_time` (OpenID Connect: when the user authenticated), else `iat`; None when neither is a
    number (a boolean is not one)."""
    for name in ("auth_time", "iat"):
        value = claims.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None
