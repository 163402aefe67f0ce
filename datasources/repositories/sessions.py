"""SQL of papergraph's own sign-in (SSN): signing keys, refresh tokens, the last sign-out date."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import select

from datasources.db import Database
from datasources.reads import ReadQuery
from datasources.models import RefreshToken, Registration, SigningKey, Tenant, utcnow


LAST_LOGOUT = ReadQuery(
    "LastLogout", {"last_logout_at": Registration.last_logout_at},
    lambda query, shape: query.join_from(Registration, Tenant, Tenant.id == Registration.tenant_id).where(
        Tenant.code == sa.bindparam("tenant_code"), Registration.crid == sa.bindparam("crid")))


class SessionRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # signing keys --------------------------------------------------------------------------------
    async def signing_keys(self, published_since: datetime) -> list[SigningKey]:
        """Keys not retired, and keys retired after `published_since` (tokens they signed may still live)."""
        async with self.db.session() as session:
            return list((await session.execute(select(SigningKey).where(
                sa.or_(SigningKey.retired_at.is_(None), SigningKey.retired_at > published_since))
                .order_by(SigningKey.id))).scalars())

    async def add_signing_key(self, key: SigningKey, *, retire_others: bool) -> SigningKey:
        async with self.db.session() as session:
            if retire_others:
                await session.execute(sa.update(SigningKey).where(SigningKey.retired_at.is_(None))
                                      .values(retired_at=utcnow()))
            session.add(key)
            await session.commit()
            await session.refresh(key)
            return key

    # refresh tokens ------------------------------------------------------------------------------
    async def add_refresh_token(self, row: RefreshToken, event=None) -> RefreshToken:
        async with self.db.session() as session:
            session.add(row)
            if event is not None:
                session.add(event)
            await session.commit()
            await session.refresh(row)
            return row

    async def refresh_token(self, tenant_id: int, token_hash: str) -> RefreshToken | None:
        async with self.db.session() as session:
            return (await session.execute(select(RefreshToken).where(
                RefreshToken.tenant_id == tenant_id, RefreshToken.token_hash == token_hash))).scalar_one_or_none()

    async def rotate(self, used: RefreshToken, successor: RefreshToken) -> bool:
        """Mark `used` used and add its successor, in one transaction; False when another request used it
        first (the caller treats that as reuse)."""
        async with self.db.session() as session:
            result = await session.execute(sa.update(RefreshToken).where(
                RefreshToken.id == used.id, RefreshToken.used_at.is_(None), RefreshToken.revoked_at.is_(None))
                .values(used_at=utcnow()))
            if result.rowcount != 1:
                await session.rollback()
                return False
            session.add(successor)
            await session.commit()
            return True

    async def revoke_family(self, family: str) -> None:
        async with self.db.session() as session:
            await session.execute(sa.update(RefreshToken).where(
                RefreshToken.family == family, RefreshToken.revoked_at.is_(None)).values(revoked_at=utcnow()))
            await session.commit()

    async def sign_out(self, tenant_id: int, registration_id: int, event) -> datetime:
        """SSN-4: LastLogoutDate now, every refresh token of the registration revoked, and the event."""
        now = utcnow()
        async with self.db.session() as session:
            await session.execute(sa.update(Registration).where(Registration.id == registration_id)
                                  .values(last_logout_at=now))
            await session.execute(sa.update(RefreshToken).where(
                RefreshToken.tenant_id == tenant_id, RefreshToken.registration_id == registration_id,
                RefreshToken.revoked_at.is_(None)).values(revoked_at=now))
            session.add(event)
            await session.commit()
        return now

    async def last_logout(self, tenant_code: str, crid: str) -> datetime | None:
        """Read on every customer request not remembered (auth/sessions.py): on the read path (datasources/
        reads.py), not an ORM session."""
        rows = await self.db.read(LAST_LOGOUT, tenant_code=tenant_code, crid=crid)
        return rows[0].last_logout_at if rows else None

    async def registration(self, registration_id: int) -> Registration | None:
        async with self.db.session() as session:
            return await session.get(Registration, registration_id)


def since(now: datetime, seconds: float) -> datetime:
    return now - timedelta(seconds=seconds)
