"""A servicing world: an own tenant of a given circulation kind with a print subscription, its owner and a
guest, tokens for them, and one pinned clock for papergraph and the circulation emulator alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Callable

from datasources.models import Registration, SubscriptionLink
from tests.conftest import bearer

# 12:00 UTC is 08:00 on 1 June in New York (the own tenants' time zone)
NOON = datetime(2026, 6, 1, 12, tzinfo=UTC)


@dataclass
class World:
    tenant: Any
    subscription_id: str
    owner: Any
    guest: Any
    headers: dict[str, dict[str, str]]
    set_clock: Callable[[datetime], None]


async def servicing_world(own_tenant, services, tokens, kind: str = "NCS", *, digital: bool = False,
                          tenant=None, **fields: Any) -> World:
    """`fields` go to the circulation record (e.g. product, terms, endDate); `tenant`: one made already."""
    tenant = tenant or await own_tenant(kind)
    subscription_id = f"{tenant.code}-P1"
    own_tenant.add_subscription(tenant, subscription_id, **{"product": "1", **fields}, digital=digital,
                                deliverySchedule="Digital" if digital else "7-Day")
    owner, guest = await tenant.add(*[
        Registration(tenant_id=tenant.id, crid=f"auth0|{name}-{tenant.code.lower()}", email=f"{name}-{tenant.code.lower()}@example.com")
        for name in ("owner", "guest")])
    await tenant.add(SubscriptionLink(tenant_id=tenant.id, registration_id=owner.id, subscription_id=subscription_id,
                                      role="OWNER"),
                     SubscriptionLink(tenant_id=tenant.id, registration_id=guest.id, subscription_id=subscription_id,
                                      role="GUEST"))
    store = own_tenant.circulation()

    def set_clock(now: datetime) -> None:
        services.clock = lambda: now
        store.clock = lambda: now

    set_clock(NOON)
    headers = {
        "owner": bearer(tokens.customer(owner.crid, tenant.code)),
        "guest": bearer(tokens.customer(guest.crid, tenant.code)),
        "staff": bearer(tokens.staff(tenant.code, sub="auth0|csr")),
        "partner": bearer(tokens.partner(tenant.code, "read:subscriptions write:subscriptions")),
    }
    return World(tenant, subscription_id, owner, guest, headers, set_clock)
