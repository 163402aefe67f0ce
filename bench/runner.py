"""The benchmark run: database, emulators, papergraph, the Apollo peer, wrk, and the report.

One command does everything (`python -m bench run`), so a number in the report always comes with the
set-up that produced it: a fresh PostgreSQL database seeded at `--scale`, the three emulators in their own
processes with `--latency-ms` on every upstream call, papergraph under uvicorn with production settings
and one worker per core, the Apollo peer with as many node processes, and `wrk` driving each operation for
`--duration` seconds at each connection count after a warm-up.

Why it measures the way it does:
- CPU ms/request is the servers' own CPU time (master and workers, from /proc through psutil) divided by
  requests served: on a machine this small it decides throughput, and unlike latency it is barely moved by
  other load.
- Upstream calls come from the emulators' own counters (`GET /_sandbox/requests`), SQL statements from the
  servers' `/_debug/stats` (papergraph: `Database.statements`; the peer counts its `pg` queries), each a
  delta around the measured window divided by requests.
- The machine is shared: the report records the load average before the run and the whole machine's CPU
  use during each measurement, so a noisy number can be recognised as such.

Every process the run starts lives in its own process group and is killed on the way out, whatever
happens (try/finally, atexit, SIGTERM); all traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import atexit
import getpass
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.scenarios import TENANT, Scenario, scenarios

ROOT = Path(__file__).resolve().parent.parent
PEER_DIR = ROOT / "bench" / "peers" / "apollo"
RESULTS_DIR = ROOT / "bench" / "results"
PG_HOST, PG_PORT = "127.0.0.1", 5432
BENCH_DATABASE = "papergraph_bench"
READY_TIMEOUT = 240.0  # a shared 2-core machine under load starts two workers slowly
STATS_ATTEMPTS = 400  # fresh connections tried to reach every worker's /_debug/stats


# -- processes -------------------------------------------------------------------------------------
class Processes:
    """The run's child processes. Each starts in a new session (its own process group), so stopping it
    stops its workers too; `stop_all` runs from `finally`, atexit and SIGTERM, and only ever signals the
    groups this run started."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: dict[str, subprocess.Popen] = {}
        atexit.register(self.stop_all)

    def start(self, name: str, argv: list[str], *, env: dict[str, str] | None = None, cwd: Path = ROOT
              ) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "wb")
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.children[name] = process
        return process

    def log_tail(self, name: str, lines: int = 20) -> str:
        path = self.log_dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self, name: str) -> None:
        process = self.children.pop(name, None)
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except (ProcessLookupError, PermissionError):
            return
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=5)

    def stop_all(self) -> None:
        for name in list(self.children):
            self.stop(name)


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, process: subprocess.Popen, what: str, processes: Processes, name: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{processes.log_tail(name)}")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer {url} within {READY_TIMEOUT:.0f}s:\n{processes.log_tail(name)}")


def start_emulators(processes: Processes, latency_ms: float) -> dict[str, str]:
    """The three emulators, each in its own process on a free loopback port, empty (`seed` loads them), adding
    `latency_ms` to every call; their base URLs by name."""
    emulator_urls: dict[str, str] = {}
    for name in ("circulation", "auth0", "navigapay"):
        port = free_port()
        emulator_urls[name] = f"http://127.0.0.1:{port}"
        process = processes.start(name, [sys.executable, "-m", f"sandbox.{name}", "--port", str(port),
                                         "--latency-ms", str(latency_ms), "--scale", "0"])
        wait_http(emulator_urls[name] + "/_sandbox/requests", process, f"the {name} emulator", processes, name)
    return emulator_urls


# -- tools -------------------------------------------------------------------------------------------
def ensure_wrk() -> str:
    """wrk from Debian; installed with apt-get when missing (the bench machines are Debian)."""
    found = shutil.which("wrk")
    if found:
        return found
    print("bench: installing wrk (apt-get install -y wrk)", file=sys.stderr)
    command = ["apt-get", "install", "-y", "wrk"]
    if os.geteuid() != 0 and shutil.which("sudo"):
        command = ["sudo", *command]
    if subprocess.run(command, stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run([*command[:-3], "update"], stdout=subprocess.DEVNULL, check=True)
        subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed and apt-get could not install it")
    return found


def ensure_node_deps() -> None:
    """`npm ci` from the committed lock file whenever node_modules is missing or older than the lock."""
    if not shutil.which("node") or not shutil.which("npm"):
        raise RuntimeError("the Apollo peer needs node (20+) and npm")
    lock, stamp = PEER_DIR / "package-lock.json", PEER_DIR / "node_modules" / ".package-lock.json"
    if stamp.exists() and stamp.stat().st_mtime >= lock.stat().st_mtime:
        return
    print("bench: installing the Apollo peer's dependencies (npm ci)", file=sys.stderr)
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=PEER_DIR, check=True,
                   stdout=subprocess.DEVNULL)


def machine_info() -> dict[str, Any]:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return {
        "nproc": os.cpu_count(), "cpu_model": model,
        "memory_mb": round(psutil.virtual_memory().total / 2**20), "platform": platform.platform(),
        "python": platform.python_version(),
        "node": subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
        if shutil.which("node") else None,
        "loadavg_before": [round(x, 2) for x in os.getloadavg()],
    }


