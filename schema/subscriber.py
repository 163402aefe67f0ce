"""Subscriber address moves as papergraph shows them (ADR-3, ADR-4), and the address input of `moveSubscriber`."""

from __future__ import annotations

from datetime import date
from typing import Any, Optional

import strawberry

from schema.subscriptions import SubscriberAddress


@strawberry.type(description="A dated change of the delivery address, as the circulation system keeps it (ADR-3).")
class AddressMove:
    id: strawberry.ID = strawberry.field(description="The circulation system's id of the move.")
    effective_date: date = strawberry.field(description="The first day delivered to the new address, tenant time.")
    address: SubscriberAddress = strawberry.field(description="The new address.")
    billing_method: Optional[str] = strawberry.field(description="NCS comp-subscription moves only (ADR-4).")
    rate_code: Optional[str] = strawberry.field(description="NCS comp-subscription moves only (ADR-4).")
    status: str = strawberry.field(description="SCHEDULED until its effective date, then APPLIED.")

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> "AddressMove":
        return cls(id=strawberry.ID(record["id"]), effective_date=date.fromisoformat(record["effectiveDate"]),
                   address=SubscriberAddress.from_record(record["address"]),
                   billing_method=record.get("billingMethod"), rate_code=record.get("rateCode"),
                   status=record["status"])


@strawberry.input(description="A full delivery address (ADR-3): never country-only, which is BUY-2's.")
class SubscriberAddressInput:
    house_number: str
    street_name: str
    city: str
    postal_code: str = strawberry.field(description="Must match the tenant's PostalCodeMask (ADR-3, SUB-3).")
    country: str = strawberry.field(description="ISO 3166 alpha-2 code, e.g. US, NO, AU.")
    level_designator: Optional[str] = strawberry.field(default=None, description=(
        "Australian level designator from address standardization, e.g. Level or Floor (ADR-4); AU addresses only, "
        "together with `levelNumber`."))
    level_number: Optional[str] = strawberry.field(default=None, description="The level's number (ADR-4).")

    def as_dict(self) -> dict[str, Optional[str]]:
        return {"houseNumber": self.house_number, "streetName": self.street_name, "city": self.city,
                "postalCode": self.postal_code, "country": self.country, "levelDesignator": self.level_designator,
                "levelNumber": self.level_number}
