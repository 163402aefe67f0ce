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
from resolvers.payment_flows import CLIENT_TOTAL, ChargeInput, mutation_types, payment_mutation, prepare_tip
from schema.payments import TipQuoteInput

TYPES = mutation_types("AddTip", (
    ErrorCode.TIP_NOT_ALLOWED, ErrorCode.TIP_TOO_LARGE,
))
AddTipErrorCode = TYPES.codes
AddTipError = TYPES.error
AddTipPayload = TYPES.payload


@strawberry.input
class AddTipInput(ChargeInput, TipQuoteInput):
    total: Decimal = strawberry.field(description=CLIENT_TOTAL + " \"0.00\" for a recurring tip (FEE-4).")


@strawberry.type
class AddTip:
    @strawberry.mutation(description=(
        "Leave a tip (TIP-1, TIP-2): one-time, charged now to the subscription's payment method, or recurring, "
        "added to auto-pay's renewals."
    ), extensions=allow(changes(PAYMENTS), customer_owner(arg("input", "subscription_id"))))
    async def add_tip(self, info: Info, input: AddTipInput) -> Optional[AddTipPayload]:
        return await payment_mutation(info, "addTip", input, lambda facts: prepare_tip(facts, input), TYPES)