# -- database and seeding ----------------------------------------------------------------------------
async def _recreate_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=getpass.getuser(), database="test")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def prepare_database(name: str) -> str:
    asyncio.run(_recreate_database(name))
    return f"postgresql+asyncpg://{getpass.getuser()}@{PG_HOST}:{PG_PORT}/{name}"


def seed(database_url: str, scale: int, emulator_urls: dict[str, str]) -> dict[str, Any]:
    """Migrate, then load the same generated data into the database and the three emulators; timed apart
    so the report says where seeding time goes."""
    from migrations import upgrade
    from sandbox.demo import generate

    started = time.monotonic()
    upgrade(database_url)
    migrated = time.monotonic()
    data = generate(scale)
    generated = time.monotonic()

    async def load() -> tuple[dict[str, int], float, float]:
        from datasources.db import Database
        from sandbox.seed import load_emulators, seed_database

        db = Database(database_url)
        try:
            begun = time.monotonic()
            counts = await seed_database(db, data)
            db_done = time.monotonic()
        finally:
            await db.dispose()
        async with (
            httpx.AsyncClient(base_url=emulator_urls["circulation"], timeout=120) as circulation,
            httpx.AsyncClient(base_url=emulator_urls["auth0"], timeout=120) as auth0,
            httpx.AsyncClient(base_url=emulator_urls["navigapay"], timeout=120) as navigapay,
        ):
            await load_emulators(circulation, auth0, navigapay, data)
        return counts, db_done - begun, time.monotonic() - db_done

    counts, db_seconds, emulator_seconds = asyncio.run(load())
    return {
        "scale": scale, "rows": counts, "subscriptions": len(data.subscriptions),
        "registrations": len(data.registrations), "migrate_s": round(migrated - started, 2),
        "generate_s": round(generated - migrated, 2), "database_s": round(db_seconds, 2),
        "emulators_s": round(emulator_seconds, 2), "total_s": round(time.monotonic() - started, 2),
    }


def production_env(database_url: str, emulator_urls: dict[str, str]) -> dict[str, str]:
    """papergraph's settings for a measurement: production, PostgreSQL, the emulators as remote upstreams,
    fresh secrets, no demo data, and the `/_debug/stats` counters the report reads."""
    return {
        "PAPERGRAPH_ENVIRONMENT": "production", "PAPERGRAPH_UPSTREAMS": "remote", "DATABASE_URL": database_url,
        "PAPERGRAPH_CIRCULATION_BASE_URL": emulator_urls["circulation"],
        "PAPERGRAPH_AUTH0_BASE_URL": emulator_urls["auth0"],
        "PAPERGRAPH_NAVIGAPAY_BASE_URL": emulator_urls["navigapay"],
        "PAPERGRAPH_SECRET_KEY": secrets.token_urlsafe(32),
        "PAPERGRAPH_AUTH0_CLIENT_SECRET": secrets.token_urlsafe(32),
        "PAPERGRAPH_NAVIGAPAY_API_KEY": secrets.token_urlsafe(32),
        "PAPERGRAPH_SEED_DEMO_DATA": "false", "PAPERGRAPH_DEBUG_STATS": "true",
        # the load comes from one address with a few tokens, thousands of requests a second: a budget sized
        # for one real client would throttle it (the budget's own CPU is still spent and measured)
        "PAPERGRAPH_COST_BUDGET_MAXIMUM": "100000000", "PAPERGRAPH_COST_BUDGET_RESTORE_RATE": "10000000",
    }


# -- measuring ---------------------------------------------------------------------------------------
def process_cpu_seconds(process: psutil.Process) -> float:
    """User and system CPU seconds of one process so far; 0 for one that has exited."""
    try:
        times = process.cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return times.user + times.system


