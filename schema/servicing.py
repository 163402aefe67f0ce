"""Servicing as papergraph shows it: temporary stops (STP-1, STP-2) read live from the circulation system, and
delivery complaints (CMP-1..3) as papergraph recorded them."""

from __future__ import annotations

from datetime import date, datetime, timezone
from enum import Enum
from typing import Any, Optional

import strawberry

from schema.registrations import TemporaryEntitlement


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


@strawberry.enum(description="How a delivery complaint is resolved (CMP-2, CMP-3).")
class ComplaintResolution(Enum):
    NONE = strawberry.enum_value("NONE", description="Recorded only.")
    EEDITION_ACCESS = strawberry.enum_value("EEDITION_ACCESS", description=(
        "The reporter gets e-edition (EEDITION) access as a temporary entitlement, reason COMPLAINT, until 00:00 "
        "of the day after tomorrow in the tenant's time zone, like a day pass (CMP-2)."))
    REDELIVERY = strawberry.enum_value("REDELIVERY", description=(
        "Today's missed print delivery is redelivered: print only, today only, one per date (CMP-3)."))


@strawberry.type(description="A delivery-complaint category of the tenant (CMP-1).")
class ComplaintCategory:
    code: str = strawberry.field(description="The code `fileComplaint` takes, e.g. MISSED.")
    description: str = strawberry.field(description="What the category means, for display.")


@strawberry.type(description="A delivery complaint filed on a subscription (CMP-1), as papergraph recorded it.")
class Complaint:
    id: strawberry.ID = strawberry.field(description="The id of the complaint's COMPLAINT event.")
    circulation_complaint_id: Optional[str] = strawberry.field(description=(
        "The circulation system's id of the complaint."))
    category: str = strawberry.field(description="The category code (see `complaintCategories`).")
    delivery_date: date = strawberry.field(description="The delivery the complaint is about, in the tenant's calendar.")
    resolution: ComplaintResolution = strawberry.field(description="How it was resolved.")
    created_at: datetime = strawberry.field(description="When it was filed.")
    temporary_entitlement: Optional[TemporaryEntitlement] = strawberry.field(description=(
        "The e-edition access it granted (CMP-2); null for other resolutions."))

    @classmethod
    def from_event(cls, event: Any, entitlement: Any, now: datetime) -> "Complaint":
        details = event.details or {}
        created = event.created_at if event.created_at.tzinfo else event.created_at.replace(tzinfo=timezone.utc)
        return cls(id=strawberry.ID(str(event.id)), circulation_complaint_id=details.get("complaintId"),
                   category=event.reason or details.get("category", ""),
                   delivery_date=date.fromisoformat(details["deliveryDate"]),
                   resolution=ComplaintResolution(details.get("resolution", "NONE")), created_at=created,
                   temporary_entitlement=TemporaryEntitlement.from_row(entitlement, now) if entitlement else None)


@strawberry.type(description="A reason a subscriber may give for stopping, from the tenant's list (STP-5).")
class StopReason:
    code: str = strawberry.field(description="The code `cancelSubscription` takes as its reason, e.g. PRICE.")
    description: str = strawberry.field(description="What the reason means, for display.")


@strawberry.enum(description="A step of the StopSaver retention flow, in the order shown (STP-3, STP-4).")
class StopSaverStep(Enum):
    TEMPORARY_STOP = strawberry.enum_value("TEMPORARY_STOP", description=(
        "Offer a temporary stop instead: print subscribers only, and skipped when its data fails to load (STP-3)."))
    DOWNGRADE = strawberry.enum_value("DOWNGRADE", description="Offer a lower rate of the same offer group (STP-4).")
    CANCEL = strawberry.enum_value("CANCEL", description="Cancel with a reason from `stopReasons` (STP-4, STP-5).")


@strawberry.type(description="The StopSaver flow for one subscription: the steps the front end walks (STP-3).")
class StopSaver:
    subscription_id: strawberry.ID = strawberry.field(description="The subscription the flow is for.")
    steps: list[StopSaverStep] = strawberry.field(description="The steps to show, in order.")
    temporary_stop_dates: Optional[list[date]] = strawberry.field(description=(
        "The dates offered for the temporary-stop step; null when that step is not shown."))
