"""Idempotency records of mutations, one per tenant and client key (a unique constraint decides races,
also between server processes sharing the database).

    claim = await repository.claim(tenant_id, key, operation, request_hash)
    claim.outcome: NEW (run the operation, then `complete` or `release`), REPLAY (`claim.response` is the
    first answer), IN_PROGRESS (the first request is still running), MISMATCH (the key was used for
    another request).

What a mutation completes a record with is its choice: purchase remembers successes only (a failure
releases the key); the payment mutations remember failures too (PAY-4). `wait` lets a concurrent
duplicate wait, boundedly, for the first request's answer. Records are kept at least 24 hours:
`delete_completed_before` (run by `papergraph reconcile`) removes older ones, `stale_in_progress` finds
the records of requests that died before finishing.

Every REPLAY this repository answers (from `claim`, or from `wait` once the first request completed) is counted
in `papergraph_idempotent_replays_total` under the operation's name, here rather than in each mutation, so no
keyed mutation can forget it: a REPLAY claim is what a mutation answers from its key's first answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import asyncio
import time
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from datasources.db import Database
from datasources.models import IdempotencyRecord, utcnow
from telemetry import metrics


class ClaimOutcome(Enum):
    NEW = "NEW"
    REPLAY = "REPLAY"
    IN_PROGRESS = "IN_PROGRESS"
    MISMATCH = "MISMATCH"


@dataclass(frozen=True)
class Claim:
    outcome: ClaimOutcome
    record_id: int | None = None
    response: dict[str, Any] | None = None


def _replay(record: IdempotencyRecord) -> Claim:
    """The completed record's first answer, counted as a replay of its operation."""
    metrics.record_idempotent_replay(record.operation)
    return Claim(ClaimOutcome.REPLAY, record.id, record.response)


class IdempotencyRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def claim(self, tenant_id: int, key: str, operation: str, request_hash: str, _attempt: int = 0) -> Claim:
        async with self.db.session() as session:
            record = IdempotencyRecord(tenant_id=tenant_id, key=key, operation=operation, request_hash=request_hash)
            session.add(record)
            try:
                await session.commit()
                return Claim(ClaimOutcome.NEW, record.id)
            except IntegrityError:
                await session.rollback()
            existing = (await session.execute(select(IdempotencyRecord).where(
                IdempotencyRecord.tenant_id == tenant_id, IdempotencyRecord.key == key))).scalar_one_or_none()
        if existing is None:  # released between our insert and our read: try again, a bounded number of times
            if _attempt >= 2:
                return Claim(ClaimOutcome.IN_PROGRESS)
            return await self.claim(tenant_id, key, operation, request_hash, _attempt + 1)
        if existing.operation != operation or existing.request_hash != request_hash:
            return Claim(ClaimOutcome.MISMATCH, existing.id)
        if existing.state != "COMPLETED":
            return Claim(ClaimOutcome.IN_PROGRESS, existing.id)
        return _replay(existing)

    async def wait(self, tenant_id: int, key: str, operation: str, request_hash: str, *, timeout: float,
                   first_delay: float = 0.02, max_delay: float = 0.25) -> Claim:
        """Poll, with a growing delay and for at most `timeout` seconds, until the request holding the key
        has completed it (REPLAY) or released it (then this caller claims it: NEW). IN_PROGRESS when the
        time is up."""
        deadline = time.monotonic() + timeout
        delay = first_delay
        while time.monotonic() < deadline:
            await asyncio.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, max_delay)
            async with self.db.session() as session:
                existing = (await session.execute(select(IdempotencyRecord).where(
                    IdempotencyRecord.tenant_id == tenant_id, IdempotencyRecord.key == key))).scalar_one_or_none()
            if existing is None:
                return await self.claim(tenant_id, key, operation, request_hash)
            if existing.operation != operation or existing.request_hash != request_hash:
                return Claim(ClaimOutcome.MISMATCH, existing.id)
            if existing.state == "COMPLETED":
                return _replay(existing)
        return Claim(ClaimOutcome.IN_PROGRESS)

    async def complete(self, record_id: int, response: dict[str, Any]) -> None:
        async with self.db.session() as session:
            await session.execute(sa.update(IdempotencyRecord).where(IdempotencyRecord.id == record_id).values(
                state="COMPLETED", response=response, completed_at=utcnow()))
            await session.commit()

    async def release(self, record_id: int) -> None:
        """The first attempt failed and changed nothing: the key may be used again."""
        async with self.db.session() as session:
            await session.execute(sa.delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id,
                                                                     IdempotencyRecord.state != "COMPLETED"))
            await session.commit()

    # housekeeping (papergraph reconcile) ------------------------------------------------------------
    async def stale_in_progress(self, started_before: datetime, limit: int = 500) -> list[IdempotencyRecord]:
        async with self.db.session() as session:
            return list((await session.execute(select(IdempotencyRecord).where(
                IdempotencyRecord.state == "IN_PROGRESS", IdempotencyRecord.created_at < started_before)
                .order_by(IdempotencyRecord.id).limit(limit))).scalars())

    async def delete_completed_before(self, cutoff: datetime) -> int:
        async with self.db.session() as session:
            result = await session.execute(sa.delete(IdempotencyRecord).where(
                IdempotencyRecord.state == "COMPLETED", IdempotencyRecord.created_at < cutoff))
            await session.commit()
            return result.rowcount or 0