@dataclass
class Target:
    name: str
    url: str  # the GraphQL endpoint
    stats_url: str
    process: subprocess.Popen
    workers: int

    def tree(self) -> list[psutil.Process]:
        try:
            root = psutil.Process(self.process.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def cpu_seconds(self) -> float:
        return sum(process_cpu_seconds(proc) for proc in self.tree())

    def rss_mb(self) -> dict[str, float]:
        result = {}
        for proc in self.tree():
            try:
                result[str(proc.pid)] = round(proc.memory_info().rss / 2**20, 1)
            except psutil.NoSuchProcess:
                pass
        return result

    def counters(self) -> dict[str, Any] | None:
        """Sum of every worker's `/_debug/stats`. Workers share one listening socket, so fresh connections
        are tried until each worker (by pid) has answered once; None when one never did."""
        seen: dict[int, dict[str, Any]] = {}
        for _ in range(STATS_ATTEMPTS):
            try:
                with httpx.Client(timeout=2.0) as client:  # a fresh connection each time
                    payload = client.get(self.stats_url, headers={"connection": "close"}).json()
            except httpx.HTTPError:
                continue
            seen[payload["pid"]] = payload
            if len(seen) >= self.workers:
                break
        if len(seen) < self.workers:
            return None
        sql = sum(p.get("sqlStatements", p.get("sqlQueries", 0)) for p in seen.values())
        requests = sum(p.get("graphqlRequests", 0) for p in seen.values())
        return {"sql": sql, "requests": requests, "pids": sorted(seen)}


def upstream_totals(emulator_urls: dict[str, str]) -> dict[str, int]:
    totals = {}
    with httpx.Client(timeout=30.0) as client:
        for name, url in emulator_urls.items():
            totals[name] = int(client.get(url + "/_sandbox/requests").json()["total"])
    return totals


def wait_quiescent(emulator_urls: dict[str, str], target: "Target", settle: float = 0.4, limit: float = 15.0
                   ) -> dict[str, int]:
    """Wait until the server has finished what wrk left in flight (no upstream call and no CPU for
    `settle` seconds, at most `limit`), so counters read around a measurement belong to it alone."""
    deadline = time.monotonic() + limit
    last, last_cpu = upstream_totals(emulator_urls), target.cpu_seconds()
    while time.monotonic() < deadline:
        time.sleep(settle)
        now, cpu = upstream_totals(emulator_urls), target.cpu_seconds()
        if now == last and cpu - last_cpu < 0.02 * settle * max(1, target.workers):
            return now
        last, last_cpu = now, cpu
    return last


def run_wrk(wrk: str, script: Path, url: str, connections: int, seconds: float, threads: int) -> dict[str, Any]:
    argv = [wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "10s",
            "-s", str(script), url]
    completed = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    match = re.search(r"^WRKJSON (.*)$", completed.stdout, re.M)
    if completed.returncode != 0 or not match:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stdout}\n{completed.stderr}")
    return json.loads(match.group(1))


@dataclass
class Measurement:
    target: str
    scenario: str
    connections: int
    round: int
    requests: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    cpu_ms_per_request: float | None
    upstream_calls_per_request: float | None
    graphql_errors: int = 0  # answers with an `errors` member (HTTP 200 included), counted by the wrk script
    upstream_by_service: dict[str, float] = field(default_factory=dict)
    sql_per_request: float | None = None
    served_by_server: int | None = None
    machine_cpu_busy_pct: float | None = None
    loadavg_1m: float | None = None


def measure(wrk: str, target: Target, scenario: Scenario, script: Path, connections: int, duration: float,
            warmup: float, emulator_urls: dict[str, str], round_index: int) -> Measurement:
    threads = min(2, connections)
    if warmup > 0:
        run_wrk(wrk, script, target.url, connections, warmup, threads)
    before_up = wait_quiescent(emulator_urls, target)
    before_cpu, before_stats = target.cpu_seconds(), target.counters()
    machine_before = psutil.cpu_times()
    loadavg = os.getloadavg()[0]
    result = run_wrk(wrk, script, target.url, connections, duration, threads)
    machine_after = psutil.cpu_times()
    after_up = wait_quiescent(emulator_urls, target)
    after_cpu, after_stats = target.cpu_seconds(), target.counters()
    requests = int(result["requests"])
    seconds = result["duration_us"] / 1e6
    # Per-request costs divide by the requests the server itself served in the window (wrk does not count
    # those still in flight when it stops, but the server did their work): without the server's count,
    # wrk's count is the fallback.
    served = requests
    if before_stats and after_stats and after_stats["requests"] > before_stats["requests"]:
        served = after_stats["requests"] - before_stats["requests"]
    per = (lambda x: x / served) if served else (lambda x: None)
    up_delta = {k: after_up[k] - before_up[k] for k in after_up}
    busy_before = sum(machine_before) - machine_before.idle - getattr(machine_before, "iowait", 0)
    busy_after = sum(machine_after) - machine_after.idle - getattr(machine_after, "iowait", 0)
    total_delta = sum(machine_after) - sum(machine_before)
    errors = sum(int(result[k]) for k in result if k.startswith("errors_"))  # transport and HTTP status
    return Measurement(
        target=target.name, scenario=scenario.name, connections=connections, round=round_index, requests=requests,
        rps=round(requests / seconds, 1) if seconds else 0.0,
        p50_ms=round(result["p50_us"] / 1000, 2), p95_ms=round(result["p95_us"] / 1000, 2),
        p99_ms=round(result["p99_us"] / 1000, 2), errors=errors, graphql_errors=int(result.get("graphql_errors", 0)),
        cpu_ms_per_request=round(per((after_cpu - before_cpu) * 1000), 3) if served else None,
        upstream_calls_per_request=round(per(sum(up_delta.values())), 3) if served else None,
        upstream_by_service={k: round(v / served, 3) for k, v in up_delta.items()} if served else {},
        served_by_server=served,
        sql_per_request=round(per(after_stats["sql"] - before_stats["sql"]), 3)
        if served and before_stats and after_stats else None,
        machine_cpu_busy_pct=round(100 * (busy_after - busy_before) / total_delta, 1) if total_delta else None,
        loadavg_1m=round(loadavg, 2),
    )


