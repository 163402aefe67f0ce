"""What a payment costs and whether it may be made: one-time payments (PAY-1..3), auto-pay sign-up and
update (EZ-1, EZ-2), the processing fee on each (FEE-1..4), the payment methods each flow accepts (PM-1..3)
and the 24-hour windows (PM-5). Restarts are in `domain.restarts`, tips in `domain.tips`; all three
build the same `PaymentQuote` with `charge_quote`, so every flow adds its lines up the same way.

Pure functions over exact decimals (MNY-1). Rounding (MNY-2): the processing fee is rounded once from its
base, the fee tax once from the rounded fee; every total is a sum of rounded lines. A rule violation
raises `PaymentRuleError` with a stable `code` (the mutations' error-code enums use the same names), the
path of the input field at fault and the rule id.

The same functions compute the `paymentQuote` answer and what the mutation charges, so a quote and a
charge cannot differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, Iterable, Optional, Protocol, Sequence

from domain.availability import (
    STOPPED_STATUSES,
    PaymentFlow,
    PaymentMethodKind,
    allowed_payment_methods,
    tips_and_donations_accepted,
)
from domain.fees import PaymentType, ProcessingFeeSettings, processing_fee_quote
from domain.money import ZERO, has_more_than_two_places, money_sum, round_money, to_decimal

PAYMENT_WINDOW = timedelta(hours=24)  # PM-5: one payment per subscription per 24 hours
METHOD_CHANGE_WINDOW = timedelta(hours=24)  # PM-5: one payment-method change per subscription per 24 hours
STATEMENT_DESCRIPTOR_MAX = 22  # GW-3: what card networks print
DINERS = "DINERS"
ACTIVATION_FEE_KIND = "NCS"  # PAY-2

ACTIVATION_FEE = "DTI.ActivationFeeAmount"
APPLY_CREDIT_BALANCE = "Restart.ApplyCreditBalance"
RESTART_REASON_CODE = "Restart.DTI.ReasonCode"
RESTART_SOURCE_CODE = "Restart.DTI.SourceCode"
MAXIMUM_TIP = "Payments.MaximumTipAmountAllowed"


class ErrorCode(str, Enum):
    """Every reason a payment flow refuses or ends without its effect. Each mutation's GraphQL enum
    (`MakePaymentErrorCode`, …) lists the ones it can answer."""

    INVALID = "INVALID"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    NOT_FOUND = "NOT_FOUND"
    FLOW_NOT_SUPPORTED = "FLOW_NOT_SUPPORTED"
    PAYMENT_METHOD_NOT_ALLOWED = "PAYMENT_METHOD_NOT_ALLOWED"
    PAYMENT_METHOD_REQUIRED = "PAYMENT_METHOD_REQUIRED"
    PAYMENT_METHOD_MISMATCH = "PAYMENT_METHOD_MISMATCH"
    PROCESSING_FEE_NOT_ALLOWED = "PROCESSING_FEE_NOT_ALLOWED"
    TIP_NOT_SUPPORTED = "TIP_NOT_SUPPORTED"
    TIP_NOT_ALLOWED = "TIP_NOT_ALLOWED"
    TIP_TOO_LARGE = "TIP_TOO_LARGE"
    INVALID_OPTION = "INVALID_OPTION"
    SUBSCRIPTION_STOPPED = "SUBSCRIPTION_STOPPED"
    RESTART_NOT_AVAILABLE = "RESTART_NOT_AVAILABLE"
    INVALID_RESTART_DATE = "INVALID_RESTART_DATE"
    ALREADY_ON_AUTO_PAY = "ALREADY_ON_AUTO_PAY"
    NOT_ON_AUTO_PAY = "NOT_ON_AUTO_PAY"
    TOTAL_MISMATCH = "TOTAL_MISMATCH"
    PAYMENT_WINDOW = "PAYMENT_WINDOW"
    PAYMENT_METHOD_CHANGE_WINDOW = "PAYMENT_METHOD_CHANGE_WINDOW"
    SESSION_NOT_FOUND = "SESSION_NOT_FOUND"
    SESSION_MISMATCH = "SESSION_MISMATCH"
    SESSION_NOT_TOKENIZED = "SESSION_NOT_TOKENIZED"
    # outcomes of the upstream steps (PAY-4)
    PAYMENT_DECLINED = "PAYMENT_DECLINED"
    GATEWAY_REFUSED = "GATEWAY_REFUSED"
    GATEWAY_UNAVAILABLE = "GATEWAY_UNAVAILABLE"
    UPSTREAM_UNAVAILABLE = "UPSTREAM_UNAVAILABLE"  # the sale was certainly not sent (breaker open, no connection)
    CIRCULATION_REFUSED = "CIRCULATION_REFUSED"
    CIRCULATION_UNAVAILABLE = "CIRCULATION_UNAVAILABLE"
    PAYMENT_PENDING = "PAYMENT_PENDING"
    INTERRUPTED = "INTERRUPTED"
    AUTO_PAY_SETUP_FAILED = "AUTO_PAY_SETUP_FAILED"
    # idempotency
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    IDEMPOTENCY_KEY_IN_PROGRESS = "IDEMPOTENCY_KEY_IN_PROGRESS"


class PaymentRuleError(ValueError):
    """A payment rule refused the input: `code` (an `ErrorCode`), `field` the input path at fault."""

    def __init__(self, code: ErrorCode, message: str, field: Sequence[str] | None, rule: str) -> None:
        super().__init__(message)
        self.code = code
        self.field = list(field) if field is not None else None
        self.rule = rule


# -- facts the rules read ---------------------------------------------------------------------------
@dataclass(frozen=True)
class BillingOptionFacts:
    """One of the subscription's current billing options (PAY-3): `amount` includes `tax`."""

    term: str
    length: int
    amount: Decimal
    tax: Decimal = ZERO

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> "BillingOptionFacts":
        return cls(term=record["term"], length=int(record["length"]), amount=round_money(record["amount"]),
                   tax=round_money(record.get("tax") or 0))


