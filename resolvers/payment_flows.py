"""What the payment mutations (makePayment, restartSubscription, signUpAutoPay, updateAutoPay, addTip) and
`paymentQuote` share: reading a subscription's facts, each flow's quote and circulation calls, running
an attempt exactly once per idempotency key, and building the answer.

One code path for money: `prepare_<flow>` computes the quote with the flow's pure domain function, and
both `paymentQuote` and the mutation call it, so what is quoted is what is charged.

A mutation (`run_payment`):
1. validates its idempotency key and claims it; a concurrent duplicate waits (boundedly) for the first
   request's answer, a key bound to another input is refused (IDEMPOTENCY_KEY_REUSED);
2. reads the subscription, its billing options and payment method, and prepares the flow;
3. checks the client's total (PAY-1, to the cent) and fees (FEE-3), and the payment method it will charge
   (PM-1, PM-3);
4. records the attempt, state CREATED, with its event, refusing it when the subscription's payment window
   is taken (PM-5) — a refusal in steps 2 to 4 is remembered for the key like any answer;
5. lets `LedgerRunner` charge, apply, or give back (`resolvers/payment_ledger.py`);
6. completes the key with the attempt's id. A replay answers from the attempt as it is then, so a pending
   payment that reconciliation finished answers finished.
An unexpected error before step 4 releases the key (nothing happened); after it the key stays claimed
and reconciliation completes it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence
from zoneinfo import ZoneInfo

import strawberry
from strawberry.types import Info

from datasources.models import Event, Payment as PaymentRow, PaymentMethod as PaymentMethodRow, utcnow
from datasources.repositories.idempotency import ClaimOutcome, IdempotencyRepository
from datasources.repositories.payment_methods import PaymentMethodRepository
from datasources.repositories.payments import DuplicateAttempt, PaymentRepository, PaymentWindowClosed
from domain.availability import PaymentMethodKind
from domain.idempotency import request_hash, upstream_key, validate_key
from domain.ledger import Flow, LedgerState as S
from domain.payments import (
    Account,
    AutoPayPlan,
    ErrorCode,
    OneTimePayment,
    PaymentQuote,
    PaymentRuleError,
    PaymentSettings,
    auto_pay_quote,
    check_card_brand,
    check_client_fees,
    check_client_total,
    money_input,
    one_time_payment_quote,
    payment_window_start,
    statement_descriptor,
)
from domain.restarts import Restart, restart_quote
from domain.tips import Tip, tip_quote
from resolvers.mutation_support import error_type
from resolvers.payment_ledger import PAYMENT_OPERATIONS, LedgerRunner
from schema.payments import Payment
from schema.registrations import Event as EventType
from schema.subscriptions import CustomerSubscription

if TYPE_CHECKING:
    from domain.tenants import TenantContext
    from resolvers.context import Context

log = logging.getLogger("papergraph.payments")
INPUT = ("input",)


IDEMPOTENCY_KEY = ("Unique per attempt, at most 255 characters: the same key with the same input answers the "
                   "first answer (success or failure) and charges nothing more; with other input it is refused "
                   "(IDEMPOTENCY_KEY_REUSED). Kept at least 24 hours.")
CLIENT_TOTAL = ("The total the client shows, as `paymentQuote` computed it: a total that differs from the "
                "server's by as much as a cent is refused and nothing is charged (PAY-1).")
CLIENT_FEE = "Optional: the fee the client shows; non-zero is refused for a bank account (FEE-3)."


# -- error codes --------------------------------------------------------------------------------------
# What every money-moving mutation can answer: its input, its key, the payment method, the window, and the
# outcome of the upstream steps.
COMMON_CODES = (
    ErrorCode.INVALID, ErrorCode.INVALID_AMOUNT, ErrorCode.NOT_FOUND, ErrorCode.FLOW_NOT_SUPPORTED,
    ErrorCode.PAYMENT_METHOD_NOT_ALLOWED, ErrorCode.PAYMENT_METHOD_REQUIRED, ErrorCode.PAYMENT_METHOD_MISMATCH,
    ErrorCode.PROCESSING_FEE_NOT_ALLOWED, ErrorCode.TOTAL_MISMATCH, ErrorCode.PAYMENT_WINDOW,
    ErrorCode.PAYMENT_DECLINED, ErrorCode.GATEWAY_REFUSED, ErrorCode.GATEWAY_UNAVAILABLE,
    ErrorCode.UPSTREAM_UNAVAILABLE, ErrorCode.CIRCULATION_REFUSED, ErrorCode.CIRCULATION_UNAVAILABLE, ErrorCode.PAYMENT_PENDING,
    ErrorCode.INTERRUPTED, ErrorCode.IDEMPOTENCY_KEY_REUSED, ErrorCode.IDEMPOTENCY_KEY_IN_PROGRESS,
)
QUOTE_CODES = (ErrorCode.INVALID, ErrorCode.INVALID_AMOUNT, ErrorCode.NOT_FOUND, ErrorCode.FLOW_NOT_SUPPORTED,
               ErrorCode.PAYMENT_METHOD_NOT_ALLOWED, ErrorCode.PAYMENT_METHOD_REQUIRED, ErrorCode.TIP_NOT_SUPPORTED,
               ErrorCode.TIP_NOT_ALLOWED, ErrorCode.TIP_TOO_LARGE, ErrorCode.INVALID_OPTION,
               ErrorCode.SUBSCRIPTION_STOPPED, ErrorCode.RESTART_NOT_AVAILABLE, ErrorCode.INVALID_RESTART_DATE,
               ErrorCode.ALREADY_ON_AUTO_PAY, ErrorCode.NOT_ON_AUTO_PAY)


CODE_DESCRIPTIONS = {
    ErrorCode.UPSTREAM_UNAVAILABLE.value: "The payment gateway could not be reached (papergraph's circuit breaker "
                                          "for it is open, or no connection could be made): the sale was not sent, "
                                          "nothing was charged and the payment window stays free. Try again "
                                          "shortly with a new idempotency key.",
}


def error_codes(name: str, codes: Sequence[ErrorCode], *, common: Sequence[ErrorCode] = COMMON_CODES) -> type[Enum]:
    """`<Name>ErrorCode`: the mutation's own enum (Saleor style), the common codes and its flow's."""
    members = list(dict.fromkeys(code.value for code in (*common, *codes)))
    enum = Enum(f"{name}ErrorCode", {
        member: strawberry.enum_value(member, description=CODE_DESCRIPTIONS[member])
        if member in CODE_DESCRIPTIONS else member for member in members})
    return strawberry.enum(enum, description=f"Why `{name[0].lower()}{name[1:]}` refused its input or ended "
                                             "without its effect.")


@dataclass(frozen=True)
class MutationTypes:
    """A payment mutation's GraphQL types, Saleor style: `<Name>ErrorCode`, `<Name>Error`, `<Name>Payload`."""

    codes: type[Enum]
    error: type
    payload: type


