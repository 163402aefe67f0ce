"""The one transaction that records a purchase (BUY-4, NOT-1): the registration when it is new (with its
own events), the payment method, the owner link, the temporary entitlements, the payment ledger row and
the STARTSTD and UPDATELINK events — all written or none. An anonymous purchase (BUY-10) has no
registration, link or entitlements: its subscription waits to be claimed (`PendingClaim`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import select

from datasources.db import Database
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
