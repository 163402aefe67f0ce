"""The soak test: `python -m bench soak --minutes 3`.

Production's shape on one machine, for minutes, with the upstreams misbehaving the whole time, then a check that
no money went astray. It:

1. creates a PostgreSQL database (`--database`, dropped at the end), starts the three emulators in processes of
   their own on loopback and seeds them and the database with `sandbox.demo` at `--scale`;
2. injects faults into every emulator's API (`fault_rules`): per call, with `--fault-rate` as the unit, a 503
   before any work, a dropped connection before any work, a POST whose work is done and whose answer is lost
   (`after` + drop) or replaced by a 502 (`after` + 502), a hang past the upstream timeout, 1.5 s of latency, and
   the circulation system refusing a payment, restart or tip for good (422, so a charge must be given back), on
   top of `--latency-ms` on every call; and 8 % of the cards the clients attach are declined at the sale;
3. starts two papergraph processes (`papergraph run`: production settings, remote upstreams, PostgreSQL) and
   `papergraph reconcile --every 20` beside them;
4. drives them for the duration from `--clients` concurrent clients, alternating servers: the subscriber dashboard,
   the catalog, a staff search and payment quotes, and the money flows (makePayment, restartSubscription, addTip,
   attaching a card through a hosted session first where the subscription has none) with a fresh idempotency key
   per attempt. A mutation without a definite answer (no response, a 5xx) is retried with the same key, as a
   client must; some answered ones are sent again with their key on purpose, and some are sent twice at once to
   both servers, and must answer the same payment;
5. every `--restart-every` seconds sends SIGTERM to the second server (drain `--drain-seconds`, shorter than the
   slowest payments, so some are cut mid-flight) and starts it again on the same port;
6. samples each server's RSS every 5 s;
7. at the end stops the load, clears the faults (the incident is over), runs `papergraph reconcile --stale-after
   0` until nothing is left unfinished (at most 3 runs), and checks:
   - every attempt in papergraph's ledger is final (APPLIED, VOIDED, REFUNDED, DECLINED, FAILED), and no
     idempotency key of a payment is still in progress;
   - every sale at NavigaPay belongs to one attempt (by papergraph's reference) and agrees with it: captured ⇔
     APPLIED and applied exactly once in the circulation system for the amount charged; voided or refunded ⇔
     VOIDED or REFUNDED and never applied; declined ⇔ DECLINED;
   - every application in the circulation system belongs to one APPLIED attempt, and has its captured sale when
     it carries one;
   - no request hung (`--hang-seconds`) and none took longer than the request's budget plus the give-back steps
     that run outside it (`latency_bound`);
   - the first server, never restarted, grew by at most `--rss-growth-mb` between the end of the warm-up and
     the end;
   and prints a report (and writes it as JSON and Markdown under bench/results/, ignored by git). Exit status 1 on
   any disagreement or failed check.

All traffic stays on 127.0.0.1; every process it starts is stopped on the way out.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.runner import (
    RESULTS_DIR, ROOT, Processes, drop_database, free_port, mint_tokens, prepare_database, seed, start_emulators,
    wait_http,
)
from bench.scenarios import CATALOG, DASHBOARD, STAFF_SEARCH, TENANT, scenarios
from domain.ledger import FINAL_STATES

AUDIENCE = "https://api.papergraph.dev"
FINAL = {state.value for state in FINAL_STATES}
REQUEST_TIMEOUT = 10.0  # PAPERGRAPH_REQUEST_TIMEOUT of the servers under test
UPSTREAM_TIMEOUT = 3.0  # PAPERGRAPH_UPSTREAM_TIMEOUT
IDEMPOTENCY_WAIT = 10.0  # PAPERGRAPH_IDEMPOTENCY_WAIT_SECONDS
RSS_INTERVAL = 5.0
CARD = {"cardNumber": "4242424242424242", "expiry": "12/30", "cvv": "123", "cardholderName": "Soak Tester"}
DECLINED_CARD = "4000000000000002"  # NavigaPay's test card that every sale declines
DECLINED_SHARE = 0.08  # of the cards attached during the soak
GATEWAY_DIRECT = "navigapay:"  # operations the clients send NavigaPay themselves (the hosted form's part)


def latency_bound() -> float:
    """The longest a request may take: its budget, then a give-back (void, or refund after a settled void:
    `outside_request_budget`, each call its own upstream timeout), or a duplicate's wait for the first request's
    answer, whichever is longer; plus a second of slack for a busy machine."""
    return max(REQUEST_TIMEOUT + 2 * UPSTREAM_TIMEOUT, IDEMPOTENCY_WAIT + REQUEST_TIMEOUT) + 1.0


def fault_rules(rate: float) -> list[dict[str, Any]]:
    """What every emulator's API does wrong during the soak (sandbox/faults.py; the first matching rule applies,
    each with its probability per call). Admin routes and Auth0's JWKS and token endpoints are left alone."""
    api = "^/api/"
    return [
        {"path": api, "status": 503, "probability": rate},  # refused before any work
        {"path": api, "drop": True, "probability": rate / 2},  # connection dropped before any work
        {"method": "POST", "path": api, "drop": True, "after": True, "probability": rate},  # done, answer lost
        {"method": "POST", "path": api, "status": 502, "after": True, "probability": rate / 2},  # done, error answered
        {"path": api, "timeout": True, "probability": rate / 4},  # hangs past the upstream timeout
        {"path": api, "latency_ms": 1500, "probability": rate},  # slow
        # the circulation system refusing a charged payment for good: papergraph must give the money back
        {"method": "POST", "path": "/subscriptions/[^/]+/(payments|restart|tips)$", "status": 422,
         "body": {"code": "INVALID_REQUEST", "message": "injected refusal"}, "probability": rate / 2},
    ]


