"""Bulk SQL about subscriptions that papergraph's own tables answer: how many registrations are linked to
each (SUB-1 `registrationCount`, LNK-1). One grouped statement per batch of subscription ids."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlmodel import select

from datasources.db import Database
from datasources.models import SubscriptionLink


class SubscriptionRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def link_counts(self, tenant_id: int, subscription_ids: Iterable[str]) -> dict[str, int]:
        """Number of links (OWNER and GUEST) per subscription id; ids without links are absent."""
        statement = (
            select(SubscriptionLink.subscription_id, sa.func.count(SubscriptionLink.id))
            .where(SubscriptionLink.tenant_id == tenant_id,
                   SubscriptionLink.subscription_id.in_(list(subscription_ids)))
            .group_by(SubscriptionLink.subscription_id)
        )
        async with self.db.session() as session:
            return {subscription_id: int(count) for subscription_id, count in (await session.execute(statement)).all()}
