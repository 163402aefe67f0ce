"""HTTP layer of the NavigaPay emulator: JSON API, idempotency, and the hosted card page.

Handlers parse and validate the whole request before calling the store, so a 400 never leaves a
half-applied change behind. Every POST under `/api` goes through `mutation`, which implements the
`Idempotency-Key` contract with one asyncio lock per key: two concurrent requests with the same key run
one after the other, and the second gets the first one's stored answer instead of a second charge.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import html
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from sandbox.navigapay.store import (
    CREDIT_CARD, PAYMENT_TYPES, STATEMENT_DESCRIPTOR_MAX, FieldError, GatewayError, NavigaPayStore,
    fingerprint, parse_amount, public_profile, public_transaction,
)

TEXT_MAX = 100
CARD_FIELDS = ("cardNumber", "expiry", "cvv", "cardholderName")
BANK_FIELDS = ("routingNumber", "accountNumber", "bankName")


class JSON(Response):
    """JSON with money as exact decimal strings (MNY-1): a float never appears on the wire."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def error(exc: GatewayError) -> JSON:
    return JSON(exc.body(), status_code=exc.status)


def invalid(message: str) -> GatewayError:
    return GatewayError(400, "INVALID_REQUEST", message)


async def read_json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        # parse_float keeps a JSON number such as 12.30 exact instead of turning it into a float
        payload = json.loads(raw, parse_float=Decimal) if raw else {}
    except ValueError:
        raise invalid("body: not valid JSON") from None
    if not isinstance(payload, dict):
        raise invalid("body: must be a JSON object")
    return payload


class Body:
    """Strict access to a JSON object: reads name their field in errors, `finish()` refuses unknown fields
    (a misspelt `statementDescriptor` must be a 400, not a charge without one)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.read: set[str] = set()

    def string(self, name: str, *, required: bool = True, max_length: int = TEXT_MAX) -> str | None:
        self.read.add(name)
        value = self.data.get(name)
        if value is None:
            if required:
                raise invalid(f"{name}: required")
            return None
        if not isinstance(value, str) or not value.strip():
            raise invalid(f"{name}: must be a non-empty string")
        if len(value) > max_length:
            raise invalid(f"{name}: at most {max_length} characters")
        return value

    def choice(self, name: str, choices: tuple[str, ...]) -> str:
        value = self.string(name)
        if value not in choices:
            raise invalid(f"{name}: one of {', '.join(choices)}")
        return value

    def amount(self, name: str, *, required: bool = True) -> Decimal | None:
        self.read.add(name)
        if self.data.get(name) is None:
            if required:
                raise invalid(f"{name}: required")
            return None
        return parse_amount(self.data[name], name)

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.read)
        if unknown:
            raise invalid(f"unknown fields: {', '.join(unknown)}")


# the wrapper every /api route goes through ---------------------------------------------------------
Handler = Callable[[Request, NavigaPayStore], Awaitable[Any]]


class KeyedLocks:
    """One asyncio lock per idempotency key, dropped when nobody holds or awaits it, so the table does
    not grow with every key ever seen."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (None, 0))
        lock = lock or asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


def _authorized(request: Request) -> bool:
    api_key: str | None = request.app.state.api_key
    return api_key is None or request.headers.get("authorization") == f"Bearer {api_key}"


def endpoint(handler: Handler, *, status: int = 200) -> Callable[[Request], Awaitable[Response]]:
    """A read: API key check and error bodies."""

    @functools.wraps(handler)
    async def route(request: Request) -> Response:
        if not _authorized(request):
            return error(GatewayError(401, "UNAUTHORIZED", "missing or wrong bearer API key"))
        try:
            return JSON(await handler(request, request.app.state.store), status_code=status)
        except GatewayError as exc:
            return error(exc)

    return route


