"""Loaders of the subscriptions domain.

Each loader answers its whole batch with one bulk call: the circulation system's batch endpoints
(`GET /subscriptions?ids=`, `GET /billing-options?subscriptionIds=`) or one SQL statement (payment
methods, registration counts). Scheduled stops are the exception: the upstream has no batch endpoint, so
that loader issues single calls concurrently, at most `settings.upstream_concurrency` at a time.

A failed call fails only the keys that needed it: the loader puts the exception in their slots.
"""

from __future__ import annotations

import asyncio
from functools import cached_property
from typing import Any, Sequence

from datasources.base import UpstreamNotFound
from datasources.repositories.payment_methods import PaymentMethodRepository
from datasources.repositories.subscriptions import SubscriptionRepository
from resolvers.dataloaders.batching import DataLoader
from schema.payments import PaymentMethod
from schema.subscriptions import BillingOption, CustomerSubscription, ScheduledStop


class SubscriptionLoaders:
    def subscription_from_record(self, record: dict[str, Any]) -> CustomerSubscription:
        return CustomerSubscription.from_record(record, self.tenant.circulation_kind)

    def prime_subscriptions(self, subscriptions: Sequence[CustomerSubscription]) -> None:
        """Subscriptions a search or listing already fetched are cached, so re-reads cost nothing more."""
        for subscription in subscriptions:
            self.subscription_by_id.prime(str(subscription.id), subscription)

    @cached_property
    def payment_method_repository(self) -> PaymentMethodRepository:
        return PaymentMethodRepository(self.services.db)

    @cached_property
    def subscription_repository(self) -> SubscriptionRepository:
        return SubscriptionRepository(self.services.db)

    # subscriptions (SUB-1) -----------------------------------------------------------------------
    @cached_property
    def subscription_by_id(self) -> DataLoader:
        """`load(id)` → CustomerSubscription, or None for an id the tenant's circulation system lacks."""
        return DataLoader(self._subscriptions_by_id)

    async def _subscriptions_by_id(self, ids: Sequence[str]) -> list[CustomerSubscription | None]:
        records = await self.services.circulation.get_subscriptions(self.tenant.code, list(ids))
        return [self.subscription_from_record(records[i]) if i in records else None for i in ids]

    # billing options (PAY-3) ---------------------------------------------------------------------
    @cached_property
    def billing_options_by_subscription_id(self) -> DataLoader:
        """`load(id)` → list[BillingOption]; an id the circulation system does not know has none."""
        return DataLoader(self._billing_options_by_subscription_id)

    async def _billing_options_by_subscription_id(self, ids: Sequence[str]) -> list[list[BillingOption]]:
        by_id = await self.services.circulation.get_billing_options(self.tenant.code, list(ids))
        currency = self.tenant.currency
        return [[BillingOption.from_record(option, currency) for option in by_id.get(i, ())] for i in ids]

    # payment methods (PM-4) ----------------------------------------------------------------------
    @cached_property
    def payment_method_by_subscription_id(self) -> DataLoader:
        """`load(id)` → the masked PaymentMethod attached to the subscription, or None."""
        return DataLoader(self._payment_methods_by_subscription_id)

    async def _payment_methods_by_subscription_id(self, ids: Sequence[str]) -> list[PaymentMethod | None]:
        rows = await self.payment_method_repository.by_subscription_ids(self.tenant.id, ids)
        by_id = {row.subscription_id: PaymentMethod.from_row(row) for row in rows}
        return [by_id.get(i) for i in ids]

    # registration count (SUB-1, LNK-1) -----------------------------------------------------------
    @cached_property
    def registration_count_by_subscription_id(self) -> DataLoader:
        return DataLoader(self._registration_counts_by_subscription_id)

    async def _registration_counts_by_subscription_id(self, ids: Sequence[str]) -> list[int]:
        counts = await self.subscription_repository.link_counts(self.tenant.id, ids)
        return [counts.get(i, 0) for i in ids]

    # scheduled stops (SUB-4) ---------------------------------------------------------------------
    @cached_property
    def scheduled_stops_by_subscription_id(self) -> DataLoader:
        """`load(id)` → list[ScheduledStop], read live (one upstream call per id, bounded concurrency);
        None for an id the circulation system does not know."""
        return DataLoader(self._scheduled_stops_by_subscription_id)

    @cached_property
    def _upstream_single_calls(self) -> asyncio.Semaphore:
        # one bound per request, shared by every loader that must fall back to single calls
        return asyncio.Semaphore(self.services.settings.upstream_concurrency)

    async def _scheduled_stops_by_subscription_id(self, ids: Sequence[str]
                                                  ) -> list[list[ScheduledStop] | None | Exception]:
        circulation, paper, bound = self.services.circulation, self.tenant.code, self._upstream_single_calls

        async def stops(subscription_id: str) -> list[ScheduledStop] | None:
            async with bound:
                try:
                    records = await circulation.get_scheduled_stops(paper, subscription_id)
                except UpstreamNotFound as error:
                    if isinstance(error.body, dict) and error.body.get("code") == "SUBSCRIPTION_NOT_FOUND":
                        return None  # an unknown id is null, as `subscription(id)` answers
                    raise
            return [ScheduledStop.from_record(r) for r in records]

        results = await asyncio.gather(*(stops(i) for i in ids), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, Exception):
                raise result  # cancellation is not a per-key failure
        return results
