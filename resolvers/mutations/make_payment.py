"""`makePayment`: a one-time payment (PAY-1..PAY-4, FEE-1..FEE-3, PM-1..PM-5, NOT-1).

The option paid must be a current billing option (PAY-3); tips and donations on NCS and SAXO only (PM-2);
the total is the server's, and the client's must equal it to the cent (PAY-1); NCS credit cards carry the
activation fee unless `ignoreActivationFee` (PAY-2), which staff and partners may set, not the subscriber. The subscription's payment method is charged through
a NavigaPay sale, the payment applied in the circulation system and recorded as PAYMENT with the option
amount (PAY-4); one payment per subscription per 24 hours (PM-5). Exactly once per idempotency key; see
`resolvers/payment_flows.py` and `resolvers/payment_ledger.py`.
"""

from __future__ import annotations

from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import PAYMENTS, Unprivileged, allow, arg, asks_true, changes, customer_owner
from domain.payments import ErrorCode
from resolvers.payment_flows import ChargeInput, mutation_types, payment_mutation, prepare_one_time
from schema.payments import MakePaymentQuoteInput

TYPES = mutation_types("MakePayment", (
    ErrorCode.TIP_NOT_SUPPORTED, ErrorCode.TIP_TOO_LARGE, ErrorCode.INVALID_OPTION, ErrorCode.SUBSCRIPTION_STOPPED,
))
MakePaymentErrorCode = TYPES.codes
MakePaymentError = TYPES.error
MakePaymentPayload = TYPES.payload


@strawberry.input
class MakePaymentInput(ChargeInput, MakePaymentQuoteInput):
    pass


@strawberry.type
class MakePayment:
    @strawberry.mutation(description=(
        "Pay a billing option of a subscription, with an optional tip and donation, by its payment method "
        "(PAY-1..PAY-4). Exactly once per idempotency key; a payment window of 24 hours per subscription (PM-5)."
    ), extensions=allow(changes(PAYMENTS), Unprivileged(customer_owner(arg("input", "subscription_id")), (
        ("ignoreActivationFee", asks_true("input", "ignore_activation_fee")),))))
    async def make_payment(self, info: Info, input: MakePaymentInput) -> Optional[MakePaymentPayload]:
        return await payment_mutation(info, "makePayment", input, lambda facts: prepare_one_time(facts, input), TYPES)