def mutation(handler: Handler, *, status: int = 200) -> Callable[[Request], Awaitable[Response]]:
    """A POST honouring `Idempotency-Key`: same key and same request → the stored answer (header
    `Idempotent-Replayed: true`) with nothing applied again; same key, other request → 409
    IDEMPOTENCY_KEY_REUSED. Successes and declines (402) are remembered, because both changed the
    gateway's state (a declined attempt is in the ledger); other refusals changed nothing, so a retry
    simply runs the checks again."""

    @functools.wraps(handler)
    async def route(request: Request) -> Response:
        if not _authorized(request):
            return error(GatewayError(401, "UNAUTHORIZED", "missing or wrong bearer API key"))
        store: NavigaPayStore = request.app.state.store
        key = request.headers.get("idempotency-key")
        if not key:
            return await _run(handler, request, store, status)
        async with request.app.state.idempotency_locks.hold(key):
            try:
                request_print = fingerprint(request.method, request.url.path, await read_json(request))
                stored = store.remembered(key, request_print)
            except GatewayError as exc:
                return error(exc)
            if stored is not None:
                return JSON(stored.body, status_code=stored.status, headers={"idempotent-replayed": "true"})
            response = await _run(handler, request, store, status)
            if response.status_code < 400 or response.status_code == 402:
                store.remember(key, request_print, response.status_code, orjson.loads(response.body))
            return response

    return route


async def _run(handler: Handler, request: Request, store: NavigaPayStore, status: int) -> JSON:
    try:
        # the snapshot is taken now, so a stored answer does not follow later changes of the live record
        return JSON(await handler(request, store), status_code=status)
    except GatewayError as exc:
        return error(exc)


# sessions (GW-1) -----------------------------------------------------------------------------------
def _return_url(value: str | None) -> str | None:
    # the page links to it: only http(s) URLs, never javascript: or data:
    if value is not None and (urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc):
        raise invalid("returnUrl: must be an absolute http(s) URL")
    return value


async def start_session(request: Request, store: NavigaPayStore) -> Any:
    b = Body(await read_json(request))
    merchant = b.string("merchant")
    subscription_id = b.string("subscriptionId")
    payment_type = b.choice("paymentType", PAYMENT_TYPES)
    return_url = _return_url(b.string("returnUrl", required=False, max_length=2000))
    customer_id = b.string("customerId", required=False)
    b.finish()
    session = store.start_session(merchant, subscription_id, payment_type, return_url, customer_id)
    return {"sessionId": session["sessionId"], "groupId": session["groupId"], "paymentType": payment_type,
            "iframeUrl": f"{request.app.state.public_url}/hosted/{session['sessionId']}"}


async def tokenize(request: Request, store: NavigaPayStore) -> Any:
    """JSON twin of the hosted form, for tests and server-to-server use."""
    session = store.session(request.path_params["sessionId"])
    payload = await read_json(request)
    allowed = CARD_FIELDS if session["paymentType"] == CREDIT_CARD else BANK_FIELDS
    unknown = sorted(set(payload) - set(allowed))
    if unknown:
        raise invalid(f"unknown fields: {', '.join(unknown)}")
    if not all(isinstance(v, str) for v in payload.values()):
        raise invalid("every field is a string")
    errors, _ = store.tokenize(session["sessionId"], payload)
    if errors:
        raise GatewayError(422, errors[0].code, errors[0].message,
                           errors=[{"field": e.field, "code": e.code, "message": e.message} for e in errors])
    return _tokenized(session)


def _tokenized(session: dict[str, Any]) -> dict[str, Any]:
    """The message the hosted page posts to its parent, and the JSON twin's answer."""
    return {"type": "navigapay:tokenized", "profileId": session["profileId"], "groupId": session["groupId"],
            "paymentType": session["paymentType"]}


async def complete_session(request: Request, store: NavigaPayStore) -> Any:
    b = Body(await read_json(request))
    profile_id = b.string("profileId")
    group_id = b.string("groupId")
    payment_type = b.choice("paymentType", PAYMENT_TYPES)
    b.finish()
    return store.complete_session(request.path_params["sessionId"], profile_id, group_id, payment_type)


# profiles and transactions (GW-2, GW-3, PM-4) ------------------------------------------------------
async def get_profile(request: Request, store: NavigaPayStore) -> Any:
    return public_profile(store.profile(request.path_params["profileId"], request.query_params.get("merchant")))


