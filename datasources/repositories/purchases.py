"""The one transaction that records a purchase (BUY-4, NOT-1): the registration when it is new (with its
own events), the payment method, the owner link, the temporary entitlements, the payment ledger row and
the STARTSTD and UPDATELINK events — all written or none. An anonymous purchase (BUY-10) has no
registration, link or entitlements: its subscription waits to be claimed (`PendingClaim`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable

import sqlalchemy as sa
from sqlmodel import select

from datasources.db import Database
from datasources.repositories.administration import insert_link, roles_with_pending
from datasources.models import Event, Payment, PaymentMethod, PendingClaim, Registration, SubscriptionLink, \
    TemporaryEntitlement


@dataclass
class PurchaseRecord:
    registration: Registration | None  # new (id None) or existing; None for an anonymous purchase (BUY-10)
    registration_events: list[Event]
    payment_method: PaymentMethod
    link: SubscriptionLink | None  # registration_id filled here
    temporary_entitlements: list[TemporaryEntitlement]
    payment: Payment | None
    start_event: Event
    link_event: Event | None
    pending_claim: PendingClaim | None = None
    claim_event: Event | None = None  # BUY-10: CLAIMPURCHASE, whose message asks the e-mail's owner to claim it
    written: dict = field(default_factory=dict)


class PurchaseRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def write(self, record: PurchaseRecord) -> PurchaseRecord:
        async with self.db.session() as session:
            registration = record.registration
            new = registration is not None and registration.id is None
            if new:
                session.add(registration)
                await session.flush()
                for event in record.registration_events:
                    session.add(event)
            session.add(record.payment_method)
            if record.link is not None and registration is not None:
                record.link.registration_id = registration.id
                session.add(record.link)
            if record.pending_claim is not None:
                session.add(record.pending_claim)
            session.add_all(record.temporary_entitlements)
            if record.payment is not None:
                session.add(record.payment)
                await session.flush()
                record.start_event.payment_id = record.payment.id
            session.add(record.start_event)
            await session.flush()
            if record.claim_event is not None:
                record.claim_event.parent_id = record.start_event.id
                if record.pending_claim is not None:  # the claim link's token names the claim (domain/claims.py)
                    record.claim_event.details = {**(record.claim_event.details or {}),
                                                  "claimId": record.pending_claim.id}
                session.add(record.claim_event)
            if record.link_event is not None:
                record.link_event.parent_id = record.start_event.id
                session.add(record.link_event)
            await session.commit()
            if new:
                await session.refresh(registration)
        return record

    async def owner_subscription_ids(self, tenant_id: int, registration_id: int) -> list[str]:
        async with self.db.session() as session:
            rows = await session.execute(select(SubscriptionLink.subscription_id).where(
                SubscriptionLink.tenant_id == tenant_id, SubscriptionLink.registration_id == registration_id,
                SubscriptionLink.role == "OWNER").order_by(SubscriptionLink.id))
            return [row[0] for row in rows]

    async def pending_claim(self, tenant_id: int, claim_id: int) -> PendingClaim | None:
        async with self.db.session() as session:
            return (await session.execute(select(PendingClaim).where(
                PendingClaim.tenant_id == tenant_id, PendingClaim.id == claim_id))).scalar_one_or_none()

    async def start_event(self, tenant_id: int, subscription_id: str) -> Event | None:
        """The STARTSTD event of a purchase (its offer and term are in its details)."""
        async with self.db.session() as session:
            return (await session.execute(select(Event).where(
                Event.tenant_id == tenant_id, Event.subscription_id == subscription_id, Event.type_code == "STARTSTD")
                .order_by(Event.id).limit(1))).scalar_one_or_none()

    async def claim(self, claim: PendingClaim, registration: Registration, now: datetime,
                    entitlements: Iterable[TemporaryEntitlement], events: Iterable[Event],
                    check: Callable[[list[str]], None]) -> SubscriptionLink | None:
        """BUY-10: in one transaction, the claim is used up (only if nobody used it meanwhile), the registration is
        linked as OWNER (`check` judges LNK-2 against the subscription's links, pending invitations counted as
        GUESTs as for every new link, INV-3), it gets the purchase's temporary entitlements and the purchase's
        payment row names it (BUY-4), and the events are recorded. None when the claim was used meanwhile; DuplicateRow when the registration is linked to the subscription already."""
        async with self.db.session() as session:
            check(await roles_with_pending(session, claim.tenant_id, claim.subscription_id))
            used = await session.execute(sa.update(PendingClaim).where(
                PendingClaim.id == claim.id, PendingClaim.claimed_at.is_(None)).values(
                claimed_at=now, claimed_by_registration_id=registration.id))
            if used.rowcount != 1:
                await session.rollback()
                return None
            link = SubscriptionLink(tenant_id=claim.tenant_id, registration_id=registration.id,
                                    subscription_id=claim.subscription_id, role="OWNER", created_at=now)
            await insert_link(session, link)
            await session.execute(sa.update(Payment).where(
                Payment.tenant_id == claim.tenant_id, Payment.subscription_id == claim.subscription_id,
                Payment.flow == "PURCHASE", Payment.crid.is_(None)).values(crid=registration.crid))
            session.add_all(list(entitlements))
            for event in events:
                session.add(event)
            await session.commit()
            await session.refresh(link)
            return link
