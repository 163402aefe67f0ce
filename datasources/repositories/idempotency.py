"""Idempotency records of mutations, one per tenant and client key (a unique constraint decides races).

    claim = await repository.claim(tenant_id, key, operation, request_hash)
    claim.outcome: NEW (run the operation, then `complete` or `release`), REPLAY (`claim.response` is the
    first success's answer), IN_PROGRESS (the first request is still running), MISMATCH (the key was used
    for another request).

Reusable by every mutation that takes an `idempotencyKey` (purchase here; the payment mutations can too).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from datasources.db import Database
from datasources.models import IdempotencyRecord, utcnow


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
        return Claim(ClaimOutcome.REPLAY, existing.id, existing.response)

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
