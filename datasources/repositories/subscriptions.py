"""Bulk SQL about subscriptions that papergraph's own tables answer: how many registrations are linked to
each (SUB-1 `registrationCount`, LNK-1). One grouped statement per batch of subscription ids."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from datasources.db import Database
from datasources.models import SubscriptionLink
from datasources.reads import ReadQuery


class SubscriptionRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def link_counts(self, tenant_id: int, subscription_ids: Iterable[str]) -> dict[str, int]:
        """Number of links (OWNER and GUEST) per subscription id; ids without links are absent."""
        rows = await self.db.read(LINK_COUNTS, tenant_id=tenant_id, keys=list(subscription_ids))
        return {row.subscription_id: int(row.count) for row in rows}


LINK_COUNTS = ReadQuery(
    "LinkCountRecord",
    {"subscription_id": SubscriptionLink.subscription_id, "count": sa.func.count(SubscriptionLink.id)},
    lambda query, shape: query.where(SubscriptionLink.tenant_id == sa.bindparam("tenant_id"),
                                     shape.any_of(SubscriptionLink.subscription_id, "keys"))
    .group_by(SubscriptionLink.subscription_id),
)
