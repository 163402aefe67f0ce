"""CORS in Chromium (issue 19, item 16): a page served from a second loopback origin, on papergraph's allowlist,
runs a query against papergraph and reads the answer; the same page from an origin not on the list is refused by
the browser (its preflight gets no Access-Control-Allow-Origin). Plain HTTP checks: tests/http/test_cors.py."""

from __future__ import annotations

import contextlib
import json
import subprocess

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from app import create_app
from tests.browser.support import require_chromium
from tests.support import NODE_DIR, free_port, require_node, serve_on_loopback

pytestmark = pytest.mark.sqlite_only("CORS headers are decided before anything reads the database")

PORTAL_PAGE = """<!doctype html><html><head><title>portal</title></head><body><pre id="outcome"></pre><script>
const outcome = document.getElementById("outcome");
fetch("__API__/graphql", {method: "POST", headers: {"content-type": "application/json", "x-tenant": "NCSDEMO"},
                          body: JSON.stringify({query: "{ __typename }"})})
  .then((response) => response.json())
  .then((body) => { outcome.textContent = "answered " + JSON.stringify({data: body.data}); })
  .catch((error) => { outcome.textContent = "refused " + error.message; })
  .finally(() => { outcome.dataset.done = "1"; });
</script></body></html>"""


def portal(api: str) -> Starlette:
    """A publisher's portal: one page that calls papergraph from the browser."""
    async def page(request):
        return HTMLResponse(PORTAL_PAGE.replace("__API__", api))

    return Starlette(routes=[Route("/", page)])


def test_a_page_on_an_allowed_origin_queries_papergraph_and_one_on_another_origin_is_refused(settings, tmp_path):
    # given: papergraph allowing one loopback origin, and the same portal page served from it and from another
    chromium, node = require_chromium(), require_node()
    allowed_port, other_port = free_port(), free_port()
    papergraph = create_app(settings.model_copy(update={"cors_allowed_origins": f"http://127.0.0.1:{allowed_port}"}))
    with contextlib.ExitStack() as stack:
        api = stack.enter_context(serve_on_loopback(papergraph))
        allowed = stack.enter_context(serve_on_loopback(portal(api), allowed_port))
        other = stack.enter_context(serve_on_loopback(portal(api), other_port))

        # when: Chromium opens both pages
        config = {"chromium": chromium, "pages": {"allowed": f"{allowed}/", "other": f"{other}/"}}
        completed = subprocess.run([node, "cors_e2e.mjs", json.dumps(config)], cwd=NODE_DIR, capture_output=True,
                                   text=True, timeout=120)

    # then: the allowed origin read papergraph's answer; the other one's request was refused by the browser
    lines = completed.stdout.strip().splitlines()
    result = json.loads(lines[-1]) if lines else {"ok": False, "error": completed.stderr[-3000:]}
    assert result["ok"], result
    assert result["outcomes"]["allowed"] == 'answered {"data":{"__typename":"Query"}}', result
    assert result["outcomes"]["other"].startswith("refused"), result
    assert any("blocked by CORS policy" in line for line in result["console"] if line.startswith("other")), result
