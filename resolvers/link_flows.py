"""What the link mutations share: the tenant's LNK-2 limits and the UPDATELINK event (LNK-1)."""

from __future__ import annotations

from typing import Any

from auth.principals import Principal, PrincipalKind
from datasources.models import Event, utcnow

UPDATE_LINK = "UPDATELINK"


def link_limits(tenant) -> dict[str, int]:
    settings = tenant.settings
    return {"owners_limit": settings.integer("Subscription.DefaultOwnersLimit"),
            "guests_limit": settings.integer("Subscription.DefaultGuestsLimit"),
            "max_links": settings.integer("Subscription.MaxLinks")}


def link_event(tenant_id: int, *, crid: str, subscription_id: str, **details: Any) -> Event:
    return Event(tenant_id=tenant_id, type_code=UPDATE_LINK, crid=crid, subscription_id=subscription_id,
                 details=details, created_at=utcnow())



def may_link_crid(principal: Principal, crid: str) -> bool:
    """LNK-4: staff (the mutation's guard already asked FULL_CONTROL) link any CRID; a customer only their
    own; a partner none by name."""
    if principal.kind is PrincipalKind.STAFF:
        return True
    return principal.kind is PrincipalKind.CUSTOMER and crid == principal.crid
