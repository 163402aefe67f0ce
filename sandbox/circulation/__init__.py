"""Emulator of a publisher's circulation system (NCS, Matrix, CircPro or Saxo behind one REST API).

Each paper (tenant) has a circulation kind, and the emulator enforces what that kind allows (PM-1,
PM-2, RST-2) the way the real systems refuse it: with an error body `{"code", "message"}`. Money is an
exact decimal string on the wire and a `Decimal` inside (MNY-1). State is in memory (`app.state.store`);
faults and latency come from `sandbox.faults` (`app.state.control`).

API, under `/api/v1/papers/{paperCode}` (unknown paper → 404 `UNKNOWN_PAPER`; a subscription of
another paper → 404 `SUBSCRIPTION_NOT_FOUND`; with `api_key` set, `Authorization: Bearer <key>` is
required, else 401 `UNAUTHORIZED`). Validation errors are 400 `INVALID_REQUEST` with a message
starting with the field name; unknown body fields are refused. Subscription views omit
`billingOptions` and `scheduledStops` (each has its own endpoint).

    GET   /subscriptions/{id}                      → subscription
    GET   /subscriptions?ids=a,b                   → {"subscriptions": [...]}   (≤500 ids; unknown ids omitted)
    GET   /subscriptions/search?firstName&lastName&accountNumber&email&phone&postalCode&companyName&limit&offset
                                                   → {"total", "subscriptions"} (SUB-2: ≥1 criterion, all must
                                                     match, case-insensitive; names and company by prefix, phones by
                                                     digits with or without the country code, through the paper's
                                                     index (search.py); limit ≤500, default 50)
    GET   /subscriptions/expiring?from&to          → {"subscriptions"} not stopped, endDate in [from, to] (NOT-2)
    GET   /billing-options?subscriptionIds=a,b     → {"billingOptions": {id: [option...]}}  (≤500 ids)
    GET   /subscriptions/{id}/billing-options      → {"billingOptions": [option...]}
            option: {term, length, lengthUnit, rate, tax, otherCosts, amount, autoRenew}  (PAY-3)
    GET   /subscriptions/{id}/scheduled-stops      → {"scheduledStops": [{id, startDate, endDate, reason}]}
                                                     (no batch endpoint, like the real systems; SUB-4)
    GET   /subscriptions/{id}/transactions         → {"transactions": [ledger entry...]}
    POST  /subscriptions/{id}/payments   {optionTerm|null, amount, tip?, donation?, paymentType, gatewayTransactionId,
                                          activationFee?, processingFee?, processingFeeTax?}
                                                   → {transactionId, subscription}; balance += option amount
                                                     (PAY-2: activation fee, NCS only, is not credited; the
                                                     fees, credit card only (FEE-3), are recorded, not credited;
                                                     optionTerm null pays the outstanding balance, EZ-1)
    POST  /subscriptions/{id}/restart    {restartDate?, optionTerm, amount, tip?, donation?, paymentType|null,
                                          gatewayTransactionId|null, applyCredit, reasonCode, sourceCode, processingFee?, processingFeeTax?}
                                                   → {transactionId, charged, subscription} (RST-1..4: what is due is
                                                     option + tip + donation + debt − usable credit, floored at 0;
                                                     a payment is required exactly when it is > 0; `charged` is
                                                     what is due plus the fees)
    POST  /subscriptions/{id}/autopay    {paymentType, term, length, paymentToken, tip?, donation?}  sign-up (409
                                          when already on auto-pay) → {transactionId, subscription}
    PUT   /subscriptions/{id}/autopay    same body, update (409 when not on auto-pay)
    POST  /subscriptions/{id}/tips       {amount, recurring, paymentType, gatewayTransactionId|null, processingFee?,
                                          processingFeeTax?}  (NCS only; TIP-1; fees on one-time tips only, FEE-4)
    POST  /subscriptions/{id}/cancel     {reason}  → {transactionId, subscription}  (409 when already stopped; SUB-4;
                                          the subscription keeps `stopDate`, today in paper time, until a restart)
    POST  /subscriptions                 {productCode, term, subscriber{firstName, lastName, email?, phones?,
                                          companyName?, address{houseNumber, streetName, city, postalCode, country}},
                                          digital, name?, customerReferenceNumber?}  → 201 subscription
                                          (the product's billing options are copied from an existing subscription
                                          to it in this paper: unknown product → 422 UNKNOWN_PRODUCT)
    POST  /subscriptions/{id}/downgrade  {productCode, term, length, lengthUnit, rate, tax, reason}  → 201
                                          {transactionId, downgrade{..., effectiveDate}} (STP-4, every kind alike:
                                          applied at the next renewal, the end date, or tomorrow when that is
                                          past or missing; SUBSCRIPTION_STOPPED, SAME_PRODUCT, NOT_A_DOWNGRADE
                                          when the rate is not below every current option's, 409
                                          DOWNGRADE_ALREADY_SCHEDULED; a cancel drops it). On its day the product
                                          and billing options switch (ledger DOWNGRADE_APPLIED); the subscription
                                          view shows it as `scheduledDowngrade` until then.
    GET   /subscriptions/{id}/downgrade        → {"downgrade": {...}|null}
    GET   /subscriptions/{id}/temporary-stops      → {"temporaryStops": [{id, startDate, restartDate|null, reason}]}
    GET   /subscriptions/{id}/temporary-stop-dates → {"dates": [...]}  the start/restart dates offered (STP-1): a
                                                     window of 90 days from today + 1 (NCS, CIRCPRO) or + 2
                                                     (MATRIX, SAXO), paper time zone
    POST  /subscriptions/{id}/temporary-stops {startDate, restartDate?, reason?}  → 201 {transactionId,
                                          temporaryStop} (print only: DIGITAL_SUBSCRIPTION; DATE_NOT_OFFERED,
                                          RESTART_NOT_AFTER_START, 409 OVERLAPPING_STOP; stops are [start, restart))
    PUT   /subscriptions/{id}/temporary-stops/{stopId}/restart {restartDate}  → {transactionId, temporaryStop}
                                          (STP-2, every kind: DATE_IN_PAST before today, RESTART_NOT_AFTER_START,
                                          DATE_NOT_OFFERED after the window, OVERLAPPING_STOP)
    POST  /subscriptions/{id}/temporary-stops/{stopId}/cancel  → {transactionId, temporaryStop}  (a stop not
                                          started yet; else STOP_ALREADY_STARTED; 404 TEMPORARY_STOP_NOT_FOUND)
    GET   /complaint-categories                → {"categories": [{code, description}]}  (CMP-1)
    GET   /stop-reasons                        → {"reasons": [{code, description}]}  (STP-5)
    GET   /subscriptions/{id}/complaints           → {"complaints": [{id, category, deliveryDate, redelivery}]}
    POST  /subscriptions/{id}/complaints {category, deliveryDate, redelivery?}  → 201 {transactionId, complaint}
                                          (UNKNOWN_CATEGORY; DATE_IN_FUTURE after today, paper time zone; CMP-3
                                          redelivery: print only DIGITAL_SUBSCRIPTION, today only
                                          REDELIVERY_TODAY_ONLY, one per date 409 REDELIVERY_ALREADY_REQUESTED)
    POST  /subscriptions/{id}/autopay/cancel  {}  → {transactionId, subscription}  (EZ-5: 409 NOT_ON_AUTO_PAY; ends
                                          the recurring tip and donation, not the subscription)
    GET   /subscriptions/{id}/plan       → {"plan": {...}}  the current plan, active or stopped (EZ-4), in the kind's
                                          own field names (store.PLAN_FIELDS): NCS term, length, lengthUnit,
                                          paidThroughDate, rate, tax, otherCosts, amount, autoRenew, balance; MATRIX
                                          termCode, termLength, termUnit, paidThru, rateAmount, taxAmount,
                                          otherCharges, totalAmount, autoRenew, accountBalance; CIRCPRO the NCS names
                                          capitalised; SAXO term, periodLength, periodUnit, expiryDate, price, vat,
                                          fees, total, renewAutomatically, balance
    POST  /subscriptions/{id}/ebill      {email}  → {transactionId, subscription}  (EZ-3: 422 EBILL_NOT_AVAILABLE
                                          when stopped or on auto-pay; 409 ALREADY_ON_EBILL; bills go to `email`)
    POST  /subscriptions/{id}/ebill/cancel  {}  → {transactionId, subscription}  (409 NOT_ON_EBILL)
    GET   /subscriptions/{id}/statements → {"statements": [{id, issueDate, periodStart, periodEnd, amountDue,
                                          currency}]}  newest first, the last 6 monthly bills (EBL-4)
    GET   /subscriptions/{id}/statements/{statementId}  → application/pdf, one page in the kind's style; another
                                          subscription's statement → 404 STATEMENT_NOT_FOUND
    PATCH /subscriptions/{id}            any of {householdLevelId, name, customerReferenceNumber, ebill,
                                          subscriber: {firstName?, lastName?, companyName?, phones?}}  → subscription
                                          (EZ-3 for ebill: true; a subscriber change is a SUBSCRIBER_DETAILS ledger
                                          entry with the values before and after, ADR-1)
    GET   /subscriptions/{id}/moves                → {"moves": [{id, effectiveDate, address, billingMethod, rateCode,
                                                     status SCHEDULED|APPLIED}]}  (ADR-3)
    POST  /subscriptions/{id}/moves      {effectiveDate, address{houseNumber, streetName, city, postalCode, country,
                                          levelDesignator?, levelNumber?}, billingMethod?, rateCode?}  → 201
                                          {transactionId, move}: today or later (paper time zone; DATE_IN_PAST),
                                          applied at once when today, else applied when its day comes (before any
                                          request reads the paper); one pending move (409 MOVE_ALREADY_SCHEDULED);
                                          SUBSCRIPTION_STOPPED; ADR-4: an NCS COMPLIMENTARY move needs billingMethod
                                          and rateCode (MOVE_BILLING_REQUIRED), every other one refuses them
                                          (MOVE_BILLING_NOT_SUPPORTED)

Every POST and PUT honours `Idempotency-Key`: the same key with the same request replays the stored
answer (header `Idempotent-Replayed: true`) without applying twice; with another request it is 409
`IDEMPOTENCY_KEY_REUSED`. Business refusals are 409/422 with codes FLOW_NOT_SUPPORTED,
PAYMENT_TYPE_NOT_ALLOWED, TIP_NOT_SUPPORTED, ACTIVATION_FEE_NOT_SUPPORTED, INVALID_OPTION,
SUBSCRIPTION_STOPPED, RESTART_NOT_AVAILABLE, INVALID_RESTART_DATE, PAYMENT_REQUIRED, NO_PAYMENT_DUE,
ALREADY_ON_AUTO_PAY, NOT_ON_AUTO_PAY, TIP_NOT_ALLOWED, ALREADY_STOPPED, UNKNOWN_PRODUCT, PROCESSING_FEE_NOT_ALLOWED,
INVALID_AMOUNT,
EBILL_NOT_AVAILABLE, DIGITAL_SUBSCRIPTION, DATE_NOT_OFFERED, DATE_IN_PAST, RESTART_NOT_AFTER_START, OVERLAPPING_STOP,
STOP_ALREADY_STARTED, SAME_PRODUCT, NOT_A_DOWNGRADE, DOWNGRADE_ALREADY_SCHEDULED, UNKNOWN_CATEGORY, DATE_IN_FUTURE,
REDELIVERY_TODAY_ONLY, REDELIVERY_ALREADY_REQUESTED, ALREADY_ON_EBILL, NOT_ON_EBILL, STATEMENT_NOT_FOUND,
MOVE_ALREADY_SCHEDULED, MOVE_BILLING_REQUIRED, MOVE_BILLING_NOT_SUPPORTED.

Admin (no API key, no faults): `POST /_sandbox/load` `{"papers": [{code, kind, currency, timeZone}],
"subscriptions": [record...]}` (additive upsert, so a seeder sends chunks), `POST /_sandbox/reset`
(state only; faults have `DELETE /_sandbox/faults`), `GET /_sandbox/ledger[?paperCode=]` →
`{"entries": [...]}` with every applied PAYMENT, RESTART, AUTOPAY_SIGNUP, AUTOPAY_UPDATE, AUTOPAY_CANCEL, TIP, CANCEL,
EBILL_SIGNUP, EBILL_SIGNOUT,
START, SUBSCRIBER_DETAILS, ADDRESS_MOVE and the TEMPORARY_STOP, TEMPORARY_STOP_RESTART, TEMPORARY_STOP_CANCEL, COMPLAINT, DOWNGRADE and
DOWNGRADE_APPLIED changes, each with its amounts and `balanceBefore`/`balanceAfter`.
"""

