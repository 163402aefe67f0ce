"""Exactly once across server processes (PAY-4): two papergraph servers (uvicorn, remote upstreams) on one
PostgreSQL database, the three emulators in processes of their own on loopback, as in production.

- 20 identical makePayment requests at once, split between the two servers: one sale at NavigaPay, one
  payment applied in the circulation system, 20 identical answers.
- `papergraph reconcile`, run as a command, finishes a payment the servers left pending.

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
from tests.conftest import BACKENDS, POSTGRES_ADMIN_URL, _pg_admin
from tests.support import free_port

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
    # then
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
