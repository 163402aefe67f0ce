"""`updateAutoPay`: change a subscription's auto-pay plan (EZ-2, PM-1, PM-3, PM-4, NOT-1).

The renewal term and length must match a billing option; the recurring tip and donation follow PM-2; the
payment method is the subscription's (PM-1 for auto-pay updates). Nothing is charged. Exactly once per
idempotency key, recorded in the ledger like every auto-pay change (`resolvers/payment_flows.py`).
"""

from __future__ import annotations

from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import PAYMENTS, allow, arg, changes, customer_owner
from domain.payments import ErrorCode
from resolvers.payment_flows import KeyedInput, mutation_types, payment_mutation, prepare_auto_pay
from schema.payments import AutoPayQuoteInput

TYPES = mutation_types("UpdateAutoPay", (
    ErrorCode.NOT_ON_AUTO_PAY, ErrorCode.SUBSCRIPTION_STOPPED, ErrorCode.TIP_NOT_SUPPORTED,
    ErrorCode.TIP_TOO_LARGE,
    ErrorCode.INVALID_OPTION,
))
UpdateAutoPayErrorCode = TYPES.codes
UpdateAutoPayError = TYPES.error
UpdateAutoPayPayload = TYPES.payload


@strawberry.input
class UpdateAutoPayInput(KeyedInput, AutoPayQuoteInput):
    pass


@strawberry.type
class UpdateAutoPay:
    @strawberry.mutation(description=(
        "Change a subscription's auto-pay plan: renewal term and length, recurring tip and donation, and the "
        "payment method it renews with (EZ-2). Charges nothing."
    ), extensions=allow(changes(PAYMENTS), customer_owner(arg("input", "subscription_id"))))
    async def update_auto_pay(self, info: Info, input: UpdateAutoPayInput) -> Optional[UpdateAutoPayPayload]:
        return await payment_mutation(info, "updateAutoPay", input,
                                      lambda facts: prepare_auto_pay(facts, input, sign_up=False), TYPES)
