"""Loaders of the payments domain: a subscription's attempts in the ledger (PAY-4), one SQL statement
per batch."""

from __future__ import annotations

from collections import defaultdict
from functools import cached_property
from typing import Sequence

from datasources.repositories.payments import PaymentRepository
from resolvers.dataloaders.batching import DataLoader
from schema.payments import Payment


class PaymentLoaders:
    @cached_property
    def payment_repository(self) -> PaymentRepository:
        return PaymentRepository(self.services.db)

    @cached_property
    def payments_by_subscription_id(self) -> DataLoader:
        """`load(id)` → the subscription's latest payments, newest first (empty when none)."""
        return DataLoader(self._payments_by_subscription_id)

    async def _payments_by_subscription_id(self, ids: Sequence[str]) -> list[list[Payment]]:
        grouped: dict[str, list[Payment]] = defaultdict(list)
        for row in await self.payment_repository.by_subscription_ids(self.tenant.id, ids):
            grouped[row.subscription_id].append(Payment.from_row(row, self.tenant.currency))
        return [grouped.get(i, []) for i in ids]
