"""Client of the publisher's circulation system (the API of `sandbox.circulation`).

A thin client: one method per upstream endpoint, paper code first, no GraphQL knowledge. Records come
back as the upstream's dicts with every money field converted to `Decimal` (MNY-1): `balance`, the
billing options' `rate`, `tax`, `otherCosts`, `amount`, and in transactions and results `amount`,
`tip`, `donation`, `activationFee`, `charged`, `creditApplied`, `balanceBefore`, `balanceAfter`, plus
`autoPayPlan.tip`/`donation`. Dates stay ISO strings.

Reads are retried by `RestDataSource`; the money-moving POSTs take a mandatory idempotency key, which
the upstream honours, so their retries cannot apply a payment twice.
"""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal
from typing import Any, Iterable
from urllib.parse import quote

import httpx

from datasources.base import RestDataSource, UpstreamNotFound, UpstreamRejected
from datasources.transport import AiohttpClient

# EZ-4: how each circulation system names the fields of the current plan (canonical name → the kind's)
_PLAN_KEYS = ("term", "length", "lengthUnit", "paidThroughDate", "rate", "tax", "otherCosts", "amount", "autoRenew",
              "balance")
PLAN_FIELDS: dict[str, dict[str, str]] = {
    "NCS": {k: k for k in _PLAN_KEYS},
    "MATRIX": dict(zip(_PLAN_KEYS, ("termCode", "termLength", "termUnit", "paidThru", "rateAmount", "taxAmount",
                                    "otherCharges", "totalAmount", "autoRenew", "accountBalance"))),
    "CIRCPRO": {k: k[0].upper() + k[1:] for k in _PLAN_KEYS},
    "SAXO": dict(zip(_PLAN_KEYS, ("term", "periodLength", "periodUnit", "expiryDate", "price", "vat", "fees", "total",
                                  "renewAutomatically", "balance"))),
}

BATCH_SIZE = 500  # the upstream's limit on ids per batch request
MONEY_FIELDS = frozenset({
    "balance", "rate", "tax", "otherCosts", "amount", "tip", "donation", "activationFee", "charged",
    "creditApplied", "balanceBefore", "balanceAfter",
})


