"""`restartSubscription`: restart a stopped subscription (RST-1..RST-5, FEE-1..FEE-3, PM-1..PM-5, NOT-1).

Available only for a stopped subscription that is not a TRIAL and has no restart scheduled, on a
circulation system with restarts (RST-1); the date is today in the tenant's time zone or, on MATRIX and
CIRCPRO, later (RST-2); the total subtracts a usable credit and adds a debt, never the activation fee
(RST-3); when the credit covers it there is no payment, no gateway call and no payment method needed
(RST-4). Records RESTARTSUBSCRIPTION with the tenant's reason and source codes (RST-5). Exactly once per
idempotency key (`resolvers/payment_flows.py`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import PAYMENTS, allow, arg, changes, customer_owner
from domain.payments import ErrorCode
from resolvers.payment_flows import CLIENT_TOTAL, ChargeInput, mutation_types, payment_mutation, prepare_restart
from schema.payments import RestartQuoteInput

TYPES = mutation_types("RestartSubscription", (
    ErrorCode.RESTART_NOT_AVAILABLE, ErrorCode.INVALID_RESTART_DATE, ErrorCode.TIP_NOT_SUPPORTED, ErrorCode.TIP_TOO_LARGE,
    ErrorCode.INVALID_OPTION,
))
RestartSubscriptionErrorCode = TYPES.codes
RestartSubscriptionError = TYPES.error
RestartSubscriptionPayload = TYPES.payload


@strawberry.input
class RestartSubscriptionInput(ChargeInput, RestartQuoteInput):
    total: Decimal = strawberry.field(
        description=CLIENT_TOTAL + " \"0.00\" when the credit covers the restart (RST-4).")


@strawberry.type
class RestartSubscription:
    @strawberry.mutation(description=(
        "Restart a stopped subscription (RST-1..RST-5): pays the option, tip and donation less a usable credit "
        "plus any debt, by the subscription's payment method; nothing when the credit covers it. The "
        "subscription is active at once, even for a future restart date."
    ), extensions=allow(changes(PAYMENTS), customer_owner(arg("input", "subscription_id"))))
    async def restart_subscription(self, info: Info,
                                  input: RestartSubscriptionInput) -> Optional[RestartSubscriptionPayload]:
        return await payment_mutation(info, "restartSubscription", input,
                                      lambda facts: prepare_restart(facts, input), TYPES)
