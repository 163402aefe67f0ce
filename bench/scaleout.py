"""Scale-out behind a real load balancer: `python -m bench scaleout`.

HAProxy (Debian's package) in front of two papergraph processes (`papergraph run`: production settings, remote
upstreams) on one PostgreSQL database, health-checked on `/ready`, with the three emulators as processes of their
own on loopback. It:

1. sends `SPREAD_REQUESTS` queries through HAProxy and reads each process's own request counter
   (`/_debug/stats`): round robin must spread them over both;
2. starts payments (makePayment, each with its own idempotency key, retried with the same key when no definite
   answer comes back, as a client must) from `--clients` concurrent clients through HAProxy, and part-way through
   kills process a with SIGKILL, requests in flight and all. HAProxy's health check marks it down and sends
   everything to b; a request a was answering is cut, and its client resends it with the same key. Payments go
   on through b until `--payments` were started;
3. runs `papergraph reconcile --stale-after 0` for what a's death left unfinished (PAY-4), then checks the three
   ledgers agree (bench/soak.py's `check_ledgers`): every attempt final, every captured sale applied exactly once
   in the circulation system for its amount, nothing applied without a kept charge, nothing charged twice;
4. with `--throughput-seconds N` (and wrk), measures the subscriber dashboard through HAProxy with one process
   (b disabled on HAProxy's admin socket) and then two: the throughput of two processes against one.

`tests/deploy/test_scale_out.py` runs steps 1–3 (a few seconds of load). All traffic stays on 127.0.0.1; every
process it starts is stopped on the way out; the database is dropped. Redis (rate-limit budgets shared between
processes) is not part of this run yet: see docs/deployment.md.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.runner import (
    ROOT, Processes, drop_database, ensure_wrk, free_port, mint_tokens, prepare_database, run_wrk, seed,
    start_emulators, wait_http,
)
from bench.scenarios import scenarios
from bench.soak import AUDIENCE, Load, Pools, check_ledgers, payload_of, read_papergraph_ledger, read_upstream_ledgers

SPREAD_REQUESTS = 20
TYPENAME = "{ __typename }"
COSTED = "{ catalog(first: 5) { totalCount nodes { name } } }"  # an anonymous read with a cost above zero
BUDGET_RESTORE_RATE = 1  # cost points per second: slow enough that what two processes spend adds up visibly
HEALTH_INTERVAL_MS = 300  # HAProxy's check interval; two failures mark a server down, two successes up

HAPROXY_CONFIG = """\
global
    maxconn 2048
    stats socket {socket} mode 600 level admin

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout check 2s
    # a request whose connection was refused goes to the other server (always safe); one cut mid-request is not
    # re-sent here (not every mutation carries an idempotency key): the client resends it with its key
    retries 3
    option redispatch
    retry-on conn-failure

frontend graphql
    bind 127.0.0.1:{port}
    default_backend papergraph

