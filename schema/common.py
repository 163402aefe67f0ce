"""Types shared by every domain: Money (MNY-1), user errors, and helpers for building types."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from domain.money import MAX_FRACTION_DIGITS, MAX_INTEGER_DIGITS, parse_amount

TWO_PLACES = Decimal("0.01")


@strawberry.type(description="An exact amount of money: a decimal string with two places and an ISO 4217 currency (MNY-1).")
class Money:
    amount: Decimal = strawberry.field(description="Exact decimal, two places, e.g. \"2147483648.10\".")
    currency: str = strawberry.field(description="ISO 4217 currency code.")

    @classmethod
    def of(cls, amount: Decimal | str | int, currency: str) -> "Money":
        return cls(amount=Decimal(amount).quantize(TWO_PLACES), currency=currency)


@strawberry.type(description="A rule violation in a mutation's input: a stable code, the field path and a message.")
class UserError:
    code: str
    field: list[str] | None
    message: str


# Every `Decimal` argument and input field is an amount a client sends: parsed by `domain.money.parse_amount`, so
# "1e999", "NaN", "sNaN", "Infinity" and 29-digit numbers are refused as bad input (naming the argument) before any
# rule compares them (issue 14 #11). The Schema's `scalar_overrides` puts it in place of strawberry's Decimal.
AmountScalar = strawberry.scalar(
    Decimal,
    name="Decimal",
    description=(f"An exact decimal amount as a string, e.g. \"10.79\": at most {MAX_INTEGER_DIGITS} digits before "
                 f"the point and {MAX_FRACTION_DIGITS} after; no exponent, NaN or Infinity (MNY-1)."),
    serialize=str,
    parse_value=parse_amount,
)
