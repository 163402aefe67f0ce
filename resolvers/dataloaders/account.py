"""Loaders of account servicing: a subscription's bill statements (EBL-4) and current plan (EZ-4), read live.

The circulation system has no batch endpoint for either, so each loader issues single calls concurrently under the
request's shared bound (`_upstream_single_calls`, see the subscriptions loaders); a failed call fails only its own
key, and an id the circulation system lacks is None.
"""

from __future__ import annotations

import asyncio
from functools import cached_property
from typing import Any, Awaitable, Callable, Sequence

from datasources.base import UpstreamNotFound
from resolvers.dataloaders.batching import DataLoader
from schema.account import BillStatement, CurrentPlan


class AccountLoaders:
    @cached_property
    def bill_statements_by_subscription_id(self) -> DataLoader:
        """`load(id)` → list[BillStatement], newest first; None for an id the circulation system lacks."""
        return DataLoader(self._bill_statements_by_subscription_id)

    async def _bill_statements_by_subscription_id(self, ids: Sequence[str]) -> list[Any]:
        circulation, paper = self.services.circulation, self.tenant.code
        base_url = self.services.settings.public_base_url

        async def read(subscription_id: str) -> list[BillStatement]:
            records = await circulation.get_statements(paper, subscription_id)
            return [BillStatement.from_record(r, subscription_id, base_url) for r in records]

        return await self._single_calls(ids, read)

    @cached_property
    def current_plan_by_subscription_id(self) -> DataLoader:
        """`load(id)` → CurrentPlan; None for an id the circulation system lacks."""
        return DataLoader(self._current_plan_by_subscription_id)

    async def _current_plan_by_subscription_id(self, ids: Sequence[str]) -> list[Any]:
        circulation, tenant = self.services.circulation, self.tenant

        async def read(subscription_id: str) -> CurrentPlan:
            plan = await circulation.get_current_plan(tenant.code, subscription_id, tenant.circulation_kind)
            return CurrentPlan.from_plan(plan, tenant.currency)

        return await self._single_calls(ids, read)

    async def _single_calls(self, ids: Sequence[str], read: Callable[[str], Awaitable[Any]]) -> list[Any]:
        bound = self._upstream_single_calls

        async def one(subscription_id: str) -> Any:
            async with bound:
                try:
                    return await read(subscription_id)
                except UpstreamNotFound as error:
                    if isinstance(error.body, dict) and error.body.get("code") == "SUBSCRIPTION_NOT_FOUND":
                        return None
                    raise

        results = await asyncio.gather(*(one(i) for i in ids), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, Exception):
                raise result
        return results
