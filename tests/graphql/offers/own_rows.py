"""Rows of a test's own for the offers and entitlements tests: a tenant of its own (so counts and "no
offers" answers do not depend on the shared demo tenants), offers, terms, delivery areas, registrations,
links and temporary entitlements. Everything is deleted, newest first, when the test ends; demo rows are
never changed."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from tests.support import tenant_today

from datasources.models import (
    Offer,
    OfferDeliveryArea,
    OfferEntitlement,
    OfferGroup,
    OfferTerm,
    Registration,
    SubscriptionLink,
    Tenant,
    TenantSetting,
    TemporaryEntitlement,
)


class OwnRows:
    def __init__(self, services) -> None:
        self.services = services
        self.created: list[tuple[type, int]] = []

    async def add(self, row):
        async with self.services.db.session() as session:
            session.add(row)
            await session.commit()
            await session.refresh(row)
        self.created.append((type(row), row.id))
        return row

    async def cleanup(self) -> None:
        async with self.services.db.session() as session:
            for model, row_id in reversed(self.created):
                await session.execute(sa.delete(model).where(model.id == row_id))
            await session.commit()
        self.services.db.forget_tenants()

    async def tenant_id(self, code: str) -> int:
        return (await self.services.db.tenant_by_code(code)).id

    async def tenant(self, settings: dict[str, str] | None = None, currency: str = "EUR") -> Tenant:
        code = f"T{uuid.uuid4().hex[:10].upper()}"
        tenant = await self.add(Tenant(code=code, name="Own Test Paper", circulation_kind="NCS",
                                       time_zone="Europe/Paris", currency=currency))
        for key, value in (settings or {}).items():
            await self.add(TenantSetting(tenant_id=tenant.id, key=key, value=value))
        return tenant

    async def offer(self, tenant_id: int, *, digital: bool = False, valid_from: date | None = None,
                    valid_to: date | None = None, areas: list[str] = (), terms: list[dict[str, Any]] = (),
                    entitlements: list[str] = (), **fields: Any) -> Offer:
        async with self.services.db.session() as session:
            today = tenant_today((await session.get(Tenant, tenant_id)).time_zone)
        group = await self.add(OfferGroup(tenant_id=tenant_id, name="Own group",
                                          category=fields.get("category", "PRINT")))
        values = {"name": "Own offer", "vendor": "Own Vendor", "short_description": "", "category": "PRINT",
                  "trial_available": False, "activation_fee": Decimal("0.00")}
        offer = await self.add(Offer(tenant_id=tenant_id, group_id=group.id, digital=digital,
                                     valid_from=valid_from or today - timedelta(days=30),
                                     valid_to=valid_to, **{**values, **fields}))
        for term in terms:
            await self.add(OfferTerm(offer_id=offer.id, **{"code": "1M", "length": 1, "length_unit": "MONTH",
                                                            "tax": Decimal("0.00"), "commercial": True, **term}))
        for postal_code in areas:
            await self.add(OfferDeliveryArea(offer_id=offer.id, postal_code=postal_code))
        for code in entitlements:
            await self.add(OfferEntitlement(offer_id=offer.id, entitlement_code=code))
        return offer

    async def registration(self, tenant: str = "NCSDEMO") -> Registration:
        unique = uuid.uuid4().hex[:12]
        return await self.add(Registration(tenant_id=await self.tenant_id(tenant), crid=f"test|{unique}",
                                           email=f"own.{unique}@example.com", user_metadata={}))

    async def link(self, registration: Registration, subscription_id: str, role: str = "OWNER") -> SubscriptionLink:
        return await self.add(SubscriptionLink(tenant_id=registration.tenant_id, registration_id=registration.id,
                                               subscription_id=subscription_id, role=role))

    async def temporary_entitlement(self, registration: Registration, code: str, *, expires_in: timedelta
                                    ) -> TemporaryEntitlement:
        now = datetime.now(timezone.utc)
        return await self.add(TemporaryEntitlement(
            tenant_id=registration.tenant_id, crid=registration.crid, entitlement_code=code,
            starts_at=now - timedelta(days=1), expires_at=now + expires_in, reason="COMPLAINT",
        ))
