"""HTTP layer of the circulation emulator: strict body parsing, routing, errors and idempotency.

Handlers parse and validate everything before touching the store, so a 400 never leaves a half-applied
change behind; the store then checks business rules and mutates synchronously (see `store`).
"""

from __future__ import annotations

import functools
import json
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Awaitable, Callable

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.circulation.store import (
    ADDRESS_FIELDS, BANK, CC, COMPLAINT_CATEGORIES, LEVEL_FIELDS, SEARCH_FIELDS, STOP_REASONS, ZERO, CirculationError, CirculationStore, Paper, fingerprint, public_view, to_money,
)

MAX_BATCH = 500
DEFAULT_SEARCH_LIMIT = 50
PAYMENT_TYPES = (CC, BANK)


class JSON(Response):
    """JSON with money as exact decimal strings (MNY-1): a float never appears on the wire."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def error(status: int, code: str, message: str) -> JSON:
    return JSON({"code": code, "message": message}, status_code=status)


def invalid(message: str) -> CirculationError:
    return CirculationError(400, "INVALID_REQUEST", message)


class Body:
    """Typed, strict access to a JSON object: every read names its field in the error it raises, and
    `finish()` refuses fields nobody read, so a misspelt field is a 400 rather than silently ignored."""

    def __init__(self, data: Any, prefix: str = "") -> None:
        if not isinstance(data, dict):
            raise invalid(f"{prefix.rstrip('.') or 'body'}: must be a JSON object")
        self.data = data
        self.prefix = prefix
        self.read: set[str] = set()

    def _get(self, name: str, required: bool) -> Any:
        self.read.add(name)
        if name not in self.data:
            if required:
                raise invalid(f"{self.prefix}{name}: required")
            return None
        return self.data[name]

    def string(self, name: str, *, required: bool = True, nullable: bool = False, default: str | None = None) -> Any:
        value = self._get(name, required)
        if value is None:
            if required and not nullable:
                raise invalid(f"{self.prefix}{name}: must not be null")
            return default
        if not isinstance(value, str):
            raise invalid(f"{self.prefix}{name}: must be a string")
        return value

    def money(self, name: str, *, required: bool = True, positive: bool = False) -> Decimal:
        """Amounts are decimal strings (or JSON numbers, parsed exactly) with at most two places."""
        value = self._get(name, required)
        if value is None and not required:
            return ZERO
        if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
            raise invalid(f"{self.prefix}{name}: must be a decimal amount")
        try:
            amount = Decimal(str(value).strip())
            exact = amount.is_finite() and amount == amount.quantize(Decimal("0.01"))
        except InvalidOperation:
            exact = False
        if not exact:
            raise invalid(f"{self.prefix}{name}: must be a decimal amount with at most two places")
        if amount < 0 or (positive and amount == 0):
            raise invalid(f"{self.prefix}{name}: must be {'greater than zero' if positive else 'zero or more'}")
        return to_money(amount)

    def boolean(self, name: str, *, required: bool = True, default: bool = False) -> bool:
        value = self._get(name, required)
        if value is None and not required:
            return default
        if not isinstance(value, bool):
            raise invalid(f"{self.prefix}{name}: must be true or false")
        return value

    def integer(self, name: str, *, required: bool = True, nullable: bool = False) -> int | None:
        value = self._get(name, required)
        if value is None and (nullable or not required):
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid(f"{self.prefix}{name}: must be an integer")
        return value

    def day(self, name: str, *, required: bool = True) -> date | None:
        value = self.string(name, required=required, nullable=True)
        return _parse_date(f"{self.prefix}{name}", value) if value is not None else None

    def choice(self, name: str, choices: tuple[str, ...], *, nullable: bool = False) -> str | None:
        value = self.string(name, nullable=nullable)
        if value is not None and value not in choices:
            raise invalid(f"{self.prefix}{name}: must be one of {', '.join(choices)}")
        return value

    def strings(self, name: str, *, required: bool = True) -> list[str] | None:
        value = self._get(name, required)
        if value is None and not required:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise invalid(f"{self.prefix}{name}: must be a list of strings")
        return value

    def array(self, name: str, *, required: bool = True) -> list[Any]:
        value = self._get(name, required)
        if value is None and not required:
            return []
        if not isinstance(value, list):
            raise invalid(f"{self.prefix}{name}: must be a list")
        return value

    def object(self, name: str) -> "Body":
        return Body(self._get(name, True), f"{self.prefix}{name}.")

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.read)
        if unknown:
            raise invalid(f"{self.prefix}{unknown[0]}: unknown field")


def _parse_date(field: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise invalid(f"{field}: must be a date YYYY-MM-DD") from None


async def read_json(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        raise invalid("body: required")
    try:
        # parse_float keeps a JSON number such as 12.30 exact instead of turning it into a float
        return json.loads(raw, parse_float=Decimal)
    except ValueError:
        raise invalid("body: not valid JSON") from None


Handler = Callable[[Request, CirculationStore, Paper], Awaitable[Any]]


def endpoint(
    handler: Handler, *, status: int = 200, honours_idempotency_key: bool = False
) -> Callable[[Request], Awaitable[Response]]:
    """Wraps an API handler with what every route shares: the API key, the paper lookup, error bodies,
    and (for mutations) the `Idempotency-Key` contract: same key and request → the stored answer with
    no second application; same key, other request → 409. Only successes are remembered: a refused
    request changed nothing, so retrying it simply runs the checks again."""

    @functools.wraps(handler)
    async def route(request: Request) -> Response:
        store: CirculationStore = request.app.state.store
        api_key: str | None = request.app.state.api_key
        if api_key is not None and request.headers.get("authorization") != f"Bearer {api_key}":
            return error(401, "UNAUTHORIZED", "missing or wrong bearer API key")
        try:
            paper = store.paper(request.path_params["paperCode"])
            store.apply_due_downgrades(paper)  # STP-4: renewals whose day has come, before anything is read
            store.settle(paper)  # ADR-3: moves whose day has come are applied before any read or change
            key = request.headers.get("idempotency-key") if honours_idempotency_key else None
            if key:
                payload = await read_json(request)
                request_print = fingerprint(request.method, request.url.path, payload)
                stored = store.remembered(paper, key, request_print)
                if stored is not None:
                    return JSON(stored.body, status_code=stored.status, headers={"idempotent-replayed": "true"})
            result = await handler(request, store, paper)
        except CirculationError as exc:
            return error(exc.status, exc.code, exc.message)
        if isinstance(result, Response):  # a document (a statement's PDF): a read, never remembered
            return result
        if key:
            # Snapshot now: the stored answer must not follow later changes of the live record.
            result = orjson.loads(orjson.dumps(result, default=_json_default))
            store.remember(paper, key, request_print, status, result)
        return JSON(result, status_code=status)

    return route


def mutation(handler: Handler, *, status: int = 200) -> Callable[[Request], Awaitable[Response]]:
    return endpoint(handler, status=status, honours_idempotency_key=True)


# reads ---------------------------------------------------------------------------------------------
def _ids(request: Request, name: str) -> list[str]:
    raw = request.query_params.get(name)
    if raw is None:
        raise invalid(f"{name}: required")
    ids = list(dict.fromkeys(i for i in (p.strip() for p in raw.split(",")) if i))
    if len(ids) > MAX_BATCH:
        raise invalid(f"{name}: at most {MAX_BATCH} ids per request")
    return ids


async def get_subscription(request: Request, store: CirculationStore, paper: Paper) -> Any:
    return public_view(store.subscription(paper, request.path_params["id"]))


async def get_subscriptions(request: Request, store: CirculationStore, paper: Paper) -> Any:
    found = (paper.subscriptions.get(i) for i in _ids(request, "ids"))
    return {"subscriptions": [public_view(r) for r in found if r is not None]}


async def search_subscriptions(request: Request, store: CirculationStore, paper: Paper) -> Any:
    params = request.query_params
    criteria = {k: params[k] for k in SEARCH_FIELDS if params.get(k, "").strip()}
    if not criteria:
        # SUB-2
        raise invalid("Please enter a value in at least one of the input fields.")
    limit = _int_param(request, "limit", DEFAULT_SEARCH_LIMIT, 1, MAX_BATCH)
    offset = _int_param(request, "offset", 0, 0, None)
    found = store.search(paper, criteria)
    return {"total": len(found), "subscriptions": [public_view(r) for r in found[offset:offset + limit]]}


async def expiring_subscriptions(request: Request, store: CirculationStore, paper: Paper) -> Any:
    bounds = []
    for name in ("from", "to"):
        value = request.query_params.get(name)
        if not value:
            raise invalid(f"{name}: required")
        bounds.append(_parse_date(name, value))
    if bounds[0] > bounds[1]:
        raise invalid("from: must not be after to")
    return {"subscriptions": [public_view(r) for r in store.expiring(paper, *bounds)]}


async def get_billing_options_batch(request: Request, store: CirculationStore, paper: Paper) -> Any:
    found = ((i, paper.subscriptions.get(i)) for i in _ids(request, "subscriptionIds"))
    return {"billingOptions": {i: r["billingOptions"] for i, r in found if r is not None}}


async def get_billing_options(request: Request, store: CirculationStore, paper: Paper) -> Any:
    return {"billingOptions": store.subscription(paper, request.path_params["id"])["billingOptions"]}


async def get_scheduled_stops(request: Request, store: CirculationStore, paper: Paper) -> Any:
    return {"scheduledStops": store.subscription(paper, request.path_params["id"])["scheduledStops"]}


async def get_transactions(request: Request, store: CirculationStore, paper: Paper) -> Any:
    return {"transactions": store.transactions(paper, request.path_params["id"])}


def _int_param(request: Request, name: str, default: int, low: int, high: int | None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(f"{name}: must be an integer") from None
    if value < low or (high is not None and value > high):
        raise invalid(f"{name}: must be between {low} and {high}" if high else f"{name}: must be at least {low}")
    return value


# mutations -----------------------------------------------------------------------------------------
async def apply_payment(request: Request, store: CirculationStore, paper: Paper) -> Any:
    b = Body(await read_json(request))
    payment = {
        "optionTerm": b.string("optionTerm", nullable=True), "amount": b.money("amount", positive=True),
        "tip": b.money("tip", required=False), "donation": b.money("donation", required=False),
        "paymentType": b.choice("paymentType", PAYMENT_TYPES), "gatewayTransactionId": b.string("gatewayTransactionId"),
        "activationFee": b.money("activationFee", required=False), **_fees(b),
    }
    b.finish()
    result = store.apply_payment(paper, request.path_params["id"], payment)
    return {**result, "subscription": public_view(result["subscription"])}


async def restart(request: Request, store: CirculationStore, paper: Paper) -> Any:
    b = Body(await read_json(request))
    body = {
        "restartDate": b.day("restartDate", required=False), "optionTerm": b.string("optionTerm"),
        "amount": b.money("amount", positive=True), "tip": b.money("tip", required=False),
        "donation": b.money("donation", required=False),
        "paymentType": b.choice("paymentType", PAYMENT_TYPES, nullable=True),
        "gatewayTransactionId": b.string("gatewayTransactionId", required=False, nullable=True),
        "applyCredit": b.boolean("applyCredit"), "reasonCode": b.string("reasonCode"),
        "sourceCode": b.string("sourceCode"), **_fees(b),
    }
    b.finish()
    if (body["paymentType"] is None) != (body["gatewayTransactionId"] is None):
        raise invalid("gatewayTransactionId: must be sent together with paymentType")
    result = store.restart(paper, request.path_params["id"], body)
    return {**result, "subscription": public_view(result["subscription"])}


def _fees(b: Body) -> dict[str, Decimal]:
    """The credit-card processing fee and its tax charged with the payment (FEE-1, FEE-2; NCS receives
    them as ProcessingFeeAmount and ProcessingFeeTaxAmount): recorded and part of what was charged."""
    return {"processingFee": b.money("processingFee", required=False),
            "processingFeeTax": b.money("processingFeeTax", required=False)}


def _auto_pay_body(b: Body) -> dict[str, Any]:
    body = {
        "paymentType": b.choice("paymentType", PAYMENT_TYPES), "term": b.string("term"), "length": b.integer("length"),
        "paymentToken": b.string("paymentToken"), "tip": b.money("tip", required=False),
        "donation": b.money("donation", required=False),
    }
    b.finish()
    return body


async def sign_up_auto_pay(request: Request, store: CirculationStore, paper: Paper) -> Any:
    body = _auto_pay_body(Body(await read_json(request)))
    result = store.set_auto_pay(paper, request.path_params["id"], body, sign_up=True)
    return {**result, "subscription": public_view(result["subscription"])}


async def update_auto_pay(request: Request, store: CirculationStore, paper: Paper) -> Any:
    body = _auto_pay_body(Body(await read_json(request)))
    result = store.set_auto_pay(paper, request.path_params["id"], body, sign_up=False)
    return {**result, "subscription": public_view(result["subscription"])}


async def add_tip(request: Request, store: CirculationStore, paper: Paper) -> Any:
    b = Body(await read_json(request))
    body = {
        "amount": b.money("amount", positive=True), "recurring": b.boolean("recurring"),
        "paymentType": b.choice("paymentType", PAYMENT_TYPES),
        "gatewayTransactionId": b.string("gatewayTransactionId", required=False, nullable=True), **_fees(b),
    }
    b.finish()
    result = store.add_tip(paper, request.path_params["id"], body)
    return {**result, "subscription": public_view(result["subscription"])}


async def cancel(request: Request, store: CirculationStore, paper: Paper) -> Any:
    b = Body(await read_json(request))
    reason = b.string("reason")
    b.finish()
    result = store.cancel(paper, request.path_params["id"], reason)
    return {**result, "subscription": public_view(result["subscription"])}


# downgrades (STP-4) ------------------------------------------------------------------------------------
async def schedule_downgrade(request: Request, store: CirculationStore, paper: Paper) -> Any:
    b = Body(await read_json(request))
    body = {"productCode": b.string("productCode"), "term": b.string("term"), "length": b.integer("length"),
            "lengthUnit": b.choice("lengthUnit", ("DAY", "WEEK", "MONTH", "YEAR")),
            "rate": b.money("rate", positive=True), "tax": b.money("tax"), "reason": b.string("reason")}
    b.finish()
    if body["length"] < 1:
        raise invalid("length: must be at least 1")
    return store.schedule_downgrade(paper, request.path_params["id"], body)


async def get_downgrade(request: Request, store: CirculationStore, paper: Paper) -> Any:
    return {"downgrade": store.subscription(paper, request.path_params["id"])["scheduledDowngrade"]}


async def cancel_auto_pay(request: Request, store: CirculationStore, paper: Paper) -> Any:
    Body(await read_json(request)).finish()
    result = store.cancel_auto_pay(paper, request.path_params["id"])
    return {**result, "subscription": public_view(result["subscription"])}


async def get_current_plan(request: Request, store: CirculationStore, paper: Paper) -> Any:
    return {"plan": store.current_plan(paper, request.path_params["id"])}


# eBill (EBL-1, EBL-2, EBL-4) ------------------------------------------------------------------------------
async def sign_up_ebill(request: Request, store: CirculationStore, paper: Paper) -> Any:
    b = Body(await read_json(request))
    email = b.string("email").strip()
    b.finish()
    if "@" not in email:
        raise invalid("email: must be an e-mail address")
    result = store.sign_up_ebill(paper, request.path_params["id"], email)
    return {**result, "subscription": public_view(result["subscription"])}


async def sign_out_ebill(request: Request, store: CirculationStore, paper: Paper) -> Any:
    Body(await read_json(request)).finish()
    result = store.sign_out_ebill(paper, request.path_params["id"])
    return {**result, "subscription": public_view(result["subscription"])}


async def get_statements(request: Request, store: CirculationStore, paper: Paper) -> Any:
    return {"statements": store.statements(paper, request.path_params["id"])}


async def get_statement_pdf(request: Request, store: CirculationStore, paper: Paper) -> Any:
    pdf = store.statement_pdf(paper, request.path_params["id"], request.path_params["statementId"])
    return Response(pdf, media_type="application/pdf", headers={
        "content-disposition": f'inline; filename="{request.path_params["statementId"]}.pdf"'})


# temporary stops (STP-1, STP-2) -----------------------------------------------------------------------
async def get_temporary_stops(request: Request, store: CirculationStore, paper: Paper) -> Any:
    return {"temporaryStops": store.temporary_stops(paper, request.path_params["id"])}


async def get_temporary_stop_dates(request: Request, store: CirculationStore, paper: Paper) -> Any:
    return {"dates": [d.isoformat() for d in store.temporary_stop_dates(paper, request.path_params["id"])]}


async def schedule_temporary_stop(request: Request, store: CirculationStore, paper: Paper) -> Any:
    b = Body(await read_json(request))
    start, restart = b.day("startDate"), b.day("restartDate", required=False)
    reason = b.string("reason", required=False, nullable=True)
    b.finish()
    return store.schedule_temporary_stop(paper, request.path_params["id"], start, restart, reason)


async def change_temporary_stop_restart(request: Request, store: CirculationStore, paper: Paper) -> Any:
    b = Body(await read_json(request))
    restart = b.day("restartDate")
    b.finish()
    if restart is None:
        raise invalid("restartDate: must not be null")
    return store.change_temporary_stop_restart(paper, request.path_params["id"], request.path_params["stopId"],
                                               restart)


async def cancel_temporary_stop(request: Request, store: CirculationStore, paper: Paper) -> Any:
    return store.cancel_temporary_stop(paper, request.path_params["id"], request.path_params["stopId"])


# complaints (CMP-1, CMP-3) -----------------------------------------------------------------------------
async def get_complaint_categories(request: Request, store: CirculationStore, paper: Paper) -> Any:
    return {"categories": [{"code": c, "description": d} for c, d in COMPLAINT_CATEGORIES]}


async def get_stop_reasons(request: Request, store: CirculationStore, paper: Paper) -> Any:
    return {"reasons": [{"code": c, "description": d} for c, d in STOP_REASONS]}


async def get_complaints(request: Request, store: CirculationStore, paper: Paper) -> Any:
    return {"complaints": store.complaints(paper, request.path_params["id"])}


async def file_complaint(request: Request, store: CirculationStore, paper: Paper) -> Any:
    b = Body(await read_json(request))
    category, delivery_date = b.string("category"), b.day("deliveryDate")
    redelivery = b.boolean("redelivery", required=False)
    b.finish()
    return store.file_complaint(paper, request.path_params["id"], category, delivery_date, redelivery)


async def create_subscription(request: Request, store: CirculationStore, paper: Paper) -> Any:
    b = Body(await read_json(request))
    s = b.object("subscriber")
    a = s.object("address")
    address = {k: a.string(k) for k in ("houseNumber", "streetName", "city", "postalCode", "country")}
    a.finish()
    subscriber = {
        "firstName": s.string("firstName"), "lastName": s.string("lastName"),
        "email": s.string("email", required=False, nullable=True),
        "phones": s.strings("phones", required=False) or [],
        "companyName": s.string("companyName", required=False, nullable=True), "address": address,
    }
    s.finish()
    body = {
        "productCode": b.string("productCode"), "term": b.string("term"), "subscriber": subscriber,
        "digital": b.boolean("digital"), "name": b.string("name", required=False, nullable=True),
        "customerReferenceNumber": b.string("customerReferenceNumber", required=False, nullable=True, default=""),
    }
    b.finish()
    return public_view(store.create(paper, body))


async def update_subscription(request: Request, store: CirculationStore, paper: Paper) -> Any:
    b = Body(await read_json(request))
    changes: dict[str, Any] = {}
    if "householdLevelId" in b.data:
        changes["householdLevelId"] = b.integer("householdLevelId", nullable=True)
    if "name" in b.data:
        changes["name"] = b.string("name", nullable=True)
    if "customerReferenceNumber" in b.data:
        changes["customerReferenceNumber"] = b.string("customerReferenceNumber")
    if "ebill" in b.data:
        changes["ebill"] = b.boolean("ebill")
    if "subscriber" in b.data:
        # ADR-1: the subscriber's names, company and phones (primary first); the address changes by a move
        s = b.object("subscriber")
        details: dict[str, Any] = {}
        for name in ("firstName", "lastName"):
            if name in s.data:
                details[name] = _text(s, name, nullable=False)
        if "companyName" in s.data:
            details["companyName"] = _text(s, "companyName", nullable=True)
        if "phones" in s.data:
            details["phones"] = s.strings("phones")
        s.finish()
        if not details:
            raise invalid("subscriber: nothing to change")
        changes["subscriber"] = details
    b.finish()
    if not changes:
        raise invalid("body: nothing to change")
    return public_view(store.update(paper, request.path_params["id"], changes))


MAX_TEXT = 100


def _text(b: Body, name: str, *, nullable: bool, required: bool = True) -> str | None:
    value = b.string(name, nullable=nullable, required=required)
    if value is None:
        return None
    if len(value) > MAX_TEXT or (not value.strip() and not nullable):
        raise invalid(f"{b.prefix}{name}: must be 1 to {MAX_TEXT} characters")
    return value.strip() or None


# address moves (ADR-3, ADR-4) --------------------------------------------------------------------------
async def get_moves(request: Request, store: CirculationStore, paper: Paper) -> Any:
    return {"moves": store.moves(paper, request.path_params["id"])}


async def move_subscriber(request: Request, store: CirculationStore, paper: Paper) -> Any:
    b = Body(await read_json(request))
    effective = b.day("effectiveDate")
    a = b.object("address")
    address: dict[str, Any] = {k: _text(a, k, nullable=False) for k in ADDRESS_FIELDS}
    for name in LEVEL_FIELDS:
        value = _text(a, name, nullable=True, required=False)
        if value is not None:
            address[name] = value
    a.finish()
    if ("levelDesignator" in address) != ("levelNumber" in address):
        raise invalid("address.levelNumber: levelDesignator and levelNumber come together")
    body = {"effectiveDate": effective, "address": address,
            "billingMethod": _text(b, "billingMethod", nullable=True, required=False),
            "rateCode": _text(b, "rateCode", nullable=True, required=False)}
    b.finish()
    if effective is None:
        raise invalid("effectiveDate: must not be null")
    return store.move(paper, request.path_params["id"], body)


def api_routes() -> list[Route]:
    base = "/api/v1/papers/{paperCode}"
    sub = base + "/subscriptions/{id}"
    # The fixed paths come before `/subscriptions/{id}`, which would otherwise swallow them.
    return [
        Route(base + "/subscriptions/search", endpoint(search_subscriptions), methods=["GET"]),
        Route(base + "/subscriptions/expiring", endpoint(expiring_subscriptions), methods=["GET"]),
        Route(base + "/subscriptions", endpoint(get_subscriptions), methods=["GET"]),
        Route(base + "/subscriptions", mutation(create_subscription, status=201), methods=["POST"]),
        Route(base + "/billing-options", endpoint(get_billing_options_batch), methods=["GET"]),
        Route(base + "/complaint-categories", endpoint(get_complaint_categories), methods=["GET"]),
        Route(base + "/stop-reasons", endpoint(get_stop_reasons), methods=["GET"]),
        Route(sub, endpoint(get_subscription), methods=["GET"]),
        Route(sub, endpoint(update_subscription), methods=["PATCH"]),
        Route(sub + "/billing-options", endpoint(get_billing_options), methods=["GET"]),
        Route(sub + "/scheduled-stops", endpoint(get_scheduled_stops), methods=["GET"]),
        Route(sub + "/transactions", endpoint(get_transactions), methods=["GET"]),
        Route(sub + "/payments", mutation(apply_payment), methods=["POST"]),
        Route(sub + "/restart", mutation(restart), methods=["POST"]),
        Route(sub + "/autopay", mutation(sign_up_auto_pay), methods=["POST"]),
        Route(sub + "/autopay", mutation(update_auto_pay), methods=["PUT"]),
        Route(sub + "/tips", mutation(add_tip), methods=["POST"]),
        Route(sub + "/autopay/cancel", mutation(cancel_auto_pay), methods=["POST"]),
        Route(sub + "/plan", endpoint(get_current_plan), methods=["GET"]),
        Route(sub + "/ebill", mutation(sign_up_ebill), methods=["POST"]),
        Route(sub + "/ebill/cancel", mutation(sign_out_ebill), methods=["POST"]),
        Route(sub + "/statements", endpoint(get_statements), methods=["GET"]),
        Route(sub + "/statements/{statementId}", endpoint(get_statement_pdf), methods=["GET"]),
        Route(sub + "/cancel", mutation(cancel), methods=["POST"]),
        Route(sub + "/downgrade", endpoint(get_downgrade), methods=["GET"]),
        Route(sub + "/downgrade", mutation(schedule_downgrade, status=201), methods=["POST"]),
        Route(sub + "/moves", endpoint(get_moves), methods=["GET"]),
        Route(sub + "/moves", mutation(move_subscriber, status=201), methods=["POST"]),
        Route(sub + "/temporary-stops", endpoint(get_temporary_stops), methods=["GET"]),
        Route(sub + "/complaints", endpoint(get_complaints), methods=["GET"]),
        Route(sub + "/complaints", mutation(file_complaint, status=201), methods=["POST"]),
        Route(sub + "/temporary-stops", mutation(schedule_temporary_stop, status=201), methods=["POST"]),
        Route(sub + "/temporary-stop-dates", endpoint(get_temporary_stop_dates), methods=["GET"]),
        Route(sub + "/temporary-stops/{stopId}/restart", mutation(change_temporary_stop_restart), methods=["PUT"]),
        Route(sub + "/temporary-stops/{stopId}/cancel", mutation(cancel_temporary_stop), methods=["POST"]),
    ]
