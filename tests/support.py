"""Test helpers shared across the suite."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

import httpx
import pytest
import uvicorn

ROOT = Path(__file__).resolve().parent.parent
NODE_DIR = Path(__file__).resolve().parent / "node"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve_on_loopback(app, port: int | None = None) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a real loopback socket in a background thread.

    Yields the base URL. Used where the socket matters (timeouts, dropped connections, other processes).
    """
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("loopback server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class RunningServer:
    process: subprocess.Popen
    base: str
    port: int
    log: IO[str]

    def log_text(self) -> str:
        self.log.seek(0)
        return self.log.read()


@contextlib.contextmanager
def papergraph_run(env: dict[str, str], log_path: Path, *, start_timeout: float = 60,
                   command: list[str] | None = None, cwd: Path = ROOT) -> Iterator[RunningServer]:
    """`papergraph run` (`python -m cli run`, or `command`) in a process of its own on a free loopback port, with
    `env` (PATH and the port are added); yields once `/ping` answers, and kills what is left of it afterwards."""
    port = free_port()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PAPERGRAPH_PORT": str(port),
           "PAPERGRAPH_PUBLIC_URL": f"http://127.0.0.1:{port}", **env}
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "w+") as log:
        process = subprocess.Popen(command or [sys.executable, "-m", "cli", "run"], cwd=cwd, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
        server = RunningServer(process, base, port, log)
        try:
            deadline = time.monotonic() + start_timeout
            while not _answers(f"{base}/ping"):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"papergraph did not start: {server.log_text()[-3000:]}", pytrace=False)
                time.sleep(0.1)
            yield server
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def without_cost(body: dict) -> dict:
    """A GraphQL response body without `extensions.cost`, which every answer carries (docs/rate-limits.md), for
    tests comparing whole bodies."""
    extensions = {k: v for k, v in (body.get("extensions") or {}).items() if k != "cost"}
    return {**{k: v for k, v in body.items() if k != "extensions"}, **({"extensions": extensions} if extensions else {})}


REDIS_URL = os.environ.get("PAPERGRAPH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def require_redis() -> str:
    """The Redis the Redis-backed tests share (127.0.0.1:6379 on these machines and in CI). Without it the test
    is skipped, and fails under CI. Each test names its own key prefix."""
    from urllib.parse import urlparse

    parsed = urlparse(REDIS_URL)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            answered = sock.recv(16).startswith(b"+PONG")
    except OSError:
        answered = False
    if not answered:
        problem = f"Redis does not answer at {REDIS_URL}: the Redis-backed rate-limit tests need it"
        if os.environ.get("CI"):
            pytest.fail(problem, pytrace=False)
        pytest.skip(problem)
    return REDIS_URL


def require_node() -> str:
    """The `node` that runs tests/node's scripts, with its dependencies installed (`make test` runs
    `npm ci --prefix tests/node`). Without them the test is skipped, and fails under CI."""
    node = shutil.which("node")
    problem = None
    if node is None:
        problem = "node is not installed: the Node-backed tests need node 20+ and npm"
    elif not (NODE_DIR / "node_modules").is_dir():
        problem = "tests/node/node_modules is missing: run `make test` (or `npm ci --prefix tests/node`)"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem, pytrace=False)
        pytest.skip(problem)
    return node


@contextlib.contextmanager
def node_process(script: str, *args: str, timeout: float = 90) -> Iterator[dict]:
    """Run a tests/node script that prints one JSON line when ready and then serves until terminated;
    yield that line. If it prints nothing in time, fail with what it wrote on stderr."""
    import json
    import queue
    import subprocess
    import tempfile

    node = require_node()
    with tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen([node, script, *args], cwd=NODE_DIR, stdout=subprocess.PIPE, stderr=stderr,
                                   text=True)
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()
        try:
            try:
                line = lines.get(timeout=timeout)
            except queue.Empty:
                line = ""
            if not line:
                stderr.seek(0)
                pytest.fail(f"node {script} did not start: {stderr.read()[-4000:]}", pytrace=False)
            yield json.loads(line)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