class CirculationDataSource(RestDataSource):
    service = "circulation"

    def __init__(
        self,
        client: httpx.AsyncClient | AiohttpClient,
        *,
        timeout: float = 5.0,
        read_retries: int = 2,
        api_key: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(client, timeout=timeout, read_retries=read_retries, **kwargs)
        self.api_key = api_key

    async def auth_headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    # reads -----------------------------------------------------------------------------------------
    async def get_subscription(self, paper_code: str, subscription_id: str) -> dict[str, Any] | None:
        """None when the paper has no such subscription; an unknown paper still raises UpstreamNotFound."""
        try:
            return _money(await self.get(_sub(paper_code, subscription_id)))
        except UpstreamNotFound as exc:
            if isinstance(exc.body, dict) and exc.body.get("code") == "SUBSCRIPTION_NOT_FOUND":
                return None
            raise

    async def get_subscriptions(self, paper_code: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The batch read dataloaders use; unknown ids are absent from the result."""
        pages = await self._batched(_paper(paper_code) + "/subscriptions", "ids", ids)
        return {r["id"]: _money(r) for page in pages for r in page["subscriptions"]}

    async def search_subscriptions(
        self, paper_code: str, *, limit: int = 50, offset: int = 0, **criteria: str | None
    ) -> dict[str, Any]:
        """SUB-2 criteria: firstName, lastName, accountNumber, email, phone, postalCode, companyName."""
        result = await self.get(_paper(paper_code) + "/subscriptions/search",
                                {**criteria, "limit": limit, "offset": offset})
        return {"total": result["total"], "subscriptions": [_money(r) for r in result["subscriptions"]]}

    async def expiring_subscriptions(self, paper_code: str, start: date, end: date) -> list[dict[str, Any]]:
        result = await self.get(_paper(paper_code) + "/subscriptions/expiring",
                                {"from": start.isoformat(), "to": end.isoformat()})
        return [_money(r) for r in result["subscriptions"]]

    async def get_billing_options(self, paper_code: str, ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        pages = await self._batched(_paper(paper_code) + "/billing-options", "subscriptionIds", ids)
        return {i: _money(options) for page in pages for i, options in page["billingOptions"].items()}

    async def get_scheduled_stops(self, paper_code: str, subscription_id: str) -> list[dict[str, Any]]:
        """Read live on every call: the upstream has no batch endpoint for stops (SUB-4)."""
        return (await self.get(_sub(paper_code, subscription_id) + "/scheduled-stops"))["scheduledStops"]

    async def get_temporary_stops(self, paper_code: str, subscription_id: str) -> list[dict[str, Any]]:
        """STP-1: the subscription's temporary stops `{id, startDate, restartDate|null, reason}`, read live."""
        return (await self.get(_sub(paper_code, subscription_id) + "/temporary-stops"))["temporaryStops"]

    async def get_temporary_stop_dates(self, paper_code: str, subscription_id: str) -> list[date]:
        """STP-1: the start and restart dates the circulation system offers now (read live, never cached)."""
        answer = await self.get(_sub(paper_code, subscription_id) + "/temporary-stop-dates")
        return [date.fromisoformat(d) for d in answer["dates"]]

    async def get_complaint_categories(self, paper_code: str) -> list[dict[str, Any]]:
        """CMP-1: the paper's delivery-complaint categories `{code, description}`."""
        return (await self.get(_paper(paper_code) + "/complaint-categories"))["categories"]

    async def get_stop_reasons(self, paper_code: str) -> list[dict[str, Any]]:
        """STP-5: the paper's stop-reason list `{code, description}`."""
        return (await self.get(_paper(paper_code) + "/stop-reasons"))["reasons"]

    async def get_transactions(self, paper_code: str, subscription_id: str) -> list[dict[str, Any]]:
        return _money((await self.get(_sub(paper_code, subscription_id) + "/transactions"))["transactions"])

    async def get_current_plan(self, paper_code: str, subscription_id: str, circulation_kind: str) -> dict[str, Any]:
        """EZ-4: the current plan read live, in one shape whatever the kind names its fields (`PLAN_FIELDS`):
        term, length, lengthUnit, paidThroughDate, rate, tax, otherCosts, amount (Decimal), autoRenew, balance."""
        answer = (await self.get(_sub(paper_code, subscription_id) + "/plan"))["plan"]
        names = PLAN_FIELDS.get(circulation_kind, PLAN_FIELDS["NCS"])
        plan = {canonical: answer.get(wire) for canonical, wire in names.items()}
        for key in ("rate", "tax", "otherCosts", "amount", "balance"):
            plan[key] = Decimal(str(plan[key] if plan[key] is not None else "0"))
        return plan

    async def get_statements(self, paper_code: str, subscription_id: str) -> list[dict[str, Any]]:
        """EBL-4: `{id, issueDate, periodStart, periodEnd, amountDue (Decimal), currency}`, newest first."""
        statements = (await self.get(_sub(paper_code, subscription_id) + "/statements"))["statements"]
        for statement in statements:
            statement["amountDue"] = Decimal(str(statement["amountDue"]))
        return statements

    async def get_statement_pdf(self, paper_code: str, subscription_id: str, statement_id: str) -> bytes:
        """EBL-4: the statement's PDF; UpstreamNotFound (STATEMENT_NOT_FOUND) when it is not this subscription's."""
        document = await self.get(_sub(paper_code, subscription_id) + f"/statements/{quote(statement_id, safe='')}")
        if not isinstance(document, bytes):
            raise UpstreamRejected(self.service, 200, None, "circulation answered a statement that is not a document")
        return document

    # mutations -------------------------------------------------------------------------------------
    async def apply_payment(
        self, paper_code: str, subscription_id: str, body: dict[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        """body: optionTerm, amount, tip, donation, paymentType, gatewayTransactionId, activationFee."""
        return _money(await self.post(_sub(paper_code, subscription_id) + "/payments", body,
                                      idempotency_key=idempotency_key))

    async def restart(
        self, paper_code: str, subscription_id: str, body: dict[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        """body: restartDate, optionTerm, amount, tip, donation, paymentType, gatewayTransactionId,
        applyCredit, reasonCode, sourceCode. The result's `charged` is what the upstream expects paid."""
        return _money(await self.post(_sub(paper_code, subscription_id) + "/restart", body,
                                      idempotency_key=idempotency_key))

    async def sign_up_auto_pay(
        self, paper_code: str, subscription_id: str, body: dict[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        """body: paymentType, term, length, paymentToken, tip, donation."""
        return _money(await self.post(_sub(paper_code, subscription_id) + "/autopay", body,
                                      idempotency_key=idempotency_key))

    async def update_auto_pay(
        self, paper_code: str, subscription_id: str, body: dict[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        return _money(await self.put(_sub(paper_code, subscription_id) + "/autopay", body,
                                     idempotency_key=idempotency_key))

    async def add_tip(
        self, paper_code: str, subscription_id: str, body: dict[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        """body: amount, recurring, paymentType, gatewayTransactionId."""
        return _money(await self.post(_sub(paper_code, subscription_id) + "/tips", body,
                                      idempotency_key=idempotency_key))

    async def cancel(
        self, paper_code: str, subscription_id: str, reason: str, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        return _money(await self.post(_sub(paper_code, subscription_id) + "/cancel", {"reason": reason},
                                      idempotency_key=idempotency_key))

    async def schedule_downgrade(
        self, paper_code: str, subscription_id: str, body: dict[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        """STP-4: body productCode, term, length, lengthUnit, rate, tax, reason → {transactionId, downgrade}."""
        return _money(await self.post(_sub(paper_code, subscription_id) + "/downgrade", body,
                                      idempotency_key=idempotency_key))

    async def schedule_temporary_stop(
        self, paper_code: str, subscription_id: str, start: date, restart: date | None, reason: str | None,
        idempotency_key: str,
    ) -> dict[str, Any]:
        """STP-1 → {transactionId, temporaryStop}."""
        body: dict[str, Any] = {"startDate": start.isoformat(), "reason": reason}
        if restart is not None:
            body["restartDate"] = restart.isoformat()
        return await self.post(_sub(paper_code, subscription_id) + "/temporary-stops", body,
                               idempotency_key=idempotency_key)

    async def change_temporary_stop_restart(
        self, paper_code: str, subscription_id: str, stop_id: str, restart: date, idempotency_key: str
    ) -> dict[str, Any]:
        """STP-2 (TemporaryStopRestart, every kind) → {transactionId, temporaryStop}."""
        return await self.put(_sub(paper_code, subscription_id) + f"/temporary-stops/{quote(stop_id, safe='')}/restart",
                              {"restartDate": restart.isoformat()}, idempotency_key=idempotency_key)

    async def cancel_temporary_stop(
        self, paper_code: str, subscription_id: str, stop_id: str, idempotency_key: str
    ) -> dict[str, Any]:
        return await self.post(_sub(paper_code, subscription_id) + f"/temporary-stops/{quote(stop_id, safe='')}/cancel",
                               {}, idempotency_key=idempotency_key)

    async def file_complaint(
        self, paper_code: str, subscription_id: str, category: str, delivery_date: date, redelivery: bool,
        idempotency_key: str,
    ) -> dict[str, Any]:
        """CMP-1, CMP-3 → {transactionId, complaint{id, category, deliveryDate, redelivery}}."""
        return await self.post(_sub(paper_code, subscription_id) + "/complaints",
                               {"category": category, "deliveryDate": delivery_date.isoformat(),
                                "redelivery": redelivery}, idempotency_key=idempotency_key)

    async def cancel_auto_pay(self, paper_code: str, subscription_id: str, idempotency_key: str) -> dict[str, Any]:
        """EZ-5 → {transactionId, subscription}; 409 NOT_ON_AUTO_PAY."""
        return _money(await self.post(_sub(paper_code, subscription_id) + "/autopay/cancel", {},
                                      idempotency_key=idempotency_key))

    async def sign_up_ebill(self, paper_code: str, subscription_id: str, email: str,
                            idempotency_key: str) -> dict[str, Any]:
        """EBL-1, EBL-2 → {transactionId, subscription}; bills go to `email`."""
        return _money(await self.post(_sub(paper_code, subscription_id) + "/ebill", {"email": email},
                                      idempotency_key=idempotency_key))

    async def sign_out_ebill(self, paper_code: str, subscription_id: str, idempotency_key: str) -> dict[str, Any]:
        return _money(await self.post(_sub(paper_code, subscription_id) + "/ebill/cancel", {},
                                      idempotency_key=idempotency_key))

    async def create_subscription(
        self, paper_code: str, body: dict[str, Any], idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """body: productCode, term, subscriber{...}, digital, name, customerReferenceNumber."""
        return _money(await self.post(_paper(paper_code) + "/subscriptions", body, idempotency_key=idempotency_key))

    async def update_subscription(
        self, paper_code: str, subscription_id: str, changes: dict[str, Any]
    ) -> dict[str, Any]:
        """changes: any of householdLevelId, name, customerReferenceNumber, ebill, subscriber{phones}."""
        return _money(await self.patch(_sub(paper_code, subscription_id), changes))

    async def update_subscriber(self, paper_code: str, subscription_id: str, details: dict[str, Any]) -> dict[str, Any]:
        """ADR-1: any of firstName, lastName, companyName (null removes it), phones (primary first)."""
        return _money(await self.patch(_sub(paper_code, subscription_id), {"subscriber": details}))

    async def get_moves(self, paper_code: str, subscription_id: str) -> list[dict[str, Any]]:
        """ADR-3: the subscription's address moves, oldest first."""
        return (await self.get(_sub(paper_code, subscription_id) + "/moves"))["moves"]

    async def move_subscriber(self, paper_code: str, subscription_id: str, effective: date, address: dict[str, str],
                              billing_method: str | None, rate_code: str | None, idempotency_key: str
                              ) -> dict[str, Any]:
        """ADR-3, ADR-4 → {transactionId, move{id, effectiveDate, address, billingMethod, rateCode, status}}."""
        body: dict[str, Any] = {"effectiveDate": effective.isoformat(), "address": address}
        if billing_method is not None:
            body["billingMethod"] = billing_method
        if rate_code is not None:
            body["rateCode"] = rate_code
        return await self.post(_sub(paper_code, subscription_id) + "/moves", body, idempotency_key=idempotency_key)

    # machinery -------------------------------------------------------------------------------------
    async def _batched(self, path: str, param: str, ids: Iterable[str]) -> list[dict[str, Any]]:
        unique = list(dict.fromkeys(ids))
        chunks = [unique[i:i + BATCH_SIZE] for i in range(0, len(unique), BATCH_SIZE)]
        return list(await asyncio.gather(*(self.get(path, {param: ",".join(chunk)}) for chunk in chunks)))


def _paper(paper_code: str) -> str:
    return f"/api/v1/papers/{quote(paper_code, safe='')}"


def _sub(paper_code: str, subscription_id: str) -> str:
    return f"{_paper(paper_code)}/subscriptions/{quote(subscription_id, safe='')}"


def _money(value: Any) -> Any:
    """Decimal for every money field of an upstream answer, however deeply nested: converted in place (the
    answer was just decoded and belongs to the caller), walking only containers."""
    containers = (dict, list)
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is dict:
            for key, field in item.items():
                kind = type(field)
                if kind is str:
                    if key in MONEY_FIELDS:
                        item[key] = Decimal(field)
                elif kind in containers:
                    stack.append(field)
        elif type(item) is list:
            stack.extend(field for field in item if type(field) in containers)
    return value