def mutation_types(name: str, codes: Sequence[ErrorCode]) -> MutationTypes:
    enum = error_codes(name, codes)
    error = error_type(name, enum)
    return MutationTypes(codes=enum, error=error, payload=payload_type(name, error))


@strawberry.input(description="What every payment mutation adds to its flow's input.")
class KeyedInput:
    subscription_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=IDEMPOTENCY_KEY)


@strawberry.input(description="What every money-moving mutation adds to its flow's input.")
class ChargeInput(KeyedInput):
    total: Decimal = strawberry.field(description=CLIENT_TOTAL)
    processing_fee: Optional[Decimal] = strawberry.field(default=None, description=CLIENT_FEE)
    processing_fee_tax: Optional[Decimal] = strawberry.field(default=None, description=CLIENT_FEE)


async def payment_mutation(info: Any, operation: str, input: Any, prepare: Callable[["Facts"], "Prepared"],
                           types: MutationTypes) -> Any:
    """A payment mutation's whole resolver: run it exactly once (`run_payment`), answer its payload."""
    if operation not in PAYMENT_OPERATIONS:
        raise ValueError(f"{operation} is not a payment operation")
    response = await run_payment(info.context, MoneyRequest(
        operation=operation, subscription_id=str(input.subscription_id).strip(),
        idempotency_key=input.idempotency_key, input=input, prepare=prepare, total=getattr(input, "total", None),
        processing_fee=getattr(input, "processing_fee", None),
        processing_fee_tax=getattr(input, "processing_fee_tax", None)))
    return (await answer(info.context, response)).payload(types.payload, types.error, types.codes)