@dataclass(frozen=True)
class Account:
    """What the payment rules read from a subscription's circulation record."""

    status: str
    kind: str
    digital: bool
    auto_pay: bool
    balance: Decimal
    options: tuple[BillingOptionFacts, ...] = ()
    restart_scheduled: bool = False

    @property
    def stopped(self) -> bool:
        return self.status in STOPPED_STATUSES

    @property
    def debt(self) -> Decimal:
        """What the customer owes (balance < 0), as a positive amount; zero otherwise."""
        return -self.balance if self.balance < 0 else ZERO

    @classmethod
    def from_record(cls, record: dict[str, Any], options: Iterable[dict[str, Any]]) -> "Account":
        return cls(status=record["status"], kind=record["kind"], digital=bool(record["digital"]),
                   auto_pay=bool(record["autoPay"]), balance=round_money(record["balance"]),
                   options=tuple(BillingOptionFacts.from_record(o) for o in options),
                   restart_scheduled=bool(record.get("restartScheduled")))


class _Settings(Protocol):  # the TenantSettings accessors the rules read
    def flag(self, key: str) -> bool: ...
    def decimal(self, key: str) -> Decimal: ...
    def get(self, key: str) -> str | None: ...


@dataclass(frozen=True)
class PaymentSettings:
    """The tenant's TEN-2 settings the payment flows read."""

    fees: ProcessingFeeSettings = field(default_factory=ProcessingFeeSettings)
    activation_fee: Decimal = ZERO
    apply_credit_balance: bool = False
    maximum_tip: Decimal = Decimal("100.00")
    restart_reason_code: str = "payment"
    restart_source_code: str = "MG2"

    @classmethod
    def from_tenant(cls, settings: _Settings) -> "PaymentSettings":
        return cls(fees=ProcessingFeeSettings.from_tenant(settings),
                   activation_fee=round_money(settings.decimal(ACTIVATION_FEE)),
                   apply_credit_balance=settings.flag(APPLY_CREDIT_BALANCE),
                   maximum_tip=round_money(settings.decimal(MAXIMUM_TIP)),
                   restart_reason_code=settings.get(RESTART_REASON_CODE) or "payment",
                   restart_source_code=settings.get(RESTART_SOURCE_CODE) or "MG2")


