"""Loaders of the servicing domain: a subscription's temporary stops (STP-1), read live, and its complaints
(CMP-1, CMP-2), one SQL round for a whole batch.

The circulation system has no batch endpoint for stops, so the loader issues single calls concurrently under
the request's shared bound (`_upstream_single_calls`, see the subscriptions loaders); a failed call fails only
its own key.
"""

from __future__ import annotations

import asyncio
from functools import cached_property
from typing import Sequence

from collections import defaultdict
from datetime import datetime, timezone

from datasources.base import UpstreamNotFound
from datasources.repositories.servicing import ComplaintRepository
from resolvers.dataloaders.batching import DataLoader
from schema.servicing import Complaint, TemporaryStop


class ServicingLoaders:
    @cached_property
    def temporary_stops_by_subscription_id(self) -> DataLoader:
        """`load(id)` → list[TemporaryStop] by start date; None for an id the circulation system lacks."""
        return DataLoader(self._temporary_stops_by_subscription_id)

    async def _temporary_stops_by_subscription_id(self, ids: Sequence[str]
                                                  ) -> list[list[TemporaryStop] | None | Exception]:
        circulation, paper, bound = self.services.circulation, self.tenant.code, self._upstream_single_calls

        async def stops(subscription_id: str) -> list[TemporaryStop] | None:
            async with bound:
                try:
                    records = await circulation.get_temporary_stops(paper, subscription_id)
                except UpstreamNotFound as error:
                    if isinstance(error.body, dict) and error.body.get("code") == "SUBSCRIPTION_NOT_FOUND":
                        return None
                    raise
            return [TemporaryStop.from_record(r) for r in records]

        results = await asyncio.gather(*(stops(i) for i in ids), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, Exception):
                raise result
        return results

    @cached_property
    def temporary_stop_dates_by_subscription_id(self) -> DataLoader:
        """`load(id)` → the offered stop dates (STP-1), read live once per request however many fields ask
        (`temporaryStopDates` and `stopSaver` in one console query); a failed read fails only its key."""
        return DataLoader(self._temporary_stop_dates_by_subscription_id)

    async def _temporary_stop_dates_by_subscription_id(self, ids: Sequence[str]) -> list:
        circulation, paper, bound = self.services.circulation, self.tenant.code, self._upstream_single_calls

        async def dates(subscription_id: str):
            async with bound:
                return await circulation.get_temporary_stop_dates(paper, subscription_id)

        results = await asyncio.gather(*(dates(i) for i in ids), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, Exception):
                raise result
        return results

    @cached_property
    def complaints_by_subscription_id(self) -> DataLoader:
        """`load(id)` → list[Complaint], oldest first, each with the e-edition access it granted."""
        return DataLoader(self._complaints_by_subscription_id)

    async def _complaints_by_subscription_id(self, ids: Sequence[str]) -> list[list[Complaint]]:
        events, granted = await ComplaintRepository(self.services.db).by_subscription_ids(self.tenant.id, ids)
        now = datetime.now(timezone.utc)
        grouped: dict[str, list[Complaint]] = defaultdict(list)
        for event in events:
            grouped[event.subscription_id].append(Complaint.from_event(event, granted.get(event.id), now))
        return [grouped.get(i, []) for i in ids]
