"""The credit-card processing fee (FEE-1, FEE-2) and the cost quote of an offer (FEE-5); FEE-3 (no fee but on a
credit card) is checked on what a client sends by `domain/payments.py` `check_client_fees`.

Pure functions over exact decimals; the tenant's TEN-2 settings come in as a `ProcessingFeeSettings`.
Rounding follows MNY-2: the fee is rounded once when computed, the fee tax once from the rounded fee,
and totals are sums of rounded parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum
from typing import Optional, Protocol

from domain.money import ZERO, RuleError, money_sum, percent_of, round_money

ENABLE = "Billing.CreditCard.ProcessingFee.Enable"
PERCENTAGE = "Billing.CreditCard.ProcessingFee.Percentage"
TAX_ENABLE = "Billing.CreditCard.ProcessingFee.Tax.Enable"
TAX_PERCENTAGE = "Billing.CreditCard.ProcessingFee.Tax.Percentage"


class PaymentType(IntEnum):
    """FEE-5: the payment type ids of the source platform."""

    CREDIT_CARD = 1
    BANK_ACCOUNT = 2
    CASH = 3
    CHECK = 4


def parse_payment_type(value: int | str | PaymentType, field: tuple[str, ...] = ("paymentType",)) -> PaymentType:
    """A payment type from its id (1..4) or name; anything else is a rule error naming `field`."""
    if isinstance(value, PaymentType):
        return value
    try:
        if isinstance(value, str) and not value.strip().lstrip("-").isdigit():
            return PaymentType[value.strip().upper()]
        return PaymentType(int(value))
    except (KeyError, ValueError, TypeError):
        ids = ", ".join(f"{t.value} ({t.name})" for t in PaymentType)
        raise RuleError(f"Unknown payment type {value!r}: expected one of {ids}", field, "FEE-5") from None


class _Settings(Protocol):
    def flag(self, key: str) -> bool: ...
    def decimal(self, key: str) -> Decimal: ...


@dataclass(frozen=True)
class ProcessingFeeSettings:
    """TEN-2 `Billing.CreditCard.ProcessingFee.*`."""

    enabled: bool = False
    percentage: Decimal = ZERO
    tax_enabled: bool = False
    tax_percentage: Decimal = ZERO

    @classmethod
    def from_tenant(cls, settings: _Settings) -> "ProcessingFeeSettings":
        return cls(enabled=settings.flag(ENABLE), percentage=settings.decimal(PERCENTAGE),
                   tax_enabled=settings.flag(TAX_ENABLE), tax_percentage=settings.decimal(TAX_PERCENTAGE))


@dataclass(frozen=True)
class ProcessingFeeQuote:
    """The fee on one transaction's base: `applies` is False (and both amounts zero) unless the tenant
    enables the fee and the payment is by credit card (FEE-1); `tax_applies` likewise for FEE-2."""

    base: Decimal
    payment_type: PaymentType
    applies: bool
    fee: Decimal
    tax_applies: bool
    fee_tax: Decimal

    @property
    def total(self) -> Decimal:
        """Fee plus fee tax: what the fee adds to the transaction."""
        return money_sum((self.fee, self.fee_tax))


def processing_fee_quote(base: Decimal | str | int, payment_type: PaymentType,
                         settings: ProcessingFeeSettings) -> ProcessingFeeQuote:
    """FEE-1: fee = round(base × Percentage / 100) when enabled and paying by credit card, where `base` is
    everything the customer pays in the transaction (option amount with its tax, tip, donation, other fees).
    FEE-2: fee tax = round(fee × Tax.Percentage / 100) when the fee tax is enabled, else 0 — computed from
    the already-rounded fee (MNY-2)."""
    base = round_money(base)
    applies = settings.enabled and payment_type is PaymentType.CREDIT_CARD
    fee = percent_of(base, settings.percentage) if applies else ZERO
    tax_applies = applies and settings.tax_enabled
    fee_tax = percent_of(fee, settings.tax_percentage) if tax_applies else ZERO
    return ProcessingFeeQuote(base=base, payment_type=payment_type, applies=applies, fee=fee,
                              tax_applies=tax_applies, fee_tax=fee_tax)


@dataclass(frozen=True)
class SubscriptionCostQuote:
    """FEE-5: the cost of one offer term. `activation_fee` is always present (0.00 when the offer has none);
    `processing_fee` and `fee_tax` are None when they do not apply to this payment type or tenant."""

    rate: Decimal
    tax: Decimal
    activation_fee: Decimal
    payment_type: PaymentType
    processing_fee: Optional[Decimal]
    fee_tax: Optional[Decimal]
    total: Decimal


def subscription_cost(rate: Decimal, tax: Decimal, activation_fee: Decimal | None, payment_type: PaymentType,
                      settings: ProcessingFeeSettings) -> SubscriptionCostQuote:
    """FEE-5 with FEE-1/FEE-2: the fee base is everything paid in the transaction — rate, its tax and the
    activation fee (an "other fee" of FEE-1); total = base + fee + fee tax."""
    rate, tax = round_money(rate), round_money(tax)
    activation_fee = round_money(activation_fee or 0)
    base = money_sum((rate, tax, activation_fee))
    quote = processing_fee_quote(base, payment_type, settings)
    processing_fee = quote.fee if quote.applies else None
    fee_tax = quote.fee_tax if quote.tax_applies else None
    return SubscriptionCostQuote(
        rate=rate, tax=tax, activation_fee=activation_fee, payment_type=payment_type,
        processing_fee=processing_fee, fee_tax=fee_tax, total=money_sum((base, quote.fee, quote.fee_tax)),
    )
