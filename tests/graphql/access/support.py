"""What the access tests share: a tenant of the test's own with entitlements EEDITION (included in its
offer) and PUZZLES (not included), a subscription to that offer in the circulation emulator, and
registrations linked to it or not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import select

from datasources.models import AccessLog, Registration, SubscriptionLink, utcnow
from tests.graphql.own_tenant import OwnTenant, own_registration

INCLUDED, NOT_INCLUDED = "EEDITION", "PUZZLES"


@dataclass
class Paper:
    tenant: OwnTenant
    subscription_id: str
    subscriber: Registration  # the owner of the subscription
    stranger: Registration  # linked to nothing

    @property
    def headers(self) -> dict[str, str]:
        return self.tenant.headers


async def paper(own_tenant, *, redirect_url: str | None = None, status: str = "ACTIVE",
                settings: dict[str, str] | None = None) -> Paper:
    tenant = await own_tenant(settings=settings)
    await tenant.entitlement(INCLUDED, redirect_url)
    await tenant.entitlement(NOT_INCLUDED, redirect_url)
    offer = await tenant.offer(entitlements=[INCLUDED])
    subscription_id = f"{tenant.code}-1"
    own_tenant.add_subscription(tenant, subscription_id, product=str(offer.id), status=status)
    subscriber, stranger = await own_registration(tenant), await own_registration(tenant)
    await tenant.add(SubscriptionLink(tenant_id=tenant.id, registration_id=subscriber.id,
                                      subscription_id=subscription_id, role="OWNER", created_at=utcnow()))
    return Paper(tenant, subscription_id, subscriber, stranger)


async def access_log(services, tenant: OwnTenant) -> list[dict[str, Any]]:
    async with services.db.session() as session:
        rows = (await session.execute(select(AccessLog).where(AccessLog.tenant_id == tenant.id)
                                      .order_by(AccessLog.id))).scalars()
        return [{"entitlement": row.entitlement_code, "crid": row.crid, "platform": row.platform,
                 "userAgent": row.user_agent, "accessLevel": row.access_level} for row in rows]