async def _payload_subscription(root, info: Info) -> Optional[CustomerSubscription]:
    if root.subscription_id is None:
        return None
    return await info.context.loaders.subscription_by_id.load(root.subscription_id)


def payload_type(name: str, error_cls: type) -> type:
    """`<Name>Payload { payment subscription event userErrors }`: what every payment mutation answers.
    `subscription` is re-read when asked for, on its own: when the circulation system cannot answer after
    the money moved, that field alone is null with its error, and the payment, event and user errors of the
    attempt still reach the client."""
    namespace = {
        "__annotations__": {"payment": Optional[Payment], "event": Optional[EventType],
                            "user_errors": list[error_cls], "subscription_id": strawberry.Private[Optional[str]]},
        "payment": strawberry.field(default=None, description="The attempt in the ledger: its state and amounts."),
        "subscription": strawberry.field(resolver=_payload_subscription,
                                         description="The subscription, re-read after the change."),
        "event": strawberry.field(default=None, description="The event the attempt's current state recorded."),
        "user_errors": strawberry.field(default_factory=list),
        "subscription_id": None,
        "__module__": __name__,
    }
    return strawberry.type(type(f"{name}Payload", (), namespace))


# -- facts ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Facts:
    """What a flow reads about the subscription, read once per request."""

    tenant: "TenantContext"
    subscription_id: str
    record: dict[str, Any]
    account: Account
    method: Optional[PaymentMethodRow]
    settings: PaymentSettings

    @property
    def today(self) -> date:
        """RST-2: today in the tenant's time zone."""
        return datetime.now(ZoneInfo(self.tenant.time_zone)).date()


async def read_facts(context: "Context", subscription_id: str, *, with_method: bool) -> Optional[Facts]:
    """The circulation record, its billing options and (for a mutation) the attached payment method, read
    concurrently; None when the tenant has no such subscription."""
    services, tenant = context.services, context.tenant

    async def method() -> Optional[PaymentMethodRow]:
        return await PaymentMethodRepository(services.db).row(tenant.id, subscription_id) if with_method else None

    record, options, attached = await asyncio.gather(
        services.circulation.get_subscription(tenant.code, subscription_id),
        services.circulation.get_billing_options(tenant.code, [subscription_id]),
        method(),
    )
    if record is None:
        return None
    return Facts(tenant=tenant, subscription_id=subscription_id, record=record,
                 account=Account.from_record(record, options.get(subscription_id, [])), method=attached,
                 settings=PaymentSettings.from_tenant(tenant.settings))


def not_found(prefix: Sequence[str] = INPUT) -> PaymentRuleError:
    return PaymentRuleError(ErrorCode.NOT_FOUND, "No subscription has this id", [*prefix, "subscriptionId"], "SUB-1")


# -- each flow: its quote (shared with paymentQuote) and its circulation calls ----------------------------
@dataclass(frozen=True)
class Prepared:
    flow: Flow
    quote: PaymentQuote
    steps: list[dict[str, Any]]  # circulation calls in order: {"call", "body", "money"}
    event: dict[str, Any] = field(default_factory=dict)  # reason and source of the flow's event (RST-5)
    needs_method: bool = False  # the subscription's payment method is used even when nothing is charged