# -- the quote ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PaymentQuote:
    """What one transaction charges, line by line. `total` = option + tip + donation + activation fee +
    processing fee + fee tax − balance applied, where `balance_applied` is a credit used (> 0) or a debt
    collected (< 0). `option_tax` is the part of `option_amount` that is tax (informative, not added
    again). `recurring_tip`/`recurring_donation` are what auto-pay will add to each renewal (EZ-2): not
    charged now. `payment_type` is None when nothing is charged and no payment method was named."""

    payment_type: Optional[PaymentMethodKind]
    option_term: Optional[str]
    option_amount: Decimal
    option_tax: Decimal
    tip: Decimal
    donation: Decimal
    activation_fee: Decimal
    fee_base: Decimal
    processing_fee: Decimal
    fee_tax: Decimal
    balance_applied: Decimal
    total: Decimal
    recurring_tip: Decimal = ZERO
    recurring_donation: Decimal = ZERO

    @property
    def charges(self) -> bool:
        """Whether money moves (RST-4: a restart the credit covers, a recurring tip and an auto-pay change
        without debt do not)."""
        return self.total > 0


def fee_payment_type(kind: Optional[PaymentMethodKind]) -> PaymentType:
    return PaymentType.CREDIT_CARD if kind is PaymentMethodKind.CREDIT_CARD else PaymentType.BANK_ACCOUNT


def charge_quote(payment_type: Optional[PaymentMethodKind], fees: ProcessingFeeSettings, *,
                 option: Optional[BillingOptionFacts] = None, tip: Decimal = ZERO, donation: Decimal = ZERO,
                 activation_fee: Decimal = ZERO, balance_applied: Decimal = ZERO,
                 recurring_tip: Decimal = ZERO, recurring_donation: Decimal = ZERO) -> PaymentQuote:
    """FEE-1/FEE-2 on any flow: the fee base is everything the customer pays in the transaction before the
    fee — option (with its tax), tip, donation, other fees — less the balance applied, never below zero;
    the fee applies only to a credit card when the tenant enables it; MNY-2 rounding."""
    option_amount = option.amount if option else ZERO
    base = max(money_sum((option_amount, tip, donation, activation_fee, -balance_applied)), ZERO)
    fee = processing_fee_quote(base, fee_payment_type(payment_type), fees)
    total = money_sum((base, fee.fee, fee.fee_tax))
    return PaymentQuote(
        payment_type=payment_type, option_term=option.term if option else None, option_amount=option_amount,
        option_tax=option.tax if option else ZERO, tip=tip, donation=donation, activation_fee=activation_fee,
        fee_base=base, processing_fee=fee.fee, fee_tax=fee.fee_tax, balance_applied=balance_applied, total=total,
        recurring_tip=recurring_tip, recurring_donation=recurring_donation,
    )


# -- input checks -------------------------------------------------------------------------------------
def money_input(value: Decimal | str | int | None, field: Sequence[str], *, positive: bool = False,
                rule: str = "MNY-1") -> Decimal:
    """An amount a client sends: absent is zero; never negative, at most two decimal places (the server
    never chooses a rounding for the client); with `positive`, greater than zero."""
    if value is None:
        amount = ZERO
    else:
        try:
            amount = to_decimal(value)
        except (TypeError, ValueError) as error:
            raise PaymentRuleError(ErrorCode.INVALID_AMOUNT, str(error), field, "MNY-1") from None
    name = field[-1]
    if amount < 0 or (positive and amount == 0):
        raise PaymentRuleError(ErrorCode.INVALID_AMOUNT,
                               f"`{name}` must be {'greater than zero' if positive else 'zero or more'}", field, rule)
    if has_more_than_two_places(amount):
        raise PaymentRuleError(ErrorCode.INVALID_AMOUNT, f"`{name}` must have at most two decimal places", field,
                               "MNY-1")
    return round_money(amount)