# -- tokens ------------------------------------------------------------------------------------------
def mint_tokens(auth0_url: str, audience: str, scenario_list: list[Scenario]) -> dict[str, str]:
    """Access tokens signed by the Auth0 emulator: one per dashboard CRID (customers) and one for staff with
    read access to every section. papergraph verifies them against the emulator's JWKS like any token."""
    claim = "https://papergraph.dev/"
    tokens: dict[str, str] = {}
    with httpx.Client(base_url=auth0_url, timeout=30) as client:
        def mint(sub: str, claims: dict[str, Any]) -> str:
            answer = client.post("/_sandbox/tokens", json={"sub": sub, "audience": audience, "claims": claims})
            answer.raise_for_status()
            return answer.json()["access_token"]

        for scenario in scenario_list:
            if scenario.principal == "customer":
                for crid in scenario.crids:
                    if crid not in tokens:
                        tokens[crid] = mint(crid, {claim + "tenant": TENANT, claim + "principal": "customer"})
            elif scenario.principal == "staff" and "staff" not in tokens:
                access = {section: "FULL_CONTROL" for section in ("subscriptions", "registrations", "payments",
                                                                  "household_levels", "entitlements", "offers")}
                tokens["staff"] = mint("auth0|bench-staff", {claim + "tenant": TENANT, claim + "principal": "staff",
                                                            claim + "access": access, claim + "mfa": True,
                                                            "amr": ["mfa"]})
    return tokens


def token_for(scenario: Scenario, tokens: dict[str, str]) -> str | None:
    if scenario.principal == "customer":
        return tokens[scenario.crids[0]]
    return tokens.get("staff") if scenario.principal == "staff" else None


