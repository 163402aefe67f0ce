"""NavigaPay emulator: hosted card entry, tokenized profiles, authorizations, captures, sales, voids, refunds.

The flow papergraph drives (GW-1): start a session, show its `iframeUrl` to the customer, who types the
card (or bank account) into the hosted page only; the page tokenizes it into a profile and posts
`{type: "navigapay:tokenized", profileId, groupId, paymentType}` to its parent window (and, with a
return URL, sends the frame there with the same three as query parameters); papergraph then completes
the session with those three and gets the masked profile (PM-4) it stores as the payment method.

Money is an exact decimal string on the wire (`"12.30"`, `"2147483648.00"`; MNY-1); an amount must be
> 0 with at most two decimals (GW-2). Errors are `{"code", "message"}` with 400 (malformed request),
401 (API key), 402 (declined), 404, 409 (state or idempotency conflict), 415 or 422 (refused input).
When built with `api_key`, every `/api` route needs `Authorization: Bearer <key>`; the hosted pages do
not (the customer's browser calls them).

    POST /api/v1/sessions  {merchant, subscriptionId, paymentType: CREDIT_CARD|BANK, returnUrl?, customerId?}
                           → 201 {sessionId, groupId, paymentType, iframeUrl: "{public_url}/hosted/{sessionId}"}
    GET  /hosted/{sessionId}            the entry form (self-contained HTML; after tokenizing: the result page)
    POST /hosted/{sessionId}            form-encoded card {cardNumber, expiry MM/YY, cvv, cardholderName} or bank
                                        {routingNumber, accountNumber, bankName} → the result page, which
                                        postMessages the token; invalid → the form again with errors, 422
    POST /api/v1/sessions/{id}/tokenize the same fields as JSON → 201 {type, profileId, groupId, paymentType};
                                        invalid → 422 {code, message, errors: [{field, code, message}]}
                                        (codes INVALID_CARD_NUMBER, CARD_BRAND_NOT_SUPPORTED, INVALID_CVV,
                                        INVALID_EXPIRY, CARD_EXPIRED, INVALID_NAME, INVALID_ROUTING_NUMBER,
                                        INVALID_ACCOUNT_NUMBER, INVALID_BANK_NAME); a used session → 409
    POST /api/v1/sessions/{id}/complete {profileId, groupId, paymentType} → profile (again on a repeat);
                                        not tokenized yet → 409 SESSION_NOT_TOKENIZED; mismatch → 422
    GET  /api/v1/profiles/{profileId}[?merchant=]   → profile {profileId, customerId, merchant, paymentType,
                                        brand, last4, expiry, holderName, bankName, routingNumber, accountMasked}
    POST /api/v1/authorizations {profileId, amount, currency, statementDescriptor (≤ 22, GW-3), reference,
                                 merchant?} → 201 transaction, status AUTHORIZED
    POST /api/v1/sales          same body → 201 transaction, status CAPTURED
    POST /api/v1/captures       {transactionId, amount? (≤ authorized)} → transaction, status CAPTURED
    POST /api/v1/transactions/{id}/void     {} → status VOIDED (authorized, or captured and not settled)
    POST /api/v1/transactions/{id}/refunds  {amount? (default: all that is left)} → REFUNDED|PARTIALLY_REFUNDED
    GET  /api/v1/transactions/{id}          → transaction
    GET  /api/v1/transactions?reference=..[&merchant=]  → {"transactions": [...]} (reconciliation after a crash)

A transaction is `{transactionId, kind: AUTHORIZATION|SALE, status, merchant, profileId, customerId,
paymentType, amount, capturedAmount, refundedAmount, currency, statementDescriptor, reference, settled,
declineCode, refunds: [{refundId, amount, createdAt}], createdAt, updatedAt}`. `merchant` on a charge or a
profile read scopes it: another merchant's profile is 404 (TEN-1).

Card numbers (GW-4): 12–19 digits, Luhn-valid; CVV 3–4 digits; expiry MM/YY, valid through its month.
Brands by prefix: VISA, MASTERCARD, AMEX, DISCOVER, DINERS (tokenized as DINERS; papergraph refuses it
per PM-3, and a merchant can be set to refuse it here too). Test cards: 4242424242424242 VISA,
5555555555554444 MASTERCARD, 378282246310005 AMEX, 6011111111111117 DISCOVER, 36227206271667 and
3056930009020004 DINERS approve; 4000000000000002 is declined (402 CARD_DECLINED) and 4000000000009995
lacks funds (402 INSUFFICIENT_FUNDS), each at authorization or sale, with `transactionId` in the error
body and a declined transaction in the ledger. Test bank account: routing 021000021, any 4–17 digits.

Every POST under `/api` honours `Idempotency-Key`: the same key with the same request replays the stored
answer (status and body, header `Idempotent-Replayed: true`) without charging again, also when the two
requests arrive concurrently; with another request it is 409 IDEMPOTENCY_KEY_REUSED.

Admin (no API key, no faults): `POST /_sandbox/load {"profiles": [...], "merchants": [{merchant,
refusedBrands}]}` (additive), `POST /_sandbox/reset`, `POST /_sandbox/settle {"transactionIds"?}` (the
nightly batch: captured becomes settled, so only a refund undoes it), `GET /_sandbox/ledger[?merchant=]`
→ `{"entries": [transaction + state]}` with state authorized, captured, voided, refunded,
partially_refunded or declined. Fault injection: `sandbox.faults`.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import Route

from sandbox.demo import DemoData
from sandbox.faults import FaultMiddleware, SandboxControl
from sandbox.navigapay.api import JSON, KeyedLocks, api_routes, error, invalid, read_json
from sandbox.navigapay.store import GatewayError, NavigaPayStore

__all__ = ["GatewayError", "NavigaPayStore", "create_app", "load_demo"]


def create_app(*, public_url: str = "http://navigapay.sandbox", api_key: str | None = None,
               latency_ms: float = 0) -> Starlette:
    """`public_url` is where browsers reach this emulator: the hosted page URLs are built from it."""
    control = SandboxControl(latency_ms)
    app = Starlette(
        routes=[*api_routes(), *_admin_routes(), *control.routes()],
        middleware=[Middleware(FaultMiddleware, control=control)],
    )
    app.state.store = NavigaPayStore()
    app.state.control = control
    app.state.api_key = api_key
    app.state.public_url = public_url.rstrip("/")
    app.state.idempotency_locks = KeyedLocks()
    return app


def load_demo(store: NavigaPayStore, data: DemoData) -> int:
    """Load the demo dataset's tokenized profiles in-process; returns how many were loaded."""
    for profile in data.gateway_profiles:
        store.add_profile(profile)
    return len(data.gateway_profiles)


