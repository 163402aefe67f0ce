"""Seed papergraph's database and the three emulators with the same deterministic demo data.

    papergraph seed --scale N

The database gets tenants, settings, registrations, links, household levels, offers, entitlements and
masked payment methods; the emulators get their side (circulation records, Auth0 users, NavigaPay
profiles) through their `/_sandbox/load` endpoints, in chunks, so the same code seeds in-process
emulators and emulators running in their own processes.
"""

from __future__ import annotations

from functools import lru_cache
from collections.abc import Iterable, Iterator
from typing import Any

import httpx
import sqlalchemy as sa

from datasources.db import Database
from datasources.models import (
    Entitlement,
    EntitlementSetting,
    MessageTemplate,
    HouseholdLevel,
    Offer,
    OfferDeliveryArea,
    OfferEntitlement,
    OfferGroup,
    OfferTerm,
    PaymentMethod,
    Registration,
    SubscriptionLink,
    Tenant,
    TenantSetting,
)
from datasources.models import utcnow
from messages.render import default_templates
from sandbox.demo import DemoData

CHUNK = 5000


def _chunks(rows: list[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


@lru_cache(maxsize=1)
def _demo_password_hash() -> str:
    """Demo MG2 users sign in (signIn, SSN) with CUSTOMER_PASSWORD: one scrypt hash, computed once per process
    and shared by every demo registration (a salt per user would cost ~50 ms each at seeding)."""
    from domain.passwords import hash_password
    from sandbox.demo import CUSTOMER_PASSWORD

    return hash_password(CUSTOMER_PASSWORD)


async def database_is_empty(db: Database) -> bool:
    async with db.engine.connect() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(Tenant))).scalar_one() == 0


async def clear_database(db: Database) -> int:
    """Delete every row of every table (children first), the schema and its migration revision kept: what
    `papergraph seed --reset` does before seeding again. Returns how many tables were cleared."""

    def tables(sync_connection) -> list[sa.Table]:
        metadata = sa.MetaData()
        metadata.reflect(sync_connection)
        return [table for table in reversed(metadata.sorted_tables) if table.name != "alembic_version"]

    async with db.engine.begin() as conn:
        found = await conn.run_sync(tables)
        for table in found:
            await conn.execute(table.delete())
    return len(found)


