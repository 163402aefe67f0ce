"""`make supergraph` (issue 19, item 12): `python -m sandbox.supergraph` starts papergraph and @apollo/gateway
composing it with the example Node subgraph and a developer's own subgraph; a federated query through the gateway
reaches all three, and SIGTERM stops everything."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import queue

import httpx
import pytest

from sandbox.signin import sign_in
from tests.support import ROOT, free_port, require_node, serve_on_loopback

pytestmark = pytest.mark.sqlite_only

ROUTE = """
query Route {
  deliveryRoute(code: "NORTH") { code stops { id status deliveryNotes } }
  weather
}
"""


def own_subgraph():
    """A developer's subgraph: one root field, `weather`, with the federation SDL the gateway introspects."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    sdl = ('extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])\n'
           'type Query { weather: String! }')

    async def graphql(request):
        query = (await request.json())["query"]
        if "_service" in query:
            return JSONResponse({"data": {"_service": {"sdl": sdl}}})
        return JSONResponse({"data": {"weather": "sunny"}})

    return Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])


def test_make_supergraph_composes_papergraph_the_example_subgraph_and_yours(tmp_path):
    # given: a developer's own subgraph on loopback, and free ports for papergraph and the gateway
    require_node()
    papergraph_port, gateway_port, delivery_port = free_port(), free_port(), free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PAPERGRAPH_") and k != "DATABASE_URL"},
           "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/supergraph.db", "PAPERGRAPH_PORT": str(papergraph_port),
           "PAPERGRAPH_PUBLIC_URL": f"http://127.0.0.1:{papergraph_port}", "PAPERGRAPH_ENVIRONMENT": "development",
           "PAPERGRAPH_SHUTDOWN_TIMEOUT": "2"}
    with serve_on_loopback(own_subgraph()) as weather, open(tmp_path / "supergraph.log", "w+") as log:
        # when: it starts, composing the weather subgraph too
        process = subprocess.Popen(
            [sys.executable, "-m", "sandbox.supergraph", "--gateway-port", str(gateway_port), "--delivery-port",
             str(delivery_port), "--subgraph", f"weather={weather}/graphql"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True)
        try:
            lines: queue.Queue[str] = queue.Queue()
            threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()
            try:
                ready = json.loads(lines.get(timeout=120) or "{}")
            except queue.Empty:
                ready = {}
            log.seek(0)
            assert ready.get("ready"), log.read()[-3000:]
            token = sign_in(f"http://127.0.0.1:{papergraph_port}/sandbox/auth0", "admin")
            answer = httpx.post(ready["gateway"], json={"query": ROUTE},
                                headers={"authorization": f"Bearer {token}"}, timeout=30).json()
        finally:
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=60)

    # then: one answer from three subgraphs (papergraph's statuses, delivery's notes, the weather), then a clean stop
    assert "errors" not in answer, answer
    route = answer["data"]["deliveryRoute"]
    assert [stop["id"] for stop in route["stops"]] == ["NCS-0000001", "NCS-0000002", "NCS-0000003"]
    assert all(stop["status"] and stop["deliveryNotes"].startswith("Leave ") for stop in route["stops"])
    assert answer["data"]["weather"] == "sunny"
    assert ready["gateway"].startswith(f"http://127.0.0.1:{gateway_port}")
    assert code == 0
