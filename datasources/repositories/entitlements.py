"""Bulk SQL for entitlements and what an access level needs (ENT-1, ENT-2, ENT-3): entitlements with
their optional redirect settings, the subscriptions linked to CRIDs, and the entitlement codes of CRIDs'
unexpired temporary entitlements. One statement per batch, scoped to one tenant (TEN-1).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Optional

from sqlmodel import select

from datasources.db import Database
from datasources.models import Entitlement, EntitlementSetting, Registration, SubscriptionLink, TemporaryEntitlement


@dataclass(frozen=True)
class EntitlementRow:
    entitlement: Entitlement
    redirect_url: Optional[str]
    has_settings: bool


class EntitlementRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _all(self, statement) -> list[Any]:
        async with self.db.session() as session:
            return list((await session.execute(statement)).all())

    async def entitlements_by_codes(self, tenant_id: int, codes: Iterable[str]) -> list[EntitlementRow]:
        """ENT-1: each entitlement with its settings record, which is optional (outer join)."""
        rows = await self._all(
            select(Entitlement, EntitlementSetting.id, EntitlementSetting.redirect_url)
            .outerjoin(EntitlementSetting, EntitlementSetting.entitlement_id == Entitlement.id)
            .where(Entitlement.tenant_id == tenant_id, Entitlement.code.in_(list(codes)))
        )
        return [EntitlementRow(entitlement=row[0], redirect_url=row[2], has_settings=row[1] is not None)
                for row in rows]

    async def linked_subscription_ids_by_crids(self, tenant_id: int, crids: Iterable[str]) -> dict[str, list[str]]:
        """The subscription ids linked to each CRID, as OWNER or GUEST (LNK-1). A CRID with a registration
        but no link maps to []; a CRID without a registration is absent."""
        rows = await self._all(
            select(Registration.crid, SubscriptionLink.subscription_id)
            .outerjoin(SubscriptionLink, (SubscriptionLink.registration_id == Registration.id)
                       & (SubscriptionLink.tenant_id == tenant_id))
            .where(Registration.tenant_id == tenant_id, Registration.crid.in_(list(crids)))
            .order_by(Registration.crid, SubscriptionLink.id)
        )
        linked: dict[str, list[str]] = defaultdict(list)
        for crid, subscription_id in rows:
            linked[crid]  # a registration without links still answers []
            if subscription_id is not None:
                linked[crid].append(subscription_id)
        return dict(linked)

    async def temporary_entitlement_codes_by_crids(self, tenant_id: int, crids: Iterable[str],
                                                   now: datetime) -> dict[str, set[str]]:
        """ENT-3: the entitlement codes each CRID holds through a temporary entitlement in force at `now`
        (an aware UTC datetime). Expiry is compared here, not in SQL: SQLite keeps timestamps without
        their zone, and a string comparison against an aware bind value is not reliable."""
        rows = await self._all(
            select(TemporaryEntitlement.crid, TemporaryEntitlement.entitlement_code,
                   TemporaryEntitlement.starts_at, TemporaryEntitlement.expires_at)
            .where(TemporaryEntitlement.tenant_id == tenant_id, TemporaryEntitlement.crid.in_(list(crids)))
        )
        codes: dict[str, set[str]] = defaultdict(set)
        for crid, code, starts_at, expires_at in rows:
            if _utc(starts_at) <= now < _utc(expires_at):
                codes[crid].add(code)
        return dict(codes)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
