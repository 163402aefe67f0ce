"""The subscriber's address and its moves as papergraph shows them (ADR-3, ADR-4), and the address input of
`moveSubscriber`."""

from __future__ import annotations

from datetime import date
from typing import Any, Optional

import strawberry
from strawberry.types import Info

from auth.permissions import SUBSCRIPTIONS, allow, customer_linked, parent, reads


@strawberry.type(description="The subscriber's postal address, as the circulation system holds it.")
class SubscriberAddress:
    house_number: Optional[str]
    street_name: Optional[str]
    city: Optional[str]
    postal_code: Optional[str]
    country: Optional[str]
    level_designator: Optional[str] = strawberry.field(default=None, description=(
        "Australian level designator from address standardization, e.g. Level (ADR-4); null when none."))
    level_number: Optional[str] = strawberry.field(default=None, description="The level's number (ADR-4).")

    @classmethod
    def from_record(cls, address: dict[str, Any]) -> "SubscriberAddress":
        return cls(house_number=address.get("houseNumber"), street_name=address.get("streetName"),
                   city=address.get("city"), postal_code=address.get("postalCode"), country=address.get("country"),
                   level_designator=address.get("levelDesignator"), level_number=address.get("levelNumber"))


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
        "together with `levelNumber`, and only while the tenant's MelissaDataIntegration is GlobalOnPremise or "
        "GlobalCheckAPI (else LEVEL_NOT_ENABLED)."))
    level_number: Optional[str] = strawberry.field(default=None, description="The level's number (ADR-4).")

    def as_dict(self) -> dict[str, Optional[str]]:
        return {"houseNumber": self.house_number, "streetName": self.street_name, "city": self.city,
                "postalCode": self.postal_code, "country": self.country, "levelDesignator": self.level_designator,
                "levelNumber": self.level_number}


def subscription_address_moves_field():
    """`CustomerSubscription.addressMoves`, owned here so that this module needs nothing of schema/subscriptions.py."""

    async def address_moves(root, info: Info) -> list[AddressMove]:
        records = await info.context.services.circulation.get_moves(info.context.tenant.code, str(root.id))
        return [AddressMove.from_record(record) for record in records]

    return strawberry.field(resolver=address_moves, description=(
        "The subscriber's address moves, oldest first, each SCHEDULED until its effective date and APPLIED from "
        "then (ADR-3), read live from the circulation system. One upstream call per subscription."
    ), extensions=allow(reads(SUBSCRIPTIONS), customer_linked(parent("id"))))