def _kind(value: Any) -> Optional[PaymentMethodKind]:
    return PaymentMethodKind(value.value if isinstance(value, Enum) else value) if value is not None else None


def _fees(quote: PaymentQuote) -> dict[str, str]:
    return {"processingFee": str(quote.processing_fee), "processingFeeTax": str(quote.fee_tax)}


def prepare_one_time(facts: Facts, input: Any, prefix: Sequence[str] = INPUT) -> Prepared:
    """PAY-1..3, FEE-1..3, PM-1, PM-2."""
    request = OneTimePayment(
        option_term=input.option_term, option_amount=money_input(input.option_amount, [*prefix, "optionAmount"]),
        tip=money_input(input.tip, [*prefix, "tip"]), donation=money_input(input.donation, [*prefix, "donation"]),
        payment_type=_kind(input.payment_type), ignore_activation_fee=bool(input.ignore_activation_fee))
    quote = one_time_payment_quote(facts.account, request, facts.tenant.circulation_kind, facts.settings, prefix)
    body = {"optionTerm": quote.option_term, "amount": str(quote.option_amount), "tip": str(quote.tip),
            "donation": str(quote.donation), "paymentType": quote.payment_type.value,
            "activationFee": str(quote.activation_fee), **_fees(quote)}
    return Prepared(Flow.ONE_TIME, quote, [{"call": "payment", "body": body, "money": True}])


def prepare_restart(facts: Facts, input: Any, prefix: Sequence[str] = INPUT) -> Prepared:
    """RST-1..RST-5: the restart's quote and the one circulation call that restarts (and takes the payment,
    when anything is due), with the tenant's reason and source codes."""
    request = Restart(
        option_term=input.option_term, option_amount=money_input(input.option_amount, [*prefix, "optionAmount"]),
        tip=money_input(input.tip, [*prefix, "tip"]), donation=money_input(input.donation, [*prefix, "donation"]),
        payment_type=_kind(input.payment_type), restart_date=input.restart_date)
    settings = facts.settings
    quote, chosen = restart_quote(facts.account, request, facts.tenant.circulation_kind, settings, facts.today,
                                  prefix)
    body = {"restartDate": chosen.isoformat(), "optionTerm": quote.option_term, "amount": str(quote.option_amount),
            "tip": str(quote.tip), "donation": str(quote.donation),
            "paymentType": quote.payment_type.value if quote.charges else None,
            "applyCredit": settings.apply_credit_balance, "reasonCode": settings.restart_reason_code,
            "sourceCode": settings.restart_source_code, **_fees(quote)}
    if not quote.charges:
        body["gatewayTransactionId"] = None  # RST-4: no payment at all
    return Prepared(Flow.RESTART, quote, [{"call": "restart", "body": body, "money": quote.charges}],
                    event={"reason": settings.restart_reason_code, "source": settings.restart_source_code,
                           "restartDate": chosen.isoformat()})


def prepare_auto_pay(facts: Facts, input: Any, *, sign_up: bool, prefix: Sequence[str] = INPUT) -> Prepared:
    """EZ-1, EZ-2, FEE-4: a sign-up with a debt pays it first (a payment of the balance), then sets up
    auto-pay with the subscription's payment method; an update changes the plan."""
    plan = AutoPayPlan(term=input.term, length=input.length, tip=money_input(input.tip, [*prefix, "tip"]),
                       donation=money_input(input.donation, [*prefix, "donation"]),
                       payment_type=_kind(input.payment_type))
    quote = auto_pay_quote(facts.account, plan, facts.tenant.circulation_kind, facts.settings, sign_up=sign_up,
                           prefix=prefix)
    auto_pay = {"paymentType": plan.payment_type.value, "term": plan.term.strip(), "length": plan.length,
                "paymentToken": facts.method.gateway_token if facts.method else None, "tip": str(plan.tip),
                "donation": str(plan.donation)}
    steps = []
    if quote.charges:  # EZ-1: the debt first, as a one-time payment of the balance
        steps.append({"call": "payment", "money": True, "body": {
            "optionTerm": None, "amount": str(-quote.balance_applied), "paymentType": plan.payment_type.value,
            **_fees(quote)}})
    steps.append({"call": "autopay_signup" if sign_up else "autopay_update", "body": auto_pay})
    return Prepared(Flow.AUTOPAY_SIGNUP if sign_up else Flow.AUTOPAY_UPDATE, quote, steps, needs_method=True)