# -- the documents the clients send -----------------------------------------------------------------------
RESULT = "payment { id state total { amount } gatewayTransactionId } userErrors { code field message }"
QUOTE = """query SoakQuote($id: ID!, $input: PaymentQuoteInput!) {
  paymentQuote(subscriptionId: $id, input: $input) { quote { total { amount } paymentType paymentRequired }
                                                     userErrors { code } } }"""
MUTATIONS = {
    "makePayment": "mutation SoakPay($input: MakePaymentInput!) { makePayment(input: $input) { %s } }" % RESULT,
    "restartSubscription": ("mutation SoakRestart($input: RestartSubscriptionInput!) { restartSubscription(input: "
                            "$input) { %s } }" % RESULT),
    "addTip": "mutation SoakTip($input: AddTipInput!) { addTip(input: $input) { %s } }" % RESULT,
}
START_SESSION = """mutation SoakStartSession($input: StartPaymentSessionInput!) {
  startPaymentSession(input: $input) { session { sessionId groupId } userErrors { code } } }"""
COMPLETE_SESSION = """mutation SoakCompleteSession($input: CompletePaymentSessionInput!) {
  completePaymentSession(input: $input) { paymentMethod { type } userErrors { code } } }"""


# -- what the clients pay -------------------------------------------------------------------------------------
@dataclass
class Pools:
    """Subscriptions of the soak's tenant for each money flow, each taken once: a subscription accepts one
    payment a day (PM-5), so a second attempt would only measure that refusal. `option` is its first billing
    option; `method` the type of its payment method, None when a card must be attached first."""

    pay: deque = field(default_factory=deque)
    tip: deque = field(default_factory=deque)
    restart: deque = field(default_factory=deque)
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    methods: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def from_demo(cls, scale: int, rng: random.Random) -> "Pools":
        from sandbox.demo import generate

        data = generate(scale)
        methods = {m["subscription_id"]: m["type"] for m in data.payment_methods if m["tenant"] == TENANT}
        pools = cls(methods=methods)
        for record in data.subscriptions_of(TENANT):
            if record["kind"] != "REGULAR" or not record["billingOptions"]:
                continue
            sid, status = record["id"], record["status"]
            pools.options[sid] = record["billingOptions"][0]
            if status == "STOPPED" and not record["restartScheduled"]:
                pools.restart.append(sid)
            elif status in ("ACTIVE", "PAUSED", "IN_GRACE") and not record["digital"] and methods.get(sid) == "CREDIT_CARD":
                pools.tip.append(sid)  # TIP-1: a one-time tip, print subscriptions only
            elif status == "ACTIVE":
                pools.pay.append(sid)
        for pool in (pools.pay, pools.tip, pools.restart):
            rng.shuffle(pool)
        return pools


@dataclass
class Record:
    operation: str
    outcome: str
    seconds: float


def outcome_of(status: int | None, body: Any, error: Exception | None = None) -> str:
    """`ok`, `user:<CODE>` (a mutation's or quote's first user error), `partial:<CODE>` (data and errors),
    `error:<CODE>` (errors, no data), `http:<status>` (no GraphQL answer), or `transport:<error>`."""
    if error is not None:
        return f"transport:{type(error).__name__}"
    if not isinstance(body, dict) or ("data" not in body and "errors" not in body):
        return f"http:{status}"
    errors = body.get("errors") or []
    code = (errors[0].get("extensions") or {}).get("code", "UNKNOWN") if errors else None
    if body.get("data") is None:
        return f"error:{code}"
    payload = next(iter(body["data"].values()), None)
    if isinstance(payload, dict) and payload.get("userErrors"):
        return f"user:{payload['userErrors'][0]['code']}"
    return f"partial:{code}" if code else "ok"


def payload_of(body: Any) -> dict[str, Any] | None:
    data = body.get("data") if isinstance(body, dict) else None
    return next(iter(data.values()), None) if data else None


