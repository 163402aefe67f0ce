"""Restarting a stopped subscription (RST-1..RST-5): availability, the restart date and what it costs.

Pure functions; the quote is a `domain.payments.PaymentQuote` built by `charge_quote`, like every other
payment flow's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Optional, Sequence

from domain.availability import PaymentFlow, PaymentMethodKind, SubscriptionFacts, restart_availability
from domain.money import ZERO, money_sum
from domain.payments import (
    Account,
    ErrorCode,
    PaymentQuote,
    PaymentRuleError,
    PaymentSettings,
    billing_option,
    charge_quote,
    check_payment_type,
    check_tip_and_donation,
)

FUTURE_RESTART_KINDS = frozenset({"MATRIX", "CIRCPRO"})  # RST-2
PERMANENTLY_STOPPED = "PERMANENTLY_STOPPED"


@dataclass(frozen=True)
class Restart:
    option_term: str
    option_amount: Decimal
    tip: Decimal
    donation: Decimal
    payment_type: Optional[PaymentMethodKind]
    restart_date: Optional[date] = None


def check_restart_available(account: Account, circulation_kind: str, field: Sequence[str]) -> None:
    """RST-1: stopped, not a TRIAL, no restart scheduled already, and restarts exist on the circulation
    system (PM-1). The message lists every reason that applies."""
    answer = restart_availability(SubscriptionFacts(status=account.status, kind=account.kind, digital=account.digital,
                                                    auto_pay=account.auto_pay, ebill=False,
                                                    restart_scheduled=account.restart_scheduled), circulation_kind)
    if not answer.available:
        raise PaymentRuleError(ErrorCode.RESTART_NOT_AVAILABLE, " ".join(r.message for r in answer.reasons), field,
                               "RST-1")


def restart_date(requested: Optional[date], today: date, circulation_kind: str, field: Sequence[str]) -> date:
    """RST-2: `today` is the tenant's (its time zone); the date defaults to it and is never earlier; a later
    date is accepted on MATRIX and CIRCPRO only."""
    chosen = requested or today
    if chosen < today:
        raise PaymentRuleError(ErrorCode.INVALID_RESTART_DATE,
                               f"The restart date may not be before today ({today.isoformat()})", field, "RST-2")
    if chosen > today and circulation_kind not in FUTURE_RESTART_KINDS:
        raise PaymentRuleError(ErrorCode.INVALID_RESTART_DATE,
                               f"The {circulation_kind} circulation system restarts today only ({today.isoformat()})",
                               field, "RST-2")
    return chosen


def restart_balance_applied(account: Account, cost: Decimal, settings: PaymentSettings) -> Decimal:
    """RST-3: a debt (balance < 0) is always collected (returned negative: it adds to the total); a credit
    is used only with `Restart.ApplyCreditBalance`, never after a permanent stop, and at most up to the
    cost (RST-4: the rest of the credit stays on the subscription)."""
    if account.balance < 0:
        return account.balance
    if account.balance > 0 and settings.apply_credit_balance and account.status != PERMANENTLY_STOPPED:
        return min(account.balance, cost)
    return ZERO


def restart_quote(account: Account, request: Restart, circulation_kind: str, settings: PaymentSettings, today: date,
                  prefix: Sequence[str] = ("input",)) -> tuple[PaymentQuote, date]:
    """RST-1..RST-4: total = option + tip + donation + processing fee + fee tax − balance applied; the
    activation fee is never part of a restart. The fee is computed on what is left to pay after the
    balance. When the credit covers everything (RST-4) the total is zero: no payment method is needed and
    none is charged. Returns the quote and the restart date (RST-2)."""
    check_restart_available(account, circulation_kind, [*prefix, "subscriptionId"])
    chosen = restart_date(request.restart_date, today, circulation_kind, [*prefix, "restartDate"])
    check_tip_and_donation(circulation_kind, request.tip, request.donation, prefix, settings.maximum_tip)
    option = billing_option(account.options, request.option_term, request.option_amount, prefix)
    cost = money_sum((option.amount, request.tip, request.donation))
    applied = restart_balance_applied(account, cost, settings)
    due = money_sum((cost, -applied))
    payment_type = request.payment_type
    if due > 0:
        if payment_type is None:
            raise PaymentRuleError(ErrorCode.PAYMENT_METHOD_REQUIRED,
                                   f"{due} is due: a payment method is needed", [*prefix, "paymentType"], "RST-3")
        check_payment_type(PaymentFlow.RESTART, circulation_kind, payment_type, [*prefix, "paymentType"])
    else:
        payment_type = None  # RST-4: nothing to pay, so no payment method is used (or needed)
    quote = charge_quote(payment_type, settings.fees, option=option, tip=request.tip, donation=request.donation,
                         balance_applied=applied)
    return quote, chosen
