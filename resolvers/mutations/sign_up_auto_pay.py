"""`signUpAutoPay`: put a subscription on auto-pay (EZ-1, EZ-2, FEE-4, PM-1..PM-5, NOT-1).

EZ-1: with a debt, the debt is paid first as a one-time payment of the balance (a processing fee on the
debt only, FEE-4), and auto-pay is set up only when that payment succeeded; without a debt, auto-pay is set
up directly. One mutation, one result. Decision: when the debt was paid but the circulation system then
refuses the auto-pay set-up, the payment stands (it is applied, and giving it back would re-open the
debt): the answer has the payment APPLIED, the subscription not on auto-pay and the user error
AUTO_PAY_SETUP_FAILED saying so; signing up again (a new key) charges nothing more, since the debt is paid.
The plan's renewal term and length must match a billing option; its tip and donation recur (EZ-2).
PM-1 with EZ-1: the debt's payment is a one-time payment, so its payment type must be one a one-time payment
accepts (a CIRCPRO bank account is refused before anything is charged).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import PAYMENTS, allow, arg, changes, customer_owner
from domain.payments import ErrorCode
from resolvers.payment_flows import CLIENT_TOTAL, ChargeInput, mutation_types, payment_mutation, prepare_auto_pay
from schema.payments import AutoPayQuoteInput

TYPES = mutation_types("SignUpAutoPay", (
    ErrorCode.ALREADY_ON_AUTO_PAY, ErrorCode.SUBSCRIPTION_STOPPED, ErrorCode.TIP_NOT_SUPPORTED,
    ErrorCode.TIP_TOO_LARGE,
    ErrorCode.INVALID_OPTION, ErrorCode.AUTO_PAY_SETUP_FAILED,
))
SignUpAutoPayErrorCode = TYPES.codes
SignUpAutoPayError = TYPES.error
SignUpAutoPayPayload = TYPES.payload


@strawberry.input
class SignUpAutoPayInput(ChargeInput, AutoPayQuoteInput):
    total: Decimal = strawberry.field(
        description=CLIENT_TOTAL + " The outstanding debt and its fee; \"0.00\" without a debt (EZ-1).")


@strawberry.type
class SignUpAutoPay:
    @strawberry.mutation(description=(
        "Put a subscription on auto-pay with its payment method (EZ-1, EZ-2): an outstanding debt is paid "
        "first, and auto-pay is set up only when that payment succeeded."
    ), extensions=allow(changes(PAYMENTS), customer_owner(arg("input", "subscription_id"))))
    async def sign_up_auto_pay(self, info: Info, input: SignUpAutoPayInput) -> Optional[SignUpAutoPayPayload]:
        return await payment_mutation(info, "signUpAutoPay", input,
                                      lambda facts: prepare_auto_pay(facts, input, sign_up=True), TYPES)