class Load:
    """The clients: each loops until the deadline over a weighted mix of operations."""

    MIX = (("dashboard", 30), ("catalog", 12), ("staff_search", 5), ("quote", 8), ("makePayment", 25),
           ("restartSubscription", 10), ("addTip", 10))

    def __init__(self, servers: list[str], navigapay: str, tokens: dict[str, str], crids: tuple[str, ...],
                 pools: Pools, rng: random.Random, hang_seconds: float) -> None:
        self.servers = servers
        self.navigapay = navigapay
        self.tokens = tokens
        self.crids = crids
        self.pools = pools
        self.rng = rng
        self.hang_seconds = hang_seconds
        self.records: list[Record] = []
        self.counts: Counter = Counter()  # retries, replays, duplicates and their mismatches
        self.mismatches: list[str] = []
        self.turn = 0
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(hang_seconds, connect=5.0),
                                        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50))

    def next_server(self) -> str:
        self.turn += 1
        return self.servers[self.turn % len(self.servers)]

    async def post(self, operation: str, query: str, variables: dict[str, Any], token: str | None,
                   server: str | None = None) -> tuple[str, Any]:
        headers = {"x-tenant": TENANT, **({"authorization": f"Bearer {token}"} if token else {})}
        started = time.monotonic()
        status, body, error = None, None, None
        try:
            response = await self.client.post((server or self.next_server()) + "/graphql", headers=headers,
                                              json={"query": query, "variables": variables})
            status = response.status_code
            try:
                body = response.json()
            except ValueError:
                body = None
        except httpx.HTTPError as caught:
            error = caught
        seconds = time.monotonic() - started
        outcome = "hung" if isinstance(error, httpx.TimeoutException) else outcome_of(status, body, error)
        self.records.append(Record(operation, outcome, seconds))
        return outcome, body

    async def run(self, deadline: float) -> None:
        names, weights = zip(*self.MIX)
        while time.monotonic() < deadline:
            operation = self.rng.choices(names, weights)[0]
            await getattr(self, f"op_{operation}")()

    # reads ------------------------------------------------------------------------------------------------
    async def op_dashboard(self) -> None:
        crid = self.rng.choice(self.crids)
        await self.post("dashboard", DASHBOARD, {"crid": crid}, self.tokens[crid])

    async def op_catalog(self) -> None:
        await self.post("catalog", CATALOG, {"first": 20}, None)

    async def op_staff_search(self) -> None:
        await self.post("staff_search", STAFF_SEARCH, {"search": {"lastName": self.rng.choice(
            ["Garcia", "Patel", "Ito", "Brown"])}, "first": 20}, self.tokens["staff"])

    async def op_quote(self) -> None:
        sid = self.rng.choice(list(self.pools.options))
        option = self.pools.options[sid]
        await self.quote(sid, {"makePayment": {"optionTerm": option["term"], "optionAmount": option["amount"],
                                               "paymentType": "CREDIT_CARD"}})

    async def quote(self, sid: str, flow: dict[str, Any]) -> dict[str, Any] | None:
        _, body = await self.post("paymentQuote", QUOTE, {"id": sid, "input": flow}, self.tokens["staff"])
        payload = payload_of(body)
        return payload["quote"] if payload and not payload["userErrors"] else None

    # money --------------------------------------------------------------------------------------------------
    async def attach_card(self, sid: str) -> bool:
        """GW-1 as a browser does it: a hosted session, the card into NavigaPay (its JSON twin of the hosted form),
        then completePaymentSession with what the page would post back."""
        staff = self.tokens["staff"]
        _, body = await self.post("startPaymentSession", START_SESSION,
                                  {"input": {"subscriptionId": sid, "paymentType": "CREDIT_CARD"}}, staff)
        session = (payload_of(body) or {}).get("session")
        if not session:
            return False
        card_number = DECLINED_CARD if self.rng.random() < DECLINED_SHARE else CARD["cardNumber"]
        started = time.monotonic()
        try:
            # the browser's own call to the gateway (faults included), not papergraph's: a page would give up too
            answer = await self.client.post(f"{self.navigapay}/api/v1/sessions/{session['sessionId']}/tokenize",
                                            json={**CARD, "cardNumber": card_number}, timeout=UPSTREAM_TIMEOUT * 2)
            token = answer.json() if answer.status_code == 201 else None
            outcome = "ok" if token else f"http:{answer.status_code}"
        except (httpx.HTTPError, ValueError) as error:
            token, outcome = None, f"transport:{type(error).__name__}"
        self.records.append(Record(GATEWAY_DIRECT + "tokenize", outcome, time.monotonic() - started))
        if not token:
            return False
        _, body = await self.post("completePaymentSession", COMPLETE_SESSION, {"input": {
            "subscriptionId": sid, "sessionId": session["sessionId"], "profileId": token["profileId"],
            "groupId": token["groupId"], "paymentType": "CREDIT_CARD"}}, staff)
        return bool((payload_of(body) or {}).get("paymentMethod"))

    async def op_makePayment(self) -> None:
        if not self.pools.pay:
            return await self.op_quote()
        sid = self.pools.pay.popleft()
        payment_type = self.pools.methods.get(sid)
        if payment_type is None:
            if not await self.attach_card(sid):
                return
            payment_type = "CREDIT_CARD"
        option = self.pools.options[sid]
        flow = {"optionTerm": option["term"], "optionAmount": option["amount"], "paymentType": payment_type}
        quote = await self.quote(sid, {"makePayment": flow})
        if quote:
            await self.money("makePayment", {**flow, "subscriptionId": sid, "total": quote["total"]["amount"]})

    async def op_restartSubscription(self) -> None:
        if not self.pools.restart:
            return await self.op_quote()
        sid = self.pools.restart.popleft()
        option = self.pools.options[sid]
        flow = {"optionTerm": option["term"], "optionAmount": option["amount"], "paymentType": "CREDIT_CARD"}
        quote = await self.quote(sid, {"restart": flow})
        if not quote:
            return
        if quote["paymentRequired"] and self.pools.methods.get(sid) is None and not await self.attach_card(sid):
            return
        if not quote["paymentRequired"]:  # RST-4: the credit covers it, nothing is charged
            flow.pop("paymentType")
        await self.money("restartSubscription", {**flow, "subscriptionId": sid, "total": quote["total"]["amount"]})

    async def op_addTip(self) -> None:
        if not self.pools.tip:
            return await self.op_quote()
        sid = self.pools.tip.popleft()
        flow = {"amount": "2.00", "recurring": False, "paymentType": "CREDIT_CARD"}
        quote = await self.quote(sid, {"addTip": flow})
        if quote:
            await self.money("addTip", {**flow, "subscriptionId": sid, "total": quote["total"]["amount"]})

    async def money(self, operation: str, input: dict[str, Any]) -> None:
        """One attempt, exactly as a careful client sends it: a fresh key; no definite answer → the same request
        again (at most 3 more times, on the other server); sometimes the answered request again on purpose, or
        twice at once to both servers, each of which must answer the same payment."""
        input = {**input, "idempotencyKey": f"soak-{uuid.uuid4().hex}"}
        document, variables, staff = MUTATIONS[operation], {"input": input}, self.tokens["staff"]
        if self.rng.random() < 0.05:
            self.counts["concurrent duplicates"] += 1
            answers = await asyncio.gather(*(self.post(operation, document, variables, staff, server)
                                             for server in self.servers))
            self.compare(operation, input, [payload_of(body) for _, body in answers])
            return
        outcome, body = await self.post(operation, document, variables, staff)
        for _ in range(3):
            if payload_of(body) is not None:
                break
            self.counts["retries with the same key"] += 1
            await asyncio.sleep(0.5)
            outcome, body = await self.post(operation, document, variables, staff)
        first = payload_of(body)
        if first is not None and self.rng.random() < 0.15:
            self.counts["replays on purpose"] += 1
            _, again = await self.post(operation, document, variables, staff)
            self.compare(operation, input, [first, payload_of(again)])

    def compare(self, operation: str, input: dict[str, Any], payloads: list[dict[str, Any] | None]) -> None:
        """Answers to one key name one payment (its state may have moved on between them, e.g. PENDING → APPLIED);
        a refusal before any attempt (no payment) answers the same codes."""
        answered = [p for p in payloads if p is not None]
        ids = {(p["payment"] or {}).get("id") for p in answered}
        codes = {tuple(e["code"] for e in p["userErrors"]) for p in answered if p["payment"] is None}
        if len(ids) > 1 or len(codes) > 1:
            self.counts["same-key mismatches"] += 1
            self.mismatches.append(f"{operation} {input['idempotencyKey']}: {answered}")