def prepare_tip(facts: Facts, input: Any, prefix: Sequence[str] = INPUT) -> Prepared:
    """TIP-1, TIP-2, FEE-4."""
    tip = Tip(amount=money_input(input.amount, [*prefix, "amount"], rule="TIP-2"), recurring=bool(input.recurring),
              payment_type=_kind(input.payment_type))
    quote = tip_quote(facts.account, tip, facts.tenant.circulation_kind, facts.settings, prefix)
    body = {"amount": str(tip.amount), "recurring": tip.recurring, "paymentType": tip.payment_type.value,
            **_fees(quote)}
    if not quote.charges:
        body["gatewayTransactionId"] = None
    return Prepared(Flow.TIP, quote, [{"call": "tip", "body": body, "money": quote.charges}])


# -- running a mutation exactly once ------------------------------------------------------------------------
@dataclass(frozen=True)
class MoneyRequest:
    """What a payment mutation adds to its flow's input."""

    operation: str
    subscription_id: str
    idempotency_key: str
    input: Any
    prepare: Callable[[Facts], Prepared]
    total: Optional[Decimal] = None
    processing_fee: Optional[Decimal] = None
    processing_fee_tax: Optional[Decimal] = None


def refusal(error: PaymentRuleError, subscription_id: Optional[str] = None) -> dict[str, Any]:
    return {"paymentId": None, "subscriptionId": subscription_id,
            "errors": [{"code": error.code.value, "field": error.field, "message": str(error)}]}


async def run_payment(context: "Context", request: MoneyRequest) -> dict[str, Any]:
    """Steps 1 to 6 of the module docstring; returns the answer remembered for the key."""
    tenant, services = context.tenant, context.services
    try:
        key = validate_key(request.idempotency_key)
    except ValueError as error:
        return refusal(PaymentRuleError(ErrorCode.INVALID, str(error), [*INPUT, "idempotencyKey"], "PAY-4"))
    hashed = {k: v for k, v in vars(request.input).items() if k != "idempotency_key"}
    digest = request_hash(request.operation, hashed)
    keys = IdempotencyRepository(services.db)
    claim = await keys.claim(tenant.id, key, request.operation, digest)
    if claim.outcome is ClaimOutcome.IN_PROGRESS:
        claim = await keys.wait(tenant.id, key, request.operation, digest,
                                timeout=services.settings.idempotency_wait_seconds)
    if claim.outcome is ClaimOutcome.REPLAY:
        return claim.response or {}
    if claim.outcome is ClaimOutcome.MISMATCH:
        return refusal(PaymentRuleError(ErrorCode.IDEMPOTENCY_KEY_REUSED, "This idempotency key was used for "
                                        "another request", [*INPUT, "idempotencyKey"], "PAY-4"))
    if claim.outcome is ClaimOutcome.IN_PROGRESS:
        return refusal(PaymentRuleError(ErrorCode.IDEMPOTENCY_KEY_IN_PROGRESS, "A request with this idempotency "
                                        "key is still in progress: ask again later", [*INPUT, "idempotencyKey"],
                                        "PAY-4"))
    try:
        payment, new = await _record_attempt(context, request, key)
    except PaymentRuleError as error:
        response = refusal(error)
        await keys.complete(claim.record_id, response)
        return response
    except BaseException:
        await keys.release(claim.record_id)  # nothing was recorded, so nothing was charged
        raise
    if new:
        payment = await LedgerRunner(services, tenant.code).advance(payment)
    response = {"paymentId": payment.id, "subscriptionId": payment.subscription_id}
    await keys.complete(claim.record_id, response)
    return response


