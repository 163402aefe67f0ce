"""`addTip`: a one-time or recurring tip (TIP-1, TIP-2, FEE-4, PM-1, PM-5, NOT-1).

Tips exist on NCS only (PM-1). A recurring tip needs auto-pay and is added to its renewals, charging
nothing now and carrying no fee; a one-time tip is refused for digital and stopped subscriptions and is
charged now, with the processing fee when paid by credit card (TIP-1, FEE-4). The amount is greater than
zero and at most `Payments.MaximumTipAmountAllowed` (TIP-2). Exactly once per idempotency key
(`resolvers/payment_flows.py`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import PAYMENTS, allow, arg, changes, customer_owner
from domain.payments import ErrorCode
from resolvers.mutation_support import error_type
from resolvers.payment_flows import (
    CLIENT_FEE, CLIENT_TOTAL, IDEMPOTENCY_KEY, MoneyRequest, answer, error_codes, payload_type, prepare_tip,
    run_payment,
)
from schema.payments import TipQuoteInput

AddTipErrorCode = error_codes("AddTip", (ErrorCode.TIP_NOT_ALLOWED, ErrorCode.TIP_TOO_LARGE))
AddTipError = error_type("AddTip", AddTipErrorCode)
AddTipPayload = payload_type("AddTip", AddTipError)


@strawberry.input
class AddTipInput(TipQuoteInput):
    subscription_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=IDEMPOTENCY_KEY)
    total: Decimal = strawberry.field(description=CLIENT_TOTAL + " \"0.00\" for a recurring tip.")
    processing_fee: Optional[Decimal] = strawberry.field(default=None, description=CLIENT_FEE)
    processing_fee_tax: Optional[Decimal] = strawberry.field(default=None, description=CLIENT_FEE)


@strawberry.type
class AddTip:
    @strawberry.mutation(description=(
        "Leave a tip (TIP-1, TIP-2): one-time, charged now to the subscription's payment method, or recurring, "
        "added to auto-pay's renewals."
    ), extensions=allow(changes(PAYMENTS), customer_owner(arg("input", "subscription_id"))))
    async def add_tip(self, info: Info, input: AddTipInput) -> Optional[AddTipPayload]:
        response = await run_payment(info.context, MoneyRequest(
            operation="addTip", subscription_id=str(input.subscription_id).strip(),
            idempotency_key=input.idempotency_key, input=input, prepare=lambda facts: prepare_tip(facts, input),
            total=input.total, processing_fee=input.processing_fee, processing_fee_tax=input.processing_fee_tax))
        return (await answer(info.context, response)).payload(AddTipPayload, AddTipError, AddTipErrorCode)
