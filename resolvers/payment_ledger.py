"""`LedgerRunner`: drives one payment attempt through the ledger's states (`domain/ledger.py`) by calling
NavigaPay and the circulation system, writing every state change with its event (NOT-1). The payment
mutations run it right after recording the attempt; reconciliation (`resolvers/reconciliation.py`) runs
it again on whatever a request left unfinished. It knows nothing of GraphQL.

Everything an attempt needs is in its row: the amounts, and in `plan` the gateway profile, papergraph's
gateway reference, the upstream idempotency keys (derived from the client's key) and the circulation
calls to make. So running it twice, or after a crash, sends the same requests with the same keys, and
the upstreams replay instead of charging or applying twice.

How each step's outcome moves the attempt (PAY-4):
- sale: captured → CHARGED; declined → DECLINED; refused (4xx) → FAILED; certainly not sent (papergraph's
  own circuit breaker refused it, or no connection could be made) → FAILED with UPSTREAM_UNAVAILABLE at
  once, so PM-5's window stays free. No answer (5xx, timeout, dropped
  connection) → the gateway is asked for a sale with papergraph's reference: found → CHARGED (or
  DECLINED); not found after an error answer → FAILED; not found after a timeout → stays CREATED (the
  sale may still be in flight) and reconciliation asks again later. Reconciliation never sells again.
- circulation application: done → APPLIED (or PAID when a second call follows, EZ-1); refused (4xx) →
  the circulation system's transactions are read first (a refusal may answer a retry whose first try was
  applied and lost its answer): applied → APPLIED; not applied → the money is given back (void, or refund
  once settled) → VOIDED | REFUNDED, and when that fails too, or the transactions cannot be read →
  PENDING_APPLY. No answer → the circulation system's transactions are read for the gateway transaction:
  applied → APPLIED; not applied after an error answer → given back; unknown → PENDING_APPLY, and
  reconciliation applies again with the same key (the circulation system replays a late success).
- EZ-1: when the debt is paid (PAID) but auto-pay cannot be set up, the payment stands: APPLIED with
  error AUTO_PAY_SETUP_FAILED.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from datasources.base import UpstreamError, UpstreamNotFound, UpstreamRejected
from datasources.models import Event, Payment, utcnow
from datasources.navigapay import PaymentDeclined
from datasources.repositories.payments import PaymentRepository
from domain.ledger import AUTO_PAY_SETUP_FAILED_EVENT, FINAL_STATES, Flow, LedgerState as S, event_type
from domain.payments import ErrorCode

if TYPE_CHECKING:
    from services import Services

log = logging.getLogger("papergraph.payments")

# the mutations whose idempotency keys name a ledger attempt (reconciliation completes their keys)
PAYMENT_OPERATIONS = frozenset({"makePayment", "restartSubscription", "signUpAutoPay", "updateAutoPay", "addTip"})
MAX_STEPS = 6  # CREATED → CHARGED → PAID → APPLIED is the longest way; a bound, not a loop forever
CHARGED_STATUSES = frozenset({"CAPTURED", "PARTIALLY_REFUNDED"})
UNKNOWN = object()  # the circulation system could not say whether it applied a payment


class LedgerRunner:
    """Runs attempts of one tenant (its paper code is NavigaPay's merchant and the circulation paper)."""

    def __init__(self, services: "Services", tenant_code: str) -> None:
        self.gateway = services.navigapay
        self.circulation = services.circulation
        self.ledger = PaymentRepository(services.db)
        self.tenant_code = tenant_code

    async def advance(self, payment: Payment, *, resuming: bool = False) -> Payment:
        """Take `payment` as far as it can go now: to a final state, or to a state only a later run can
        leave (an unknown sale or application). `resuming` (reconciliation): the request that made the
        attempt is gone, so a sale is looked for, never made."""
        for _ in range(MAX_STEPS):
            state = S(payment.state)
            if state in FINAL_STATES:
                return payment
            if state is S.CREATED and payment.total > 0:
                moved = await (self._find_sale(payment, None) if resuming else self._charge(payment))
            else:
                moved = await self._apply(payment)
            if moved is None:  # another writer moved it first: go on from where it is now
                moved = await self.ledger.get(payment.tenant_id, payment.id) or payment
            if moved.state == payment.state:
                return moved  # nothing more can happen now
            payment = moved
        return payment

    # the gateway -------------------------------------------------------------------------------
    async def _charge(self, payment: Payment) -> Payment | None:
        plan = payment.plan
        try:
            sale = await self.gateway.sale(plan["profileId"], payment.total, payment.currency,
                                           plan["statementDescriptor"], plan["reference"],
                                           idempotency_key=plan["gatewayKey"], merchant=self.tenant_code)
        except PaymentDeclined as error:
            return await self._move(payment, S.DECLINED, gateway_transaction_id=error.transaction_id,
                                    error_code=ErrorCode.PAYMENT_DECLINED.value,
                                    error_message=_text(error.upstream_message or "The payment was declined"))
        except (UpstreamRejected, UpstreamNotFound) as error:
            return await self._move(payment, S.FAILED, error_code=ErrorCode.GATEWAY_REFUSED.value,
                                    error_message=_text(_upstream_message(error, "The payment gateway refused it")),
                                    last_error=_text(str(error)))
        except UpstreamError as error:
            if not error.sent:  # refused by papergraph's breaker or before connecting: nothing can be charged
                log.warning("payment %s: the sale was not sent (%s)", payment.id, error)
                return await self._move(payment, S.FAILED, error_code=ErrorCode.UPSTREAM_UNAVAILABLE.value,
                                        error_message="The payment gateway cannot be reached now: nothing was "
                                                      "charged. Try again shortly with a new idempotency key",
                                        last_error=_text(str(error)))
            log.warning("payment %s: the sale got no answer (%s); looking for it by reference", payment.id, error)
            return await self._find_sale(payment, error)
        return await self._move(payment, S.CHARGED, gateway_transaction_id=sale["transactionId"],
                                charged_at=utcnow())

    async def _find_sale(self, payment: Payment, cause: UpstreamError | None) -> Payment | None:
        """The sale's outcome from the gateway's own records (papergraph's reference). `cause` is the
        failure of the request's own sale; None when reconciliation resumes an attempt."""
        try:
            found = await self.gateway.find_transactions(payment.plan["reference"], merchant=self.tenant_code)
        except UpstreamError as error:
            return await self.ledger.note_attempt(payment, f"sale: {cause}; looking it up: {error}")
        sales = [t for t in found if t.get("kind") == "SALE"]
        charged = next((t for t in sales if t["status"] in CHARGED_STATUSES), None)
        if charged is not None:
            return await self._move(payment, S.CHARGED, gateway_transaction_id=charged["transactionId"],
                                    charged_at=utcnow())
        declined = next((t for t in sales if t["status"] == "DECLINED"), None)
        if declined is not None:
            return await self._move(payment, S.DECLINED, gateway_transaction_id=declined["transactionId"],
                                    error_code=ErrorCode.PAYMENT_DECLINED.value,
                                    error_message=_text(declined.get("declineCode") or "The payment was declined"))
        if sales:  # given back by someone else: nothing papergraph could still apply
            return await self._move(payment, S.FAILED, error_code=ErrorCode.GATEWAY_REFUSED.value,
                                    error_message="The charge was cancelled at the payment gateway",
                                    last_error=_text(f"sale found {sales[0]['status']}"))
        if cause is None:
            return await self._move(payment, S.FAILED, error_code=ErrorCode.INTERRUPTED.value,
                                    error_message="The payment was interrupted before anything was charged")
        if cause.status is not None:  # the gateway answered an error and has no such sale: nothing charged
            return await self._move(payment, S.FAILED, error_code=ErrorCode.GATEWAY_UNAVAILABLE.value,
                                    error_message="The payment gateway is unavailable: nothing was charged",
                                    last_error=_text(str(cause)))
        return await self.ledger.note_attempt(payment, f"sale: {cause}; not found yet")

    # the circulation system --------------------------------------------------------------------
    async def _apply(self, payment: Payment) -> Payment | None:
        steps = payment.plan["steps"]
        index = 1 if S(payment.state) is S.PAID else 0
        step = steps[index]
        body = dict(step["body"])
        money = bool(step.get("money")) and payment.gateway_transaction_id is not None
        if money:
            body["gatewayTransactionId"] = payment.gateway_transaction_id
        try:
            result = await self._call(step["call"], payment.subscription_id, body, step["key"])
        except (UpstreamRejected, UpstreamNotFound) as error:
            if money:
                # a refusal may answer a retry (of this call, or of an earlier run's) whose first try was applied
                # and lost its answer: before giving the money back, ask whether it was applied after all
                entry = await self._applied_entry(payment)
                if entry is UNKNOWN:
                    return await self._pending(payment, f"{step['call']} refused ({error}); applied? unknown")
                if entry is not None:
                    return await self._applied(payment, index, entry)
            return await self._not_applied(payment, index, ErrorCode.CIRCULATION_REFUSED,
                                           _upstream_message(error, "The circulation system refused it"), error)
        except UpstreamError as error:
            log.warning("payment %s: %s got no answer (%s)", payment.id, step["call"], error)
            if money:
                entry = await self._applied_entry(payment)
                if entry is not None and entry is not UNKNOWN:
                    return await self._applied(payment, index, entry)
                if entry is None and error.status is not None:
                    return await self._not_applied(payment, index, ErrorCode.CIRCULATION_UNAVAILABLE,
                                                   "The circulation system is unavailable", error)
                return await self._pending(payment, f"{step['call']}: {error}")
            if error.status is not None:
                return await self._not_applied(payment, index, ErrorCode.CIRCULATION_UNAVAILABLE,
                                               "The circulation system is unavailable", error)
            return await self.ledger.note_attempt(payment, f"{step['call']}: {error}")
        return await self._applied(payment, index, result)

    async def _call(self, call: str, subscription_id: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        operations = {
            "payment": self.circulation.apply_payment, "restart": self.circulation.restart,
            "autopay_signup": self.circulation.sign_up_auto_pay, "autopay_update": self.circulation.update_auto_pay,
            "tip": self.circulation.add_tip,
        }
        return await operations[call](self.tenant_code, subscription_id, body, key)

    async def _applied_entry(self, payment: Payment) -> Any:
        """The circulation system's ledger entry for this payment's gateway transaction; None when it has
        none, UNKNOWN when it cannot say."""
        try:
            entries = await self.circulation.get_transactions(self.tenant_code, payment.subscription_id)
        except UpstreamError:
            return UNKNOWN
        return next((e for e in entries if e.get("gatewayTransactionId") == payment.gateway_transaction_id), None)

    async def _applied(self, payment: Payment, index: int, result: dict[str, Any]) -> Payment | None:
        transaction_id = result.get("transactionId")
        steps = payment.plan["steps"]
        if index + 1 < len(steps):  # EZ-1: the debt is paid; auto-pay is next
            return await self._move(payment, S.PAID, circulation_transaction_id=transaction_id,
                                    amount=Decimal(steps[index]["body"]["amount"]),
                                    details={"circulationTransactionId": transaction_id})
        changes = {} if index else {"circulation_transaction_id": transaction_id}
        return await self._move(payment, S.APPLIED, details={"circulationTransactionId": transaction_id},
                                **changes)

    async def _not_applied(self, payment: Payment, index: int, code: ErrorCode, message: str,
                           error: UpstreamError) -> Payment | None:
        if index == 1:  # EZ-1: the payment stands; only auto-pay failed
            return await self._move(
                payment, S.APPLIED, event=AUTO_PAY_SETUP_FAILED_EVENT, error_code=ErrorCode.AUTO_PAY_SETUP_FAILED.value,
                error_message=_text(f"The outstanding balance was paid, but auto-pay could not be set up: {message}"),
                last_error=_text(str(error)))
        if payment.gateway_transaction_id is None:  # nothing was charged
            return await self._move(payment, S.FAILED, error_code=code.value, error_message=_text(message),
                                    last_error=_text(str(error)))
        return await self._give_back(payment, code, message, error)

    async def _give_back(self, payment: Payment, code: ErrorCode, message: str,
                         cause: UpstreamError) -> Payment | None:
        """PAY-4: void the charge (refund it once settled); when that fails too, keep it pending."""
        plan, transaction_id = payment.plan, payment.gateway_transaction_id
        try:
            try:
                await self.gateway.void(transaction_id, idempotency_key=plan["voidKey"])
                target = S.VOIDED
            except UpstreamRejected as error:
                if error.upstream_code == "TRANSACTION_SETTLED":
                    await self.gateway.refund(transaction_id, idempotency_key=plan["refundKey"])
                    target = S.REFUNDED
                elif error.upstream_code == "INVALID_TRANSACTION_STATE":  # already given back
                    current = await self.gateway.get_transaction(transaction_id) or {}
                    target = {"VOIDED": S.VOIDED, "REFUNDED": S.REFUNDED}.get(current.get("status"))
                    if target is None:
                        raise
                else:
                    raise
        except UpstreamError as error:
            log.error("payment %s: charged, not applied, and could not be given back (%s)", payment.id, error)
            return await self._pending(payment, f"not applied: {cause}; giving back: {error}")
        returned = "voided" if target is S.VOIDED else "refunded"
        return await self._move(payment, target, error_code=code.value,
                                error_message=_text(f"{message}: the charge was {returned}"),
                                last_error=_text(str(cause)))

    async def _pending(self, payment: Payment, error: str) -> Payment | None:
        if S(payment.state) is S.PENDING_APPLY:
            return await self.ledger.note_attempt(payment, error)
        return await self._move(payment, S.PENDING_APPLY, attempts=payment.attempts + 1, last_error=_text(error))

    # ledger writes -------------------------------------------------------------------------------
    async def _move(self, payment: Payment, target: S, *, event: str | None = None, amount: Decimal | None = None,
                    details: dict[str, Any] | None = None, **changes: Any) -> Payment | None:
        """One state change and its event, in one transaction (NOT-1)."""
        now = utcnow()
        if target in FINAL_STATES:
            changes.setdefault("finished_at", now)
        flow = Flow(payment.flow)
        plan_event = payment.plan.get("event") or {}
        applied = target is S.APPLIED
        record = Event(
            tenant_id=payment.tenant_id, type_code=event or event_type(flow, target),
            subscription_id=payment.subscription_id, crid=payment.crid,
            amount=amount if amount is not None else (_applied_amount(payment) if applied else payment.total),
            reason=plan_event.get("reason") if applied else changes.get("error_code"),
            source=plan_event.get("source") if applied else None,
            details={**ledger_details(payment), "state": target.value, **(details or {}),
                     **{k: v for k, v in changes.items() if k in ("gateway_transaction_id", "error_code")}},
            created_at=now,
        )
        return await self.ledger.transition(payment, target, record, **changes)


def _applied_amount(payment: Payment) -> Decimal | None:
    """PAY-4: a payment's event carries the option amount; a tip's, the tip; auto-pay's, what was paid."""
    flow = Flow(payment.flow)
    if flow in (Flow.ONE_TIME, Flow.RESTART):
        return payment.option_amount
    if flow is Flow.TIP:
        return payment.tip or Decimal(payment.plan.get("recurringTip") or "0")
    if flow is Flow.AUTOPAY_SIGNUP:
        return payment.total
    return None


def ledger_details(payment: Payment) -> dict[str, Any]:
    """Every amount line of the attempt, as exact strings, for its events; an auto-pay change adds the plan it
    sets (EZ-2): its term and length as `optionTerm`/`length`, its recurring tip and donation as `tip`/`donation`
    (and `recurringTip`/`recurringDonation`), since an auto-pay change charges no tip of its own."""
    return {**_amount_details(payment), **_auto_pay_details(payment)}


def _auto_pay_details(payment: Payment) -> dict[str, Any]:
    if Flow(payment.flow) not in (Flow.AUTOPAY_SIGNUP, Flow.AUTOPAY_UPDATE):
        return {}
    steps = (payment.plan or {}).get("steps") or []
    body = next((step.get("body") or {} for step in steps
                 if step.get("call") in ("autopay_signup", "autopay_update")), {})
    tip, donation = body.get("tip", "0.00"), body.get("donation", "0.00")
    return {"optionTerm": body.get("term"), "length": body.get("length"), "paymentType": body.get("paymentType"),
            "tip": tip, "donation": donation, "recurringTip": tip, "recurringDonation": donation}


def _amount_details(payment: Payment) -> dict[str, Any]:
    return {
        "paymentId": payment.id, "flow": payment.flow, "paymentType": payment.payment_type,
        "optionTerm": payment.option_term, "optionAmount": str(payment.option_amount), "tip": str(payment.tip),
        "donation": str(payment.donation), "activationFee": str(payment.activation_fee),
        "processingFee": str(payment.processing_fee), "processingFeeTax": str(payment.fee_tax),
        "balanceApplied": str(payment.balance_applied), "total": str(payment.total),
        "gatewayTransactionId": payment.gateway_transaction_id,
    }


def _upstream_message(error: UpstreamError, default: str) -> str:
    message = error.upstream_message if isinstance(error, UpstreamRejected) else ""
    return message or default


def _text(value: str, limit: int = 500) -> str:
    return value[:limit]