async def _record_attempt(context: "Context", request: MoneyRequest, key: str) -> tuple[PaymentRow, bool]:
    """The attempt, new (True), or the key's attempt recorded before (False)."""
    tenant, services = context.tenant, context.services
    facts = await read_facts(context, request.subscription_id, with_method=True)
    if facts is None:
        raise not_found()
    prepared = request.prepare(facts)
    quote = prepared.quote
    method = facts.method
    if quote.charges or prepared.needs_method:  # before the totals: a total for another method cannot match
        _check_method(method, quote.payment_type or _kind(getattr(request.input, "payment_type", None)))
    check_client_fees(quote, request.processing_fee, request.processing_fee_tax, INPUT)
    if request.total is not None:
        check_client_total(quote, money_input(request.total, [*INPUT, "total"]), [*INPUT, "total"])
    now = utcnow()
    owner = await owner_crid(context, request.subscription_id)
    payment = PaymentRow(
        tenant_id=tenant.id, subscription_id=request.subscription_id, crid=owner, flow=prepared.flow.value,
        state=S.CREATED.value, payment_type=quote.payment_type.value if quote.payment_type else None,
        currency=tenant.currency, option_term=quote.option_term, option_amount=quote.option_amount,
        option_tax=quote.option_tax, tip=quote.tip, donation=quote.donation, activation_fee=quote.activation_fee,
        processing_fee=quote.processing_fee, fee_tax=quote.fee_tax, balance_applied=quote.balance_applied,
        total=quote.total, idempotency_key=key, created_at=now, updated_at=now,
        plan=_plan(tenant, key, prepared, method),
    )
    event = Event(tenant_id=tenant.id, type_code="PAYMENTCREATED", subscription_id=request.subscription_id,
                  crid=owner, amount=quote.total, created_at=now,
                  details={"flow": prepared.flow.value, "total": str(quote.total), "state": S.CREATED.value,
                           "paymentType": payment.payment_type})
    ledger = PaymentRepository(services.db)
    try:
        return await ledger.create_attempt(payment, event, window_start=payment_window_start(now) if quote.charges
                                           else None), True
    except PaymentWindowClosed as closed:
        raise PaymentRuleError(
            ErrorCode.PAYMENT_WINDOW,
            f"The subscription accepted a payment at {closed.since.isoformat(timespec='minutes')}: it accepts one "
            "payment per 24 hours", [*INPUT, "subscriptionId"], "PM-5") from None
    except DuplicateAttempt:  # the key's attempt exists (its first request outlived its claim): answer it
        existing = await ledger.by_key(tenant.id, key)
        if existing is None:
            raise
        return existing, False


def _check_method(method: Optional[PaymentMethodRow], payment_type: Optional[PaymentMethodKind]) -> None:
    """The subscription's payment method is what is charged (PM-4): it must exist, be of the type the client
    quoted, and not be a Diners Club card (PM-3)."""
    field = [*INPUT, "paymentType"]
    if method is None:
        raise PaymentRuleError(ErrorCode.PAYMENT_METHOD_REQUIRED, "The subscription has no payment method: add "
                               "one with startPaymentSession and completePaymentSession", field, "GW-1")
    if payment_type is not None and method.type != payment_type.value:
        raise PaymentRuleError(ErrorCode.PAYMENT_METHOD_MISMATCH,
                               f"The subscription's payment method is a {method.type}, not a {payment_type.value}",
                               field, "PM-4")
    check_card_brand(method.card_brand, field)


