"""Subscriptions as papergraph shows them (SUB-1). The GraphQL name is `CustomerSubscription`:
`Subscription` is the root subscription type's name in Apollo composition."""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Any, Optional

import strawberry
from strawberry.types import Info

from schema.common import Money
from schema.households import HouseholdLevel


@strawberry.enum(description="SUB-1")
class SubscriptionStatus(Enum):
    ACTIVE = "ACTIVE"
    STOPPED = "STOPPED"
    PERMANENTLY_STOPPED = "PERMANENTLY_STOPPED"
    PAUSED = "PAUSED"
    IN_GRACE = "IN_GRACE"


@strawberry.enum(description="SUB-1")
class SubscriptionKind(Enum):
    REGULAR = "REGULAR"
    TRIAL = "TRIAL"
    COMPLIMENTARY = "COMPLIMENTARY"
    GIFT = "GIFT"
    PAID_PASS = "PAID_PASS"


@strawberry.federation.type(keys=["id"], name="CustomerSubscription",
                            description="A subscription in the tenant's circulation system (SUB-1).")
class CustomerSubscription:
    id: strawberry.ID
    account_number: str
    status: SubscriptionStatus
    kind: SubscriptionKind
    delivery_schedule: str = strawberry.field(description="e.g. 7-Day, Digital; a PAID_PASS has DayPass.")
    digital: bool
    start_date: date
    end_date: Optional[date] = strawberry.field(description="Shown whatever the status.")
    balance: Money = strawberry.field(description="> 0 is a credit, < 0 a debt.")
    auto_pay: bool
    ebill: bool
    billing_method: str
    customer_reference_number: str = strawberry.field(description="May be empty.")
    name: Optional[str] = strawberry.field(description="Optional name given at purchase.")
    household_level_id: Optional[int]

    @strawberry.field(description="The household level this subscription references (HHL-1).")
    async def household_level(self, info: Info) -> Optional[HouseholdLevel]:
        if self.household_level_id is None:
            return None
        return await info.context.loaders.household_level_by_id.load(self.household_level_id)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> "CustomerSubscription":
        level = record.get("householdLevelId")
        end = record.get("endDate")
        return cls(
            id=strawberry.ID(record["id"]),
            account_number=record["accountNumber"],
            status=SubscriptionStatus(record["status"]),
            kind=SubscriptionKind(record["kind"]),
            delivery_schedule=record["deliverySchedule"],
            digital=bool(record["digital"]),
            start_date=_date(record["startDate"]),
            end_date=_date(end) if end else None,
            balance=Money.of(record["balance"], record["currency"]),
            auto_pay=bool(record["autoPay"]),
            ebill=bool(record["ebill"]),
            billing_method=record["billingMethod"],
            customer_reference_number=record.get("customerReferenceNumber") or "",
            name=record.get("name"),
            household_level_id=int(level) if level is not None else None,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> "CustomerSubscription | None":
        return await info.context.loaders.subscription_by_id.load(str(id))


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)
