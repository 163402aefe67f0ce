"""SQL of persisted operations (server/persisted.py): documents known by their SHA-256, shared by every
server process through the database."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from datasources.db import Database
from datasources.models import PersistedOperation


class PersistedOperationRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def by_sha256(self, sha256: str) -> PersistedOperation | None:
        async with self.db.session() as session:
            return (await session.execute(select(PersistedOperation).where(PersistedOperation.sha256 == sha256))
                    ).scalar_one_or_none()

    async def save(self, sha256: str, document: str, *, operation_name: str | None = None,
                   safelisted: bool = False) -> bool:
        """Store a document unless its hash is known; safelisting marks a known one too. True when the
        call added or safelisted it. Concurrent saves of one hash (several processes) end in one row."""
        for _attempt in range(2):
            async with self.db.session() as session:
                row = (await session.execute(select(PersistedOperation).where(PersistedOperation.sha256 == sha256))
                       ).scalar_one_or_none()
                if row is not None:
                    if not safelisted or row.safelisted:
                        return False
                    row.safelisted = True
                    row.operation_name = operation_name or row.operation_name
                else:
                    session.add(PersistedOperation(sha256=sha256, document=document, operation_name=operation_name,
                                                   safelisted=safelisted))
                try:
                    await session.commit()
                    return True
                except IntegrityError:
                    await session.rollback()  # another process stored it first: look again
        return False
