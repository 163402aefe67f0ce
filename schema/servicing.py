"""Servicing as papergraph shows it: temporary stops (STP-1, STP-2) read live from the circulation system, and
delivery complaints (CMP-1..3) as papergraph recorded them."""

from __future__ import annotations

from datetime import date, datetime, timezone
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Optional

import strawberry

from schema.common import Money
from schema.registrations import TemporaryEntitlement

if TYPE_CHECKING:
    from schema.offers import Offer

LazyOffer = Annotated["Offer", strawberry.lazy("schema.offers")]


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
    downgrade_offers: list[LazyOffer] = strawberry.field(description=(
        "The offers the downgrade step offers (STP-4): the same offer group at a lower rate (an offer's rate is "
        "its lowest commercial rate), valid today, cheapest first; empty when there is none."))


@strawberry.enum(description="How a StopSaver flow ended (STP-4).")
class StopSaverOutcome(Enum):
    TEMPORARY_STOP = strawberry.enum_value("TEMPORARY_STOP", description="A temporary stop was scheduled instead.")
    DOWNGRADED = strawberry.enum_value("DOWNGRADED", description="A downgrade waits for the next renewal.")
    CANCELLED = strawberry.enum_value("CANCELLED", description="The subscription was cancelled.")


@strawberry.type(description=(
    "One walk through StopSaver (STP-4), kept by papergraph as events: the front end starts it "
    "(`startStopSaver`), passes over steps in order (`passStopSaverStep`) and ends it with `scheduleTemporaryStop`, "
    "`downgradeSubscription` or `cancelSubscription`, each given `stopSaverId`."))
class StopSaverFlow:
    id: strawberry.ID = strawberry.field(description=(
        "The flow's id: the id of its STOPSAVER event, the parent event of everything recorded in it."))
    subscription_id: strawberry.ID = strawberry.field(description="The subscription the flow is for.")
    steps: list[StopSaverStep] = strawberry.field(description="The steps of this flow, in order, fixed at its start.")
    passed_steps: list[StopSaverStep] = strawberry.field(description="The steps the subscriber passed over.")
    current_step: Optional[StopSaverStep] = strawberry.field(description=(
        "The step to show now; null once the flow has ended."))
    outcome: Optional[StopSaverOutcome] = strawberry.field(description="How the flow ended; null while it runs.")

    @classmethod
    def of(cls, flow_id: int, subscription_id: str, state: Any) -> "StopSaverFlow":
        return cls(id=strawberry.ID(str(flow_id)), subscription_id=strawberry.ID(subscription_id),
                   steps=[StopSaverStep(s) for s in state.steps], passed_steps=[StopSaverStep(s) for s in state.passed],
                   current_step=StopSaverStep(state.current) if state.current else None,
                   outcome=StopSaverOutcome(state.outcome) if state.outcome else None)


@strawberry.type(description="A downgrade waiting for the subscription's next renewal (STP-4).")
class ScheduledDowngrade:
    offer_id: strawberry.ID = strawberry.field(description="The offer (product) the subscription renews on.")
    term: str = strawberry.field(description="The term it renews on: the offer's lowest-rate commercial term.")
    rate: Money = strawberry.field(description="The term's rate before tax.")
    effective_date: date = strawberry.field(description=(
        "The renewal day the downgrade applies, in the tenant's calendar (the current term's end)."))
    reason: str = strawberry.field(description="The stop-reason code given (see `stopReasons`).")

    @classmethod
    def from_record(cls, record: dict[str, Any], currency: str) -> "ScheduledDowngrade":
        return cls(offer_id=strawberry.ID(str(record["productCode"])), term=record["term"],
                   rate=Money.of(record["rate"], currency), effective_date=date.fromisoformat(record["effectiveDate"]),
                   reason=record["reason"])
