"""`papergraph run` with several workers: a listening socket per worker (server/listen.py), so new connections
are spread over the workers by the kernel instead of drained by whichever worker wakes first."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from multiprocessing.reduction import ForkingPickler

import httpx
import orjson
import pytest

from server.listen import ReusePortSocket, reuse_port_available

pytestmark = pytest.mark.skipif(not reuse_port_available(), reason="the platform has no SO_REUSEPORT")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def sent_to_a_worker(listener: ReusePortSocket) -> socket.socket:
    """What a spawned worker receives: the object pickled as multiprocessing pickles a Process's arguments."""
    buffer = io.BytesIO()
    ForkingPickler(buffer).dump(listener)
    return ForkingPickler.loads(buffer.getvalue())


def test_each_worker_gets_a_listening_socket_of_its_own_on_the_same_port_and_the_supervisor_none():
    port = free_port()
    listener = ReusePortSocket("127.0.0.1", port)
    with listener:
        # the supervisor's object listens nowhere: a connection now is refused
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        first, second = sent_to_a_worker(listener), sent_to_a_worker(listener)
        with first, second:
            assert first.fileno() != second.fileno()
            assert first.getsockname() == second.getsockname() == ("127.0.0.1", port)
            assert first.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                pass  # accepted into one of the two queues


def test_probe_reports_an_address_in_use_once():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        listener = ReusePortSocket("127.0.0.1", taken.getsockname()[1])
        with listener, pytest.raises(OSError):
            listener.probe()


def _run(port: int, tmp_path, **extra: str) -> subprocess.Popen:
    env = {**os.environ, "PAPERGRAPH_ENVIRONMENT": "test", "PAPERGRAPH_UPSTREAMS": "remote",
           "PAPERGRAPH_CIRCULATION_BASE_URL": "http://127.0.0.1:9", "PAPERGRAPH_AUTH0_BASE_URL": "http://127.0.0.1:9",
           "PAPERGRAPH_NAVIGAPAY_BASE_URL": "http://127.0.0.1:9", "PAPERGRAPH_SEED_DEMO_DATA": "false",
           "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'listen.db'}", "PAPERGRAPH_DEBUG_STATS": "true",
           "PAPERGRAPH_HOST": "127.0.0.1", "PAPERGRAPH_PORT": str(port), "PAPERGRAPH_WORKERS": "2",
           "PAPERGRAPH_LOG_LEVEL": "WARNING", **extra}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return subprocess.Popen([sys.executable, "-m", "cli", "run"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)


def _stop(process: subprocess.Popen) -> str:
    if process.poll() is None:
        os.killpg(process.pid, 15)
    output, _ = process.communicate(timeout=30)
    return output.decode(errors="replace")


def _pids_of_connections_opened_at_once(port: int, count: int) -> list[int]:
    """`count` connections opened back to back, as a connection pool or a load balancer opens them (then one
    request on each): which worker process answered on each."""
    connections = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(count)]
    try:
        for connection in connections:
            connection.sendall(b"GET /_debug/stats HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n")
        pids = []
        for connection in connections:
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
            pids.append(orjson.loads(answer.split(b"\r\n\r\n", 1)[1])["pid"])
        return pids
    finally:
        for connection in connections:
            connection.close()


def test_papergraph_run_spreads_connections_opened_at_once_over_both_workers(tmp_path):
    port = free_port()
    process = _run(port, tmp_path)
    try:
        pids: set[int] = set()
        deadline = time.monotonic() + 90
        while len(pids) < 2 and time.monotonic() < deadline:  # until both workers have started
            assert process.poll() is None, _stop(process)
            try:
                # 32 connections at once: with one shared accept queue they often all land on the worker that
                # wakes first; with a socket per worker the kernel hashes each connection to one (all 32 on one
                # worker: 2 chances in 2**32)
                pids |= set(_pids_of_connections_opened_at_once(port, 32))
            except OSError:
                time.sleep(0.5)
        assert len(pids) == 2, f"every connection went to {pids}: {_stop(process)[-2000:]}"
    finally:
        _stop(process)


def test_papergraph_run_says_once_that_the_port_is_taken(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = _run(port, tmp_path)
        output = process.communicate(timeout=120)[0].decode(errors="replace")
    assert process.returncode == 1
    assert f"papergraph: cannot listen on 127.0.0.1:{port}: Address already in use" in output
    assert "Traceback" not in output


def test_papergraph_run_leaves_x_forwarded_for_to_papergraph_trusted_proxies_setting(tmp_path):
    """With PAPERGRAPH_TRUSTED_PROXIES=0 (the default) X-Forwarded-For is ignored and the client is the connection's
    peer (server/throttle.py): uvicorn must not replace the peer with the header's address first. /_debug/stats
    answers loopback peers only, so a loopback request claiming another address shows which one the app saw."""
    port = free_port()
    process = _run(port, tmp_path, PAPERGRAPH_WORKERS="1")
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, _stop(process)
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/_debug/stats", headers={"x-forwarded-for": "203.0.113.9"},
                                   timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, _stop(process)
                time.sleep(0.5)
        assert answer.status_code == 200, answer.text
        assert answer.json()["pid"] > 0
    finally:
        _stop(process)
