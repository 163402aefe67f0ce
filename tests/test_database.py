"""The database layer on every backend: migrations, exact money (MNY-1), the deterministic seeder."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa

from datasources.db import Database
from datasources.models import Payment, Tenant
from sandbox.demo import generate
from tests.conftest import BACKENDS, POSTGRES_ADMIN_URL, _pg_admin, _prepare


async def test_money_round_trips_exactly_above_int32(database_url):
    # MNY-1: amounts above 2,147,483,647 keep every cent on SQLite and PostgreSQL
    db = Database(database_url)
    amount = Decimal("98765432109876543.21")
    try:
        async with db.session() as session:
            tenant = (await session.execute(sa.select(Tenant).limit(1))).scalar_one()
            payment = Payment(tenant_id=tenant.id, subscription_id="X-1", flow="ONE_TIME", state="CREATED",
                              currency="USD", option_amount=amount, total=Decimal("2147483648.10"))
            session.add(payment)
            await session.commit()
            payment_id = payment.id
        async with db.session() as session:
            stored = await session.get(Payment, payment_id)
            assert stored.option_amount == amount
            assert stored.total == Decimal("2147483648.10")
            await session.delete(stored)
            await session.commit()
    finally:
        await db.dispose()


async def test_migrations_created_every_model_table(database_url):
    from sqlmodel import SQLModel

    db = Database(database_url)
    try:
        async with db.engine.connect() as conn:
            tables = await conn.run_sync(lambda sync: set(sa.inspect(sync).get_table_names()))
    finally:
        await db.dispose()
    assert set(SQLModel.metadata.tables) <= tables
    assert "alembic_version" in tables


@pytest.fixture(params=BACKENDS)
def freshly_seeded_url(request, tmp_path) -> str:
    """A database migrated and seeded for one test alone: the session's shared one gains the rows other tests
    write (sign-ups, purchases), in whatever order the workers run them."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'seeded.db'}"
    else:
        name = f"papergraph_seed_{uuid.uuid4().hex[:10]}"
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
        request.addfinalizer(lambda: asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')))
        url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{name}"
    _prepare(url)
    return url


async def test_seeded_database_matches_the_demo_generator(freshly_seeded_url):
    demo = generate(1)
    db = Database(freshly_seeded_url)
    try:
        async with db.engine.connect() as conn:
            counts = {
                table: (await conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}"))).scalar_one()
                for table in ("tenant", "registration", "subscription_link", "household_level", "payment_method")
            }
    finally:
        await db.dispose()
    assert counts == {
        "tenant": 4, "registration": len(demo.registrations), "subscription_link": len(demo.links),
        "household_level": len(demo.household_levels), "payment_method": len(demo.payment_methods),
    }


def test_demo_data_is_deterministic_and_covers_every_status_kind_and_state():
    first, second = generate(1), generate(1)

    assert first.subscriptions == second.subscriptions
    assert {s["status"] for s in first.subscriptions} == {"ACTIVE", "STOPPED", "PERMANENTLY_STOPPED", "PAUSED", "IN_GRACE"}
    assert {s["kind"] for s in first.subscriptions} == {"REGULAR", "TRIAL", "COMPLIMENTARY", "GIFT", "PAID_PASS"}
    assert {t["circulation_kind"] for t in first.tenants} == {"NCS", "MATRIX", "CIRCPRO", "SAXO"}
    mg2 = [r for r in first.registrations if r["tenant"] == "CPRDEMO"]
    assert any(not r["has_password"] for r in mg2) and any(not r["email_verified"] for r in mg2)  # USR-1
