"""An account world: an own tenant of a given circulation kind with a print subscription billed since January 2025, its
owner and a guest, a second subscription of another customer, tokens for all of them and staff, and one pinned clock
for papergraph and the circulation emulator alike (1 June 2026, 08:00 in New York)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import select

from datasources.models import Event, Registration, SubscriptionLink
from tests.conftest import bearer, graphql

NOON = datetime(2026, 6, 1, 12, tzinfo=UTC)
KINDS = ["NCS", "MATRIX", "CIRCPRO", "SAXO"]


@dataclass
class World:
    tenant: Any
    subscription_id: str
    other_subscription_id: str
    owner: Any
    headers: dict[str, dict[str, str]]
    store: Any

    def record(self, subscription_id: str | None = None) -> dict[str, Any]:
        return self.store.papers[self.tenant.code].subscriptions[subscription_id or self.subscription_id]


async def account_world(own_tenant, services, tokens, kind: str = "NCS", **fields) -> World:
    tenant = await own_tenant(kind)
    mine, theirs = f"{tenant.code}-A1", f"{tenant.code}-B1"
    for subscription_id, account in ((mine, "7000001"), (theirs, "7000002")):
        own_tenant.add_subscription(tenant, subscription_id, product="1", digital=False, deliverySchedule="7-Day",
                                    startDate="2025-01-15", endDate="2026-07-14", accountNumber=account,
                                    terms=(("1M", "10.79"), ("12M", "106.92")), **fields)
    owner, guest, stranger = await tenant.add(*[
        Registration(tenant_id=tenant.id, crid=f"auth0|{name}-{tenant.code.lower()}", email=f"{name}@example.com")
        for name in ("owner", "guest", "stranger")])
    await tenant.add(
        SubscriptionLink(tenant_id=tenant.id, registration_id=owner.id, subscription_id=mine, role="OWNER"),
        SubscriptionLink(tenant_id=tenant.id, registration_id=guest.id, subscription_id=mine, role="GUEST"),
        SubscriptionLink(tenant_id=tenant.id, registration_id=stranger.id, subscription_id=theirs, role="OWNER"))
    store = own_tenant.circulation()
    services.clock = lambda: NOON
    store.clock = lambda: NOON
    headers = {
        "owner": bearer(tokens.customer(owner.crid, tenant.code)),
        "guest": bearer(tokens.customer(guest.crid, tenant.code)),
        "stranger": bearer(tokens.customer(stranger.crid, tenant.code)),
        "staff": bearer(tokens.staff(tenant.code, sub="auth0|csr")),
        "reader": bearer(tokens.staff(tenant.code, access="READ_ONLY", sub="auth0|reader")),
        "partner": bearer(tokens.partner(tenant.code, "read:subscriptions write:subscriptions write:payments")),
        "anonymous": {"x-tenant": tenant.code},
    }
    return World(tenant, mine, theirs, owner, headers, store)


async def call(client, world: World, document: str, who: str = "owner", **variables) -> dict:
    """The mutation's payload, or the whole answer when the field is null (a GraphQL error)."""
    answer = await graphql(client, document, variables, **world.headers[who])
    payload = next(iter((answer.get("data") or {}).values()), None)
    return payload if payload is not None else answer


def codes(payload: dict) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


def path_of(url: str) -> str:
    return urlsplit(url).path


async def events(services, world: World, *types: str) -> list[Event]:
    async with services.db.session() as session:
        rows = (await session.execute(select(Event).where(Event.tenant_id == world.tenant.id)
                                      .order_by(Event.id))).scalars()
        return [row for row in rows if row.type_code in types]
