"""Servicing as papergraph records it: complaints (CMP-1, CMP-2), the COMPLAINT event and the temporary entitlement a
resolution with e-edition access grants, written in one transaction (NOT-1) and read back per subscription; and the
StopSaver flow (STP-4), kept as events: its STOPSAVER event and the events recorded under it."""

from __future__ import annotations

from typing import Iterable, Optional

import sqlalchemy as sa
from sqlmodel import select

from datasources.db import Database
from datasources.models import Event, Offer, OfferTerm, TemporaryEntitlement
from domain.servicing import FLOW_EVENT

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


class StopSaverRepository:
    """The StopSaver flow as events (STP-4): the STOPSAVER event and the events recorded under it (`parent_id`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, event: Event) -> Event:
        return await self.db.insert(event)

    async def flow(self, tenant_id: int, flow_id: int, subscription_id: str) -> Optional[tuple[Event, list[Event]]]:
        """The flow's event and its children, oldest first; None when the tenant has no such flow for that
        subscription (another subscription's flow is not found either)."""
        async with self.db.session() as session:
            rows = list((await session.execute(select(Event).where(
                Event.tenant_id == tenant_id, Event.subscription_id == subscription_id,
                sa.or_(Event.id == flow_id, Event.parent_id == flow_id)).order_by(Event.id))).scalars())
        root = next((e for e in rows if e.id == flow_id and e.type_code == FLOW_EVENT), None)
        if root is None:
            return None
        return root, [e for e in rows if e.parent_id == flow_id]

    async def group_offers(self, tenant_id: int, group_id: int) -> list[tuple[Offer, list[OfferTerm]]]:
        """The offers of one group with their terms (STP-4's downgrade candidates), in two statements."""
        async with self.db.session() as session:
            offers = list((await session.execute(select(Offer).where(
                Offer.tenant_id == tenant_id, Offer.group_id == group_id).order_by(Offer.id))).scalars())
            ids = [o.id for o in offers]
            terms = list((await session.execute(select(OfferTerm).where(OfferTerm.offer_id.in_(ids))
                                                .order_by(OfferTerm.id))).scalars()) if ids else []
        return [(o, [t for t in terms if t.offer_id == o.id]) for o in offers]
