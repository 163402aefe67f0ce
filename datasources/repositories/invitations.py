"""SQL of invitations (INV): every change with its events in one transaction (INV-6, NOT-1); the checks that
count links and pending invitations run under the subscription's link lock (as LNK-2's do), so two requests
cannot both take its last slot."""

from __future__ import annotations

from typing import Callable, Iterable

import sqlalchemy as sa
from sqlmodel import select

from datasources.db import Database
from datasources.models import Event, Invitation, Registration, SubscriptionLink, utcnow
from datasources.repositories.administration import insert_link
from domain.invitations import PENDING

Check = Callable[[list[str], int], None]  # (link roles, pending invitations) → raises when over a limit


class InvitationRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, tenant_id: int, invitation_id: int) -> Invitation | None:
        async with self.db.session() as session:
            return (await session.execute(select(Invitation).where(
                Invitation.tenant_id == tenant_id, Invitation.id == invitation_id))).scalar_one_or_none()

    async def pending(self, tenant_id: int, subscription_id: str, now) -> list[Invitation]:
        async with self.db.session() as session:
            return list((await session.execute(select(Invitation).where(
                Invitation.tenant_id == tenant_id, Invitation.subscription_id == subscription_id,
                Invitation.state == PENDING, Invitation.expires_at > now).order_by(Invitation.id))).scalars())

    async def _counts(self, session, tenant_id: int, subscription_id: str, *, except_id: int | None = None):
        await self.db.serialize(session, tenant_id, f"links:{subscription_id}")
        roles = [r[0] for r in await session.execute(select(SubscriptionLink.role).where(
            SubscriptionLink.tenant_id == tenant_id, SubscriptionLink.subscription_id == subscription_id))]
        query = select(sa.func.count()).select_from(Invitation).where(
            Invitation.tenant_id == tenant_id, Invitation.subscription_id == subscription_id,
            Invitation.state == PENDING, Invitation.expires_at > utcnow())
        if except_id is not None:
            query = query.where(Invitation.id != except_id)
        return roles, (await session.execute(query)).scalar_one()

    async def create(self, invitation: Invitation, event_of: Callable[[Invitation], Event], check: Check) -> Invitation:
        async with self.db.session() as session:
            roles, pending = await self._counts(session, invitation.tenant_id, invitation.subscription_id)
            check(roles, pending)
            session.add(invitation)
            await session.flush()
            session.add(event_of(invitation))
            await session.commit()
            await session.refresh(invitation)
            return invitation

    async def change(self, invitation: Invitation, changes: dict, event: Event) -> Invitation | None:
        """Apply `changes` to a still pending invitation, with its event; None when it is no longer pending."""
        async with self.db.session() as session:
            result = await session.execute(sa.update(Invitation).where(
                Invitation.id == invitation.id, Invitation.state == PENDING).values(**changes, updated_at=utcnow()))
            if result.rowcount != 1:
                await session.rollback()
                return None
            session.add(event)
            await session.commit()
            return await session.get(Invitation, invitation.id, populate_existing=True)

    async def accept(self, invitation: Invitation, registration: Registration, registration_changes: dict,
                     events: Iterable[Event], check: Check) -> SubscriptionLink | None:
        """INV-4: link the registration as GUEST, consume the invitation and update the user, in one transaction;
        None when the invitation was consumed meanwhile; DuplicateRow when the registration is linked already."""
        async with self.db.session() as session:
            roles, pending = await self._counts(session, invitation.tenant_id, invitation.subscription_id,
                                                except_id=invitation.id)
            check(roles, pending)
            result = await session.execute(sa.update(Invitation).where(
                Invitation.id == invitation.id, Invitation.state == PENDING).values(
                state="ACCEPTED", accepted_crid=registration.crid, updated_at=utcnow()))
            if result.rowcount != 1:
                await session.rollback()
                return None
            link = SubscriptionLink(tenant_id=invitation.tenant_id, registration_id=registration.id,
                                    subscription_id=invitation.subscription_id, role="GUEST", created_at=utcnow())
            await insert_link(session, link)
            if registration_changes:
                await session.execute(sa.update(Registration).where(Registration.id == registration.id)
                                      .values(**registration_changes, updated_at=utcnow()))
            for event in events:
                session.add(event)
            await session.commit()
            await session.refresh(link)
            return link
