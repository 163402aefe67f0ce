"""PAY-4, NOT-1: the payment ledger's repository enforces the state machine of `domain/ledger.py` itself, so
no caller (a request, reconciliation, a future flow) can write a move the table does not allow."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import select

from datasources.db import Database
from datasources.models import Event, Payment, utcnow
from datasources.repositories.payments import PaymentRepository
from domain.ledger import IllegalTransition, LedgerState as S

ZERO = Decimal("0.00")


@pytest.fixture
async def db(database_url):
    """The session's database; the attempts a test made are deleted after it, so no other test's
    reconciliation or pending count meets them."""
    database = Database(database_url)
    database.made = []
    yield database
    async with database.session() as session:
        await session.execute(sa.delete(Event).where(Event.payment_id.in_(database.made)))
        await session.execute(sa.delete(Payment).where(Payment.id.in_(database.made)))
        await session.commit()
    await database.dispose()


async def an_attempt(db: Database) -> Payment:
    tenant = await db.tenant_by_code("NCSDEMO")
    now = utcnow()
    key = uuid.uuid4().hex
    payment = Payment(tenant_id=tenant.id, subscription_id=f"NCSDEMO-{key[:6]}", flow="ONE_TIME",
                      state=S.CREATED.value, currency="USD", option_amount=Decimal("10.79"), option_tax=ZERO, tip=ZERO,
                      donation=ZERO, activation_fee=ZERO, processing_fee=ZERO, fee_tax=ZERO, balance_applied=ZERO,
                      total=Decimal("10.79"), idempotency_key=key, created_at=now, updated_at=now, plan={})
    event = Event(tenant_id=tenant.id, type_code="PAYMENTCREATED", subscription_id=payment.subscription_id,
                  amount=payment.total, created_at=now, details={})
    created = await PaymentRepository(db).create_attempt(payment, event, window_start=None)
    db.made.append(created.id)
    return created


def event_of(payment: Payment, type_code: str) -> Event:
    return Event(tenant_id=payment.tenant_id, type_code=type_code, subscription_id=payment.subscription_id,
                 amount=payment.total, created_at=utcnow(), details={})


async def events_of(db: Database, payment: Payment) -> list[str]:
    async with db.session() as session:
        rows = await session.execute(select(Event.type_code).where(Event.payment_id == payment.id).order_by(Event.id))
        return list(rows.scalars())


@pytest.mark.parametrize("target", [S.VOIDED, S.REFUNDED, S.PENDING_APPLY, S.CREATED])
async def test_pay4_a_move_the_state_machine_forbids_raises_and_writes_nothing(db, target):
    # given: an attempt nothing was charged for
    ledger = PaymentRepository(db)
    payment = await an_attempt(db)

    # when / then: money cannot be given back (or left pending) before it was taken
    with pytest.raises(IllegalTransition):
        await ledger.transition(payment, target, event_of(payment, "PAYMENTVOIDED"))
    stored = await ledger.get(payment.tenant_id, payment.id)
    assert stored.state == S.CREATED.value
    assert await events_of(db, payment) == ["PAYMENTCREATED"]


async def test_pay4_a_final_state_never_changes_through_the_repository(db):
    # given: an attempt that failed (nothing charged)
    ledger = PaymentRepository(db)
    created = await an_attempt(db)
    payment = await ledger.transition(created, S.FAILED, event_of(created, "PAYMENTFAILED"))
    assert payment is not None and payment.state == S.FAILED.value

    # when / then: it cannot be charged or applied afterwards
    for target in (S.CHARGED, S.APPLIED):
        with pytest.raises(IllegalTransition):
            await ledger.transition(payment, target, event_of(payment, "PAYMENT"))
    assert (await ledger.get(payment.tenant_id, payment.id)).state == S.FAILED.value


async def test_pay4_not1_an_allowed_move_is_written_with_its_event(db):
    # given
    ledger = PaymentRepository(db)
    payment = await an_attempt(db)
    # when
    charged = await ledger.transition(payment, S.CHARGED, event_of(payment, "PAYMENTCHARGED"),
                                      gateway_transaction_id="txn_allowed")
    # then
    assert charged.state == S.CHARGED.value and charged.gateway_transaction_id == "txn_allowed"
    assert await events_of(db, payment) == ["PAYMENTCREATED", "PAYMENTCHARGED"]