# -- the servers and their memory -------------------------------------------------------------------------------
@dataclass
class Server:
    slot: str
    port: int
    env: dict[str, str]
    incarnation: int = 0
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def name(self) -> str:
        return f"papergraph-{self.slot}-{self.incarnation}"

    def start(self, processes: Processes) -> None:
        self.incarnation += 1
        self.process = processes.start(self.name, [sys.executable, "-m", "cli", "run"], env=self.env)
        wait_http(self.url + "/ping", self.process, f"papergraph {self.slot}", processes, self.name)

    def rss_mb(self) -> float | None:
        try:
            return psutil.Process(self.process.pid).memory_info().rss / 2**20
        except (psutil.NoSuchProcess, AttributeError):
            return None


async def sample_rss(servers: list[Server], samples: list[tuple[float, str, int, float]], started: float,
                     stop: asyncio.Event) -> None:
    while not stop.is_set():
        for server in servers:
            rss = server.rss_mb()
            if rss is not None:
                samples.append((round(time.monotonic() - started, 1), server.slot, server.incarnation, round(rss, 1)))
        try:
            await asyncio.wait_for(stop.wait(), RSS_INTERVAL)
        except TimeoutError:
            pass


async def restart_periodically(server: Server, processes: Processes, every: float, deadline: float,
                               restarts: list[dict[str, Any]]) -> None:
    """SIGTERM (a deploy) every `every` seconds, with payments in flight; then the same server again."""
    while time.monotonic() + every < deadline:
        await asyncio.sleep(every)
        began = time.monotonic()
        await asyncio.to_thread(processes.stop, server.name)
        code = server.process.returncode
        await asyncio.to_thread(server.start, processes)
        restarts.append({"incarnation": server.incarnation - 1, "exit": code,
                         "down_s": round(time.monotonic() - began, 1)})