def check_payment_type(flow: PaymentFlow, circulation_kind: str, payment_type: PaymentMethodKind,
                       field: Sequence[str]) -> None:
    """PM-1: the flow must exist on the tenant's circulation system and accept the payment type."""
    allowed = allowed_payment_methods(flow, circulation_kind)
    if not allowed:
        raise PaymentRuleError(ErrorCode.FLOW_NOT_SUPPORTED,
                               f"The {circulation_kind} circulation system does not support this flow", field, "PM-1")
    if payment_type not in allowed:
        names = " or ".join(sorted(k.value for k in allowed))
        raise PaymentRuleError(ErrorCode.PAYMENT_METHOD_NOT_ALLOWED,
                               f"The {circulation_kind} circulation system accepts {names} for this flow", field,
                               "PM-1")


def check_debt_payment_type(circulation_kind: str, payment_type: PaymentMethodKind, field: Sequence[str]) -> None:
    """EZ-1 with PM-1: an auto-pay sign-up pays its debt first as a one-time payment, so the debt's payment
    type must be one the one-time payment accepts (CIRCPRO takes a bank account for auto-pay but only a card
    for a one-time payment). Checked before anything is charged."""
    allowed = allowed_payment_methods(PaymentFlow.ONE_TIME_PAYMENT, circulation_kind)
    if payment_type not in allowed:
        names = " or ".join(sorted(k.value for k in allowed)) or "no payment type"
        raise PaymentRuleError(ErrorCode.PAYMENT_METHOD_NOT_ALLOWED,
                               f"The {circulation_kind} circulation system accepts {names} for paying the "
                               "outstanding debt: pay it first, then sign up for auto-pay", field, "PM-1")


def check_card_brand(brand: Optional[str], field: Sequence[str]) -> None:
    """PM-3: Diners Club cards are refused, however the brand is spelt (DINERS, Diners Club, …)."""
    if brand and DINERS in brand.upper().replace(" ", "").replace("_", ""):
        raise PaymentRuleError(ErrorCode.PAYMENT_METHOD_NOT_ALLOWED, "Diners Club cards are not accepted", field,
                               "PM-3")


def check_tip_and_donation(circulation_kind: str, tip: Decimal, donation: Decimal,
                           prefix: Sequence[str], maximum: Optional[Decimal] = None) -> None:
    """PM-2: tips and donations inside a payment are accepted on NCS and SAXO only. TIP-3: where accepted, each
    is at most `Payments.MaximumTipAmountAllowed` (TIP-2's bound) in every flow, as in `addTip`; zero is no tip
    (money_input refuses a negative one)."""
    if not tips_and_donations_accepted(circulation_kind):
        for name, amount in (("tip", tip), ("donation", donation)):
            if amount:
                raise PaymentRuleError(ErrorCode.TIP_NOT_SUPPORTED,
                                       f"The {circulation_kind} circulation system accepts no tip or donation",
                                       [*prefix, name], "PM-2")
        return
    if maximum is None:
        return
    for name, amount in (("tip", tip), ("donation", donation)):
        if amount > maximum:
            raise PaymentRuleError(ErrorCode.TIP_TOO_LARGE, f"A {name} may be at most {maximum}", [*prefix, name],
                                   "TIP-3")


def billing_option(options: Sequence[BillingOptionFacts], term: str, amount: Decimal,
                   prefix: Sequence[str]) -> BillingOptionFacts:
    """PAY-3: the option paid must be one of the subscription's current billing options, at its amount."""
    term = (term or "").strip()
    option = next((o for o in options if o.term == term), None)
    if option is None:
        raise PaymentRuleError(ErrorCode.INVALID_OPTION, "The subscription has no billing option with this term",
                               [*prefix, "optionTerm"], "PAY-3")
    if option.amount != amount:
        raise PaymentRuleError(ErrorCode.INVALID_OPTION,
                               f"The {term} option costs {option.amount}, not {amount}", [*prefix, "optionAmount"],
                               "PAY-3")
    return option