backend papergraph
    balance roundrobin
    option httpchk GET /ready
    http-check expect status 200
    default-server check inter {inter}ms fall 2 rise 2
{servers}
"""


def find_haproxy() -> str | None:
    return shutil.which("haproxy") or next((p for p in ("/usr/sbin/haproxy",) if Path(p).exists()), None)


@dataclass
class Papergraph:
    slot: str
    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def served(self) -> int:
        return httpx.get(f"{self.url}/_debug/stats", timeout=5).json()["graphqlRequests"]


@dataclass
class ScaleOut:
    """Everything started: the database URL, the emulators, the two processes, HAProxy's URL and admin socket."""

    database_url: str
    emulators: dict[str, str]
    servers: list[Papergraph]
    balancer: str
    admin_socket: Path
    env: dict[str, str]
    processes: Processes
    work: Path
    report: dict[str, Any] = field(default_factory=dict)

    def admin(self, command: str) -> str:
        """One command on HAProxy's admin socket (`show stat`, `disable server papergraph/b`, ...)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(str(self.admin_socket))
            sock.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def status(self) -> dict[str, str]:
        """HAProxy's view of each server: UP, DOWN, MAINT, ..."""
        lines = self.admin("show stat").splitlines()
        header = lines[0].lstrip("# ").split(",")
        rows = [dict(zip(header, line.split(","))) for line in lines[1:] if line]
        return {row["svname"]: row["status"] for row in rows if row["pxname"] == "papergraph"
                and row["svname"] not in ("BACKEND", "FRONTEND")}

    def wait_status(self, wanted: dict[str, str], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            current = self.status()
            if all(current.get(name, "") == state for name, state in wanted.items()):  # "UP 1/2" is not UP yet
                return
            time.sleep(0.1)
        raise RuntimeError(f"HAProxy did not see {wanted} in {timeout:.0f}s: {self.status()}")


def start(*, database: str, scale: int = 1, work: Path | None = None, log_level: str = "WARNING",
          latency_ms: float = 50, redis_url: str | None = None) -> ScaleOut:
    haproxy = find_haproxy()
    if haproxy is None:
        raise RuntimeError("haproxy is not installed: `apt-get install -y haproxy` (make test does it as root)")
    work = work or Path(tempfile.mkdtemp(prefix="papergraph-scaleout-"))
    processes = Processes(work)
    try:
        database_url = prepare_database(database)
        emulators = start_emulators(processes, latency_ms)  # so that payments are in flight when a process dies
        seed(database_url, scale, emulators)
        env = {
            **os.environ, "PAPERGRAPH_ENVIRONMENT": "production", "PAPERGRAPH_UPSTREAMS": "remote",
            "DATABASE_URL": database_url, "PAPERGRAPH_SEED_DEMO_DATA": "false", "PAPERGRAPH_DEBUG_STATS": "true",
            "PAPERGRAPH_CIRCULATION_BASE_URL": emulators["circulation"],
            "PAPERGRAPH_AUTH0_BASE_URL": emulators["auth0"], "PAPERGRAPH_NAVIGAPAY_BASE_URL": emulators["navigapay"],
            "PAPERGRAPH_SECRET_KEY": secrets.token_urlsafe(32),
            "PAPERGRAPH_AUTH0_CLIENT_SECRET": secrets.token_urlsafe(32),
            "PAPERGRAPH_NAVIGAPAY_API_KEY": secrets.token_urlsafe(32), "PAPERGRAPH_LOG_LEVEL": log_level,
            "PAPERGRAPH_IDEMPOTENCY_WAIT_SECONDS": "5", "PAPERGRAPH_DATABASE_POOL_SIZE": "5",
        }
        if redis_url:  # one rate-limit and cost budget store for both processes (docs/rate-limits.md)
            env.update({"PAPERGRAPH_REDIS_URL": redis_url,
                        "PAPERGRAPH_RATE_LIMIT_KEY_PREFIX": f"scaleout-{secrets.token_hex(4)}",
                        "PAPERGRAPH_COST_BUDGET_RESTORE_RATE": str(BUDGET_RESTORE_RATE)})
        servers = [Papergraph(slot, free_port()) for slot in ("a", "b")]
        for server in servers:
            server.process = processes.start(f"papergraph-{server.slot}", [sys.executable, "-m", "cli", "run"],
                                             env={**env, "PAPERGRAPH_PORT": str(server.port)})
        for server in servers:
            wait_http(f"{server.url}/ready", server.process, f"papergraph {server.slot}", processes,
                      f"papergraph-{server.slot}")
        port, admin_socket = free_port(), work / "haproxy.sock"
        config = work / "haproxy.cfg"
        config.write_text(HAPROXY_CONFIG.format(
            socket=admin_socket, port=port, inter=HEALTH_INTERVAL_MS,
            servers="\n".join(f"    server {s.slot} 127.0.0.1:{s.port}" for s in servers)))
        balancer_process = processes.start("haproxy", [haproxy, "-db", "-f", str(config)])
        balancer = f"http://127.0.0.1:{port}"
        wait_http(f"{balancer}/ping", balancer_process, "haproxy", processes, "haproxy")
        scale_out = ScaleOut(database_url, emulators, servers, balancer, admin_socket, env, processes, work)
        scale_out.wait_status({"a": "UP", "b": "UP"})
        return scale_out
    except BaseException:
        processes.stop_all()
        raise


def stop(scale_out: ScaleOut, database: str) -> None:
    scale_out.processes.stop_all()
    try:
        asyncio.run(drop_database(database))
    except Exception as error:  # noqa: BLE001 - cleanup must not hide the run's own error
        print(f"scaleout: could not drop {database}: {error}", file=sys.stderr)


def spread(scale_out: ScaleOut, requests: int = SPREAD_REQUESTS) -> dict[str, int]:
    """Queries through HAProxy; how many each process served (its own counter)."""
    before = {s.slot: s.served() for s in scale_out.servers}
    with httpx.Client(timeout=10) as client:
        for _ in range(requests):
            client.post(f"{scale_out.balancer}/graphql", json={"query": TYPENAME}).raise_for_status()
    return {s.slot: s.served() - before[s.slot] for s in scale_out.servers}


def shared_budget(scale_out: ScaleOut, requests: int = SPREAD_REQUESTS) -> list[int]:
    """Costed queries through HAProxy from one client address (HAProxy's, which both processes see): the budget's
    `currentlyAvailable` after each answer, whichever process gave it."""
    left = []
    with httpx.Client(timeout=10) as client:
        for _ in range(requests):
            answer = client.post(f"{scale_out.balancer}/graphql", json={"query": COSTED})
            answer.raise_for_status()
            left.append(answer.json()["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"])
    return left


def kill(server: Papergraph) -> None:
    """SIGKILL: no drain, no shutdown hook; connections and requests in flight die with it."""
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=10)


