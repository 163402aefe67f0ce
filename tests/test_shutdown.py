"""Graceful shutdown: on SIGTERM papergraph stops accepting, lets requests in flight finish (bounded), and
closes its pools only after them. Slowness comes from the circulation emulator's injected latency; the test
waits for events (the emulator has seen the call, a connection is refused), never for a duration."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import signal
import socket
import time

import httpx
import pytest

from sandbox.faults import FaultRule
from sandbox.signin import sign_in
from tests.conftest import Tokens, graphql, staff_signing
from tests.support import papergraph_run

pytestmark = pytest.mark.sqlite_only("shutdown of the process and its pools: the database only seeds the app")

SLOW_QUERY = 'query Slow { subscription(id: "NCS-0000001") { id status } }'
EVENT_TIMEOUT = 60  # seconds to wait for an event before failing: a bound on a hang, not a measurement


def wait_for(condition, what: str):
    deadline = time.monotonic() + EVENT_TIMEOUT
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.fixture
def papergraph_process(sqlite_database_url, tmp_path):
    """`papergraph run` (embedded upstreams, the session's SQLite database) on a loopback port."""
    env = {"DATABASE_URL": sqlite_database_url, "PAPERGRAPH_SEED_DEMO_DATA": "false",
           "PAPERGRAPH_SHUTDOWN_TIMEOUT": "30", "PAPERGRAPH_ENVIRONMENT": "test"}
    with papergraph_run(env, tmp_path / "papergraph.log") as server:
        yield server.process, server.base, server.port, server.log


def test_sigterm_lets_the_request_in_flight_finish_and_refuses_new_connections(papergraph_process):
    # given: a staff token, and a circulation system that takes 3 s to answer subscription reads (inside the
    # default 5 s upstream timeout)
    process, base, port, log = papergraph_process
    token = sign_in(f"{base}/sandbox/auth0", "admin", "NCSDEMO")
    httpx.post(f"{base}/sandbox/circulation/_sandbox/faults",
               json={"rules": [{"method": "GET", "path": "/subscriptions", "latency_ms": 3000}]}).raise_for_status()
    seen = lambda: httpx.get(f"{base}/sandbox/circulation/_sandbox/requests").json()["requests"]  # noqa: E731

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(httpx.post, f"{base}/graphql", json={"query": SLOW_QUERY},
                                headers={"authorization": f"Bearer {token}"}, timeout=EVENT_TIMEOUT)
        wait_for(lambda: any("/subscriptions" in r["path"] for r in seen()), "the slow call to reach the emulator")

        # when
        process.send_signal(signal.SIGTERM)

        # then: new connections are refused while the request is still in flight; it completes; the process
        # exits cleanly
        wait_for(lambda: refuses_connections(port), "the listening socket to close")
        refused_while_in_flight = not in_flight.done()
        response = in_flight.result(timeout=EVENT_TIMEOUT)
    assert refused_while_in_flight
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body, body
    assert body["data"]["subscription"]["id"] == "NCS-0000001"
    # uvicorn re-raises the signal once its shutdown is complete: the exit status is SIGTERM's own
    assert process.wait(timeout=EVENT_TIMEOUT) in (0, -signal.SIGTERM)
    log.seek(0)
    messages = [json.loads(line)["message"] for line in log if line.startswith("{")]
    assert "Application shutdown complete." in messages


async def started(settings, fault: FaultRule):
    """An app whose lifespan has started, its circulation system slowed by `fault`, and a staff client."""
    from app import create_app

    application = create_app(settings)
    lifespan = application.router.lifespan_context(application)
    await lifespan.__aenter__()
    application.state.sandboxes["circulation"].state.control.rules.append(fault)
    tokens = Tokens(application.state.sandboxes["auth0"].state.store, settings.auth0_audience)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://papergraph.test",
                               event_hooks={"request": [staff_signing(tokens, settings.default_tenant)]})
    return application, lifespan, client


async def reached_upstream(application) -> None:
    control = application.state.sandboxes["circulation"].state.control
    while not control.count(path_contains="/subscriptions"):
        await asyncio.sleep(0.01)


async def test_the_lifespan_closes_the_pools_only_after_the_requests_in_flight(settings):
    # given: an app whose circulation reads take a while, and a request in flight
    application, lifespan, client = await started(
        settings, FaultRule(method="GET", path="/subscriptions", latency_ms=300))
    services = application.state.services
    request = asyncio.create_task(graphql(client, SLOW_QUERY))
    await reached_upstream(application)

    # when: the server shuts the app down with the request in flight
    await lifespan.__aexit__(None, None, None)

    # then: the request had finished with its answer before the pools were closed
    assert request.done()
    assert request.result()["data"]["subscription"]["id"] == "NCS-0000001"
    assert services.circulation.client.is_closed
    await client.aclose()


async def test_the_lifespans_wait_is_bounded(settings, caplog):
    # given: a request that will not finish, and a short shutdown timeout
    application, lifespan, client = await started(
        settings.model_copy(update={"shutdown_timeout": 0.05}),
        FaultRule(method="GET", path="/subscriptions", timeout=True))
    request = asyncio.create_task(client.post("/graphql", json={"query": SLOW_QUERY}))
    await reached_upstream(application)

    # when
    await lifespan.__aexit__(None, None, None)

    # then: the lifespan gave up waiting and said so; the request is still in flight
    assert not request.done()
    assert "closing with 1 requests still in flight" in caplog.text
    request.cancel()
    await client.aclose()
