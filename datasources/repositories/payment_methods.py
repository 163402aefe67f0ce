"""Bulk SQL for the masked payment methods attached to subscriptions (PM-4).

One payment method is attached to a subscription at a time (a unique key on tenant and subscription), so
a batch of subscription ids is answered by one statement. The rows carry the gateway token for the
mutations that charge it; the GraphQL types built from them never expose it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import select

from datasources.db import Database
from datasources.models import PaymentMethod


class PaymentMethodRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def by_subscription_ids(self, tenant_id: int, subscription_ids: Iterable[str]) -> list[PaymentMethod]:
        """The payment method of each subscription that has one (TEN-1: only the tenant's)."""
        async with self.db.session() as session:
            result = await session.execute(
                select(PaymentMethod).where(PaymentMethod.tenant_id == tenant_id,
                                            PaymentMethod.subscription_id.in_(list(subscription_ids)))
            )
            return list(result.scalars().all())
