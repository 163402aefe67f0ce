"""`paymentQuote`: what a payment flow charges, line by line, before the mutation is sent.

It prepares the flow exactly as the mutation does (`resolvers/payment_flows.py`: the same domain function
computes the quote), so the amounts a front end shows are the amounts charged: it never computes money
itself, and sends the quote's `total` back with the mutation. The same rules refuse the same input, with
the same codes, as user errors.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import strawberry
from strawberry.types import Info

from auth.permissions import PAYMENTS, allow, arg, customer_linked, reads
from domain.payments import ErrorCode, PaymentRuleError
from resolvers.mutation_support import error_type
from resolvers.payment_flows import (
    QUOTE_CODES, Facts, Prepared, error_codes, not_found, prepare_auto_pay, prepare_one_time, prepare_restart,
    prepare_tip, read_facts,
)
from schema.payments import PaymentQuote, PaymentQuoteInput

PaymentQuoteErrorCode = error_codes("PaymentQuote", QUOTE_CODES, common=())
PaymentQuoteError = error_type("PaymentQuote", PaymentQuoteErrorCode)

# the input's member (Python name, GraphQL name) → how the flow is prepared
FLOWS: dict[str, tuple[str, Callable[[Facts, Any, tuple[str, ...]], Prepared]]] = {
    "make_payment": ("makePayment", prepare_one_time),
    "restart": ("restart", prepare_restart),
    "auto_pay_sign_up": ("autoPaySignUp", lambda facts, given, prefix: prepare_auto_pay(facts, given, sign_up=True,
                                                                                        prefix=prefix)),
    "add_tip": ("addTip", prepare_tip),
}


@strawberry.type
class PaymentQuotePayload:
    quote: Optional[PaymentQuote] = None
    user_errors: list[PaymentQuoteError] = strawberry.field(default_factory=list)


def _refused(error: PaymentRuleError) -> PaymentQuotePayload:
    field = error.field
    if field and field[-1] == "subscriptionId":
        field = ["subscriptionId"]  # an argument of the query, not of the flow's input
    return PaymentQuotePayload(user_errors=[PaymentQuoteError(code=PaymentQuoteErrorCode[error.code.value],
                                                              field=field, message=str(error))])


@strawberry.type
class PaymentQueries:
    @strawberry.field(description=(
        "What a payment flow would charge a subscription now, line by line: option (with its tax), tip, "
        "donation, activation fee, processing fee and its tax, balance applied, total. Exactly one of "
        "`makePayment`, `restart`, `autoPaySignUp`, `addTip`. Computed by the function the mutation charges "
        "with; the same rules refuse the same input as user errors."
    ), extensions=allow(reads(PAYMENTS), customer_linked(arg("subscription_id"))))
    async def payment_quote(self, info: Info, subscription_id: strawberry.ID,
                            input: PaymentQuoteInput) -> Optional[PaymentQuotePayload]:
        chosen = [(name, value) for name, value in vars(input).items() if name in FLOWS and value is not None]
        if len(chosen) != 1:
            return _refused(PaymentRuleError(ErrorCode.INVALID, "Give exactly one of makePayment, restart, "
                                             "autoPaySignUp and addTip", ["input"], "PAY-1"))
        name, given = chosen[0]
        graphql_name, prepare = FLOWS[name]
        try:
            facts = await read_facts(info.context, str(subscription_id).strip(), with_method=False)
            if facts is None:
                raise not_found(())
            prepared = prepare(facts, given, ("input", graphql_name))
        except PaymentRuleError as error:
            return _refused(error)
        return PaymentQuotePayload(quote=PaymentQuote.of(prepared.quote, info.context.tenant.currency))
