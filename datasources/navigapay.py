"""Client of the NavigaPay payment gateway (the API of `sandbox.navigapay`).

One method per upstream endpoint, no GraphQL knowledge. Money goes out as `Decimal` (serialised as an
exact string by `RestDataSource`) and comes back as `Decimal` in `amount`, `capturedAmount`,
`refundedAmount` and each refund's `amount` (MNY-1); a float is refused before anything is sent.

Every money-moving call (authorize, capture, sale, void, refund) takes a mandatory `idempotency_key`,
sent as the `Idempotency-Key` header: NavigaPay replays the first answer for a repeated key, so the base
class may retry these POSTs after a 5xx or a dropped connection without charging twice (PAY-4 relies
on this to give money back exactly once). A decline is raised as `PaymentDeclined`, which keeps the
declined transaction's id for the caller's ledger.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any, Iterable
from urllib.parse import quote

import httpx

from datasources.base import RestDataSource, UpstreamError, UpstreamNotFound, UpstreamRejected
from datasources.transport import AiohttpClient, UpstreamResponse

PROFILE_CONCURRENCY = 10  # no batch endpoint upstream: bound the fan-out of single profile reads
MONEY_FIELDS = ("amount", "capturedAmount", "refundedAmount")


class PaymentDeclined(UpstreamRejected):
    """402: the issuer refused the charge (`upstream_code` CARD_DECLINED, INSUFFICIENT_FUNDS, …)."""

    code = "PAYMENT_DECLINED"

    @property
    def transaction_id(self) -> str | None:
        return self.body.get("transactionId") if isinstance(self.body, dict) else None


class NavigaPayDataSource(RestDataSource):
    service = "navigapay"

    def __init__(
        self,
        client: httpx.AsyncClient | AiohttpClient,
        *,
        api_key: str | None = None,
        timeout: float = 5.0,
        read_retries: int = 2,
        **kwargs: Any,
    ) -> None:
        super().__init__(client, timeout=timeout, read_retries=read_retries, **kwargs)
        self.api_key = api_key

    async def auth_headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def error_from_response(self, response: httpx.Response | UpstreamResponse) -> UpstreamError:
        error = super().error_from_response(response)
        if response.status_code == 402:
            return PaymentDeclined(self.service, error.status, error.body)
        return error

    # sessions and profiles (GW-1, PM-4) ----------------------------------------------------------------
    async def start_session(
        self,
        merchant: str,
        subscription_id: str,
        payment_type: str,
        *,
        return_url: str | None = None,
        customer_id: str | None = None,
    ) -> dict[str, Any]:
        """→ {sessionId, groupId, paymentType, iframeUrl}. Not retried: a lost answer only costs an unused
        session, and the caller starts another."""
        body = {"merchant": merchant, "subscriptionId": subscription_id, "paymentType": payment_type}
        if return_url is not None:
            body["returnUrl"] = return_url
        if customer_id is not None:
            body["customerId"] = customer_id
        return await self.post("/api/v1/sessions", body)

    async def complete_session(
        self, session_id: str, profile_id: str, group_id: str, payment_type: str
    ) -> dict[str, Any]:
        """→ the masked profile. Completing is idempotent upstream, so a key derived from the session lets
        the base class retry it safely."""
        return await self.post(
            f"/api/v1/sessions/{quote(session_id, safe='')}/complete",
            {"profileId": profile_id, "groupId": group_id, "paymentType": payment_type},
            idempotency_key=f"session-complete:{session_id}",
        )

    async def get_profile(self, profile_id: str, *, merchant: str | None = None) -> dict[str, Any] | None:
        """None when there is no such profile (or it belongs to another merchant, TEN-1)."""
        try:
            return await self.get(f"/api/v1/profiles/{quote(profile_id, safe='')}", {"merchant": merchant})
        except UpstreamNotFound:
            return None

    async def get_profiles(self, ids: Iterable[str], *, merchant: str | None = None) -> dict[str, dict[str, Any]]:
        """The bulk read a dataloader uses: single reads issued concurrently, at most PROFILE_CONCURRENCY at
        a time; missing profiles are absent from the result, other errors propagate."""
        semaphore = asyncio.Semaphore(PROFILE_CONCURRENCY)

        async def one(profile_id: str) -> dict[str, Any] | None:
            async with semaphore:
                return await self.get_profile(profile_id, merchant=merchant)

        unique = list(dict.fromkeys(ids))
        profiles = await asyncio.gather(*(one(i) for i in unique))
        return {i: p for i, p in zip(unique, profiles) if p is not None}

    # money movement (GW-2, GW-3) -----------------------------------------------------------------------
    async def authorize(
        self, profile_id: str, amount: Decimal, currency: str, statement_descriptor: str, reference: str, *,
        idempotency_key: str, merchant: str | None = None,
    ) -> dict[str, Any]:
        """→ transaction with status AUTHORIZED; raises PaymentDeclined on a decline."""
        return await self._charge("/api/v1/authorizations", profile_id, amount, currency, statement_descriptor,
                                  reference, idempotency_key, merchant)

    async def sale(
        self, profile_id: str, amount: Decimal, currency: str, statement_descriptor: str, reference: str, *,
        idempotency_key: str, merchant: str | None = None,
    ) -> dict[str, Any]:
        """Authorization and capture in one (status CAPTURED); raises PaymentDeclined on a decline."""
        return await self._charge("/api/v1/sales", profile_id, amount, currency, statement_descriptor,
                                  reference, idempotency_key, merchant)

    async def capture(
        self, transaction_id: str, amount: Decimal | None = None, *, idempotency_key: str
    ) -> dict[str, Any]:
        """Capture an authorization, in full or (with `amount`) in part."""
        body: dict[str, Any] = {"transactionId": transaction_id}
        if amount is not None:
            body["amount"] = _amount(amount)
        return _money(await self.post("/api/v1/captures", body, idempotency_key=_key(idempotency_key)))

    async def void(self, transaction_id: str, *, idempotency_key: str) -> dict[str, Any]:
        """Cancel an authorization or an unsettled capture: nothing reaches the customer's statement."""
        return _money(await self.post(f"/api/v1/transactions/{quote(transaction_id, safe='')}/void", {},
                                      idempotency_key=_key(idempotency_key)))

    async def refund(
        self, transaction_id: str, amount: Decimal | None = None, *, idempotency_key: str
    ) -> dict[str, Any]:
        """Give back all that is left of a capture, or (with `amount`) part of it."""
        body = {} if amount is None else {"amount": _amount(amount)}
        return _money(await self.post(f"/api/v1/transactions/{quote(transaction_id, safe='')}/refunds", body,
                                      idempotency_key=_key(idempotency_key)))

    # reads -------------------------------------------------------------------------------------------
    async def get_transaction(self, transaction_id: str) -> dict[str, Any] | None:
        try:
            return _money(await self.get(f"/api/v1/transactions/{quote(transaction_id, safe='')}"))
        except UpstreamNotFound:
            return None

    async def find_transactions(self, reference: str, *, merchant: str | None = None) -> list[dict[str, Any]]:
        """Transactions carrying papergraph's own reference: how reconciliation finds a sale whose answer
        was lost (crash or timeout after the gateway charged; PAY-4)."""
        result = await self.get("/api/v1/transactions", {"reference": reference, "merchant": merchant})
        return [_money(t) for t in result["transactions"]]

    async def _charge(
        self, path: str, profile_id: str, amount: Decimal, currency: str, statement_descriptor: str,
        reference: str, idempotency_key: str, merchant: str | None,
    ) -> dict[str, Any]:
        body = {"profileId": profile_id, "amount": _amount(amount), "currency": currency,
                "statementDescriptor": statement_descriptor, "reference": reference}
        if merchant is not None:
            body["merchant"] = merchant
        return _money(await self.post(path, body, idempotency_key=_key(idempotency_key)))


def _amount(value: Decimal) -> Decimal:
    # a float has already lost cents (MNY-1): refuse it here rather than charge a rounded amount
    if not isinstance(value, Decimal):
        raise TypeError(f"amount must be a Decimal, not {type(value).__name__}")
    return value


def _key(idempotency_key: str) -> str:
    if not idempotency_key:
        raise ValueError("a money-moving call needs a non-empty idempotency key")
    return idempotency_key


def _money(transaction: dict[str, Any]) -> dict[str, Any]:
    converted = {k: Decimal(v) if k in MONEY_FIELDS and v is not None else v for k, v in transaction.items()}
    if "refunds" in converted:
        converted["refunds"] = [{**r, "amount": Decimal(r["amount"])} for r in converted["refunds"]]
    return converted
