"""Complaints as papergraph records them (CMP-1, CMP-2): the COMPLAINT event, and the temporary entitlement a
resolution with e-edition access grants, written in one transaction (NOT-1) and read back per subscription."""

from __future__ import annotations

from typing import Iterable, Optional

from sqlmodel import select

from datasources.db import Database
from datasources.models import Event, TemporaryEntitlement

COMPLAINT_EVENT = "COMPLAINT"


class ComplaintRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, event: Event, entitlement: Optional[TemporaryEntitlement]
                     ) -> tuple[Event, Optional[TemporaryEntitlement]]:
        """The complaint's event and, when granted, its entitlement (`event_id` = the event's id), together."""
        async with self.db.session() as session:
            session.add(event)
            await session.flush()
            if entitlement is not None:
                entitlement.event_id = event.id
                session.add(entitlement)
                await session.flush()
                event.details = {**event.details, "temporaryEntitlementId": entitlement.id}
            await session.commit()
            await session.refresh(event)
            if entitlement is not None:
                await session.refresh(entitlement)
            return event, entitlement

    async def by_subscription_ids(self, tenant_id: int, subscription_ids: Iterable[str]
                                  ) -> tuple[list[Event], dict[int, TemporaryEntitlement]]:
        """The subscriptions' complaint events, oldest first, and the entitlements they granted by event id."""
        ids = list(dict.fromkeys(subscription_ids))
        async with self.db.session() as session:
            events = list((await session.execute(select(Event).where(
                Event.tenant_id == tenant_id, Event.type_code == COMPLAINT_EVENT,
                Event.subscription_id.in_(ids)).order_by(Event.id))).scalars())
            event_ids = [e.id for e in events]
            granted = list((await session.execute(select(TemporaryEntitlement).where(
                TemporaryEntitlement.tenant_id == tenant_id,
                TemporaryEntitlement.event_id.in_(event_ids)))).scalars()) if event_ids else []
        return events, {row.event_id: row for row in granted}
