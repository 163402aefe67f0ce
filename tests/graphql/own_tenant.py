"""A tenant of a test's own, for mutation tests: created with the settings the test needs (and, when
asked, a paper in the in-process circulation emulator with one template subscription per product, so
purchases can create subscriptions), and removed with every row that references it when the test ends.
Shared demo tenants and their rows are never changed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from tests.support import tenant_today

from datasources.models import Entitlement, EntitlementSetting, Offer, OfferDeliveryArea, OfferEntitlement, \
    OfferGroup, OfferTerm, Tenant, TenantSetting

KIND_CURRENCY = {"NCS": "USD", "MATRIX": "NOK", "CIRCPRO": "USD", "SAXO": "AUD"}


@dataclass
class OwnTenant:
    id: int
    code: str
    kind: str
    services: Any
    time_zone: str = "America/New_York"
    offers: list[int] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"x_tenant": self.code}

    async def set(self, key: str, value: str) -> None:
        async with self.services.db.session() as session:
            await session.execute(sa.delete(TenantSetting).where(TenantSetting.tenant_id == self.id,
                                                                 TenantSetting.key == key))
            session.add(TenantSetting(tenant_id=self.id, key=key, value=value))
            await session.commit()
        self.services.db.forget_tenants()

    async def add(self, *rows):
        async with self.services.db.session() as session:
            session.add_all(rows)
            await session.commit()
            for row in rows:
                await session.refresh(row)
        return rows[0] if len(rows) == 1 else rows

    async def offer(self, *, digital: bool = True, check: dict[str, bool] | None = None, activation_fee: str = "0.00",
                    terms: list[dict[str, Any]] | None = None, areas: list[str] = (), entitlements: list[str] = (),
                    allowed_registrations: int = 3, valid_to: date | None = None,
                    validation: dict[str, bool] | None = None, requires: dict[str, bool] | None = None) -> Offer:
        """`validation`: the subscription-validation flags (BUY-6: `no_existing`, `stopped_recently`,
        `outstanding_balance`); by default "no existing subscription", so the check runs as BUY-1 tests expect.
        `requires`: the address requirements (BUY-8: `delivery`, `billing`), none by default."""
        group = await self.add(OfferGroup(tenant_id=self.id, name="Own group", category="DIGITAL"))
        criteria = check if check is not None else {"last_name": True, "email": True}
        validation = validation if validation is not None else {"no_existing": True}
        offer = await self.add(Offer(
            tenant_id=self.id, group_id=group.id, name="Own offer", vendor="Own", category="DIGITAL",
            digital=digital, activation_fee=Decimal(activation_fee), valid_from=tenant_today(self.time_zone) - timedelta(days=10),
            valid_to=valid_to, allowed_registrations=allowed_registrations,
            **{f"check_{k}": v for k, v in criteria.items()},
            **{f"validate_{k}": v for k, v in validation.items()},
            **{f"requires_{k}_address": v for k, v in (requires or {}).items()},
        ))
        for term in terms or [{"code": "1M", "length": 1, "length_unit": "MONTH", "rate": Decimal("10.00"),
                               "tax": Decimal("0.80")}]:
            await self.add(OfferTerm(offer_id=offer.id, commercial=True, **term))
        for code in areas:
            await self.add(OfferDeliveryArea(offer_id=offer.id, postal_code=code))
        for code in entitlements:
            await self.add(OfferEntitlement(offer_id=offer.id, entitlement_code=code))
        self.offers.append(offer.id)
        return offer

    async def entitlement(self, code: str, redirect_url: str | None = None) -> Entitlement:
        entitlement = await self.add(Entitlement(tenant_id=self.id, code=code, description=code.title()))
        if redirect_url is not None:
            await self.add(EntitlementSetting(entitlement_id=entitlement.id, redirect_url=redirect_url))
        return entitlement


class OwnTenants:
    def __init__(self, services, sandboxes) -> None:
        self.services = services
        self.sandboxes = sandboxes
        self.tenants: list[OwnTenant] = []

    async def __call__(self, kind: str = "NCS", settings: dict[str, str] | None = None) -> OwnTenant:
        code = f"T{uuid.uuid4().hex[:10].upper()}"
        async with self.services.db.session() as session:
            tenant = Tenant(code=code, name="Own Test Paper", circulation_kind=kind, time_zone="America/New_York",
                            currency=KIND_CURRENCY[kind])
            session.add(tenant)
            await session.flush()
            for key, value in (settings or {}).items():
                session.add(TenantSetting(tenant_id=tenant.id, key=key, value=value))
            await session.commit()
            own = OwnTenant(id=tenant.id, code=code, kind=kind, services=self.services)
        self.tenants.append(own)
        if "circulation" in self.sandboxes:
            self.sandboxes["circulation"].state.store.add_paper(code, kind, KIND_CURRENCY[kind], "America/New_York")
        return own

    def circulation(self):
        return self.sandboxes["circulation"].state.store

    def add_subscription(self, tenant: OwnTenant, subscription_id: str, *, product: str, status: str = "ACTIVE",
                         subscriber: dict[str, Any] | None = None, terms: list[tuple[str, str]] = (("1M", "10.80"),),
                         **fields: Any) -> dict[str, Any]:
        """A circulation record of the tenant's paper (also the template purchases copy billing options from)."""
        today = tenant_today(tenant.time_zone)
        record = {
            "id": subscription_id, "paperCode": tenant.code, "accountNumber": fields.pop("accountNumber", "7000001"),
            "status": status, "kind": "REGULAR", "deliverySchedule": "Digital", "digital": True,
            "startDate": (today - timedelta(days=100)).isoformat(), "endDate": (today + timedelta(days=20)).isoformat(),
            "balance": "0.00", "currency": KIND_CURRENCY[tenant.kind], "autoPay": False, "ebill": False,
            "billingMethod": "MAIL", "householdLevelId": None, "customerReferenceNumber": "", "name": None,
            "productCode": product,
            "subscriber": {"firstName": "Existing", "lastName": "Person", "email": "existing@example.com",
                           "phones": [], "companyName": None,
                           "address": {"houseNumber": "1", "streetName": "Main St", "city": "Springfield",
                                       "postalCode": "10001", "country": "US"},
                           **(subscriber or {})},
            "billingOptions": [{"term": term, "length": 1, "lengthUnit": "MONTH", "rate": amount, "tax": "0.00",
                                "otherCosts": "0.00", "amount": amount, "autoRenew": False} for term, amount in terms],
            "scheduledStops": [], **fields,
        }
        self.circulation().add_subscriptions([record])
        return record

    async def cleanup(self) -> None:
        if not self.tenants:
            return
        ids = [t.id for t in self.tenants]
        async with self.services.db.session() as session:
            offer_ids = sa.select(Offer.id).where(Offer.tenant_id.in_(ids))
            entitlement_ids = sa.select(Entitlement.id).where(Entitlement.tenant_id.in_(ids))
            for model in (OfferTerm, OfferDeliveryArea, OfferEntitlement):
                await session.execute(sa.delete(model).where(model.offer_id.in_(offer_ids)))
            await session.execute(sa.delete(EntitlementSetting).where(
                EntitlementSetting.entitlement_id.in_(entitlement_ids)))
            tables = [t for t in SQLModel.metadata.sorted_tables if "tenant_id" in t.c]
            for table in reversed(tables):
                if table.name == "event":
                    await session.execute(table.update().where(table.c.tenant_id.in_(ids)).values(parent_id=None))
                await session.execute(table.delete().where(table.c.tenant_id.in_(ids)))
            await session.execute(sa.delete(Tenant).where(Tenant.id.in_(ids)))
            await session.commit()
        self.services.db.forget_tenants()


@pytest.fixture
async def own_tenant(services, sandboxes):
    tenants = OwnTenants(services, sandboxes)
    try:
        yield tenants
    finally:
        await tenants.cleanup()


async def own_registration(tenant: OwnTenant, **fields: Any):
    """A registration row of the own tenant (for tests that need one without going through createUser)."""
    from datasources.models import Registration

    unique = uuid.uuid4().hex[:12]
    values = {"crid": f"test|{unique}", "email": f"own.{unique}@example.com", "first_name": "Own",
              "last_name": "Test", "user_metadata": {}}
    return await tenant.add(Registration(tenant_id=tenant.id, **{**values, **fields}))
