"""Types shared by every domain: Money (MNY-1), user errors, and helpers for building types."""

from __future__ import annotations

from decimal import Decimal

import strawberry

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
