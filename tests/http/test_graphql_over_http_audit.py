"""graphql-http's audit suite (the GraphQL-over-HTTP specification's conformance checks, MUST, SHOULD and
MAY alike) run against papergraph served on a loopback port: every audit passes, none warns."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.support import NODE_DIR, require_node

AUDITS_AT_LEAST = 60  # graphql-http 1.x ships 61: fewer means the suite did not really run


@pytest.fixture(scope="module")
def audit_results(papergraph_on_loopback) -> list[dict]:
    node = require_node()
    base_url, _recorder = papergraph_on_loopback
    completed = subprocess.run([node, "audit.mjs", f"{base_url}/graphql"], cwd=NODE_DIR, capture_output=True,
                               text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def test_every_graphql_over_http_audit_passes(audit_results):
    # then
    failed = [f"{r['id']} [{r['status']}] {r['name']}: {r['reason']}" for r in audit_results if r["status"] != "ok"]
    assert len(audit_results) >= AUDITS_AT_LEAST
    assert failed == [], "audits not passed:\n" + "\n".join(failed)
