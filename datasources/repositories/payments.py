"""SQL of the payment ledger (PAY-4) and of hosted payment sessions (GW-1).

Every state change of a payment is written together with its event, in one transaction (NOT-1), and
only from the state the writer last read (`transition` is a compare-and-set on the state), so a request
and a reconciliation run can never both act on the same step; and only along the state machine's
transitions (`domain/ledger.py`), whatever the caller asks. One attempt per tenant and idempotency
key (a unique constraint), and at most one money-taking attempt per subscription in the PM-5 window
(checked under a per-subscription lock on PostgreSQL; on SQLite the attempt's insert takes the
database's write lock before the check reads).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from datasources.db import Database
from datasources.models import Event, Payment, PaymentSession, Tenant, utcnow
from domain.ledger import MONEY_TAKEN_STATES, UNFINISHED_STATES, LedgerState, check_transition


class PaymentWindowClosed(Exception):
    """PM-5: another payment of the subscription holds the window since `since`."""

    def __init__(self, since: datetime) -> None:
        super().__init__(f"a payment was made at {since.isoformat()}")
        self.since = since


class DuplicateAttempt(Exception):
    """The tenant already has an attempt for this idempotency key."""


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; every timestamp is written in UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


class PaymentRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # writes --------------------------------------------------------------------------------------
    async def create_attempt(self, payment: Payment, event: Event, *, window_start: datetime | None) -> Payment:
        """Record a new attempt (state CREATED) with its event. With `window_start` (PM-5), refuse it with
        `PaymentWindowClosed` when another attempt of the subscription that holds money was created since."""
        async with self.db.session() as session:
            if self.db.engine.dialect.name == "postgresql":
                # serialises attempts on one subscription across processes until this transaction ends
                await session.execute(sa.text("SELECT pg_advisory_xact_lock(:tenant, hashtext(:subscription))"),
                                      {"tenant": payment.tenant_id, "subscription": payment.subscription_id})
            session.add(payment)
            try:
                await session.flush()
            except IntegrityError as error:
                await session.rollback()
                raise DuplicateAttempt(payment.idempotency_key) from error
            if window_start is not None:
                rows = await session.execute(select(Payment.created_at, Payment.state, Payment.total).where(
                    Payment.tenant_id == payment.tenant_id, Payment.subscription_id == payment.subscription_id,
                    Payment.id != payment.id, Payment.created_at >= window_start,
                    Payment.state.in_([s.value for s in MONEY_TAKEN_STATES])))
                taken = [as_utc(created) for created, state, total in rows if total > 0]
                if taken:
                    await session.rollback()
                    raise PaymentWindowClosed(max(taken))
            event.payment_id = payment.id
            session.add(event)
            await session.commit()
        return payment

    async def transition(self, payment: Payment, target: LedgerState, event: Event,
                         **changes: Any) -> Payment | None:
        """Move `payment` from the state it has (as the caller read it) to `target`, with `changes`, and
        record `event`, in one transaction. None when another writer moved it first (nothing written).
        PAY-4: a move the ledger's state machine does not allow (`domain/ledger.py` TRANSITIONS) raises
        `IllegalTransition` and writes nothing."""
        check_transition(payment.state, target)
        async with self.db.session() as session:
            moved = (await session.execute(
                sa.update(Payment).where(Payment.id == payment.id, Payment.state == payment.state)
                .values(state=target.value, updated_at=utcnow(), **changes).returning(Payment)
                .execution_options(synchronize_session=False))).scalar_one_or_none()
            if moved is None:
                await session.rollback()
                return None
            # the parent is the attempt's first event (PAYMENTCREATED), found by the insert itself
            event.parent_id = select(sa.func.min(Event.id)).where(Event.payment_id == payment.id).scalar_subquery()
            event.payment_id = payment.id
            session.add(event)
            await session.commit()
        return moved

    async def note_attempt(self, payment: Payment, last_error: str) -> Payment:
        """A step failed and the payment stays where it is: count the attempt and keep the error (not a
        state change, so no event)."""
        async with self.db.session() as session:
            await session.execute(sa.update(Payment).where(Payment.id == payment.id).values(
                attempts=Payment.attempts + 1, last_error=last_error[:1000], updated_at=utcnow()))
            await session.commit()
        return await self.get(payment.tenant_id, payment.id) or payment

    # reads ---------------------------------------------------------------------------------------
    async def get(self, tenant_id: int, payment_id: int) -> Payment | None:
        async with self.db.session() as session:
            return (await session.execute(select(Payment).where(
                Payment.tenant_id == tenant_id, Payment.id == payment_id))).scalar_one_or_none()

    async def by_key(self, tenant_id: int, key: str) -> Payment | None:
        async with self.db.session() as session:
            return (await session.execute(select(Payment).where(
                Payment.tenant_id == tenant_id, Payment.idempotency_key == key))).scalar_one_or_none()

    async def by_subscription_ids(self, tenant_id: int, subscription_ids: Iterable[str],
                                  limit: int = 50) -> list[Payment]:
        """The latest `limit` attempts of each subscription (newest first), in one statement."""
        ranked = select(Payment, sa.func.row_number().over(
            partition_by=Payment.subscription_id, order_by=Payment.id.desc()).label("rank")).where(
            Payment.tenant_id == tenant_id, Payment.subscription_id.in_(list(subscription_ids))).subquery()
        query = select(Payment).join(ranked, Payment.id == ranked.c.id).where(ranked.c.rank <= limit) \
            .order_by(Payment.id.desc())
        async with self.db.session() as session:
            return list((await session.execute(query)).scalars())

    async def latest_events(self, tenant_id: int, payment_ids: Sequence[int]) -> dict[int, Event]:
        """The latest event of each payment: the one recording the state it is in."""
        latest = select(sa.func.max(Event.id)).where(Event.tenant_id == tenant_id,
                                                     Event.payment_id.in_(list(payment_ids))) \
            .group_by(Event.payment_id)
        async with self.db.session() as session:
            rows = (await session.execute(select(Event).where(Event.id.in_(latest)))).scalars()
            return {row.payment_id: row for row in rows}

    async def unfinished(self, limit: int = 500) -> list[tuple[Payment, str]]:
        """Attempts not in a final state, oldest first, with their tenant's code (reconciliation)."""
        async with self.db.session() as session:
            rows = await session.execute(select(Payment, Tenant.code).join(Tenant, Tenant.id == Payment.tenant_id)
                                         .where(Payment.state.in_([s.value for s in UNFINISHED_STATES]))
                                         .order_by(Payment.id).limit(limit))
            return [(payment, code) for payment, code in rows]

    async def unfinished_counts(self) -> dict[str, int]:
        """Attempts not in a final state, per state, every tenant's (0 for a state none is in): what
        `/metrics` reports as pending payment attempts, counted by the indexed state column."""
        unfinished = [s.value for s in LedgerState if s in UNFINISHED_STATES]
        async with self.db.session() as session:
            rows = await session.execute(select(Payment.state, sa.func.count()).where(Payment.state.in_(unfinished))
                                         .group_by(Payment.state))
            counts = dict(rows.all())
        return {state: int(counts.get(state, 0)) for state in unfinished}

    # hosted payment sessions (GW-1) ------------------------------------------------------------
    async def start_session(self, row: PaymentSession, event: Event) -> PaymentSession:
        async with self.db.session() as session:
            session.add(row)
            session.add(event)
            await session.commit()
        return row

    async def tokenized(self, row: PaymentSession, profile_id: str) -> None:
        """BUY-11: a new-start session tokenized `profile_id` (the purchase completed it at the gateway)."""
        async with self.db.session() as session:
            await session.execute(sa.update(PaymentSession).where(
                PaymentSession.id == row.id, PaymentSession.profile_id.is_(None)).values(
                profile_id=profile_id, completed_at=utcnow()))
            await session.commit()

    async def use_session(self, row: PaymentSession) -> bool:
        """BUY-11: one purchase per new-start session; False when another purchase used it first."""
        async with self.db.session() as session:
            result = await session.execute(sa.update(PaymentSession).where(
                PaymentSession.id == row.id, PaymentSession.used_at.is_(None)).values(used_at=utcnow()))
            await session.commit()
            return result.rowcount == 1

    async def tokenized_session(self, tenant_id: int, profile_id: str, *, started_by: str | None
                                ) -> PaymentSession | None:
        """BUY-11: a completed session that tokenized `profile_id` and was started by `started_by` (None:
        anonymously), or None."""
        starter = PaymentSession.started_by.is_(None) if started_by is None else \
            PaymentSession.started_by == started_by
        async with self.db.session() as session:
            return (await session.execute(select(PaymentSession).where(
                PaymentSession.tenant_id == tenant_id, PaymentSession.profile_id == profile_id,
                PaymentSession.completed_at.is_not(None), starter).order_by(PaymentSession.id).limit(1))
            ).scalars().first()

    async def session(self, tenant_id: int, session_id: str) -> PaymentSession | None:
        async with self.db.session() as session:
            return (await session.execute(select(PaymentSession).where(
                PaymentSession.tenant_id == tenant_id, PaymentSession.session_id == session_id))).scalar_one_or_none()