def _charge_request(b: Body) -> dict[str, Any]:
    request = {
        "profileId": b.string("profileId"),
        "merchant": b.string("merchant", required=False),
        "amount": b.amount("amount"),  # GW-2: > 0, two decimals at most
        "currency": b.string("currency", max_length=3),
        "statementDescriptor": b.string("statementDescriptor", max_length=STATEMENT_DESCRIPTOR_MAX),  # GW-3
        "reference": b.string("reference", max_length=TEXT_MAX),
    }
    if not (request["currency"].isalpha() and request["currency"].isupper() and len(request["currency"]) == 3):
        raise invalid("currency: an ISO 4217 code such as USD")
    b.finish()
    return request


async def authorize(request: Request, store: NavigaPayStore) -> Any:
    return public_transaction(store.authorize(_charge_request(Body(await read_json(request))), capture=False))


async def sale(request: Request, store: NavigaPayStore) -> Any:
    return public_transaction(store.authorize(_charge_request(Body(await read_json(request))), capture=True))


async def capture(request: Request, store: NavigaPayStore) -> Any:
    b = Body(await read_json(request))
    transaction_id = b.string("transactionId")
    amount = b.amount("amount", required=False)
    b.finish()
    return public_transaction(store.capture(transaction_id, amount))


async def void(request: Request, store: NavigaPayStore) -> Any:
    Body(await read_json(request)).finish()
    return public_transaction(store.void(request.path_params["transactionId"]))


async def refund(request: Request, store: NavigaPayStore) -> Any:
    b = Body(await read_json(request))
    amount = b.amount("amount", required=False)
    b.finish()
    return public_transaction(store.refund(request.path_params["transactionId"], amount))


async def get_transaction(request: Request, store: NavigaPayStore) -> Any:
    return public_transaction(store.transaction(request.path_params["transactionId"]))


async def find_transactions(request: Request, store: NavigaPayStore) -> Any:
    reference = request.query_params.get("reference")
    if not reference:
        raise invalid("reference: required")
    found = store.by_reference(reference, request.query_params.get("merchant"))
    return {"transactions": [public_transaction(t) for t in found]}


