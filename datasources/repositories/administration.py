"""SQL of the link, household-level, offer, manager-access and entitlement mutations: every change is
written with the event that records it, in one transaction (NOT-1). Scoped to one tenant (TEN-1)."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from datasources.db import Database
from datasources.models import (
    AccessLog,
    Event,
    HouseholdLevel,
    Invitation,
    ManagerAccess,
    Offer,
    Registration,
    SubscriptionLink,
    TemporaryEntitlement,
    utcnow,
)
from datasources.repositories.users import DuplicateRow


async def roles_with_pending(session, tenant_id: int, subscription_id: str) -> list[str]:
    """The subscription's link roles, each pending invitation counted as a GUEST (INV-3): what LNK-2 and OFR-7
    judge a new link against."""
    roles = [r[0] for r in await session.execute(select(SubscriptionLink.role).where(
        SubscriptionLink.tenant_id == tenant_id, SubscriptionLink.subscription_id == subscription_id))]
    pending = (await session.execute(select(sa.func.count()).select_from(Invitation).where(
        Invitation.tenant_id == tenant_id, Invitation.subscription_id == subscription_id,
        Invitation.state == "PENDING", Invitation.expires_at > utcnow()))).scalar_one()
    return roles + ["GUEST"] * pending


async def insert_link(session, link: SubscriptionLink) -> None:
    """Adds the link in the caller's transaction; DuplicateRow (the transaction rolled back) when the registration
    is linked to that subscription already."""
    session.add(link)
    try:
        await session.flush()
    except IntegrityError as error:
        await session.rollback()
        raise DuplicateRow("link") from error


class AdministrationRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # links (LNK) -----------------------------------------------------------------------------------
    async def link(self, tenant_id: int, link_id: int) -> tuple[SubscriptionLink, str] | None:
        async with self.db.session() as session:
            row = (await session.execute(
                select(SubscriptionLink, Registration.crid)
                .join(Registration, Registration.id == SubscriptionLink.registration_id)
                .where(SubscriptionLink.tenant_id == tenant_id, SubscriptionLink.id == link_id))).first()
            return (row[0], row[1]) if row else None

    async def add_link(self, link: SubscriptionLink, event: Event, check: Callable[[list[str]], None]
                       ) -> SubscriptionLink:
        """`check` sees the subscription's current roles, each pending invitation counted as a GUEST (INV-3), and
        may raise; links to one subscription are added one transaction at a time, so two cannot both take its
        last slot (LNK-2)."""
        async with self.db.session() as session:
            await self.db.serialize(session, link.tenant_id, f"links:{link.subscription_id}")
            check(await roles_with_pending(session, link.tenant_id, link.subscription_id))
            await insert_link(session, link)
            event.details = {**event.details, "linkId": link.id}
            session.add(event)
            await session.commit()
            await session.refresh(link)
            return link

    async def remove_link(self, tenant_id: int, link_id: int, event: Event) -> bool:
        async with self.db.session() as session:
            result = await session.execute(sa.delete(SubscriptionLink).where(
                SubscriptionLink.tenant_id == tenant_id, SubscriptionLink.id == link_id))
            if result.rowcount == 0:
                await session.rollback()
                return False
            session.add(event)
            await session.commit()
            return True

    async def move_link(self, tenant_id: int, link_id: int, registration_id: int, event: Event,
                        check: Callable[[list[str]], None] | None = None) -> SubscriptionLink | None:
        """None when the link is gone (removed since the caller read it). `check`, like add_link's, sees the
        subscription's roles with pending invitations as GUESTs (the moved link counted once) and may raise."""
        async with self.db.session() as session:
            link = (await session.execute(select(SubscriptionLink).where(
                SubscriptionLink.tenant_id == tenant_id, SubscriptionLink.id == link_id))).scalar_one_or_none()
            if link is None:
                return None
            if check is not None:
                await self.db.serialize(session, tenant_id, f"links:{link.subscription_id}")
                check(await roles_with_pending(session, tenant_id, link.subscription_id))
            link.registration_id = registration_id
            session.add(event)
            try:
                await session.commit()
            except IntegrityError as error:
                raise DuplicateRow("link") from error
            await session.refresh(link)
            return link

    # rows changed in place with their event -----------------------------------------------------------
    async def update_one(self, model: type, where: Sequence[Any], changes: dict[str, Any], event: Event):
        async with self.db.session() as session:
            row = (await session.execute(select(model).where(*where))).scalar_one_or_none()
            if row is None:
                return None
            for name, value in changes.items():
                setattr(row, name, value)
            session.add(event)
            await session.commit()
            await session.refresh(row)
            return row

    async def record_upstream_change(self, event: Event) -> Event:
        """Record the event of a change an upstream made, once per upstream transaction
        (`details.circulationTransactionId`): a replayed answer to an idempotent retry is the same change."""
        transaction_id = event.details.get("circulationTransactionId")
        async with self.db.session() as session:
            if transaction_id is not None:
                await self.db.serialize(session, event.tenant_id, f"event:{transaction_id}")
                recorded = (await session.execute(select(Event).where(
                    Event.tenant_id == event.tenant_id, Event.type_code == event.type_code,
                    Event.subscription_id == event.subscription_id))).scalars()
                earlier = next((e for e in recorded if e.details.get("circulationTransactionId") == transaction_id),
                               None)
                if earlier is not None:
                    return earlier
            session.add(event)
            await session.commit()
            await session.refresh(event)
            return event

    async def household_level(self, tenant_id: int, level_id: int) -> HouseholdLevel | None:
        async with self.db.session() as session:
            return (await session.execute(select(HouseholdLevel).where(
                HouseholdLevel.tenant_id == tenant_id, HouseholdLevel.level_id == level_id))).scalar_one_or_none()

    async def offer(self, tenant_id: int, offer_id: int) -> Offer | None:
        async with self.db.session() as session:
            return (await session.execute(select(Offer).where(Offer.tenant_id == tenant_id, Offer.id == offer_id))
                    ).scalar_one_or_none()

    # manager access levels (MGR-1) ---------------------------------------------------------------------
    async def manager_access(self, tenant_id: int, subject: str) -> list[ManagerAccess]:
        async with self.db.session() as session:
            return list((await session.execute(select(ManagerAccess).where(
                ManagerAccess.tenant_id == tenant_id, ManagerAccess.manager_subject == subject)
                .order_by(ManagerAccess.section))).scalars())

    async def set_manager_access(self, tenant_id: int, subject: str, levels: dict[str, str], event: Event
                                 ) -> list[ManagerAccess]:
        """Sets the given sections' levels (others are kept), with the event, in one transaction; changes of
        one manager's levels run one at a time (two first levels of a section would both insert it)."""
        async with self.db.session() as session:
            await self.db.serialize(session, tenant_id, f"manager-access:{subject}")
            existing = {row.section: row for row in (await session.execute(select(ManagerAccess).where(
                ManagerAccess.tenant_id == tenant_id, ManagerAccess.manager_subject == subject))).scalars()}
            now = utcnow()
            for section, level in levels.items():
                row = existing.get(section)
                if row is None:
                    session.add(ManagerAccess(tenant_id=tenant_id, manager_subject=subject, section=section,
                                              level=level, updated_at=now))
                else:
                    row.level, row.updated_at = level, now
            session.add(event)
            await session.commit()
        return await self.manager_access(tenant_id, subject)

    # entitlements (ENT) ---------------------------------------------------------------------------------
    async def log_access(self, row: AccessLog) -> AccessLog:
        return await self.db.insert(row)

    async def add_temporary_entitlement(self, row: TemporaryEntitlement, event: Event) -> TemporaryEntitlement:
        async with self.db.session() as session:
            session.add(row)
            await session.flush()
            event.details = {**event.details, "temporaryEntitlementId": row.id}
            session.add(event)
            await session.commit()
            await session.refresh(row)
            return row


class TenantSettingsRepository:
    """SET-3: a tenant's settings changed with their event, and the tenant's settings version raised, in one
    transaction (every process's cached tenant is stale from then on)."""

    def __init__(self, db) -> None:
        self.db = db

    async def update_settings(self, tenant_id: int, values: dict[str, str], event: Event) -> None:
        from datasources.models import Tenant, TenantSetting

        async with self.db.session() as session:
            await self.db.serialize(session, tenant_id, "tenant-settings")
            existing = {row.key: row for row in (await session.execute(select(TenantSetting).where(
                TenantSetting.tenant_id == tenant_id, TenantSetting.key.in_(list(values))))).scalars()}
            for key, value in values.items():
                row = existing.get(key)
                if row is None:
                    session.add(TenantSetting(tenant_id=tenant_id, key=key, value=value))
                else:
                    row.value = value
            await session.execute(sa.update(Tenant).where(Tenant.id == tenant_id)
                                  .values(settings_version=Tenant.settings_version + 1))
            session.add(event)
            await session.commit()
