"""Fixtures of the registrations tests: rows of a test's own, inserted with unique ids and removed after
(the database is shared by the whole session; demo rows are never changed)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from datasources.models import Event, Registration, SubscriptionLink, TemporaryEntitlement


class OwnRows:
    """Inserts rows for one test and deletes them, newest first, when the test ends."""

    def __init__(self, services) -> None:
        self.services = services
        self.created: list[tuple[type, int]] = []
        self.clock = datetime(2026, 1, 1, tzinfo=timezone.utc)

    async def tenant_id(self, code: str = "NCSDEMO") -> int:
        return (await self.services.db.tenant_by_code(code)).id

    async def add(self, row):
        async with self.services.db.session() as session:
            session.add(row)
            await session.commit()
            await session.refresh(row)
        self.created.append((type(row), row.id))
        return row

    def tick(self) -> datetime:
        """Distinct, increasing timestamps, so ordering is deterministic on every backend."""
        self.clock += timedelta(seconds=1)
        return self.clock

    async def registration(self, tenant: str = "NCSDEMO", **fields: Any) -> Registration:
        unique = uuid.uuid4().hex[:12]
        values = {"crid": f"test|{unique}", "email": f"own.{unique}@example.com", "first_name": "Own",
                  "last_name": "Test", "user_metadata": {}, "created_at": self.tick(), "updated_at": self.clock}
        return await self.add(Registration(tenant_id=await self.tenant_id(tenant), **{**values, **fields}))

    async def link(self, registration: Registration, subscription_id: str, role: str = "OWNER") -> SubscriptionLink:
        return await self.add(SubscriptionLink(tenant_id=registration.tenant_id, registration_id=registration.id,
                                               subscription_id=subscription_id, role=role, created_at=self.tick()))

    async def event(self, tenant: str = "NCSDEMO", **fields: Any) -> Event:
        values = {"type_code": "UPDATELINK", "details": {}, "created_at": self.tick()}
        return await self.add(Event(tenant_id=await self.tenant_id(tenant), **{**values, **fields}))

    async def temporary_entitlement(self, crid: str, tenant: str = "NCSDEMO", *, starts: datetime,
                                    expires: datetime, code: str = "EEDITION", reason: str = "PURCHASE"
                                    ) -> TemporaryEntitlement:
        return await self.add(TemporaryEntitlement(tenant_id=await self.tenant_id(tenant), crid=crid,
                                                   entitlement_code=code, starts_at=starts, expires_at=expires,
                                                   reason=reason, created_at=self.tick()))

    async def remove_all(self) -> None:
        async with self.services.db.session() as session:
            for model, row_id in reversed(self.created):
                await session.execute(sa.delete(model).where(model.id == row_id))
            await session.commit()


@pytest.fixture
async def own_rows(services):
    rows = OwnRows(services)
    try:
        yield rows
    finally:
        await rows.remove_all()