# the hosted page (GW-1, GW-4) ----------------------------------------------------------------------
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>NavigaPay secure payment</title>
<style>body{{font-family:system-ui,sans-serif;margin:1rem;max-width:28rem}}label{{display:block;margin:.6rem 0}}
input{{display:block;width:100%;padding:.4rem;box-sizing:border-box}}.error{{color:#b00020}}</style>
</head><body>
{content}
</body></html>"""

CARD_FORM = """<label>Card number<input name="cardNumber" inputmode="numeric" autocomplete="cc-number" maxlength="23" required></label>
<label>Expiry (MM/YY)<input name="expiry" autocomplete="cc-exp" placeholder="MM/YY" maxlength="5" value="{expiry}" required></label>
<label>Security code<input name="cvv" inputmode="numeric" autocomplete="cc-csc" maxlength="4" required></label>
<label>Name on card<input name="cardholderName" autocomplete="cc-name" maxlength="100" value="{cardholderName}" required></label>"""

BANK_FORM = """<label>Routing number<input name="routingNumber" inputmode="numeric" maxlength="9" value="{routingNumber}" required></label>
<label>Account number<input name="accountNumber" inputmode="numeric" maxlength="17" required></label>
<label>Bank name<input name="bankName" maxlength="100" value="{bankName}" required></label>"""


def _page(content: str, status: int = 200) -> HTMLResponse:
    # a page where a card is typed must never be cached by the browser or a proxy
    return HTMLResponse(PAGE.format(content=content), status_code=status,
                        headers={"cache-control": "no-store", "x-content-type-options": "nosniff"})


def _form_page(session: dict[str, Any], errors: list[FieldError] = (), kept: dict[str, str] | None = None,
               status: int = 200) -> HTMLResponse:
    """The entry form. On errors it keeps only what is not secret (name, expiry, routing, bank name):
    the card number, CVV and account number are never echoed back into a page."""
    kept = kept or {}
    values = {f: html.escape(kept.get(f, "")) for f in ("expiry", "cardholderName", "routingNumber", "bankName")}
    fields = (CARD_FORM if session["paymentType"] == CREDIT_CARD else BANK_FORM).format(**values)
    title = "Pay by card" if session["paymentType"] == CREDIT_CARD else "Pay by bank account"
    error_list = "".join(f'<li data-code="{e.code}" data-field="{e.field}">{html.escape(e.message)}</li>'
                         for e in errors)
    content = (f"<h1>{title}</h1>"
               + (f'<ul class="error" role="alert">{error_list}</ul>' if errors else "")
               + f'<form method="post" action="" autocomplete="on">{fields}<button type="submit">Save</button></form>')
    return _page(content, status)


def _script_literal(value: Any) -> str:
    """A JSON literal safe inside a <script> element: `<` escaped, so no value can close the element."""
    return json.dumps(value).replace("<", "\\u003c")


def _done_page(session: dict[str, Any]) -> HTMLResponse:
    """Tells the embedding page the token through postMessage, and sends the frame to the return URL."""
    message = _tokenized(session)
    script_json = _script_literal(message)
    return_link = ""
    redirect = ""
    if session["returnUrl"]:
        query = urlencode({k: message[k] for k in ("profileId", "groupId", "paymentType")})
        separator = "&" if urlsplit(session["returnUrl"]).query else "?"
        target = session["returnUrl"] + separator + query
        return_link = f'<p><a id="return" href="{html.escape(target)}">Continue</a></p>'
        redirect = f"window.location.replace({_script_literal(target)});"
    content = (f"<h1>Payment method saved</h1>{return_link}"
               f"<script>const message = {script_json};\n"
               f'if (window.parent !== window) window.parent.postMessage(message, "*");\n{redirect}</script>')
    return _page(content)


def _session_or_page(request: Request) -> dict[str, Any] | HTMLResponse:
    try:
        return request.app.state.store.session(request.path_params["sessionId"])
    except GatewayError as exc:
        return _page(f'<h1 class="error">{html.escape(exc.message)}</h1>', exc.status)


async def hosted_form(request: Request) -> Response:
    session = _session_or_page(request)
    if isinstance(session, HTMLResponse):
        return session
    # a reload after tokenizing shows the result again rather than asking for the card twice
    return _done_page(session) if session["profileId"] else _form_page(session)


async def hosted_submit(request: Request) -> Response:
    session = _session_or_page(request)
    if isinstance(session, HTMLResponse):
        return session
    if session["profileId"]:
        return _page('<h1 class="error">This payment session has already been used.</h1>', 409)
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        return _page('<h1 class="error">Unsupported form encoding.</h1>', 415)
    allowed = CARD_FIELDS if session["paymentType"] == CREDIT_CARD else BANK_FIELDS
    form = {k: v for k, v in parse_qsl((await request.body()).decode("utf-8", "replace")) if k in allowed}
    errors, _ = request.app.state.store.tokenize(session["sessionId"], form)
    if errors:
        return _form_page(session, errors, form, status=422)
    return _done_page(session)


def api_routes() -> list[Route]:
    return [
        Route("/api/v1/sessions", mutation(start_session, status=201), methods=["POST"]),
        Route("/api/v1/sessions/{sessionId}/tokenize", mutation(tokenize, status=201), methods=["POST"]),
        Route("/api/v1/sessions/{sessionId}/complete", mutation(complete_session), methods=["POST"]),
        Route("/api/v1/profiles/{profileId}", endpoint(get_profile), methods=["GET"]),
        Route("/api/v1/authorizations", mutation(authorize, status=201), methods=["POST"]),
        Route("/api/v1/captures", mutation(capture), methods=["POST"]),
        Route("/api/v1/sales", mutation(sale, status=201), methods=["POST"]),
        Route("/api/v1/transactions", endpoint(find_transactions), methods=["GET"]),
        Route("/api/v1/transactions/{transactionId}", endpoint(get_transaction), methods=["GET"]),
        Route("/api/v1/transactions/{transactionId}/void", mutation(void), methods=["POST"]),
        Route("/api/v1/transactions/{transactionId}/refunds", mutation(refund), methods=["POST"]),
        Route("/hosted/{sessionId}", hosted_form, methods=["GET"]),
        Route("/hosted/{sessionId}", hosted_submit, methods=["POST"]),
    ]