def failover(scale_out: ScaleOut, *, payments: int = 24, clients: int = 4, kill_after: int = 8,
             seed_value: int = 19) -> dict[str, Any]:
    """Payments through HAProxy with process a killed (SIGKILL) once `kill_after` payments were started; then
    reconciliation and the three ledgers' check."""
    rng = random.Random(seed_value)
    candidates = [s for s in scenarios(1) if s.name in ("dashboard", "staff_search")]
    tokens = mint_tokens(scale_out.emulators["auth0"], AUDIENCE, candidates)
    crids = next(s for s in candidates if s.name == "dashboard").crids[:20]
    pools = Pools.from_demo(1, rng)
    pools.pay = type(pools.pay)(list(pools.pay)[:payments])
    load = Load([scale_out.balancer], scale_out.emulators["navigapay"], tokens, crids, pools, rng, hang_seconds=60)
    load.rng = random.Random(seed_value)  # replays on purpose and concurrent duplicates as in the soak
    victim, survivor = scale_out.servers
    started = {"count": 0}
    killed_at: dict[str, Any] = {}

    async def client() -> None:
        while pools.pay:
            started["count"] += 1
            if started["count"] == kill_after + 1 and not killed_at:
                killed_at["served_by_a"] = victim.served()
                kill(victim)
                killed_at["at_payment"] = started["count"]
            await load.op_makePayment()

    async def drive() -> None:
        await asyncio.gather(*(client() for _ in range(clients)))
        await load.client.aclose()

    survivor_before = survivor.served()
    began = time.monotonic()
    asyncio.run(drive())
    elapsed = time.monotonic() - began
    scale_out.wait_status({"a": "DOWN", "b": "UP"})
    survivor_after = survivor.served()
    reconcile = subprocess.run([sys.executable, "-m", "cli", "reconcile", "--stale-after", "0"], cwd=ROOT,
                               env=scale_out.env, capture_output=True, text=True, timeout=300)
    rows, in_progress = asyncio.run(read_papergraph_ledger(scale_out.database_url))
    sales, applications = read_upstream_ledgers(scale_out.emulators)
    problems, counts = check_ledgers(rows, sales, applications, in_progress)
    money = [r for r in load.records if r.operation == "makePayment"]
    return {
        "payments_started": started["count"], "killed": killed_at, "seconds": round(elapsed, 1),
        "served_by_b": survivor_after - survivor_before, "haproxy": scale_out.status(),
        "makePayment_outcomes": dict(Counter(r.outcome for r in money)),
        "idempotency": dict(load.counts), "mismatches": load.mismatches,
        "reconcile": reconcile.stdout.strip() or reconcile.stderr.strip()[-500:],
        "ledgers": counts, "problems": problems,
    }


def throughput(scale_out: ScaleOut, seconds: float, connections: int = 32) -> dict[str, Any]:
    """wrk on the subscriber dashboard through HAProxy: b disabled (one process), then both."""
    wrk = ensure_wrk()
    dashboard = next(s for s in scenarios(1) if s.name == "dashboard")
    tokens = mint_tokens(scale_out.emulators["auth0"], AUDIENCE, [dashboard])
    script = scale_out.work / "dashboard.lua"
    script.write_text(dashboard.lua(tokens=tokens))
    url = f"{scale_out.balancer}/graphql"
    results: dict[str, Any] = {}
    for label, disabled in (("one process", ["b"]), ("two processes", [])):
        for name in ("a", "b"):
            scale_out.admin(f"{'disable' if name in disabled else 'enable'} server papergraph/{name}")
        run_wrk(wrk, script, url, connections, 2, 2)  # warm-up
        measured = run_wrk(wrk, script, url, connections, seconds, 2)
        seconds_measured = measured["duration_us"] / 1e6
        results[label] = {
            "requests": measured["requests"], "rps": round(measured["requests"] / seconds_measured, 1),
            "p50_ms": round(measured["p50_us"] / 1000, 1), "p99_ms": round(measured["p99_us"] / 1000, 1),
            "errors": sum(measured[k] for k in ("errors_connect", "errors_read", "errors_write", "errors_status",
                                                "errors_timeout")) + measured["graphql_errors"]}
    one, two = results["one process"].get("rps") or 0, results["two processes"].get("rps") or 0
    results["ratio"] = round(two / one, 2) if one else None
    results["machine"] = {"nproc": os.cpu_count(), "loadavg": [round(x, 2) for x in os.getloadavg()]}
    return results


def run(args) -> dict[str, Any]:
    scale_out = start(database=args.database)
    try:
        report: dict[str, Any] = {"spread": spread(scale_out)}
        if args.throughput_seconds:
            report["throughput"] = throughput(scale_out, args.throughput_seconds, args.connections)
            for name in ("a", "b"):
                scale_out.admin(f"enable server papergraph/{name}")
        report["failover"] = failover(scale_out, payments=args.payments, clients=args.clients)
        report["ok"] = not report["failover"]["problems"] and all(report["spread"].values())
        report["logs"] = str(scale_out.work)
        return report
    finally:
        stop(scale_out, args.database)


def main(args) -> int:
    report = run(args)
    print(json.dumps(report, indent=2, default=str))
    return 0 if report["ok"] else 1