def _admin_routes() -> list[Route]:
    async def load(request: Request) -> JSON:
        store: NavigaPayStore = request.app.state.store
        try:
            body = await read_json(request)
            if set(body) - {"profiles", "merchants"}:
                raise invalid(f"unknown fields: {', '.join(sorted(set(body) - {'profiles', 'merchants'}))}")
            profiles: list[dict[str, Any]] = body.get("profiles", [])
            for profile in profiles:
                store.add_profile(profile)
            for merchant in body.get("merchants", []):
                store.refuse_brands(merchant["merchant"], merchant.get("refusedBrands", []))
        except GatewayError as exc:
            return error(exc)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            return error(invalid(f"cannot load: {exc!r}"))
        return JSON({"loaded": len(profiles), "profiles": len(store.profiles)})

    async def reset(request: Request) -> JSON:
        request.app.state.store.reset()
        return JSON({"profiles": 0, "transactions": 0})

    async def settle(request: Request) -> JSON:
        try:
            body = await read_json(request)
        except GatewayError as exc:
            return error(exc)
        return JSON({"settled": request.app.state.store.settle(body.get("transactionIds"))})

    async def ledger(request: Request) -> JSON:
        return JSON({"entries": request.app.state.store.ledger(request.query_params.get("merchant"))})

    return [
        Route("/_sandbox/load", load, methods=["POST"]),
        Route("/_sandbox/reset", reset, methods=["POST"]),
        Route("/_sandbox/settle", settle, methods=["POST"]),
        Route("/_sandbox/ledger", ledger, methods=["GET"]),
    ]