def _plan(tenant: "TenantContext", key: str, prepared: Prepared, method: Optional[PaymentMethodRow]) -> dict[str, Any]:
    """Everything `LedgerRunner` needs to finish the attempt, with the upstream keys derived from the
    client's key (the same on every retry and in reconciliation)."""
    code = tenant.code
    return {
        "profileId": method.gateway_token if method is not None and prepared.quote.charges else None,
        "reference": upstream_key("pg-ref", code, key),
        "statementDescriptor": statement_descriptor(tenant.settings.statement_descriptor),
        "gatewayKey": upstream_key("pay", code, key),
        "voidKey": upstream_key("pay-void", code, key),
        "refundKey": upstream_key("pay-refund", code, key),
        "steps": [{**step, "key": upstream_key(f"pay-{step['call']}", code, key)} for step in prepared.steps],
        "event": prepared.event,
        "recurringTip": str(prepared.quote.recurring_tip),
        "recurringDonation": str(prepared.quote.recurring_donation),
    }


async def owner_crid(context: "Context", subscription_id: str) -> Optional[str]:
    links = await context.loaders.links_by_subscription_id.load(subscription_id)
    return next((link.crid for link in links if link.role.value == "OWNER"), None)


# -- the answer ----------------------------------------------------------------------------------------------
@dataclass
class Answer:
    payment: Optional[Payment] = None
    subscription_id: Optional[str] = None
    event: Optional[EventType] = None
    errors: list[tuple[str, Optional[list[str]], str]] = field(default_factory=list)

    def payload(self, payload_cls: type, error_cls: type, codes: type[Enum]) -> Any:
        return payload_cls(payment=self.payment, subscription_id=self.subscription_id, event=self.event,
                           user_errors=self.user_errors(error_cls, codes))

    def user_errors(self, error_cls: type, codes: type[Enum]) -> list:
        result = []
        for code, path, message in self.errors:
            if code not in codes.__members__:
                log.error("%s cannot answer %s; answering INVALID", codes.__name__, code)
                code = ErrorCode.INVALID.value
            result.append(error_cls(code=codes[code], field=path, message=message))
        return result


PENDING_MESSAGE = ("The payment is being processed: it will be applied or given back. Ask again with the same "
                   "idempotency key for its outcome.")


def outcome_errors(row: PaymentRow) -> list[tuple[str, Optional[list[str]], str]]:
    """The user errors a payment's state answers with (none for a plain success)."""
    state = S(row.state)
    if state in (S.CREATED, S.CHARGED, S.PAID, S.PENDING_APPLY):
        return [(ErrorCode.PAYMENT_PENDING.value, None, PENDING_MESSAGE)]
    if state is S.APPLIED and not row.error_code:
        return []
    return [(row.error_code or ErrorCode.CIRCULATION_REFUSED.value, None, row.error_message or state.value)]


async def answer(context: "Context", response: dict[str, Any]) -> Answer:
    """The payload's parts from a remembered answer: the attempt as it is now, its latest event, and the
    subscription re-read from the circulation system (the request's cache of it is cleared)."""
    tenant = context.tenant
    payment_id = response.get("paymentId")
    if payment_id is None:
        return Answer(errors=[(e["code"], e.get("field"), e["message"]) for e in response.get("errors") or []])
    ledger = PaymentRepository(context.services.db)
    row = await ledger.get(tenant.id, payment_id)
    if row is None:  # an answer outlived its row: only a manual deletion does this
        return Answer(errors=[(ErrorCode.NOT_FOUND.value, None, "The payment no longer exists")])
    event = (await ledger.latest_events(tenant.id, [row.id])).get(row.id)
    loaders = context.loaders
    for loader in (loaders.subscription_by_id, loaders.billing_options_by_subscription_id,
                   loaders.payment_method_by_subscription_id, loaders.payments_by_subscription_id):
        loader.clear(row.subscription_id)
    return Answer(payment=Payment.from_row(row, tenant.currency), subscription_id=row.subscription_id,
                  event=EventType.from_row(event, tenant.currency) if event is not None else None,
                  errors=outcome_errors(row))

