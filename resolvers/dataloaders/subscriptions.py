"""Loaders of the subscriptions domain."""

from __future__ import annotations

from functools import cached_property
from typing import Sequence

from aiodataloader import DataLoader

from schema.subscriptions import CustomerSubscription


class SubscriptionLoaders:
    @cached_property
    def subscription_by_id(self) -> DataLoader:
        return DataLoader(self._subscriptions_by_id)

    async def _subscriptions_by_id(self, ids: Sequence[str]) -> list[CustomerSubscription | None]:
        records = await self.services.circulation.get_subscriptions(self.tenant.code, list(ids))
        return [CustomerSubscription.from_record(records[i]) if i in records else None for i in ids]