def check_client_fees(quote: PaymentQuote, processing_fee: Optional[Decimal], fee_tax: Optional[Decimal],
                      prefix: Sequence[str]) -> None:
    """FEE-3: a non-zero processing fee or fee tax sent with any payment type but credit card is refused;
    with a credit card, a fee the client sends must be the server's."""
    card = quote.payment_type is PaymentMethodKind.CREDIT_CARD
    for name, sent, computed in (("processingFee", processing_fee, quote.processing_fee),
                                 ("processingFeeTax", fee_tax, quote.fee_tax)):
        if sent is None:
            continue
        if not card and sent != 0:
            raise PaymentRuleError(ErrorCode.PROCESSING_FEE_NOT_ALLOWED,
                                   f"`{name}` must be zero: a processing fee applies to credit-card payments only",
                                   [*prefix, name], "FEE-3")
        if sent != computed:
            raise PaymentRuleError(ErrorCode.TOTAL_MISMATCH, f"`{name}` is {computed}, not {sent}", [*prefix, name],
                                   "FEE-1")


def check_client_total(quote: PaymentQuote, client_total: Decimal, field: Sequence[str]) -> None:
    """PAY-1: the server computes the total; a client's total that differs by as much as a cent is refused
    (and nothing is charged)."""
    if client_total != quote.total:
        raise PaymentRuleError(ErrorCode.TOTAL_MISMATCH,
                               f"The total is {quote.total}, not {client_total}: ask `paymentQuote` for the amounts",
                               field, "PAY-1")


def payment_window_start(now: datetime) -> datetime:
    """PM-5: a payment made at or after this instant closes the subscription's payment window."""
    return now - PAYMENT_WINDOW


# EZ-6: what a method change inside PM-5's window answers, word for word
METHOD_CHANGE_WINDOW_MESSAGE = ("Payment method was modified recently. Please wait 24 hours or call our Customer "
                                "Support team.")


def method_change_window_start(now: datetime) -> datetime:
    """PM-5: a payment method attached at or after this instant may not be changed yet."""
    return now - METHOD_CHANGE_WINDOW


def check_payment_method_accepted(circulation_kind: str, payment_type: PaymentMethodKind,
                                  field: Sequence[str]) -> None:
    """PM-1 for a payment method itself (GW-1): some flow of the circulation system must accept its type
    (a MATRIX subscription has no use for a bank account)."""
    if not any(payment_type in allowed_payment_methods(flow, circulation_kind) for flow in PaymentFlow):
        raise PaymentRuleError(ErrorCode.PAYMENT_METHOD_NOT_ALLOWED,
                               f"The {circulation_kind} circulation system accepts no {payment_type.value} payments",
                               field, "PM-1")


def check_method_change_window(attached_at: Optional[datetime], now: datetime, field: Sequence[str]) -> None:
    """PM-5: a subscription's payment method may change at most once per 24 hours (per subscription); EZ-6: the
    refusal says so in the source documents' words."""
    if attached_at is not None and now - attached_at < METHOD_CHANGE_WINDOW:
        raise PaymentRuleError(ErrorCode.PAYMENT_METHOD_CHANGE_WINDOW, METHOD_CHANGE_WINDOW_MESSAGE, field, "PM-5")


def statement_descriptor(value: str) -> str:
    """GW-3: the tenant's descriptor, cut to what a statement prints."""
    return (value or "").strip()[:STATEMENT_DESCRIPTOR_MAX] or "papergraph"


# -- one-time payment (PAY-1..3, FEE-1..3, PM-1, PM-2) -------------------------------------------------
@dataclass(frozen=True)
class OneTimePayment:
    option_term: str
    option_amount: Decimal
    tip: Decimal
    donation: Decimal
    payment_type: PaymentMethodKind
    ignore_activation_fee: bool = False


