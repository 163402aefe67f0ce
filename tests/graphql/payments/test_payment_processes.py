"""Exactly once across server processes (PAY-4): two papergraph servers (uvicorn, remote upstreams) on one
PostgreSQL database, the three emulators in processes of their own on loopback, as in production.

- 20 identical makePayment requests at once, split between the two servers: one sale at NavigaPay, one
  payment applied in the circulation system, 20 identical answers.
- `papergraph reconcile`, run as a command, finishes a payment the servers left pending.
- SIGTERM to a server while its payments wait for their sales, with a drain too short for them: every attempt
  it leaves is one reconciliation finishes, and the ledgers agree.

Needs PostgreSQL (skipped without it, except under CI, where conftest refuses to run without it).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from bench.scenarios import payable_subscriptions
from domain.idempotency import upstream_key
from tests.conftest import BACKENDS, POSTGRES_ADMIN_URL, _pg_admin
from tests.support import free_port, without_cost

ROOT = Path(__file__).resolve().parents[3]
TENANT = "NCSDEMO"
AUDIENCE = "https://api.papergraph.dev"
CLAIM = "https://papergraph.dev/"
READY_SECONDS = 45

pytestmark = pytest.mark.skipif("postgresql" not in BACKENDS and not os.environ.get("CI"),
                                reason="needs PostgreSQL at 127.0.0.1:5432")

MAKE_PAYMENT = """
mutation ($input: MakePaymentInput!) {
  makePayment(input: $input) {
    payment { id state total { amount } gatewayTransactionId circulationTransactionId }
    subscription { id balance { amount } }
    event { id typeCode }
    userErrors { code field message }
  }
}
"""
QUOTE = """
query ($id: ID!, $input: PaymentQuoteInput!) { paymentQuote(subscriptionId: $id, input: $input) { quote { total { amount } } } }
"""
LEDGER = "query ($id: ID!) { subscription(id: $id) { payments { state total { amount } } } }"


@dataclass
class Stack:
    database_url: str
    emulators: dict[str, str]
    servers: list[str]
    token: str
    env: dict[str, str]
    candidates: list[str] = field(default_factory=list)  # payable NCSDEMO subscriptions with a card


def start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)  # its own process group: only what this test started
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def wait_ready(urls: list[str], processes: list[subprocess.Popen], logs: list[Path]) -> None:
    deadline = time.monotonic() + READY_SECONDS
    pending = list(urls)
    while pending:
        for process, log in zip(processes, logs):
            if process.poll() is not None:
                raise RuntimeError(f"{log.name} exited:\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(pending[0], timeout=1).status_code < 500:
                pending.pop(0)
                continue
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{pending[0]} did not answer in {READY_SECONDS}s")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    from cli import migrate, seed_database
    from settings import Settings

    logs_dir = tmp_path_factory.mktemp("processes")
    name = f"papergraph_pay_{uuid.uuid4().hex[:8]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    database_url = f"{base}/{name}"
    processes: list[subprocess.Popen] = []
    try:
        settings = Settings(environment="test", database_url=database_url)
        migrate(settings)
        asyncio.run(seed_database(settings, 1, only_if_empty=False))
        ports = {service: free_port() for service in ("circulation", "auth0", "navigapay")}
        emulators = {service: f"http://127.0.0.1:{port}" for service, port in ports.items()}
        logs = []
        for service, port in ports.items():  # each loads the same deterministic demo data as the database
            logs.append(logs_dir / f"{service}.log")
            processes.append(start([sys.executable, "-m", f"sandbox.{service}", "--port", str(port), "--scale", "1"],
                                   dict(os.environ), logs[-1]))
        env = {**os.environ, "PAPERGRAPH_ENVIRONMENT": "test", "PAPERGRAPH_UPSTREAMS": "remote",
               "DATABASE_URL": database_url, "PAPERGRAPH_SEED_DEMO_DATA": "false",
               "PAPERGRAPH_CIRCULATION_BASE_URL": emulators["circulation"],
               "PAPERGRAPH_AUTH0_BASE_URL": emulators["auth0"], "PAPERGRAPH_NAVIGAPAY_BASE_URL": emulators["navigapay"],
               "PAPERGRAPH_DATABASE_POOL_SIZE": "5"}
        servers = []
        for index in range(2):
            port = free_port()
            servers.append(f"http://127.0.0.1:{port}")
            logs.append(logs_dir / f"papergraph-{index}.log")
            processes.append(start([sys.executable, "-m", "uvicorn", "app:create_app", "--factory", "--host",
                                    "127.0.0.1", "--port", str(port), "--workers", "1", "--log-level", "warning"],
                                   env, logs[-1]))
        wait_ready([url + "/_sandbox/requests" for url in emulators.values()] + [url + "/ping" for url in servers],
                   processes, logs)
        access = {section: "FULL_CONTROL" for section in ("subscriptions", "registrations", "payments")}
        token = httpx.post(emulators["auth0"] + "/_sandbox/tokens", json={
            "sub": "auth0|staff-processes", "audience": AUDIENCE,
            "claims": {CLAIM + "tenant": TENANT, CLAIM + "principal": "staff", CLAIM + "access": access,
                       CLAIM + "mfa": True, "amr": ["mfa"]}}).json()["access_token"]
        yield Stack(database_url=database_url, emulators=emulators, servers=servers, token=token, env=env,
                    candidates=list(payable_subscriptions(1)))
    finally:
        for process in processes:
            stop(process)
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def headers(stack: Stack) -> dict[str, str]:
    return {"authorization": f"Bearer {stack.token}", "x-tenant": TENANT}


async def post(client: httpx.AsyncClient, url: str, stack: Stack, query: str, variables: dict) -> dict:
    response = await client.post(url + "/graphql", json={"query": query, "variables": variables},
                                 headers=headers(stack))
    assert response.status_code == 200, response.text
    return response.json()


async def total_for(client, stack: Stack, subscription_id: str) -> str:
    flow = {"makePayment": {"optionTerm": "1M", "optionAmount": "10.79", "paymentType": "CREDIT_CARD"}}
    answer = await post(client, stack.servers[0], stack, QUOTE, {"id": subscription_id, "input": flow})
    return answer["data"]["paymentQuote"]["quote"]["total"]["amount"]


def payment_input(subscription_id: str, key: str, total: str) -> dict:
    return {"subscriptionId": subscription_id, "idempotencyKey": key, "optionTerm": "1M", "optionAmount": "10.79",
            "paymentType": "CREDIT_CARD", "total": total}


async def test_pay4_twenty_identical_payments_on_two_servers_charge_once(stack):
    # given: one payable subscription, its quoted total, one idempotency key
    subscription_id = stack.candidates[0]
    async with httpx.AsyncClient(timeout=60) as client:
        total = await total_for(client, stack, subscription_id)
        variables = {"input": payment_input(subscription_id, f"concurrent-{uuid.uuid4().hex}", total)}
        # a slow sale, so the duplicates surely arrive while the first request is still charging
        await client.post(stack.emulators["navigapay"] + "/_sandbox/faults",
                          json={"rules": [{"method": "POST", "path": "/sales$", "latency_ms": 300}]})
        # when: 20 identical requests at once, alternating between the two servers
        try:
            answers = await asyncio.gather(*(post(client, stack.servers[n % 2], stack, MAKE_PAYMENT, variables)
                                             for n in range(20)))
        finally:
            await client.delete(stack.emulators["navigapay"] + "/_sandbox/faults")
        gateway = (await client.get(stack.emulators["navigapay"] + "/_sandbox/ledger",
                                    params={"merchant": TENANT})).json()["entries"]
        circulation = (await client.get(stack.emulators["circulation"] + "/_sandbox/ledger",
                                        params={"paperCode": TENANT})).json()["entries"]
    # then: one answer for all twenty (each carries its own `extensions.cost`, the caller's budget at that moment)
    answers = [without_cost(answer) for answer in answers]
    assert all(answer == answers[0] for answer in answers), [a for a in answers if a != answers[0]][:1]
    payload = answers[0]["data"]["makePayment"]
    assert payload["userErrors"] == [] and payload["payment"]["state"] == "APPLIED"
    sales = [e for e in gateway if e["kind"] == "SALE" and e["reference"].startswith("pg-ref:")]
    assert len(sales) == 1 and sales[0]["state"] == "captured" and sales[0]["amount"] == total
    applied = [e for e in circulation if e["operation"] == "PAYMENT" and e["subscriptionId"] == subscription_id]
    assert len(applied) == 1 and applied[0]["gatewayTransactionId"] == sales[0]["transactionId"]


async def test_pay4_reconcile_command_finishes_a_payment_the_servers_left_pending(stack):
    # given: the circulation system and the void fail, so the charge is left PENDING_APPLY
    subscription_id = stack.candidates[1]
    faults = [("circulation", {"method": "POST", "path": "/payments$", "status": 503}),
              ("navigapay", {"method": "POST", "path": "/void$", "status": 503})]
    async with httpx.AsyncClient(timeout=60) as client:
        for service, rule in faults:
            await client.post(stack.emulators[service] + "/_sandbox/faults", json={"rules": [rule]})
        try:
            total = await total_for(client, stack, subscription_id)
            answer = await post(client, stack.servers[1], stack, MAKE_PAYMENT,
                                {"input": payment_input(subscription_id, uuid.uuid4().hex, total)})
        finally:
            for service, _ in faults:
                await client.delete(stack.emulators[service] + "/_sandbox/faults")
        assert answer["data"]["makePayment"]["payment"]["state"] == "PENDING_APPLY"
        # when: the reconcile command, as a scheduler would run it
        completed = subprocess.run([sys.executable, "-m", "cli", "reconcile", "--stale-after", "0"], cwd=ROOT,
                                   env=stack.env, capture_output=True, text=True, timeout=60)
        ledger = await post(client, stack.servers[0], stack, LEDGER, {"id": subscription_id})
        circulation = (await client.get(stack.emulators["circulation"] + "/_sandbox/ledger",
                                        params={"paperCode": TENANT})).json()["entries"]
    # then
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "applied 1" in completed.stdout
    assert ledger["data"]["subscription"]["payments"][0]["state"] == "APPLIED"
    assert [e["subscriptionId"] for e in circulation if e["operation"] == "PAYMENT"].count(subscription_id) == 1


def captured_sales(stack: Stack, references: set[str]) -> list[dict]:
    entries = httpx.get(stack.emulators["navigapay"] + "/_sandbox/ledger", params={"merchant": TENANT}).json()["entries"]
    return [e for e in entries if e["reference"] in references and e["state"] == "captured"]


def sales_seen(stack: Stack) -> int:
    requests = httpx.get(stack.emulators["navigapay"] + "/_sandbox/requests").json()["requests"]
    return sum(1 for r in requests if r["method"] == "POST" and r["path"].endswith("/sales"))


def wait_until(condition, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds  # a bound on a hang, not a measurement
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


async def test_pay4_sigterm_with_payments_in_flight_leaves_attempts_reconciliation_finishes(stack, tmp_path):
    # given: a third server (`papergraph run`) that drains for 0.2 s at most, and four payments on it waiting for
    # their sales: two sales NavigaPay made but whose answers hang, two still held up before NavigaPay takes them
    subscription_ids = stack.candidates[2:6]
    port = free_port()
    server = start([sys.executable, "-m", "cli", "run"], {**stack.env, "PAPERGRAPH_PORT": str(port),
                                                          "PAPERGRAPH_SHUTDOWN_TIMEOUT": "0.2"}, tmp_path / "third.log")
    url = f"http://127.0.0.1:{port}"
    slow_sales = [{"method": "POST", "path": "/sales$", "after": True, "timeout": True, "times": 2},
                  {"method": "POST", "path": "/sales$", "latency_ms": 8000}]
    try:
        wait_ready([url + "/ping"], [server], [tmp_path / "third.log"])
        async with httpx.AsyncClient(timeout=60) as client:
            inputs = [payment_input(subscription_id, f"sigterm-{uuid.uuid4().hex}",
                                    await total_for(client, stack, subscription_id))
                      for subscription_id in subscription_ids]
            references = {upstream_key("pg-ref", TENANT, i["idempotencyKey"]) for i in inputs}
            seen_before = sales_seen(stack)
            await client.post(stack.emulators["navigapay"] + "/_sandbox/faults", json={"rules": slow_sales})
            try:
                in_flight = [asyncio.create_task(client.post(url + "/graphql", headers=headers(stack), json={
                    "query": MAKE_PAYMENT, "variables": {"input": payment_input}})) for payment_input in inputs]
                await asyncio.to_thread(wait_until, lambda: sales_seen(stack) - seen_before == len(inputs) and len(
                    captured_sales(stack, references)) == 2, "the four sales to reach NavigaPay, two of them made")

                # when: SIGTERM; the drain ends long before any sale answers, so the requests are cancelled
                os.killpg(server.pid, signal.SIGTERM)
                await asyncio.to_thread(server.wait, 60)
                outcomes = await asyncio.gather(*in_flight, return_exceptions=True)
            finally:
                await client.delete(stack.emulators["navigapay"] + "/_sandbox/faults")
            left = {subscription_id: (await post(client, stack.servers[0], stack, LEDGER, {"id": subscription_id})
                                      )["data"]["subscription"]["payments"] for subscription_id in subscription_ids}
            completed = subprocess.run([sys.executable, "-m", "cli", "reconcile", "--stale-after", "0"], cwd=ROOT,
                                       env=stack.env, capture_output=True, text=True, timeout=60)
            replays = [(await post(client, stack.servers[0], stack, MAKE_PAYMENT, {"input": payment_input})
                        )["data"]["makePayment"] for payment_input in inputs]
            gateway = (await client.get(stack.emulators["navigapay"] + "/_sandbox/ledger",
                                        params={"merchant": TENANT})).json()["entries"]
            circulation = (await client.get(stack.emulators["circulation"] + "/_sandbox/ledger",
                                            params={"paperCode": TENANT})).json()["entries"]
    finally:
        stop(server)

    # then: no request got its outcome from the stopped server (uvicorn answers a cancelled request 500, or the
    # connection closes), and each attempt was left recorded, unfinished
    assert all(isinstance(outcome, httpx.HTTPError) or outcome.status_code >= 500 for outcome in outcomes), outcomes
    assert {subscription_id: [p["state"] for p in payments] for subscription_id, payments in left.items()} == {
        subscription_id: ["CREATED"] for subscription_id in subscription_ids}
    # and reconciliation finished every one: the two sales made were found by reference and applied, once; the two
    # never made are failed, nothing charged
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "applied 2, failed 2" in completed.stdout and "still unfinished 0" in completed.stdout, completed.stdout
    assert sorted(replay["payment"]["state"] for replay in replays) == ["APPLIED", "APPLIED", "FAILED", "FAILED"]
    ours = [e for e in gateway if e["reference"] in references]
    for subscription_id, replay in zip(subscription_ids, replays):  # a retry with the key answers the outcome
        sale_id = replay["payment"]["gatewayTransactionId"]
        applied = [e for e in circulation if e["operation"] == "PAYMENT" and e["subscriptionId"] == subscription_id]
        if replay["payment"]["state"] == "APPLIED":
            assert replay["userErrors"] == []
            assert [e["state"] for e in ours if e["transactionId"] == sale_id] == ["captured"]
            assert len(applied) == 1 and applied[0]["gatewayTransactionId"] == sale_id
        else:
            assert [e["code"] for e in replay["userErrors"]] == ["INTERRUPTED"]
            assert sale_id is None and applied == []
    assert len(ours) == 2
