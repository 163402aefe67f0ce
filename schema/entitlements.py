"""Entitlements (ENT-1) and access levels (ENT-2, ENT-3)."""

from __future__ import annotations

from enum import Enum
from typing import Optional

import strawberry

from auth.permissions import ANYONE, guarded_reference
from strawberry.types import Info

from domain.entitlements import AccessDecision


@strawberry.type(description="An entitlement's settings record (ENT-1).")
class EntitlementRedirectSettings:
    redirect_url: Optional[str] = strawberry.field(
        description="Where an access request redirects; null: no redirect (reported as SS_Access_04).")


@strawberry.federation.type(keys=["code"],
                            description="Something a registration may have access to, e.g. EEDITION (ENT-1).")
class Entitlement:
    code: str
    description: str
    redirect_settings: Optional[EntitlementRedirectSettings] = strawberry.field(
        description="Optional: null when the entitlement has no settings record (ENT-1).")

    @classmethod
    def from_row(cls, row) -> "Entitlement":
        settings = EntitlementRedirectSettings(redirect_url=row.redirect_url) if row.has_settings else None
        return cls(code=row.entitlement.code, description=row.entitlement.description, redirect_settings=settings)

    @guarded_reference(ANYONE)
    @classmethod
    async def resolve_reference(cls, info: Info, code: str) -> "Entitlement | None":
        return await info.context.loaders.entitlement_by_code.load(code)


@strawberry.enum(description=(
    "ENT-2: PREMIUM has access; UPGRADE has an active subscription that does not include it; "
    "PURCHASE has no active subscription."
))
class AccessLevel(Enum):
    PREMIUM = "PREMIUM"
    UPGRADE = "UPGRADE"
    PURCHASE = "PURCHASE"


@strawberry.type(description="The access level of a registration for an entitlement (ENT-2, ENT-3).")
class AccessLevelResult:
    entitlement_code: str
    crid: str
    access_level: AccessLevel
    granting_subscription_ids: list[strawberry.ID] = strawberry.field(
        description=(
            "The active linked subscriptions whose offer includes the entitlement; not looked up (empty) when "
            "a temporary entitlement already grants it."
        ))
    temporary: bool = strawberry.field(description="True when an unexpired temporary entitlement grants it (ENT-3).")

    @classmethod
    def of(cls, code: str, crid: str, decision: AccessDecision) -> "AccessLevelResult":
        return cls(entitlement_code=code, crid=crid, access_level=AccessLevel(decision.level.value),
                   granting_subscription_ids=[strawberry.ID(s) for s in decision.granting_subscription_ids],
                   temporary=decision.temporary)
