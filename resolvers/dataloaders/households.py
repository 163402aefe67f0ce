"""Loaders of the household-levels domain."""

from __future__ import annotations

from functools import cached_property
from typing import Sequence

from resolvers.dataloaders.batching import DataLoader
from schema.households import HouseholdLevel


class HouseholdLoaders:
    @cached_property
    def household_level_by_id(self) -> DataLoader:
        return DataLoader(self._household_levels_by_id)

    async def _household_levels_by_id(self, ids: Sequence[int]) -> list[HouseholdLevel | None]:
        rows = await self.services.db.household_levels_by_ids(self.tenant.id, ids)
        by_id = {row.level_id: HouseholdLevel.from_row(row) for row in rows}
        return [by_id.get(i) for i in ids]