# -- checks ------------------------------------------------------------------------------------------
def graphql(url: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    headers = {"x-tenant": TENANT, **({"authorization": f"Bearer {token}"} if token else {})}
    response = httpx.post(url, json=body, headers=headers, timeout=30)
    try:
        return response.json()
    except ValueError:
        return {"errors": [{"message": f"HTTP {response.status_code}: {response.text[:200]}"}]}


def field_exists(url: str, operation: str, field_name: str) -> bool:
    """Whether the schema has a root field. Introspection may be off in production, so a probe: an unknown
    field is a validation error naming it (and a schema without mutations refuses `mutation` at all)."""
    answer = graphql(url, {"query": f"{operation} {{ __typename }}"})
    if operation == "mutation" and answer.get("errors"):
        return False
    probe = graphql(url, {"query": f"{operation} {{ {field_name} }}"})
    messages = " ".join(e.get("message", "") for e in probe.get("errors", []))
    return f"Cannot query field '{field_name}'" not in messages


# -- equal answers and equal refusals ----------------------------------------------------------------
def normalized(status: int, answer: dict[str, Any]) -> dict[str, Any]:
    """What two servers must agree on: the HTTP status, `data` and the whole `errors` (message, path,
    locations, extensions). papergraph's top-level `extensions` (the cost, API-3) has no peer equivalent."""
    return {"status": status, "data": answer.get("data"), "errors": answer.get("errors")}


def refusal(status: int, answer: dict[str, Any]) -> dict[str, Any]:
    """How a request refused before GraphQL runs is compared: status and code (the wording of a token error
    names the JOSE library's reason, which differs between joserfc and jose)."""
    return {"status": status, "data": answer.get("data"),
            "codes": [e.get("extensions", {}).get("code") for e in answer.get("errors") or []]}


async def _post(client: httpx.AsyncClient, url: str, body: dict[str, Any], token: str | None,
                tenant: str = TENANT) -> tuple[int, dict[str, Any]]:
    headers = {"x-tenant": tenant, **({"authorization": f"Bearer {token}"} if token else {})}
    response = await client.post(url, json=body, headers=headers)
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, {"errors": [{"message": f"HTTP {response.status_code}: {response.text[:200]}"}]}


def forge(token: str) -> str:
    """The same header and claims under a signature that is not the key's (one byte of it changed)."""
    head, payload, signature = token.split(".")
    flipped = ("A" if signature[10] != "A" else "B")
    return ".".join((head, payload, signature[:10] + flipped + signature[11:]))


def auth_parity(targets: list["Target"], auth0_url: str, audience: str, scenario: Scenario,
                tokens: dict[str, str]) -> list[dict[str, Any]]:
    """The same refusals and the same answers from every server for the requests that test authentication
    and ownership (AUT-1, TEN-1, LNK-3, LNK-4): a forged signature, an unsigned (`alg: none`) token, another
    audience, another tenant's token, a customer asking for another customer's registration, an anonymous
    request, and the customer's own dashboard. Each case records every server's status and whether they
    agree; a refusal must be a refusal on every server."""
    claim = "https://papergraph.dev/"
    own, other = scenario.crids[0], scenario.crids[1]
    with httpx.Client(base_url=auth0_url, timeout=30) as client:
        def mint(sub: str, claims: dict[str, Any], audience_: str = audience) -> str:
            answer = client.post("/_sandbox/tokens", json={"sub": sub, "audience": audience_, "claims": claims})
            answer.raise_for_status()
            return answer.json()["access_token"]

        foreign_tenant = mint(own, {claim + "tenant": "SAXDEMO", claim + "principal": "customer"})
        other_audience = mint(own, {claim + "tenant": TENANT, claim + "principal": "customer"},
                              "https://another.api.example")
    import base64

    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    unsigned = ".".join((b64({"alg": "none", "typ": "JWT"}), tokens[own].split(".")[1], ""))
    own_body = scenario.body(own)
    cases: list[tuple[str, dict[str, Any], str | None, str, bool]] = [  # name, body, token, compare as, refused
        ("forged signature (AUT-1)", own_body, forge(tokens[own]), "refusal", True),
        ("alg none (AUT-1)", own_body, unsigned, "refusal", True),
        ("another audience (AUT-1)", own_body, other_audience, "refusal", True),
        ("another tenant's token (TEN-1)", own_body, foreign_tenant, "refusal", True),
        ("another customer's registration (LNK-4)", scenario.body(other), tokens[own], "answer", False),
        ("anonymous dashboard", own_body, None, "answer", False),
        ("own dashboard", own_body, tokens[own], "answer", False),
    ]

    async def ask() -> list[dict[str, Any]]:
        rows = []
        async with httpx.AsyncClient(timeout=30) as client:
            for name, body, token, kind, refused in cases:
                seen = {}
                for target in targets:
                    status, answer = await _post(client, target.url, body, token)
                    seen[target.name] = (status, refusal(status, answer) if kind == "refusal" else normalized(status, answer))
                values = [v for _, v in seen.values()]
                same = all(v == values[0] for v in values)
                ok = same and all((status >= 400) == refused for status, _ in seen.values())
                if kind == "answer" and name != "own dashboard":  # a denial is a field error with data null
                    ok = ok and all(v["errors"] and not (v["data"] or {}).get("registration") for v in values)
                rows.append({"case": name, "status": {t: st for t, (st, _) in seen.items()}, "same": same, "ok": ok,
                             **({} if ok else {"answers": {t: v for t, (_, v) in seen.items()}})})
        return rows

    return asyncio.run(ask())


class AnswerBook:
    """Every answer of every warm-up request, by request: the first server to answer a request sets the
    reference, and every other server's answer to the same request must equal it (`normalized`)."""

    def __init__(self) -> None:
        self.reference: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
        self.compared = 0  # answers checked against another server's
        self.requests: dict[str, int] = {}  # warm-up requests sent, per server
        self.differences: list[dict[str, Any]] = []

    def record(self, target: str, scenario: str, key: str, answer: dict[str, Any]) -> None:
        self.requests[target] = self.requests.get(target, 0) + 1
        first = self.reference.setdefault((scenario, key), (target, answer))
        if first[0] == target:
            return
        self.compared += 1
        if first[1] != answer and len(self.differences) < 20:
            self.differences.append({"scenario": scenario, "request": key[:200], first[0]: first[1], target: answer})


def warm_up(target: "Target", scenario: Scenario, tokens: dict[str, str], connections: int, seconds: float,
            minimum: int, book: AnswerBook, servers_answering: set[str]) -> None:
    """The warm-up before a measurement, driven from Python so that every answer is kept and compared with the
    other servers' answers to the same request (the same CRID and token for the dashboard): at least
    `minimum` requests, and for `seconds`, over up to `connections` concurrent connections."""
    index = 0

    def next_request() -> tuple[str, dict[str, Any], str | None]:
        nonlocal index
        index += 1
        if scenario.crids:
            crid = scenario.crids[(index * 7919) % len(scenario.crids)]  # the wrk script's walk
            token = tokens[crid] if scenario.principal == "customer" else None
            return crid, scenario.body(crid), token
        return "", scenario.check_body(), token_for(scenario, tokens)

    async def drive() -> None:
        deadline = time.monotonic() + seconds
        sent = 0
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            async def worker() -> None:
                nonlocal sent
                while sent < minimum or time.monotonic() < deadline:
                    sent += 1
                    key, body, token = next_request()
                    status, answer = await _post(client, target.url, body, token)
                    if target.name in servers_answering:
                        book.record(target.name, scenario.name, key, normalized(status, answer))
            await asyncio.gather(*(worker() for _ in range(max(1, min(connections, 16)))))

    asyncio.run(drive())


def git_commit() -> dict[str, Any]:
    """The commit the run measured, and whether the work tree had changes (then the figures are of that
    commit plus them)."""
    def git(*argv: str) -> str:
        completed = subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True)
        return completed.stdout.strip() if completed.returncode == 0 else ""

    commit = git("rev-parse", "HEAD")
    if not commit:  # an exported tree (`git archive <commit>`, so the work tree can change during a run)
        return {"commit": os.environ.get("BENCH_COMMIT"), "subject": os.environ.get("BENCH_COMMIT_SUBJECT"),
                "dirty": False, "exported": True}
    return {"commit": commit, "subject": git("log", "-1", "--format=%s") or None,
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def combine(rounds: list[Measurement]) -> dict[str, Any]:
    """One cell's rounds: the median of each figure, and the spread (min–max) of req/s and CPU ms/req."""
    import statistics

    def median(name: str) -> Any:
        values = [getattr(m, name) for m in rounds if getattr(m, name) is not None]
        return round(statistics.median(values), 3) if values else None

    first = rounds[0]
    cpu = [m.cpu_ms_per_request for m in rounds if m.cpu_ms_per_request is not None]
    return {
        "target": first.target, "scenario": first.scenario, "connections": first.connections,
        "rounds": len(rounds), "requests": sum(m.requests for m in rounds),
        **{name: median(name) for name in ("rps", "p50_ms", "p95_ms", "p99_ms", "cpu_ms_per_request",
                                           "upstream_calls_per_request", "sql_per_request", "machine_cpu_busy_pct",
                                           "loadavg_1m")},
        "rps_min": min(m.rps for m in rounds), "rps_max": max(m.rps for m in rounds),
        "cpu_min": min(cpu) if cpu else None, "cpu_max": max(cpu) if cpu else None,
        "errors": sum(m.errors for m in rounds), "graphql_errors": sum(m.graphql_errors for m in rounds),
        "each_round": [m.__dict__ for m in rounds],
    }


# -- reporting ---------------------------------------------------------------------------------------
def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _spread(low: Any, high: Any, digits: int) -> str:
    return "—" if low is None else f"{_fmt(float(low), digits)}–{_fmt(float(high), digits)}"


def markdown(report: dict[str, Any]) -> str:
    machine, settings = report["machine"], report["settings"]
    measured = report.get("commit") or {}
    lines = [
        f"# papergraph benchmark — {report['started_at']}",
        "",
        f"Commit measured: `{measured.get('commit')}`{' (with uncommitted changes)' if measured.get('dirty') else ''}"
        + (f" — {measured['subject']}." if measured.get("subject") else " (an exported tree: BENCH_COMMIT_SUBJECT "
           "names its subject)."),
        "",
        f"Machine: {machine['nproc']} × {machine['cpu_model']}, {machine['memory_mb']:,} MB; load average before "
        f"the run {machine['loadavg_before']}, after {machine.get('loadavg_after')} (the machine is shared: other "
        f"work ran beside the measurement). Settings: scale {settings['scale']} "
        f"({report['seed']['registrations']:,} registrations, {report['seed']['subscriptions']:,} subscriptions), "
        f"{settings['duration']} s per measurement after a {settings['warmup']} s warm-up (at least "
        f"{settings.get('compare_min', 0)} requests, every answer compared), upstream latency "
        f"{settings['latency_ms']} ms, {settings['workers']} papergraph workers (`papergraph run`) / "
        f"{settings['workers']} Apollo processes, {settings['rounds']} round(s) per cell in rotating server order: "
        "median shown, spread = min–max over the rounds.",
        f"Seeding: database {report['seed']['database_s']} s, emulators {report['seed']['emulators_s']} s, "
        f"total {report['seed']['total_s']} s.",
        "",
        "`papergraph` is the fast execution path (the default), `papergraph-stock` the same server with "
        "`PAPERGRAPH_EXECUTION=stock` (strawberry's own execution).",
        "",
        "| operation | server | conns | req/s (median) | req/s spread | p50 ms | p95 ms | p99 ms | CPU ms/req (median) | CPU spread | upstream/req | SQL/req | errors (HTTP / GraphQL) | × Apollo req/s | × Apollo CPU | machine busy % |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    by_key = {(m["target"], m["scenario"], m["connections"]): m for m in report["results"]}
    for m in report["results"]:
        peer = by_key.get(("apollo", m["scenario"], m["connections"])) if m["target"] != "apollo" else None
        ratio_rps = m["rps"] / peer["rps"] if peer and peer["rps"] else None
        ratio_cpu = (m["cpu_ms_per_request"] / peer["cpu_ms_per_request"]
                     if peer and peer.get("cpu_ms_per_request") and m.get("cpu_ms_per_request") else None)
        lines.append(
            f"| {m['scenario']} | {m['target']} | {m['connections']} | {_fmt(m['rps'])} | "
            f"{_spread(m.get('rps_min'), m.get('rps_max'), 1)} | {_fmt(m['p50_ms'], 2)} | "
            f"{_fmt(m['p95_ms'], 2)} | {_fmt(m['p99_ms'], 2)} | {_fmt(m['cpu_ms_per_request'], 2)} | "
            f"{_spread(m.get('cpu_min'), m.get('cpu_max'), 2)} | "
            f"{_fmt(m['upstream_calls_per_request'], 2)} | {_fmt(m['sql_per_request'], 2)} | {m['errors']} / {m.get('graphql_errors', 0)} | "
            f"{_fmt(ratio_rps, 2)} | {_fmt(ratio_cpu, 2)} | {_fmt(m['machine_cpu_busy_pct'])} |"
        )
    compared = report.get("answers") or {}
    lines += ["", f"Answers: {compared.get('compared', 0):,} warm-up answers compared with another server's answer "
                  f"to the same request, {len(compared.get('differences', [])):,} different "
                  f"(warm-up requests per server: {compared.get('requests', {})})."]
    if report.get("auth_parity"):
        lines += ["", "Authentication and ownership, the same request to every server:", "",
                  "| case | " + " | ".join(report["auth_parity"][0]["status"]) + " | same answer |",
                  "|---|" + "---:|" * len(report["auth_parity"][0]["status"]) + "---|"]
        for row in report["auth_parity"]:
            lines.append(f"| {row['case']} | " + " | ".join(str(v) for v in row["status"].values())
                         + f" | {'yes' if row['same'] else 'NO'} |")
    lines += ["", "Memory at the end (RSS MB per process, master first):", ""]
    for name, rss in report["memory_rss_mb"].items():
        lines.append(f"- {name}: {', '.join(f'{v:.0f}' for v in rss.values())}")
    if report["skipped"]:
        lines += ["", "Skipped:", ""] + [f"- {s['scenario']}: {s['reason']}" for s in report["skipped"]]
    if report["notes"]:
        lines += ["", "Notes:", ""] + [f"- {note}" for note in report["notes"]]
    return "\n".join(lines) + "\n"


# -- the run -----------------------------------------------------------------------------------------
PAPERGRAPH_TARGETS = {"papergraph": "fast", "papergraph-stock": "stock"}


def papergraph_command() -> list[str]:
    """`papergraph run` as production starts it (cli.py: migrations, its logging configuration, one
    worker per PAPERGRAPH_WORKERS, multiprocess metrics). Started as `python -m cli run` (the console
    script's own entry point, cli.main) from ROOT, so the code measured is the checkout the bench runs from
    even when the venv's editable install points at another one."""
    return [sys.executable, "-m", "cli", "run"]


def start_papergraph(processes: Processes, name: str, execution: str, database_url: str,
                     emulator_urls: dict[str, str], workers: int, db_pool: int) -> Target:
    port = free_port()
    env = {
        **os.environ, **production_env(database_url, emulator_urls), "PAPERGRAPH_WORKERS": str(workers),
        "PAPERGRAPH_HOST": "127.0.0.1", "PAPERGRAPH_PORT": str(port), "PAPERGRAPH_EXECUTION": execution,
        "PAPERGRAPH_DATABASE_POOL_SIZE": str(db_pool),
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # `papergraph run` makes a fresh one per server
    process = processes.start(name, papergraph_command(), env=env)
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/ping", process, name, processes, name)
    return Target(name, base + "/graphql", base + "/_debug/stats", process, workers)


def run(args) -> dict[str, Any]:
    started_at = datetime.now(timezone.utc)
    machine = machine_info()
    commit = git_commit()
    wrk = ensure_wrk()
    targets_wanted = [t.strip() for t in args.targets.split(",") if t.strip()]
    if "apollo" in targets_wanted:
        ensure_node_deps()
    workers = args.workers or os.cpu_count() or 1
    connections = [int(c) for c in str(args.connections).split(",") if c.strip()]
    out_dir = Path(args.output) if args.output else RESULTS_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="papergraph-bench-"))
    processes = Processes(work)
    previous_sigterm = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    notes: list[str] = []
    skipped: list[dict[str, str]] = []
    audience = "https://api.papergraph.dev"
    try:
        database_url = prepare_database(args.database)
        emulator_urls = start_emulators(processes, args.latency_ms)
        seeded = seed(database_url, args.scale, emulator_urls)
        print(f"bench: seeded in {seeded['total_s']} s (database {seeded['database_s']} s, emulators "
              f"{seeded['emulators_s']} s)", file=sys.stderr)

        targets: list[Target] = []
        for name in targets_wanted:
            if name in PAPERGRAPH_TARGETS:
                targets.append(start_papergraph(processes, name, PAPERGRAPH_TARGETS[name], database_url,
                                                emulator_urls, workers, args.db_pool))
            elif name == "apollo":
                port = free_port()
                env = {**os.environ, "PORT": str(port), "PEER_WORKERS": str(workers),
                       "DATABASE_URL": database_url.replace("postgresql+asyncpg://", "postgresql://"),
                       "CIRCULATION_BASE_URL": emulator_urls["circulation"],
                       "AUTH0_BASE_URL": emulator_urls["auth0"], "AUTH0_AUDIENCE": audience,
                       "PEER_DB_POOL": str(args.db_pool),
                       "NODE_ENV": "production"}
                process = processes.start("apollo", ["node", "server.js"], env=env, cwd=PEER_DIR)
                base = f"http://127.0.0.1:{port}"
                wait_http(base + "/_debug/stats", process, "the Apollo peer", processes, "apollo")
                targets.append(Target("apollo", base + "/graphql", base + "/_debug/stats", process, workers))
            else:
                raise RuntimeError(f"unknown target {name!r} (papergraph, papergraph-stock, apollo)")
        if not targets:
            raise RuntimeError("no target to measure (--targets papergraph,papergraph-stock,apollo)")

        # which scenarios can run: every server must answer the check request without errors
        wanted = {s.strip() for s in args.scenarios.split(",")} if args.scenarios else None
        runnable: list[Scenario] = []
        papergraph = next((t for t in targets if t.name in PAPERGRAPH_TARGETS), None)
        candidates = [s for s in scenarios(args.scale) if not wanted or s.name in wanted]
        tokens = mint_tokens(emulator_urls["auth0"], audience, candidates)
        for scenario in candidates:
            if scenario.requires_field and papergraph and not field_exists(papergraph.url, "mutation",
                                                                           scenario.requires_field):
                skipped.append({"scenario": scenario.name, "reason": f"`{scenario.requires_field}` does not exist "
                                "yet; the scenario is wired and runs as soon as the mutation lands"})
                continue
            if papergraph:
                answer = graphql(papergraph.url, scenario.check_body(), token_for(scenario, tokens))
                if answer.get("errors") or not answer.get("data"):
                    skipped.append({"scenario": scenario.name, "reason": f"papergraph answered errors: "
                                    f"{json.dumps(answer.get('errors'))[:300]}"})
                    continue
            if scenario.note:
                notes.append(f"{scenario.name}: {scenario.note}")
            runnable.append(scenario)

        # the peer must refuse and allow exactly what papergraph does
        parity: list[dict[str, Any]] = []
        dashboard = next((s for s in runnable if s.name == "dashboard" and len(s.crids) > 1), None)
        if dashboard and len(targets) > 1:
            parity = auth_parity(targets, emulator_urls["auth0"], audience, dashboard, tokens)
            failed = [row for row in parity if not row["ok"]]
            if failed:
                (out_dir / "parity-failure.json").write_text(json.dumps(failed, indent=1))
                raise RuntimeError("the servers do not refuse and answer alike: " + json.dumps(failed)[:1500])

        book = AnswerBook()
        cells: dict[tuple[str, str, int], list[Measurement]] = {}
        for conns in connections:
            for scenario in runnable:
                script = work / f"{scenario.name}.lua"
                script.write_text(scenario.lua(tokens=tokens))
                serving = [t for t in targets if t.name != "apollo" or scenario.peer]
                for round_index in range(args.rounds):
                    shift = round_index % len(serving)
                    for target in serving[shift:] + serving[:shift]:  # each server first in turn
                        if scenario.comparable:
                            warm_up(target, scenario, tokens, conns, args.warmup, args.compare_min, book,
                                    {t.name for t in serving})
                            if book.differences:
                                path = out_dir / f"answers-differ-{started_at.strftime('%Y%m%dT%H%M%SZ')}.json"
                                path.write_text(json.dumps(book.differences, indent=1, default=str))
                                raise RuntimeError(f"the servers' answers differ (all of them in {path}): "
                                                   + json.dumps(book.differences[:1], default=str)[:1500])
                        measurement = measure(wrk, target, scenario, script, conns, args.duration,
                                              0 if scenario.comparable else args.warmup, emulator_urls, round_index)
                        cells.setdefault((target.name, scenario.name, conns), []).append(measurement)
                        print(f"bench: {scenario.name:14} {target.name:17} c={conns:<4} r{round_index} "
                              f"{measurement.rps:9.1f} req/s  p50 {measurement.p50_ms:7.2f} ms  "
                              f"CPU {measurement.cpu_ms_per_request} ms/req  busy {measurement.machine_cpu_busy_pct}%",
                              file=sys.stderr)
        results = [combine(rounds) for rounds in cells.values()]
        machine["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
        report = {
            "started_at": started_at.isoformat(timespec="seconds"),
            "commit": commit,
            "command": "python -m bench " + " ".join(sys.argv[1:]),
            "machine": machine,
            "settings": {"scale": args.scale, "duration": args.duration, "warmup": args.warmup,
                         "compare_min": args.compare_min, "connections": connections, "db_pool": args.db_pool,
                         "latency_ms": args.latency_ms, "workers": workers, "rounds": args.rounds,
                         "targets": [t.name for t in targets], "tenant": TENANT,
                         "papergraph_env": {k: v for k, v in os.environ.items() if k.startswith("PAPERGRAPH_")}},
            "seed": seeded,
            "results": results,
            "answers": {"compared": book.compared, "requests": book.requests, "differences": book.differences},
            "auth_parity": parity,
            "memory_rss_mb": {t.name: t.rss_mb() for t in targets},
            "skipped": skipped,
            "notes": notes,
        }
        stamp = started_at.strftime("%Y%m%dT%H%M%SZ")
        (out_dir / f"bench-{stamp}.json").write_text(json.dumps(report, indent=2))
        (out_dir / f"bench-{stamp}.md").write_text(markdown(report))
        report["paths"] = {"json": str(out_dir / f"bench-{stamp}.json"), "markdown": str(out_dir / f"bench-{stamp}.md")}
        return report
    finally:
        processes.stop_all()
        signal.signal(signal.SIGTERM, previous_sigterm)
        if not args.keep_database:
            try:
                asyncio.run(drop_database(args.database))
            except Exception as error:  # noqa: BLE001 - cleanup must not hide the run's own error
                print(f"bench: could not drop {args.database}: {error}", file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)


async def drop_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=getpass.getuser(), database="test")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
