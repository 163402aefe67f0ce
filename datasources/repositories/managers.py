"""A manager's second factor (MGR-2): one `manager_mfa` row per tenant and manager, each change written
with the event that records it, in one transaction (NOT-1)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import select

from datasources.db import Database
from datasources.models import Event, ManagerMfa, utcnow


class ManagerMfaRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, tenant_id: int, subject: str) -> ManagerMfa | None:
        async with self.db.session() as session:
            return (await session.execute(select(ManagerMfa).where(
                ManagerMfa.tenant_id == tenant_id, ManagerMfa.manager_subject == subject))).scalar_one_or_none()

    async def start(self, tenant_id: int, subject: str, sealed_secret: str, event: Event) -> ManagerMfa:
        """A new PENDING authenticator, replacing an earlier PENDING one (a second enrolment restarts it)."""
        async with self.db.session() as session:
            await session.execute(sa.delete(ManagerMfa).where(
                ManagerMfa.tenant_id == tenant_id, ManagerMfa.manager_subject == subject, ManagerMfa.state == "PENDING"))
            row = ManagerMfa(tenant_id=tenant_id, manager_subject=subject, sealed_secret=sealed_secret, state="PENDING",
                             created_at=utcnow(), updated_at=utcnow())
            session.add_all([row, event])
            await session.commit()
            await session.refresh(row)
            return row

    async def enable(self, row_id: int, authenticator_id: str, event: Event) -> bool:
        """PENDING → ENABLED; False when the row is no longer pending (another request enabled or removed it)."""
        async with self.db.session() as session:
            changed = await session.execute(sa.update(ManagerMfa).where(
                ManagerMfa.id == row_id, ManagerMfa.state == "PENDING").values(
                state="ENABLED", authenticator_id=authenticator_id, updated_at=utcnow()))
            if changed.rowcount != 1:
                await session.rollback()
                return False
            session.add(event)
            await session.commit()
            return True

    async def remove(self, row_id: int, event: Event) -> bool:
        async with self.db.session() as session:
            removed = await session.execute(sa.delete(ManagerMfa).where(ManagerMfa.id == row_id))
            if removed.rowcount != 1:
                await session.rollback()
                return False
            session.add(event)
            await session.commit()
            return True