async def seed_database(db: Database, data: DemoData) -> dict[str, int]:
    """Insert the demo data in one transaction. Returns row counts per table."""
    counts: dict[str, int] = {}

    async def insert(conn, model, rows: list[dict[str, Any]]) -> None:
        for chunk in _chunks(rows):
            await conn.execute(sa.insert(model.__table__), chunk)
        counts[model.__tablename__] = counts.get(model.__tablename__, 0) + len(rows)

    async with db.engine.begin() as conn:
        tenant_ids: dict[str, int] = {}
        for tenant in data.tenants:
            result = await conn.execute(
                sa.insert(Tenant.__table__).returning(Tenant.__table__.c.id),
                {k: tenant[k] for k in ("code", "name", "circulation_kind", "time_zone", "currency")},
            )
            tenant_ids[tenant["code"]] = result.scalar_one()
        counts["tenant"] = len(tenant_ids)
        await insert(conn, TenantSetting, [
            {"tenant_id": tenant_ids[t["code"]], "key": k, "value": v}
            for t in data.tenants for k, v in t["settings"].items()
        ])
        await insert(conn, HouseholdLevel, [
            {"tenant_id": tenant_ids[h["tenant"]], "level_id": h["id"], "description": h["description"],
             "active": h["active"]} for h in data.household_levels
        ])
        await insert(conn, OfferGroup, [
            {"id": g["id"], "tenant_id": tenant_ids[g["tenant"]], "name": g["name"], "category": g["category"]}
            for g in data.offer_groups
        ])
        offer_fields = ("name", "vendor", "logo_url", "short_description", "category", "trial_available", "digital",
                        "activation_fee", "valid_from", "valid_to", "allowed_registrations")
        await insert(conn, Offer, [
            {"id": o["id"], "tenant_id": tenant_ids[o["tenant"]], "group_id": o["group_id"],
             **{f: o[f] for f in offer_fields},
             **{f"check_{k}": v for k, v in o["check_criteria"].items()},
             **{f"validate_{k}": v for k, v in o.get("validation", {}).items()},
             **{f"requires_{k}_address": v for k, v in o.get("address_requirements", {}).items()}}
            for o in data.offers
        ])
        await insert(conn, OfferTerm, [
            {"id": term["id"], "offer_id": o["id"], "code": term["code"], "length": term["length"],
             "length_unit": term["length_unit"], "rate": term["rate"], "tax": term["tax"],
             "commercial": term["commercial"]}
            for o in data.offers for term in o["terms"]
        ])
        await insert(conn, OfferDeliveryArea, [
            {"offer_id": o["id"], "postal_code": code} for o in data.offers for code in o["delivery_areas"]
        ])
        await insert(conn, OfferEntitlement, [
            {"offer_id": o["id"], "entitlement_code": code} for o in data.offers for code in o.get("entitlements", [])
        ])
        for ent in data.entitlements:
            result = await conn.execute(
                sa.insert(Entitlement.__table__).returning(Entitlement.__table__.c.id),
                {"tenant_id": tenant_ids[ent["tenant"]], "code": ent["code"], "description": ent["description"]},
            )
            if ent["redirect_url"]:
                await conn.execute(
                    sa.insert(EntitlementSetting.__table__),
                    {"entitlement_id": result.scalar_one(), "redirect_url": ent["redirect_url"]},
                )
        counts["entitlement"] = len(data.entitlements)
        await insert(conn, Registration, [
            {"tenant_id": tenant_ids[r["tenant"]], "crid": r["crid"], "email": r["email"],
             "first_name": r["first_name"], "last_name": r["last_name"], "has_password": r["has_password"],
             "email_verified": r["email_verified"], "metadata": r["metadata"],
             "password_hash": _demo_password_hash() if r["has_password"] else None}
            for r in data.registrations
        ])
        registration_ids = {
            (row.tenant_id, row.crid): row.id
            for row in await conn.execute(sa.select(Registration.__table__.c.id, Registration.__table__.c.tenant_id,
                                                    Registration.__table__.c.crid))
        }
        await insert(conn, SubscriptionLink, [
            {"tenant_id": tenant_ids[link["tenant"]],
             "registration_id": registration_ids[(tenant_ids[link["tenant"]], link["crid"])],
             "subscription_id": link["subscription_id"], "role": link["role"]}
            for link in data.links
        ])
        # MSG-1: the demo tenants send every message papergraph ships a template for
        await insert(conn, MessageTemplate, [
            {"tenant_id": tenant_id, "event_type": event_type, "subject": subject, "text_body": text,
             "html_body": html, "updated_at": utcnow()}
            for tenant_id in tenant_ids.values()
            for event_type, (subject, text, html) in default_templates().items()
        ])
        await insert(conn, PaymentMethod, [
            {"tenant_id": tenant_ids[m["tenant"]], **{k: v for k, v in m.items() if k != "tenant"}}
            for m in data.payment_methods
        ])
    if db.engine.dialect.name == "postgresql":
        await _reset_sequences(db, (OfferGroup, Offer, OfferTerm))
    return counts


async def _reset_sequences(db: Database, models: Iterable[type]) -> None:
    """Rows inserted with explicit ids leave PostgreSQL's sequences behind; move them past the max."""
    async with db.engine.begin() as conn:
        for model in models:
            table = model.__tablename__
            await conn.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
            ))


async def load_emulators(
    circulation: httpx.AsyncClient, auth0: httpx.AsyncClient, navigapay: httpx.AsyncClient, data: DemoData
) -> None:
    """Push each emulator its side of the demo data through its `/_sandbox/load` endpoint."""
    papers = [
        {"code": t["code"], "kind": t["circulation_kind"], "currency": t["currency"], "timeZone": t["time_zone"]}
        for t in data.tenants
    ]
    first = True
    for chunk in _chunks(data.subscriptions):
        body = {"papers": papers if first else [], "subscriptions": chunk}
        (await circulation.post("/_sandbox/load", json=body)).raise_for_status()
        first = False
    for chunk in _chunks(data.identity_users):
        (await auth0.post("/_sandbox/load", json={"users": chunk})).raise_for_status()
    for chunk in _chunks(data.gateway_profiles):
        (await navigapay.post("/_sandbox/load", json={"profiles": chunk})).raise_for_status()
