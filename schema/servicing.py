"""Servicing as papergraph shows it: temporary stops (STP-1, STP-2) read live from the circulation system."""

from __future__ import annotations

from datetime import date
from typing import Any, Optional

import strawberry


@strawberry.type(description=(
    "A temporary stop (vacation hold) of print delivery, as the circulation system holds it (STP-1): delivery is "
    "suspended from `startDate` and resumes on `restartDate`."))
class TemporaryStop:
    id: strawberry.ID = strawberry.field(description="The circulation system's id of the stop.")
    start_date: date = strawberry.field(description="The first day without delivery, in the tenant's calendar.")
    restart_date: Optional[date] = strawberry.field(description=(
        "The day delivery resumes; null while the stop is open-ended (set it with changeTemporaryStopRestart)."))
    reason: Optional[str] = strawberry.field(description="Why delivery stops, e.g. VACATION.")

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> "TemporaryStop":
        restart = record.get("restartDate")
        return cls(id=strawberry.ID(str(record["id"])), start_date=date.fromisoformat(record["startDate"]),
                   restart_date=date.fromisoformat(restart) if restart else None, reason=record.get("reason"))
