"""Money as exact decimals (MNY-1) and the one rounding rule (MNY-2).

Every computed amount goes through `round_money` exactly once, at the step that computes it; a total is
the sum of parts that are already rounded, so it needs no rounding of its own (and gets none: rounding a
sum again could only hide a part that was not rounded). No float ever enters: `to_decimal` refuses one.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Iterable, Sequence

TWO_PLACES = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)


class RuleError(ValueError):
    """Input that breaks a money, fee or offer rule; `field` is the path of the argument at fault and
    `rule` the domain.md id."""

    def __init__(self, message: str, field: Sequence[str], rule: str) -> None:
        super().__init__(message)
        self.field = list(field)
        self.rule = rule


def to_decimal(value: Decimal | str | int) -> Decimal:
    """An exact decimal from a Decimal, an int or a decimal string. Floats are refused (MNY-1): by the time
    a float exists, the exact amount is already lost."""
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"money must not be a {type(value).__name__} (MNY-1): {value!r}")
    try:
        amount = Decimal(value)
    except (InvalidOperation, ValueError, TypeError) as error:
        raise ValueError(f"not a decimal amount: {value!r}") from error
    if not amount.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    return amount


def round_money(value: Decimal | str | int) -> Decimal:
    """MNY-2: two places, half up (0.005 → 0.01, −0.005 → −0.01: away from zero on a tie)."""
    return to_decimal(value).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def percent_of(base: Decimal, percentage: Decimal) -> Decimal:
    """`round(base × percentage / 100)`: one computed step, rounded once (MNY-2)."""
    return round_money(to_decimal(base) * to_decimal(percentage) / HUNDRED)


def money_sum(parts: Iterable[Decimal]) -> Decimal:
    """The total of already-rounded parts (MNY-2). A part with more than two places is a bug upstream of
    this call, not something to round away here."""
    total = ZERO
    for part in parts:
        if has_more_than_two_places(part):
            raise ValueError(f"part {part!r} is not rounded to two places (MNY-2)")
        total += part
    return total.quantize(TWO_PLACES)


def has_more_than_two_places(amount: Decimal) -> bool:
    return amount != amount.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def validate_amount(amount: Decimal, field: Sequence[str] = ("amount",), *, allow_zero: bool = True) -> Decimal:
    """An amount a client sends: not negative, at most two places (MNY-1). Returns it with two places.
    `1.50` and `1.5` are accepted, `1.505` is not (a client must not make the server choose a rounding)."""
    amount = to_decimal(amount)
    name = field[-1] if field else "amount"
    if amount < 0:
        raise RuleError(f"`{name}` must not be negative", field, "MNY-1")
    if not allow_zero and amount == 0:
        raise RuleError(f"`{name}` must be greater than zero", field, "MNY-1")
    if has_more_than_two_places(amount):
        raise RuleError(f"`{name}` must have at most two decimal places", field, "MNY-1")
    return amount.quantize(TWO_PLACES)


# -- amounts as clients send them (MNY-1; issue 14 #11) ------------------------------------------------------
MAX_INTEGER_DIGITS = 18  # the money columns are NUMERIC(20, 2): 18 digits before the point
MAX_FRACTION_DIGITS = 10  # more than two places is refused by `validate_amount` with its own message
MAX_AMOUNT_TEXT = 1 + MAX_INTEGER_DIGITS + 1 + MAX_FRACTION_DIGITS
_AMOUNT = re.compile(r"-?(\d{1,%d})(?:\.(\d{1,%d}))?" % (MAX_INTEGER_DIGITS, MAX_FRACTION_DIGITS), re.ASCII)


class InvalidAmount(ValueError):
    """A value that is not a plain decimal amount of a sane size: refused before any rule compares it."""


def parse_amount(value: object) -> Decimal:
    """A client's amount (a GraphQL `Decimal`): a plain decimal string (`"10.79"`, `"-1"`, `"2147483648.10"`) or
    a JSON integer, with at most 18 digits before the point and 10 after. Refused: exponents (`"1e999"`), `NaN`,
    `sNaN`, `Infinity`, signs other than a leading minus, spaces, booleans, and anything longer. A JSON number
    with a fraction (a float) is read from its shortest representation, within the same bounds."""
    if isinstance(value, bool):
        raise InvalidAmount("an amount must be a decimal string such as \"10.79\", not a boolean")
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        text = repr(value)
    elif isinstance(value, str):
        text = value
    else:
        raise InvalidAmount("an amount must be a decimal string such as \"10.79\"")
    if len(text) > MAX_AMOUNT_TEXT or not _AMOUNT.fullmatch(text):
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise InvalidAmount(
            f"{shown!r} is not an amount: a decimal such as \"10.79\", with at most {MAX_INTEGER_DIGITS} digits "
            f"before the point and {MAX_FRACTION_DIGITS} after, and no exponent, NaN or Infinity")
    return Decimal(text)