# -- the checks -----------------------------------------------------------------------------------------------
def check_ledgers(rows: list[dict[str, Any]], sales: list[dict[str, Any]], applications: list[dict[str, Any]],
                  keys_in_progress: int) -> tuple[list[str], dict[str, Any]]:
    """PAY-4 across the three ledgers: papergraph's attempts (`rows`: id, flow, state, total, gateway and
    circulation transaction ids, reference, last_error), NavigaPay's sales and the circulation system's
    applications. Returns the problems found (none when they agree) and the counts."""
    problems: list[str] = []
    for row in rows:
        if row["state"] not in FINAL:
            problems.append(f"payment {row['id']} is still {row['state']}: {row['last_error']}")
    if keys_in_progress:
        problems.append(f"{keys_in_progress} idempotency keys of payments are still in progress")
    by_reference: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for sale in sales:
        by_reference[sale["reference"]].append(sale)
    rows_by_reference = {row["reference"]: row for row in rows if row["reference"]}
    applied_by_sale: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in applications:
        if entry.get("gatewayTransactionId"):
            applied_by_sale[entry["gatewayTransactionId"]].append(entry)
    expected = {"captured": "APPLIED", "voided": "VOIDED", "refunded": "REFUNDED", "declined": "DECLINED"}
    for reference, found in by_reference.items():
        row = rows_by_reference.get(reference)
        if row is None:
            problems.append(f"sales papergraph does not know: {[s['transactionId'] for s in found]}")
            continue
        charged = [s for s in found if s["state"] in ("captured", "partially_refunded")]
        if len(charged) > 1:
            problems.append(f"payment {row['id']} charged {len(charged)} times")
        for sale in found:
            uses = applied_by_sale.get(sale["transactionId"], [])
            if expected.get(sale["state"]) != row["state"] or (
                    sale["state"] != "declined" and row["gateway_transaction_id"] != sale["transactionId"]):
                problems.append(f"payment {row['id']} is {row['state']} but its sale {sale['transactionId']} is "
                                f"{sale['state']}")
            if sale["state"] == "captured":
                if len(uses) != 1:
                    problems.append(f"sale {sale['transactionId']} applied {len(uses)} times")
                if Decimal(sale["amount"]) != row["total"]:
                    problems.append(f"sale {sale['transactionId']} charged {sale['amount']}, payment {row['id']} "
                                    f"says {row['total']}")
            elif uses:
                problems.append(f"sale {sale['transactionId']} is {sale['state']} and applied all the same")
    sale_ids = {sale["transactionId"]: sale for sale in sales}
    applied_rows = {row["circulation_transaction_id"]: row for row in rows
                    if row["state"] == "APPLIED" and row["circulation_transaction_id"]}
    for entry in applications:
        gateway_id = entry.get("gatewayTransactionId")
        if gateway_id and sale_ids.get(gateway_id, {}).get("state") != "captured":
            problems.append(f"circulation {entry['transactionId']} applied without a kept charge ({gateway_id})")
        if entry["transactionId"] not in applied_rows:
            problems.append(f"circulation {entry['transactionId']} ({entry['operation']} {entry['subscriptionId']}) "
                            "belongs to no APPLIED payment")
    for row in applied_rows.values():
        if row["total"] > 0 and row["gateway_transaction_id"] not in sale_ids:
            problems.append(f"payment {row['id']} is APPLIED for {row['total']} without a sale")
    counts = {
        "payments": dict(Counter(f"{row['flow']} {row['state']}" for row in rows)),
        "payments_by_state": dict(Counter(row["state"] for row in rows)),
        "sales": dict(Counter(sale["state"] for sale in sales)),
        "applications": dict(Counter(entry["operation"] for entry in applications)),
    }
    return problems, counts


async def read_papergraph_ledger(database_url: str) -> tuple[list[dict[str, Any]], int]:
    import asyncpg

    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        rows = await connection.fetch(
            "SELECT p.id, p.flow, p.state, p.total, p.gateway_transaction_id, p.circulation_transaction_id, "
            "p.last_error, p.plan::json->>'reference' AS reference FROM payment p JOIN tenant t ON t.id = "
            "p.tenant_id WHERE t.code = $1 ORDER BY p.id", TENANT)
        in_progress = await connection.fetchval(
            "SELECT count(*) FROM idempotency_record WHERE state = 'IN_PROGRESS' AND operation = ANY($1::text[])",
            ["makePayment", "restartSubscription", "signUpAutoPay", "updateAutoPay", "addTip"])
    finally:
        await connection.close()
    return [dict(row) for row in rows], in_progress


