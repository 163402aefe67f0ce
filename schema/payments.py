"""Payments as papergraph shows them.

Payment methods are masked only (PM-4), never the gateway token, a full card number or a CVV: the type is
built from the stored row by `PaymentMethod.from_row`, which copies the masked columns one by one, so a
column added to the table later is not exposed by accident. `Payment` is one attempt in the ledger (PAY-4),
`PaymentQuote` what a flow charges, and the `…QuoteInput`s what each flow's quote needs (the mutations'
inputs extend them)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from enum import Enum
from typing import Optional

import strawberry
from strawberry.types import Info

from auth.permissions import PAYMENTS, allow, customer_linked, parent, reads
from domain.availability import PaymentMethodKind
from domain.ledger import Flow
from schema.common import Money


@strawberry.enum(description="PM-1: credit card or bank account.")
class PaymentMethodType(Enum):
    CREDIT_CARD = PaymentMethodKind.CREDIT_CARD.value
    BANK = PaymentMethodKind.BANK.value


@strawberry.type(description=(
    "The payment method attached to a subscription, masked (PM-4): card brand, last four digits and expiry, "
    "or bank name, masked account and routing number."
))
class PaymentMethod:
    type: PaymentMethodType
    card_brand: Optional[str] = strawberry.field(description="e.g. VISA; null for a bank account.")
    card_last4: Optional[str] = strawberry.field(description="Last four digits of the card; null for a bank account.")
    card_expiry: Optional[str] = strawberry.field(description="MM/YY; null for a bank account.")
    bank_name: Optional[str] = strawberry.field(description="Null for a card.")
    bank_account_masked: Optional[str] = strawberry.field(description="e.g. ****6789; null for a card.")
    bank_routing_number: Optional[str] = strawberry.field(description="Null for a card.")
    attached_at: datetime

    @classmethod
    def from_row(cls, row) -> "PaymentMethod":
        is_card = row.type == PaymentMethodType.CREDIT_CARD.value
        attached = row.attached_at
        if attached is not None and attached.tzinfo is None:  # SQLite drops the zone; written in UTC
            attached = attached.replace(tzinfo=timezone.utc)
        return cls(
            type=PaymentMethodType(row.type),
            card_brand=row.card_brand if is_card else None,
            card_last4=row.card_last4 if is_card else None,
            card_expiry=row.card_expiry if is_card else None,
            bank_name=None if is_card else row.bank_name,
            bank_account_masked=None if is_card else row.bank_account_masked,
            bank_routing_number=None if is_card else row.bank_routing_number,
            attached_at=attached,
        )


# -- the payment ledger (PAY-4) ------------------------------------------------------------------------
@strawberry.enum(description="Where a payment attempt is (PAY-4). Final: APPLIED, DECLINED, FAILED, VOIDED, REFUNDED.")
class PaymentState(Enum):
    CREATED = strawberry.enum_value("CREATED", description="Recorded; the gateway has not charged it (yet).")
    CHARGED = strawberry.enum_value("CHARGED", description="Charged; not applied in the circulation system yet.")
    PAID = strawberry.enum_value("PAID", description="EZ-1: the debt is paid; auto-pay is being set up.")
    PENDING_APPLY = strawberry.enum_value("PENDING_APPLY", description=(
        "Charged but neither applied nor given back yet: reconciliation finishes it."))
    APPLIED = strawberry.enum_value("APPLIED", description="Done: charged (when anything was due) and applied.")
    DECLINED = strawberry.enum_value("DECLINED", description="The card or account was declined: nothing charged.")
    FAILED = strawberry.enum_value("FAILED", description="Refused or interrupted before anything was charged.")
    VOIDED = strawberry.enum_value("VOIDED", description="Charged, not applied, and voided: nothing taken.")
    REFUNDED = strawberry.enum_value("REFUNDED", description="Charged, not applied, and refunded.")


PaymentFlow = strawberry.enum(Flow, name="PaymentFlow", description="The operation a payment belongs to.")


@strawberry.type(description=(
    "One attempt of a money-moving or auto-pay operation in papergraph's ledger, with every amount line "
    "(PAY-1: total = optionAmount + tip + donation + activationFee + processingFee + processingFeeTax − "
    "balanceApplied)."
))
class Payment:
    id: strawberry.ID
    subscription_id: strawberry.ID
    flow: PaymentFlow
    state: PaymentState
    payment_type: Optional[PaymentMethodType] = strawberry.field(description="Null when nothing was charged.")
    option_term: Optional[str]
    option_amount: Money = strawberry.field(description="The billing option paid, its tax included (PAY-3).")
    option_tax: Money = strawberry.field(description="The part of optionAmount that is tax (not added again).")
    tip: Money = strawberry.field(description="A one-time tip charged now.")
    donation: Money
    activation_fee: Money = strawberry.field(description="PAY-2: NCS credit-card payments only.")
    processing_fee: Money = strawberry.field(description="FEE-1.")
    processing_fee_tax: Money = strawberry.field(description="FEE-2.")
    balance_applied: Money = strawberry.field(description=(
        "The subscription's balance taken into the total: a credit used (> 0) or a debt collected (< 0)."))
    total: Money = strawberry.field(description="What was (or is being) charged.")
    gateway_transaction_id: Optional[str]
    circulation_transaction_id: Optional[str]
    error_code: Optional[str] = strawberry.field(description="Why it ended without its effect, when it did.")
    error_message: Optional[str]
    created_at: datetime
    updated_at: datetime
    charged_at: Optional[datetime]
    finished_at: Optional[datetime]

    @classmethod
    def from_row(cls, row, currency: str) -> "Payment":
        def money(amount) -> Money:
            return Money.of(amount, row.currency or currency)

        return cls(
            id=strawberry.ID(str(row.id)), subscription_id=strawberry.ID(row.subscription_id),
            flow=PaymentFlow(row.flow), state=PaymentState(row.state),
            payment_type=PaymentMethodType(row.payment_type) if row.payment_type else None,
            option_term=row.option_term, option_amount=money(row.option_amount), option_tax=money(row.option_tax),
            tip=money(row.tip), donation=money(row.donation), activation_fee=money(row.activation_fee),
            processing_fee=money(row.processing_fee), processing_fee_tax=money(row.fee_tax),
            balance_applied=money(row.balance_applied), total=money(row.total),
            gateway_transaction_id=row.gateway_transaction_id,
            circulation_transaction_id=row.circulation_transaction_id,
            error_code=row.error_code, error_message=row.error_message, created_at=_utc(row.created_at),
            updated_at=_utc(row.updated_at), charged_at=_utc(row.charged_at), finished_at=_utc(row.finished_at),
        )


@strawberry.type(description=(
    "What a payment flow charges now, line by line, computed by the same function the mutation charges "
    "with: a front end shows these amounts and sends `total` back, never computing money itself."
))
class PaymentQuote:
    payment_type: Optional[PaymentMethodType] = strawberry.field(description="Null when nothing is charged (RST-4).")
    option_term: Optional[str]
    option_amount: Money = strawberry.field(description="The billing option, its tax included.")
    option_tax: Money = strawberry.field(description="The part of optionAmount that is tax (not added again).")
    tip: Money
    donation: Money
    activation_fee: Money = strawberry.field(description="PAY-2.")
    processing_fee: Money = strawberry.field(description="FEE-1, FEE-4.")
    processing_fee_tax: Money = strawberry.field(description="FEE-2.")
    balance_applied: Money = strawberry.field(description="A credit used (> 0) or a debt collected (< 0) (RST-3, EZ-1).")
    total: Money = strawberry.field(description="What is charged now; the mutation's `total` must be exactly this.")
    recurring_tip: Money = strawberry.field(description="EZ-2, FEE-4: added to each auto-pay renewal, not charged now.")
    recurring_donation: Money = strawberry.field(description="EZ-2: added to each auto-pay renewal, not charged now.")
    payment_required: bool = strawberry.field(description="False when nothing is charged (RST-4): no payment method needed.")

    @classmethod
    def of(cls, quote, currency: str) -> "PaymentQuote":
        def money(amount) -> Money:
            return Money.of(amount, currency)

        return cls(
            payment_type=PaymentMethodType(quote.payment_type.value) if quote.payment_type else None,
            option_term=quote.option_term, option_amount=money(quote.option_amount),
            option_tax=money(quote.option_tax), tip=money(quote.tip), donation=money(quote.donation),
            activation_fee=money(quote.activation_fee), processing_fee=money(quote.processing_fee),
            processing_fee_tax=money(quote.fee_tax), balance_applied=money(quote.balance_applied),
            total=money(quote.total), recurring_tip=money(quote.recurring_tip),
            recurring_donation=money(quote.recurring_donation), payment_required=quote.charges,
        )


@strawberry.type(description="A NavigaPay hosted payment session (GW-1): show `iframeUrl` in an iframe.")
class PaymentSession:
    session_id: str
    group_id: str
    payment_type: PaymentMethodType
    iframe_url: str = strawberry.field(description="The hosted page where the card or account is entered, only there.")


# -- what each flow's quote needs; the mutations' inputs add the subscription, the key and the total ----
@strawberry.input(description="A one-time payment (PAY-1..3): the option paid, an optional tip and donation.")
class MakePaymentQuoteInput:
    option_term: str = strawberry.field(description="The billing option's term, e.g. 1M (PAY-3).")
    option_amount: Decimal = strawberry.field(description="The billing option's amount, e.g. \"10.79\" (PAY-3).")
    tip: Optional[Decimal] = strawberry.field(default=None, description="NCS and SAXO only (PM-2).")
    donation: Optional[Decimal] = strawberry.field(default=None, description="NCS and SAXO only (PM-2).")
    payment_type: PaymentMethodType = strawberry.field(description="PM-1; the subscription's payment method is charged.")
    ignore_activation_fee: bool = strawberry.field(default=False, description="PAY-2: leave the activation fee out.")


@strawberry.input(description="A restart of a stopped subscription (RST-1..4).")
class RestartQuoteInput:
    option_term: str
    option_amount: Decimal
    tip: Optional[Decimal] = None
    donation: Optional[Decimal] = None
    payment_type: Optional[PaymentMethodType] = strawberry.field(default=None, description=(
        "Needed unless the credit covers the restart (RST-4)."))
    restart_date: Optional[date] = strawberry.field(default=None, description=(
        "Default today in the tenant's time zone; later dates for MATRIX and CIRCPRO only (RST-2)."))


@strawberry.input(description="An auto-pay plan (EZ-2): renewal term and length, recurring tip and donation.")
class AutoPayQuoteInput:
    term: str
    length: int
    tip: Optional[Decimal] = strawberry.field(default=None, description="Recurring (EZ-2); NCS and SAXO only (PM-2).")
    donation: Optional[Decimal] = strawberry.field(default=None, description="Recurring (EZ-2).")
    payment_type: PaymentMethodType


@strawberry.input(description="A tip (TIP-1, TIP-2).")
class TipQuoteInput:
    amount: Decimal = strawberry.field(description="Greater than zero, at most Payments.MaximumTipAmountAllowed.")
    recurring: bool = strawberry.field(default=False, description="Added to auto-pay renewals (needs auto-pay).")
    payment_type: PaymentMethodType


@strawberry.input(description="Exactly one flow to quote.")
class PaymentQuoteInput:
    make_payment: Optional[MakePaymentQuoteInput] = None
    restart: Optional[RestartQuoteInput] = None
    auto_pay_sign_up: Optional[AutoPayQuoteInput] = None
    add_tip: Optional[TipQuoteInput] = None


def _utc(value: Optional[datetime]) -> Optional[datetime]:
    if value is not None and value.tzinfo is None:  # SQLite drops the zone; written in UTC
        return value.replace(tzinfo=timezone.utc)
    return value


async def _subscription_payments(root, info: Info) -> Optional[list[Payment]]:
    return await info.context.loaders.payments_by_subscription_id.load(str(root.id))


def subscription_payments_field():
    return strawberry.field(resolver=_subscription_payments,
                            description="The subscription's payment attempts in papergraph's ledger, newest first "
                                        "(the latest 50).",
                            extensions=allow(reads(PAYMENTS), customer_linked(parent("id"))))