def one_time_payment_quote(account: Account, request: OneTimePayment, circulation_kind: str,
                           settings: PaymentSettings, prefix: Sequence[str] = ("input",)) -> PaymentQuote:
    """PAY-1: total = option + tip + donation + processing fee + fee tax (+ PAY-2). PAY-2: on NCS, by credit
    card and unless `ignore_activation_fee`, the tenant's activation fee is added (and is part of the fee
    base, an "other fee" of FEE-1). PAY-3: the option must be a current billing option. PM-1, PM-2."""
    check_payment_type(PaymentFlow.ONE_TIME_PAYMENT, circulation_kind, request.payment_type, [*prefix, "paymentType"])
    if account.stopped:
        raise PaymentRuleError(ErrorCode.SUBSCRIPTION_STOPPED,
                               "A stopped subscription is paid through a restart", [*prefix, "subscriptionId"], "RST-1")
    check_tip_and_donation(circulation_kind, request.tip, request.donation, prefix, settings.maximum_tip)
    option = billing_option(account.options, request.option_term, request.option_amount, prefix)
    activation_fee = ZERO
    if (circulation_kind == ACTIVATION_FEE_KIND and request.payment_type is PaymentMethodKind.CREDIT_CARD
            and not request.ignore_activation_fee):
        activation_fee = settings.activation_fee
    return charge_quote(request.payment_type, settings.fees, option=option, tip=request.tip,
                        donation=request.donation, activation_fee=activation_fee)


# -- auto-pay (EZ-1, EZ-2, FEE-4, PM-1, PM-2) ---------------------------------------------------------
@dataclass(frozen=True)
class AutoPayPlan:
    term: str
    length: int
    tip: Decimal
    donation: Decimal
    payment_type: PaymentMethodKind


def auto_pay_quote(account: Account, plan: AutoPayPlan, circulation_kind: str, settings: PaymentSettings, *,
                   sign_up: bool, prefix: Sequence[str] = ("input",)) -> PaymentQuote:
    """EZ-2: the plan carries a renewal term and length that must match a billing option; its tip and
    donation recur with each renewal (PM-2 applies) and are not charged now. EZ-1 with FEE-4: a sign-up
    pays the outstanding debt now, with a processing fee on the debt only (none without a debt); an
    update charges nothing; the debt's payment type must be one a one-time payment accepts (PM-1). A stopped
    subscription cannot be on auto-pay."""
    flow = PaymentFlow.AUTO_PAY_SIGN_UP if sign_up else PaymentFlow.AUTO_PAY_UPDATE
    check_payment_type(flow, circulation_kind, plan.payment_type, [*prefix, "paymentType"])
    if account.stopped:
        raise PaymentRuleError(ErrorCode.SUBSCRIPTION_STOPPED, "A stopped subscription cannot be on auto-pay",
                               [*prefix, "subscriptionId"], "EZ-3")
    if sign_up and account.auto_pay:
        raise PaymentRuleError(ErrorCode.ALREADY_ON_AUTO_PAY, "The subscription is already on auto-pay",
                               [*prefix, "subscriptionId"], "EZ-1")
    if not sign_up and not account.auto_pay:
        raise PaymentRuleError(ErrorCode.NOT_ON_AUTO_PAY, "The subscription is not on auto-pay: sign up first",
                               [*prefix, "subscriptionId"], "EZ-2")
    check_tip_and_donation(circulation_kind, plan.tip, plan.donation, prefix, settings.maximum_tip)
    term = (plan.term or "").strip()
    if not any(o.term == term and o.length == plan.length for o in account.options):
        raise PaymentRuleError(ErrorCode.INVALID_OPTION, "The term and length match none of the billing options",
                               [*prefix, "term"], "EZ-2")
    debt = account.debt if sign_up else ZERO
    if debt > ZERO:  # EZ-1: the debt is a one-time payment, so PM-1's one-time column decides its method
        check_debt_payment_type(circulation_kind, plan.payment_type, [*prefix, "paymentType"])
    return charge_quote(plan.payment_type, settings.fees, balance_applied=-debt, recurring_tip=plan.tip,
                        recurring_donation=plan.donation)