def read_upstream_ledgers(emulators: dict[str, str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    with httpx.Client(timeout=60) as client:
        gateway = client.get(emulators["navigapay"] + "/_sandbox/ledger", params={"merchant": TENANT}).json()
        circulation = client.get(emulators["circulation"] + "/_sandbox/ledger", params={"paperCode": TENANT}).json()
    sales = [entry for entry in gateway["entries"] if entry["kind"] == "SALE"]
    applications = [entry for entry in circulation["entries"]
                    if entry["operation"] in ("PAYMENT", "RESTART", "TIP", "AUTOPAY_SIGNUP")]
    return sales, applications


# -- the run ----------------------------------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summarize_rss(samples: list[tuple[float, str, int, float]], warmup: float) -> dict[str, dict[str, float]]:
    """Per server incarnation: RSS MB at its first sample after the warm-up (or its first), at the end, and max."""
    runs: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for at, slot, incarnation, rss in samples:
        runs[f"{slot}#{incarnation}"].append((at, rss))
    summary = {}
    for name, points in runs.items():
        warm = next((rss for at, rss in points if at >= warmup), points[0][1])
        summary[name] = {"first": points[0][1], "after_warmup": warm, "end": points[-1][1],
                         "max": max(rss for _, rss in points), "samples": len(points)}
    return summary


def run(args) -> dict[str, Any]:
    rng = random.Random(args.seed)
    duration = args.seconds if args.seconds else args.minutes * 60
    started_at = datetime.now(timezone.utc)
    work = Path(tempfile.mkdtemp(prefix="papergraph-soak-"))
    processes = Processes(work)
    previous_sigterm = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    report: dict[str, Any] = {"started_at": started_at.isoformat(timespec="seconds"), "logs": str(work)}
    try:
        database_url = prepare_database(args.database)
        emulators = start_emulators(processes, args.latency_ms)
        seeded = seed(database_url, args.scale, emulators)
        print(f"soak: seeded scale {args.scale} in {seeded['total_s']} s", file=sys.stderr)
        env = {
            **os.environ, "PAPERGRAPH_ENVIRONMENT": "production", "PAPERGRAPH_UPSTREAMS": "remote",
            "DATABASE_URL": database_url, "PAPERGRAPH_SEED_DEMO_DATA": "false",
            "PAPERGRAPH_CIRCULATION_BASE_URL": emulators["circulation"],
            "PAPERGRAPH_AUTH0_BASE_URL": emulators["auth0"], "PAPERGRAPH_NAVIGAPAY_BASE_URL": emulators["navigapay"],
            "PAPERGRAPH_SECRET_KEY": secrets.token_urlsafe(32), "PAPERGRAPH_AUTH0_CLIENT_SECRET": secrets.token_urlsafe(32),
            "PAPERGRAPH_NAVIGAPAY_API_KEY": secrets.token_urlsafe(32), "PAPERGRAPH_LOG_LEVEL": "WARNING",
            "PAPERGRAPH_REQUEST_TIMEOUT": str(REQUEST_TIMEOUT), "PAPERGRAPH_UPSTREAM_TIMEOUT": str(UPSTREAM_TIMEOUT),
            "PAPERGRAPH_IDEMPOTENCY_WAIT_SECONDS": str(IDEMPOTENCY_WAIT),
            "PAPERGRAPH_SHUTDOWN_TIMEOUT": str(args.drain_seconds), "PAPERGRAPH_DATABASE_POOL_SIZE": "10",
            "PAPERGRAPH_RECONCILE_STALE_AFTER_SECONDS": "30",
            # a few clients from one address at full speed: a budget sized for one real client would throttle them
            "PAPERGRAPH_COST_BUDGET_MAXIMUM": "100000000", "PAPERGRAPH_COST_BUDGET_RESTORE_RATE": "10000000",
        }
        servers = [Server(slot, free_port(), {}) for slot in ("a", "b")]
        for server in servers:
            server.env = {**env, "PAPERGRAPH_PORT": str(server.port)}
            server.start(processes)
        processes.start("reconcile-every", [sys.executable, "-m", "cli", "reconcile", "--every", "20"], env=env)
        with httpx.Client(timeout=30) as client:
            for url in emulators.values():
                client.post(url + "/_sandbox/faults", json={"rules": fault_rules(args.fault_rate)}).raise_for_status()
        candidates = [s for s in scenarios(args.scale) if s.name in ("dashboard", "staff_search")]
        tokens = mint_tokens(emulators["auth0"], AUDIENCE, candidates)
        crids = next(s for s in candidates if s.name == "dashboard").crids[:200]
        pools = Pools.from_demo(args.scale, rng)
        report["pools"] = {"makePayment": len(pools.pay), "addTip": len(pools.tip), "restartSubscription": len(pools.restart)}

        print(f"soak: {duration:.0f} s, {args.clients} clients on 2 servers, fault rate {args.fault_rate}", file=sys.stderr)
        load = Load([s.url for s in servers], emulators["navigapay"], tokens, crids, pools, rng, args.hang_seconds)
        samples: list[tuple[float, str, int, float]] = []
        restarts: list[dict[str, Any]] = []

        async def drive() -> float:
            begun = time.monotonic()
            deadline = begun + duration
            stop = asyncio.Event()
            sampler = asyncio.create_task(sample_rss(servers, samples, begun, stop))
            restarter = asyncio.create_task(restart_periodically(servers[1], processes, args.restart_every, deadline,
                                                                 restarts)) if args.restart_every else None
            await asyncio.gather(*(load.run(deadline) for _ in range(args.clients)))
            elapsed = time.monotonic() - begun
            if restarter:
                await restarter
            stop.set()
            await sampler
            await load.client.aclose()
            return elapsed

        elapsed = asyncio.run(drive())
        processes.stop("reconcile-every")
        during = reconcile_reports((work / "reconcile-every.log").read_text(errors="replace"))

        # the incident is over: what is left is reconciliation's to finish
        with httpx.Client(timeout=30) as client:
            for url in emulators.values():
                client.delete(url + "/_sandbox/faults").raise_for_status()
        final_lines = []
        for _ in range(3):
            completed = subprocess.run([sys.executable, "-m", "cli", "reconcile", "--stale-after", "0"], cwd=ROOT,
                                       env=env, capture_output=True, text=True, timeout=300)
            final_lines.append(" | ".join(reconcile_reports(completed.stdout)) or completed.stderr.strip()[-500:])
            if completed.returncode == 0 and "still unfinished 0" in completed.stdout:
                break
        rows, in_progress = asyncio.run(read_papergraph_ledger(database_url))
        sales, applications = read_upstream_ledgers(emulators)
        problems, counts = check_ledgers(rows, sales, applications, in_progress)

        latencies = [r.seconds for r in load.records if not r.operation.startswith(GATEWAY_DIRECT)]
        by_operation: dict[str, dict[str, Any]] = {}
        for operation in sorted({r.operation for r in load.records}):
            mine = [r for r in load.records if r.operation == operation]
            seconds = [r.seconds for r in mine]
            by_operation[operation] = {
                "requests": len(mine), "outcomes": dict(Counter(r.outcome for r in mine).most_common()),
                "p50_ms": round(1000 * percentile(seconds, 0.5), 1), "p99_ms": round(1000 * percentile(seconds, 0.99), 1),
                "max_ms": round(1000 * max(seconds), 1)}
        served = [r for r in load.records if not r.operation.startswith(GATEWAY_DIRECT)]  # papergraph's answers
        hung = sum(1 for r in served if r.outcome == "hung")
        bound = latency_bound()
        slow = sorted((r for r in served if r.seconds > bound), key=lambda r: -r.seconds)
        warmup = min(30.0, duration / 3)
        rss = summarize_rss(samples, warmup)
        witness = next((v for k, v in rss.items() if k == "a#1"), None)
        growth = round(witness["end"] - witness["after_warmup"], 1) if witness else None
        crashed = [s.slot for s in servers if s.process.poll() is not None]
        failures = list(problems)
        if hung:
            failures.append(f"{hung} requests hung (no answer in {args.hang_seconds} s)")
        if slow:
            failures.append(f"{len(slow)} requests took longer than {bound:.0f} s: "
                            f"{[(r.operation, r.outcome, round(r.seconds, 1)) for r in slow[:5]]}")
        if load.counts["same-key mismatches"]:
            failures.append(f"same-key answers differ: {load.mismatches[:3]}")
        if growth is not None and growth > args.rss_growth_mb:
            failures.append(f"server a grew {growth} MB after the warm-up (bound {args.rss_growth_mb} MB)")
        if crashed:
            failures.append(f"servers exited during the run: {crashed}")
        if not any(state == "APPLIED" for state in counts["payments_by_state"]):
            failures.append("no payment was applied: the load did not reach the money flows")
        report.update({
            "settings": {"seconds": round(duration), "clients": args.clients, "scale": args.scale,
                         "fault_rate": args.fault_rate, "latency_ms": args.latency_ms, "restart_every": args.restart_every,
                         "drain_seconds": args.drain_seconds, "request_timeout": REQUEST_TIMEOUT,
                         "upstream_timeout": UPSTREAM_TIMEOUT, "seed": args.seed, "faults": fault_rules(args.fault_rate)},
            "machine": {"nproc": os.cpu_count(), "loadavg_end": [round(x, 2) for x in os.getloadavg()]},
            "requests": {"total": len(served), "per_second": round(len(served) / elapsed, 1),
                         "outcomes": dict(Counter(r.outcome for r in served).most_common()),
                         "p50_ms": round(1000 * percentile(latencies, 0.5), 1),
                         "p99_ms": round(1000 * percentile(latencies, 0.99), 1),
                         "max_ms": round(1000 * max(latencies), 1) if latencies else 0.0,
                         "bound_s": bound, "over_bound": len(slow), "hung": hung},
            "by_operation": by_operation, "idempotency": dict(load.counts), "restarts": restarts,
            "reconcile": {"during": {"runs": len(during), "finished": _finished(during)}, "final": final_lines},
            "ledgers": counts, "problems": problems, "rss_mb": rss, "rss_growth_mb": growth,
            "failures": failures, "ok": not failures,
        })
        out_dir = Path(args.output) if args.output else RESULTS_DIR
        out_dir.mkdir(parents=True, exist_ok=True)
        stamp = started_at.strftime("%Y%m%dT%H%M%SZ")
        (out_dir / f"soak-{stamp}.json").write_text(json.dumps(report, indent=2, default=str))
        (out_dir / f"soak-{stamp}.md").write_text(markdown(report))
        report["paths"] = {"json": str(out_dir / f"soak-{stamp}.json"), "markdown": str(out_dir / f"soak-{stamp}.md")}
        return report
    finally:
        processes.stop_all()
        signal.signal(signal.SIGTERM, previous_sigterm)
        try:
            asyncio.run(drop_database(args.database))
        except Exception as error:  # noqa: BLE001 - cleanup must not hide the run's own error
            print(f"soak: could not drop {args.database}: {error}", file=sys.stderr)


def reconcile_reports(output: str) -> list[str]:
    """The report lines of `papergraph reconcile`'s log (JSON lines, or text with PAPERGRAPH_LOG_FORMAT=text)."""
    reports = []
    for line in output.splitlines():
        try:
            message = json.loads(line).get("message", "") if line.startswith("{") else line
        except ValueError:
            message = line
        found = re.search(r"reconcile: \d+ attempts examined.*", message)
        if found:
            reports.append(found.group(0))
    return reports


def _finished(lines: list[str]) -> dict[str, int]:
    """Sum the `finished: applied 2, failed 1` parts of reconcile's lines."""
    total: Counter = Counter()
    for line in lines:
        match = re.search(r"finished: (.*?); still", line)
        for part in (match.group(1).split(", ") if match and match.group(1) != "none" else []):
            state, count = part.rsplit(" ", 1)
            total[state] += int(count)
    return dict(total)


def markdown(report: dict[str, Any]) -> str:
    s, r = report["settings"], report["requests"]
    lines = [
        f"# papergraph soak — {report['started_at']}",
        "",
        f"{s['seconds']} s, {s['clients']} clients on 2 papergraph processes (PostgreSQL, remote upstreams), scale "
        f"{s['scale']}, emulator latency {s['latency_ms']} ms, fault rate {s['fault_rate']} per rule "
        f"(503, drop, lost answer after the work, 502 after the work, hang, +1.5 s; circulation 422 at half), "
        f"SIGTERM to server b every "
        f"{s['restart_every']} s with a {s['drain_seconds']} s drain; {report['machine']['nproc']} CPUs, load "
        f"average at the end {report['machine']['loadavg_end']}.",
        "",
        f"**{'PASS' if report['ok'] else 'FAIL'}**" + ("" if report["ok"] else ": " + "; ".join(report["failures"])),
        "",
        f"Requests: {r['total']:,} ({r['per_second']}/s); p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, max "
        f"{r['max_ms']} ms (bound {r['bound_s']:.0f} s: {r['over_bound']} over); hung {r['hung']}.",
        "",
        "| operation | requests | p50 ms | p99 ms | max ms | outcomes |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, o in report["by_operation"].items():
        outcomes = ", ".join(f"{k} {v}" for k, v in o["outcomes"].items())
        lines.append(f"| {name} | {o['requests']:,} | {o['p50_ms']} | {o['p99_ms']} | {o['max_ms']} | {outcomes} |")
    ledgers = report["ledgers"]
    lines += [
        "",
        f"Payments in papergraph's ledger: {_pairs(ledgers['payments_by_state'])} (by flow: {_pairs(ledgers['payments'])}).",
        f"NavigaPay sales: {_pairs(ledgers['sales'])}. Circulation applications: {_pairs(ledgers['applications'])}.",
        f"Ledgers agree: {'yes' if not report['problems'] else 'NO — ' + '; '.join(report['problems'][:10])}.",
        f"Reconciliation during the run: {report['reconcile']['during']['runs']} runs, finished "
        f"{_pairs(report['reconcile']['during']['finished']) or 'none'}; at the end: "
        + " | ".join(report["reconcile"]["final"]),
        f"Idempotency: {_pairs(report['idempotency']) or 'nothing to report'}.",
        f"Restarts of server b: {len(report['restarts'])} ({_restarts(report['restarts'])}).",
        "",
        "| server | RSS MB first | after warm-up | end | max |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, v in report["rss_mb"].items():
        lines.append(f"| {name} | {v['first']} | {v['after_warmup']} | {v['end']} | {v['max']} |")
    lines += ["", f"Growth of server a after the warm-up: {report['rss_growth_mb']} MB.", f"Logs: {report['logs']}"]
    return "\n".join(lines) + "\n"


def _pairs(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items())


def _restarts(restarts: list[dict[str, Any]]) -> str:
    return ", ".join(f"exit {x['exit']}, down {x['down_s']} s" for x in restarts)
