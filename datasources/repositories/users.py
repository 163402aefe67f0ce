"""SQL of the user (registration) mutations: every change is written together with the event that
records it, in one transaction (USR-9, NOT-1). Scoped to one tenant (TEN-1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from datasources.db import Database
from datasources.models import ConsumedToken, Event, Registration, TemporaryEntitlement, utcnow


class DuplicateRow(Exception):
    """A unique key refused the write (a CRID or a link already taken, a link already used)."""


class UserRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # reads ---------------------------------------------------------------------------------------
    async def by_crid(self, tenant_id: int, crid: str) -> Registration | None:
        async with self.db.session() as session:
            return (await session.execute(select(Registration).where(
                Registration.tenant_id == tenant_id, Registration.crid == crid))).scalar_one_or_none()

    async def by_email(self, tenant_id: int, email: str) -> Registration | None:
        """E-mails compare case-insensitively; the oldest registration wins if several share one."""
        async with self.db.session() as session:
            return (await session.execute(select(Registration).where(
                Registration.tenant_id == tenant_id, sa.func.lower(Registration.email) == email.lower())
                .order_by(Registration.id).limit(1))).scalar_one_or_none()

    async def event(self, tenant_id: int, event_id: int) -> Event | None:
        async with self.db.session() as session:
            return (await session.execute(select(Event).where(Event.tenant_id == tenant_id, Event.id == event_id))
                    ).scalar_one_or_none()

    async def latest_event(self, tenant_id: int, crid: str, type_code: str) -> Event | None:
        async with self.db.session() as session:
            return (await session.execute(select(Event).where(
                Event.tenant_id == tenant_id, Event.crid == crid, Event.type_code == type_code)
                .order_by(Event.id.desc()).limit(1))).scalar_one_or_none()

    async def token_consumed(self, tenant_id: int, purpose: str, event_id: int) -> bool:
        async with self.db.session() as session:
            found = (await session.execute(select(ConsumedToken.id).where(
                ConsumedToken.tenant_id == tenant_id, ConsumedToken.purpose == purpose,
                ConsumedToken.event_id == event_id))).first()
            return found is not None

    # writes (each with its event, in one transaction) -------------------------------------------
    async def create(self, registration: Registration, events: Iterable[Event]) -> tuple[Registration, list[Event]]:
        async with self.db.session() as session:
            session.add(registration)
            try:
                await session.flush()
            except IntegrityError as error:
                raise DuplicateRow("registration") from error
            written = []
            for event in events:
                event.crid = event.crid or registration.crid
                session.add(event)
                written.append(event)
            await session.commit()
            await session.refresh(registration)
            return registration, written

    async def update(self, tenant_id: int, crid: str, changes: dict[str, Any], event: Event,
                     *, consume: tuple[str, int] | None = None) -> tuple[Registration | None, Event]:
        """Apply `changes` to the registration and record `event`; with `consume` ((purpose, event id)),
        also mark that link used, so a second use fails with DuplicateRow and changes nothing."""
        async with self.db.session() as session:
            row = (await session.execute(select(Registration).where(
                Registration.tenant_id == tenant_id, Registration.crid == crid).with_for_update())).scalar_one_or_none()
            if row is None:
                return None, event
            if consume is not None:
                session.add(ConsumedToken(tenant_id=tenant_id, purpose=consume[0], event_id=consume[1]))
            for name, value in changes.items():
                setattr(row, name, value)
            if changes:
                row.updated_at = utcnow()
            session.add(event)
            try:
                await session.commit()
            except IntegrityError as error:
                raise DuplicateRow("consumed") from error
            await session.refresh(row)
            await session.refresh(event)
            return row, event

    async def change_crid(self, tenant_id: int, crid: str, new_crid: str, event: Event) -> Registration | None:
        """USR-6: the registration and its temporary entitlements move to the new CRID; recorded events keep
        the CRID they were recorded with."""
        async with self.db.session() as session:
            row = (await session.execute(select(Registration).where(
                Registration.tenant_id == tenant_id, Registration.crid == crid).with_for_update())).scalar_one_or_none()
            if row is None:
                return None
            row.crid = new_crid
            row.updated_at = utcnow()
            await session.execute(sa.update(TemporaryEntitlement).where(
                TemporaryEntitlement.tenant_id == tenant_id, TemporaryEntitlement.crid == crid).values(crid=new_crid))
            session.add(event)
            try:
                await session.commit()
            except IntegrityError as error:
                raise DuplicateRow("crid") from error
            await session.refresh(row)
            return row

    async def record(self, event: Event) -> Event:
        return await self.db.insert(event)


def new_event(tenant_id: int, type_code: str, *, crid: str | None = None, subscription_id: str | None = None,
              details: dict[str, Any] | None = None, parent_id: int | None = None, **fields: Any) -> Event:
    return Event(tenant_id=tenant_id, type_code=type_code, crid=crid, subscription_id=subscription_id,
                 details=details or {}, parent_id=parent_id, created_at=fields.pop("created_at", None) or utcnow(),
                 **fields)


def aware(value: datetime) -> datetime:
    from datetime import timezone

    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