from __future__ import annotations

from typing import Iterable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import Route

from sandbox.circulation.api import JSON, Body, api_routes, error, read_json
from sandbox.circulation.store import CirculationError, CirculationStore
from sandbox.demo import DemoData
from sandbox.faults import FaultMiddleware, SandboxControl

__all__ = ["CirculationError", "CirculationStore", "create_app", "load_demo"]


def create_app(*, latency_ms: float = 0, api_key: str | None = None) -> Starlette:
    store = CirculationStore()
    control = SandboxControl(latency_ms)
    app = Starlette(
        routes=[*api_routes(), *_admin_routes(), *control.routes()],
        middleware=[Middleware(FaultMiddleware, control=control)],
    )
    app.state.store = store
    app.state.control = control
    app.state.api_key = api_key
    return app


def load_demo(store: CirculationStore, data: DemoData, paper_codes: Iterable[str] | None = None) -> int:
    """Load the demo dataset's papers and circulation records in-process; returns the records loaded."""
    wanted = set(paper_codes) if paper_codes is not None else None
    tenants = [t for t in data.tenants if wanted is None or t["code"] in wanted]
    for t in tenants:
        store.add_paper(t["code"], t["circulation_kind"], t["currency"], t["time_zone"])
    codes = {t["code"] for t in tenants}
    return store.add_subscriptions(s for s in data.subscriptions if s["paperCode"] in codes)


