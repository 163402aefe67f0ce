"""Payment methods as papergraph shows them: masked only (PM-4), never the gateway token, a full card
number or a CVV. The type is built from the stored row by `PaymentMethod.from_row`, which copies the
masked columns one by one, so a column added to the table later is not exposed by accident."""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum
from typing import Optional

import strawberry

from domain.availability import PaymentMethodKind


@strawberry.enum(description="PM-1: credit card or bank account.")
class PaymentMethodType(Enum):
    CREDIT_CARD = PaymentMethodKind.CREDIT_CARD.value
    BANK = PaymentMethodKind.BANK.value


@strawberry.type(description=(
    "The payment method attached to a subscription, masked (PM-4): card brand, last four digits and expiry, "
    "or bank name, masked account and routing number."
))
class PaymentMethod:
    type: PaymentMethodType
    card_brand: Optional[str] = strawberry.field(description="e.g. VISA; null for a bank account.")
    card_last4: Optional[str] = strawberry.field(description="Last four digits of the card; null for a bank account.")
    card_expiry: Optional[str] = strawberry.field(description="MM/YY; null for a bank account.")
    bank_name: Optional[str] = strawberry.field(description="Null for a card.")
    bank_account_masked: Optional[str] = strawberry.field(description="e.g. ****6789; null for a card.")
    bank_routing_number: Optional[str] = strawberry.field(description="Null for a card.")
    attached_at: datetime

    @classmethod
    def from_row(cls, row) -> "PaymentMethod":
        is_card = row.type == PaymentMethodType.CREDIT_CARD.value
        attached = row.attached_at
        if attached is not None and attached.tzinfo is None:  # SQLite drops the zone; written in UTC
            attached = attached.replace(tzinfo=timezone.utc)
        return cls(
            type=PaymentMethodType(row.type),
            card_brand=row.card_brand if is_card else None,
            card_last4=row.card_last4 if is_card else None,
            card_expiry=row.card_expiry if is_card else None,
            bank_name=None if is_card else row.bank_name,
            bank_account_masked=None if is_card else row.bank_account_masked,
            bank_routing_number=None if is_card else row.bank_routing_number,
            attached_at=attached,
        )
