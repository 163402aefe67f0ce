"""`makePayment`: a one-time payment (PAY-1..PAY-4, FEE-1..FEE-3, PM-1..PM-5, NOT-1).

The option paid must be a current billing option (PAY-3); tips and donations on NCS and SAXO only (PM-2);
the total is the server's, and the client's must equal it to the cent (PAY-1); NCS credit cards carry the
activation fee unless `ignoreActivationFee` (PAY-2). The subscription's payment method is charged through
a NavigaPay sale, the payment applied in the circulation system and recorded as PAYMENT with the option
amount (PAY-4); one payment per subscription per 24 hours (PM-5). Exactly once per idempotency key; see
`resolvers/payment_flows.py` and `resolvers/payment_ledger.py`.
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
    CLIENT_FEE, CLIENT_TOTAL, IDEMPOTENCY_KEY, MoneyRequest, answer, error_codes, payload_type, prepare_one_time,
    run_payment,
)
from schema.payments import MakePaymentQuoteInput

MakePaymentErrorCode = error_codes("MakePayment", (ErrorCode.TIP_NOT_SUPPORTED, ErrorCode.INVALID_OPTION,
                                                   ErrorCode.SUBSCRIPTION_STOPPED))
MakePaymentError = error_type("MakePayment", MakePaymentErrorCode)
MakePaymentPayload = payload_type("MakePayment", MakePaymentError)


@strawberry.input
class MakePaymentInput(MakePaymentQuoteInput):
    subscription_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=IDEMPOTENCY_KEY)
    total: Decimal = strawberry.field(description=CLIENT_TOTAL)
    processing_fee: Optional[Decimal] = strawberry.field(default=None, description=CLIENT_FEE)
    processing_fee_tax: Optional[Decimal] = strawberry.field(default=None, description=CLIENT_FEE)


@strawberry.type
class MakePayment:
    @strawberry.mutation(description=(
        "Pay a billing option of a subscription, with an optional tip and donation, by its payment method "
        "(PAY-1..PAY-4). Exactly once per idempotency key; a payment window of 24 hours per subscription (PM-5)."
    ), extensions=allow(changes(PAYMENTS), customer_owner(arg("input", "subscription_id"))))
    async def make_payment(self, info: Info, input: MakePaymentInput) -> Optional[MakePaymentPayload]:
        response = await run_payment(info.context, MoneyRequest(
            operation="makePayment", subscription_id=str(input.subscription_id).strip(),
            idempotency_key=input.idempotency_key, input=input, prepare=lambda facts: prepare_one_time(facts, input),
            total=input.total, processing_fee=input.processing_fee, processing_fee_tax=input.processing_fee_tax))
        return (await answer(info.context, response)).payload(MakePaymentPayload, MakePaymentError,
                                                             MakePaymentErrorCode)
