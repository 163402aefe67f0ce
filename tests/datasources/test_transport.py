"""The datasources over real loopback HTTP, on both transports (datasources/transport.py): the same answers,
the same headers and bodies sent, and the same classification of failures (a refused connection, a hung
upstream, a dropped connection), so the circuit breaker and retries behave alike whatever carries the bytes."""

from __future__ import annotations

import socket
import threading
import time
from decimal import Decimal

import httpx
import pytest
import uvicorn

from datasources.base import UpstreamTimeout, UpstreamUnavailable
from datasources.circulation import CirculationDataSource
from datasources.transport import AiohttpTransport
from sandbox.circulation import create_app, load_demo
from sandbox.demo import generate
from sandbox.faults import FaultRule
from tests.datasources.test_circulation import active_payable

NCS = "NCSDEMO"
SUBSCRIPTION = "NCS-0000001"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def upstream():
    """The circulation emulator served by uvicorn on a loopback port, in a thread."""
    app = create_app()
    load_demo(app.state.store, generate(1), paper_codes=[NCS])
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="off",
                                           timeout_graceful_shutdown=0.5))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield app, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture(params=["aiohttp", "httpx"])
async def client_factory(request):
    clients: list[httpx.AsyncClient] = []

    def make(base_url: str, timeout: float = 2.0) -> httpx.AsyncClient:
        transport = AiohttpTransport() if request.param == "aiohttp" else None
        client = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


async def test_reads_and_writes_round_trip(upstream, client_factory):
    app, url = upstream
    circulation = CirculationDataSource(client_factory(url), read_retries=0)

    record = await circulation.get_subscription(NCS, SUBSCRIPTION)
    many = await circulation.get_subscriptions(NCS, [SUBSCRIPTION, "NCS-0000002", "NCS-MISSING"])
    changed = await circulation.update_subscription(NCS, SUBSCRIPTION, {"name": "Kitchen paper"})

    assert record["id"] == SUBSCRIPTION and isinstance(record["balance"], Decimal)
    assert sorted(many) == [SUBSCRIPTION, "NCS-0000002"]
    assert changed["name"] == "Kitchen paper"
    assert (await circulation.get_subscription(NCS, SUBSCRIPTION))["name"] == "Kitchen paper"


async def test_json_bodies_and_idempotency_keys_reach_the_upstream(upstream, client_factory, request):
    """A payment applied twice with one key is applied once (the emulator honours the key it received) and
    the amount sent is the amount recorded."""
    app, url = upstream
    circulation = CirculationDataSource(client_factory(url), read_retries=0)
    record = active_payable(app)
    option = record["billingOptions"][0]
    body = {"optionTerm": option["term"], "amount": option["amount"], "tip": Decimal("0"), "donation": Decimal("0"),
            "paymentType": "CREDIT_CARD", "gatewayTransactionId": "gw-t", "activationFee": Decimal("0")}
    key = f"transport-{request.node.callspec.id}"

    first = await circulation.apply_payment(NCS, record["id"], body, idempotency_key=key)
    again = await circulation.apply_payment(NCS, record["id"], body, idempotency_key=key)

    assert again["transactionId"] == first["transactionId"]
    transactions = [t for t in await circulation.get_transactions(NCS, record["id"])
                    if t["transactionId"] == first["transactionId"]]
    assert len(transactions) == 1 and transactions[0]["amount"] == option["amount"]


async def test_a_refused_connection_is_unavailable(client_factory):
    circulation = CirculationDataSource(client_factory(f"http://127.0.0.1:{_free_port()}"), read_retries=0)

    with pytest.raises(UpstreamUnavailable):
        await circulation.get_subscription(NCS, SUBSCRIPTION)
    assert circulation.breaker.consecutive_failures == 1


async def test_a_hung_upstream_times_out(upstream, client_factory):
    app, url = upstream
    app.state.control.rules.append(FaultRule(method="GET", path="/subscriptions/", timeout=True, times=1))
    circulation = CirculationDataSource(client_factory(url, timeout=0.3), timeout=0.3, read_retries=0)

    with pytest.raises(UpstreamTimeout):
        await circulation.get_subscription(NCS, SUBSCRIPTION)


async def test_a_dropped_connection_is_unavailable_and_a_retry_succeeds(upstream, client_factory):
    app, url = upstream
    app.state.control.rules.append(FaultRule(method="GET", path="/subscriptions/", drop=True, times=1))
    strict = CirculationDataSource(client_factory(url), read_retries=0)
    with pytest.raises(UpstreamUnavailable):
        await strict.get_subscription(NCS, SUBSCRIPTION)

    app.state.control.rules.append(FaultRule(method="GET", path="/subscriptions/", drop=True, times=1))
    retrying = CirculationDataSource(client_factory(url), read_retries=1, backoff_base=0.001)
    assert (await retrying.get_subscription(NCS, SUBSCRIPTION))["id"] == SUBSCRIPTION
