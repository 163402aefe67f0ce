"""A loader's future is shared by every field that asks for the same key. graphql-core cancels the sibling fields
of a non-null field that failed (`gather_with_cancel`); cancelling a task that awaits a shared future must not
cancel the future itself, or every other field waiting on that key gets `CancelledError`, which is not an
`Exception`: it escapes GraphQL's error handling and fails the whole request (found by tests/test_fuzz_consent.py,
`household_level` raising CancelledError)."""

from __future__ import annotations

import asyncio

from resolvers.dataloaders.batching import DataLoader


async def test_cancelling_one_waiter_of_a_key_leaves_the_others_their_value():
    # given: a loader whose batch takes a moment, and two fields waiting on the same key
    release = asyncio.Event()

    async def _levels_by_id(keys):
        await release.wait()
        return [f"level {key}" for key in keys]

    loader = DataLoader(_levels_by_id)

    async def field():
        return await loader.load(8)

    cancelled = asyncio.ensure_future(field())
    survivor = asyncio.ensure_future(field())
    await asyncio.sleep(0)  # both are waiting on the key's future

    # when: graphql-core cancels the first (a failed non-null sibling), then the batch answers
    cancelled.cancel()
    await asyncio.sleep(0)
    release.set()

    # then: the other field still gets its value
    assert await survivor == "level 8"
    assert cancelled.cancelled()


async def test_a_failed_batch_still_reaches_every_waiter():
    async def _levels_by_id(keys):
        raise ValueError("upstream refused")

    loader = DataLoader(_levels_by_id)

    results = await asyncio.gather(loader.load(1), loader.load(1), return_exceptions=True)

    assert [type(r) for r in results] == [ValueError, ValueError]