def _admin_routes() -> list[Route]:
    async def load(request: Request) -> JSON:
        store: CirculationStore = request.app.state.store
        try:
            body = Body(await read_json(request))
            papers = body.array("papers", required=False)
            subscriptions = body.array("subscriptions", required=False)
            body.finish()
            for p in papers:
                paper = Body(p, "papers[].")
                store.add_paper(paper.string("code"), paper.string("kind"), paper.string("currency"),
                                paper.string("timeZone"))
                paper.finish()
            loaded = store.add_subscriptions(subscriptions, owned=True)  # parsed just now: nobody else holds them
        except CirculationError as exc:
            return error(exc.status, exc.code, exc.message)
        except (ValueError, KeyError, TypeError, ArithmeticError) as exc:
            # ZoneInfo, Decimal and malformed records: the seeder sent something unusable
            return error(400, "INVALID_REQUEST", f"cannot load: {exc!r}")
        return JSON({"papers": len(store.papers), "loaded": loaded,
                     "subscriptions": sum(len(p.subscriptions) for p in store.papers.values())})

    async def reset(request: Request) -> JSON:
        request.app.state.store.reset()
        return JSON({"papers": 0, "subscriptions": 0})

    async def ledger(request: Request) -> JSON:
        code = request.query_params.get("paperCode")
        entries = request.app.state.store.ledger
        return JSON({"entries": [e for e in entries if code is None or e["paperCode"] == code]})

    return [
        Route("/_sandbox/load", load, methods=["POST"]),
        Route("/_sandbox/reset", reset, methods=["POST"]),
        Route("/_sandbox/ledger", ledger, methods=["GET"]),
    ]

