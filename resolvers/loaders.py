"""Per-request dataloaders. Built once per request in `Loaders(...)` (a module-level loader would keep
its cache forever and across tenants); each calls one bulk datasource method, realigns results to the
keys, and answers `None` for an unknown key. Loaders are scoped to the request's tenant."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Awaitable, Sequence

from aiodataloader import DataLoader

from schema.households import HouseholdLevel
from schema.subscriptions import CustomerSubscription

if TYPE_CHECKING:
    from app import Services
    from domain.tenants import TenantContext


def _loader(batch: Callable[[Sequence[Any]], Awaitable[list[Any]]], max_batch_size: int | None = None) -> DataLoader:
    return DataLoader(batch_load_fn=batch, max_batch_size=max_batch_size)


class Loaders:
    def __init__(self, services: "Services", tenant: "TenantContext") -> None:
        self.services = services
        self.tenant = tenant
        self.subscription_by_id = _loader(self._subscriptions_by_id)
        self.household_level_by_id = _loader(self._household_levels_by_id)

    async def _subscriptions_by_id(self, ids: Sequence[str]) -> list[CustomerSubscription | None]:
        records = await self.services.circulation.get_subscriptions(self.tenant.code, list(ids))
        return [CustomerSubscription.from_record(records[i]) if i in records else None for i in ids]

    async def _household_levels_by_id(self, ids: Sequence[int]) -> list[HouseholdLevel | None]:
        rows = await self.services.db.household_levels_by_ids(self.tenant.id, ids)
        by_id = {row.level_id: HouseholdLevel.from_row(row) for row in rows}
        return [by_id.get(i) for i in ids]
