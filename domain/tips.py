"""Tips (TIP-1, TIP-2, FEE-4, PM-1): whether a tip may be given and what it costs.

Pure functions; the quote is a `domain.payments.PaymentQuote` built by `charge_quote`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Sequence

from domain.availability import PaymentFlow, PaymentMethodKind, SubscriptionFacts, tip_availability
from domain.payments import (
    Account,
    ErrorCode,
    PaymentQuote,
    PaymentRuleError,
    PaymentSettings,
    charge_quote,
    check_payment_type,
)


@dataclass(frozen=True)
class Tip:
    amount: Decimal
    recurring: bool
    payment_type: PaymentMethodKind


def check_tip_amount(amount: Decimal, maximum: Decimal, field: Sequence[str]) -> None:
    """TIP-2: greater than zero and at most `Payments.MaximumTipAmountAllowed` (the maximum itself is
    allowed)."""
    if amount <= 0:
        raise PaymentRuleError(ErrorCode.INVALID_AMOUNT, "A tip must be greater than zero", field, "TIP-2")
    if amount > maximum:
        raise PaymentRuleError(ErrorCode.TIP_TOO_LARGE, f"A tip may be at most {maximum}", field, "TIP-2")


def tip_quote(account: Account, tip: Tip, circulation_kind: str, settings: PaymentSettings,
              prefix: Sequence[str] = ("input",)) -> PaymentQuote:
    """TIP-1: a recurring tip needs auto-pay; a one-time tip is refused for digital and stopped
    subscriptions (active, paused and in-grace ones may tip). PM-1: tips exist on NCS only. TIP-2: the
    amount. FEE-4: a one-time tip is charged now, with the processing fee when paid by credit card; a
    recurring tip is added to the auto-pay renewals, has no fee and charges nothing now."""
    check_payment_type(PaymentFlow.TIP, circulation_kind, tip.payment_type, [*prefix, "paymentType"])
    check_tip_amount(tip.amount, settings.maximum_tip, [*prefix, "amount"])
    answer = tip_availability(SubscriptionFacts(status=account.status, kind=account.kind, digital=account.digital,
                                                auto_pay=account.auto_pay, ebill=False), circulation_kind)
    availability = answer.recurring if tip.recurring else answer.one_time
    if not availability.available:
        raise PaymentRuleError(ErrorCode.TIP_NOT_ALLOWED, " ".join(r.message for r in availability.reasons),
                               [*prefix, "recurring" if tip.recurring else "subscriptionId"], "TIP-1")
    if tip.recurring:
        return charge_quote(tip.payment_type, settings.fees, recurring_tip=tip.amount)
    return charge_quote(tip.payment_type, settings.fees, tip=tip.amount)
