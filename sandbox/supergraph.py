"""`make supergraph`: a local federated graph for developers composing papergraph with their own subgraphs.

Starts `papergraph run` (embedded emulators, the demo data) and @apollo/gateway (tests/node/gateway.mjs, the one the
federation tests use) composing papergraph, the example Node subgraph "delivery" (it extends CustomerSubscription
and Registration by key and adds `deliveryRoute`) and any subgraph given with `--subgraph name=url` (or
`PAPERGRAPH_SUBGRAPHS="name=url,name=url"`). Prints the gateway's URL and a token command once all answer, then
serves until Ctrl-C or SIGTERM, and stops both. See docs/supergraph.md.

usage: python -m sandbox.supergraph [--gateway-port 4000] [--delivery-port 4001] [--subgraph name=url ...]
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
NODE_DIR = ROOT / "tests" / "node"
START_SECONDS = 120
EXAMPLE = """query Route {
  deliveryRoute(code: "NORTH") {
    code
    stops { id status deliveryNotes }
    readers { crid email loyaltyPoints }
  }
}"""


def subgraphs_from(values: list[str]) -> list[dict[str, str]]:
    found = []
    for value in values:
        for item in filter(None, (part.strip() for part in value.split(","))):
            name, sep, url = item.partition("=")
            if not sep or not name or not url.startswith(("http://", "https://")):
                raise SystemExit(f"supergraph: --subgraph wants name=url, got {item!r}")
            found.append({"name": name, "url": url})
    return found


def wait_for_ping(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("supergraph: papergraph stopped while starting (see its output above)")
        try:
            if httpx.get(f"{base}/ping", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"supergraph: papergraph did not answer {base}/ping in {START_SECONDS}s")


def first_line(process: subprocess.Popen) -> dict:
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()
    try:
        line = lines.get(timeout=START_SECONDS)
    except queue.Empty:
        line = ""
    if not line:
        raise SystemExit("supergraph: the gateway printed nothing (see its output above)")
    return json.loads(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="supergraph", description=__doc__.split("\n\n")[0])
    parser.add_argument("--gateway-port", type=int, default=int(os.environ.get("GATEWAY_PORT", 4000)))
    parser.add_argument("--delivery-port", type=int, default=int(os.environ.get("DELIVERY_PORT", 4001)))
    parser.add_argument("--subgraph", action="append", default=[os.environ.get("PAPERGRAPH_SUBGRAPHS", "")],
                        metavar="NAME=URL", help="another subgraph to compose (repeatable)")
    args = parser.parse_args(argv)
    subgraphs = subgraphs_from(args.subgraph)
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules").is_dir():
        raise SystemExit("supergraph: needs node 20+ and `make node-install` (npm ci in tests/node)")

    from sandbox.demo import crid_for
    from settings import Settings

    settings = Settings()
    base = f"http://{settings.host}:{settings.port}"
    processes: list[subprocess.Popen] = []
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        # its log lines go to stderr: stdout carries only the "ready" line
        processes.append(subprocess.Popen([sys.executable, "-m", "cli", "run"], cwd=ROOT, stdout=sys.stderr))
        wait_for_ping(base, processes[0])
        config = {"papergraph": f"{base}/graphql", "gatewayPort": args.gateway_port,
                  "deliveryPort": args.delivery_port, "subgraphs": subgraphs,
                  "route": {"stops": ["NCS-0000001", "NCS-0000002", "NCS-0000003"],
                            "readers": [crid_for("NCSDEMO", 0, "Auth0"), crid_for("NCSDEMO", 1, "Auth0")]}}
        gateway = subprocess.Popen([node, "gateway.mjs", json.dumps(config)], cwd=NODE_DIR, stdout=subprocess.PIPE,
                                   text=True)
        processes.append(gateway)
        started = first_line(gateway)
        if "error" in started:
            print("supergraph: composition failed:\n  " + "\n  ".join([started["error"], *started["errors"]]),
                  file=sys.stderr)
            return 1
        print(json.dumps({"ready": True, "gateway": started["gateway"], "papergraph": f"{base}/graphql",
                          "delivery": f"{started['delivery']}/graphql", "subgraphs": subgraphs}), flush=True)
        print(f"supergraph: gateway at {started['gateway']} (Apollo Sandbox there), composing papergraph "
              f"({base}/graphql), delivery ({started['delivery']}/graphql)"
              + "".join(f", {s['name']} ({s['url']})" for s in subgraphs), file=sys.stderr)
        print(f"supergraph: a token: .venv/bin/python -m cli token customer; then try:\n{EXAMPLE}", file=sys.stderr)
        while not stop.is_set() and all(process.poll() is None for process in processes):
            stop.wait(0.5)
        return 0 if stop.is_set() else 1
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    raise SystemExit(main())
