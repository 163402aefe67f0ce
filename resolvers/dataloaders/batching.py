"""The DataLoader every per-request loader uses: aiodataloader's, recording the size of each batch.

`papergraph_dataloader_batch_size{loader}` (telemetry/metrics.py) is labelled with the batch function's name
(`_subscriptions_by_id` → `subscriptions_by_id`), so the loaders need nothing but this import:
`from resolvers.dataloaders.batching import DataLoader`. A batch of 1 on a list field is an N+1 in waiting.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Sequence

import aiodataloader

from telemetry import metrics


class DataLoader(aiodataloader.DataLoader):
    def __init__(self, batch_load_fn: Callable[[Sequence[Any]], Awaitable[list[Any]]], **kwargs: Any) -> None:
        self.name = batch_load_fn.__name__.lstrip("_")
        sizes = metrics.child(metrics.DATALOADER_BATCH_SIZE, self.name)

        async def measured_batch(keys: Sequence[Any]) -> list[Any]:
            sizes.observe(len(keys))
            return await batch_load_fn(keys)

        super().__init__(measured_batch, **kwargs)

    def load(self, key: Any) -> "asyncio.Future[Any]":
        """The key's shared future, shielded per caller: graphql-core cancels the siblings of a failed non-null
        field, and cancelling a task that awaits the shared future itself would cancel it for every other field
        waiting on that key (a CancelledError escapes GraphQL's error handling and fails the whole request)."""
        return asyncio.shield(super().load(key))


def prefetch(loader: DataLoader, keys: Sequence[Any]) -> None:
    """Ask `loader` for `keys` now, so that their batch is dispatched in this tick beside whatever the caller
    awaits next, and fields that load the same keys later find them cached. Nobody awaits the prefetch itself:
    an error is left for those fields to report (aiodataloader keeps each key's failed future), and retrieved
    here so asyncio does not log it as never retrieved."""
    for future in [loader.load(key) for key in keys]:
        future.add_done_callback(_retrieve)


def _retrieve(future: "asyncio.Future[Any]") -> None:
    if not future.cancelled():
        future.exception()
