"""Fixtures of the subscriptions tests: rows of a test's own (a registration and its links), inserted with
unique ids and removed after; the demo rows shared by the session are never changed. Circulation records a
test adds go to the in-process emulator, which is built afresh for every test."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from datasources.models import Registration, SubscriptionLink


class OwnRows:
    def __init__(self, services) -> None:
        self.services = services
        self.created: list[tuple[type, list[int]]] = []
        self.clock = datetime(2026, 1, 1, tzinfo=timezone.utc)

    async def registration(self, tenant: str = "NCSDEMO") -> Registration:
        unique = uuid.uuid4().hex[:12]
        tenant_id = (await self.services.db.tenant_by_code(tenant)).id
        row = Registration(tenant_id=tenant_id, crid=f"test|{unique}", email=f"own.{unique}@example.com",
                           first_name="Own", last_name="Test", user_metadata={}, created_at=self.clock,
                           updated_at=self.clock)
        async with self.services.db.session() as session:
            session.add(row)
            await session.commit()
            await session.refresh(row)
        self.created.append((Registration, [row.id]))
        return row

    async def links(self, registration: Registration, subscription_ids: list[str], role: str = "OWNER") -> None:
        rows = [SubscriptionLink(tenant_id=registration.tenant_id, registration_id=registration.id,
                                 subscription_id=sid, role=role, created_at=self.clock + timedelta(seconds=i))
                for i, sid in enumerate(subscription_ids)]
        async with self.services.db.session() as session:
            session.add_all(rows)
            await session.commit()
            for row in rows:
                await session.refresh(row)
        self.created.append((SubscriptionLink, [row.id for row in rows]))

    async def remove_all(self) -> None:
        async with self.services.db.session() as session:
            for model, ids in reversed(self.created):
                await session.execute(sa.delete(model).where(model.id.in_(ids)))
            await session.commit()


@pytest.fixture
async def own_rows(services):
    rows = OwnRows(services)
    try:
        yield rows
    finally:
        await rows.remove_all()
