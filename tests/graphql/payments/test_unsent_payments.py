"""PAY-4 and PM-5 when the sale is certainly not sent: papergraph's own circuit breaker refuses it, or the
connection to NavigaPay is refused before anything is written. Nothing can have been charged, so the
attempt fails at once (UPSTREAM_UNAVAILABLE) and leaves the payment window free; a sale that may have
been sent (an answer lost after sending) stays pending for reconciliation, whatever happens next.
"""

from __future__ import annotations

import httpx
import pytest

from datasources.breaker import BreakerState
from sandbox.faults import FaultRule
from settings import Settings
from tests.conftest import graphql
from tests.graphql.payments.support import (
    MAKE_PAYMENT, assert_ledgers_agree, circulation_entries, codes, gateway_entries, ledger_rows, paying,
)

PAYMENT = {"optionTerm": "1M", "optionAmount": "10.79", "paymentType": "CREDIT_CARD", "total": "10.79"}


@pytest.fixture
def settings(database_url) -> Settings:
    return Settings(environment="test", database_url=database_url, upstreams="embedded", seed_demo_data=False,
                    upstream_timeout=0.5, upstream_read_retries=1, idempotency_wait_seconds=0.3)


async def make_payment(client, setup) -> dict:
    answer = await graphql(client, MAKE_PAYMENT, {"input": setup.sub(**PAYMENT)}, **setup.headers)
    assert "errors" not in answer, answer
    return answer["data"]["makePayment"]


def open_breaker(services) -> None:
    breaker = services.navigapay.breaker
    for _ in range(breaker.failure_threshold):
        breaker.failed()
    assert breaker.state is BreakerState.OPEN


def close_breaker(services) -> None:
    services.navigapay.breaker.succeeded()


async def test_pay4_pm5_a_sale_refused_by_the_open_breaker_fails_at_once_and_frees_the_window(
        api_client, own_tenant, sandboxes, services, tokens):
    # given: papergraph's breaker for NavigaPay is open, so the sale is never sent
    setup = await paying(own_tenant, sandboxes, tokens)
    open_breaker(services)

    # when
    refused = await make_payment(api_client, setup)

    # then: failed, not pending; nothing reached the gateway
    assert codes(refused) == ["UPSTREAM_UNAVAILABLE"]
    assert refused["payment"]["state"] == "FAILED" and refused["event"]["typeCode"] == "PAYMENTFAILED"
    assert gateway_entries(sandboxes, setup.tenant) == []

    # when: the breaker closes and the customer retries with a new key
    close_breaker(services)
    retried = await make_payment(api_client, setup)

    # then: PM-5's window was free: the retry is charged and applied once
    assert retried["userErrors"] == [] and retried["payment"]["state"] == "APPLIED"
    assert [row.state for row in await ledger_rows(services, setup.tenant)] == ["FAILED", "APPLIED"]
    assert len(circulation_entries(sandboxes, setup.tenant)) == 1
    await assert_ledgers_agree(services, sandboxes, setup.tenant)


async def test_pay4_pm5_a_sale_whose_connection_is_refused_fails_at_once(api_client, own_tenant, sandboxes, services,
                                                                         tokens):
    # given: NavigaPay refuses connections (nothing listens on its port): the request is never written
    setup = await paying(own_tenant, sandboxes, tokens)
    reachable = services.navigapay.client
    async with httpx.AsyncClient(base_url="http://127.0.0.1:9", timeout=0.5) as unreachable:
        services.navigapay.client = unreachable
        try:
            # when
            refused = await make_payment(api_client, setup)
        finally:
            services.navigapay.client = reachable

    # then
    assert codes(refused) == ["UPSTREAM_UNAVAILABLE"] and refused["payment"]["state"] == "FAILED"

    # and the window is free for a retry
    retried = await make_payment(api_client, setup)
    assert retried["userErrors"] == [] and retried["payment"]["state"] == "APPLIED"
    await assert_ledgers_agree(services, sandboxes, setup.tenant)


async def test_pay4_a_sale_that_may_have_been_sent_stays_pending_even_when_the_breaker_then_opens(
        api_client, own_tenant, sandboxes, services, tokens):
    # given: the sale is made and its connection dropped before the answer; that failure opens the breaker,
    # so the retry and the lookup by reference are refused without being sent
    setup = await paying(own_tenant, sandboxes, tokens)
    services.navigapay.breaker.failure_threshold = 1
    sandboxes["navigapay"].state.control.rules.append(
        FaultRule(method="POST", path="^/api/v1/sales$", after=True, drop=True))

    # when
    pending = await make_payment(api_client, setup)

    # then: the money may be taken: pending, holding the window, for reconciliation to settle
    assert codes(pending) == ["PAYMENT_PENDING"] and pending["payment"]["state"] == "CREATED"
    [sale] = gateway_entries(sandboxes, setup.tenant)
    assert sale["state"] == "captured"
    close_breaker(services)
    window = await make_payment(api_client, setup)
    assert codes(window) == ["PAYMENT_WINDOW"]


async def test_pm5_pay4_an_attempt_pending_application_holds_the_payment_window(api_client, own_tenant, sandboxes,
                                                                                 services, tokens):
    # given: a payment charged, refused by the circulation system, and not given back (the void fails): money is
    # taken and waits for reconciliation as PENDING_APPLY
    setup = await paying(own_tenant, sandboxes, tokens)
    rules = sandboxes["circulation"].state.control.rules
    rules.append(FaultRule(method="POST", path="/payments$", status=503))
    sandboxes["navigapay"].state.control.rules.append(FaultRule(method="POST", path="/void$", status=503))
    pending = await make_payment(api_client, setup)
    assert pending["payment"]["state"] == "PENDING_APPLY" and codes(pending) == ["PAYMENT_PENDING"]
    rules.clear()
    sandboxes["navigapay"].state.control.rules.clear()

    # when: another payment, with a new key, inside the 24 hours
    second = await make_payment(api_client, setup)

    # then: refused by PM-5, and nothing more charged
    assert codes(second) == ["PAYMENT_WINDOW"] and second["payment"] is None
    assert [sale["state"] for sale in gateway_entries(sandboxes, setup.tenant)] == ["captured"]
    assert [row.state for row in await ledger_rows(services, setup.tenant)] == ["PENDING_APPLY"]
