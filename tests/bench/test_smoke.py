"""CI smoke test of the benchmark suite: the whole `python -m bench run` pipeline — database, seeding,
emulators, papergraph, the Apollo peer (its node dependencies installed by the run), wrk — at a tiny
scale and duration. It asserts the report's shape and that requests were served, never timings: the CI
machines are shared and small."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import BACKENDS

ROOT = Path(__file__).resolve().parents[2]
PEER_SCENARIOS = {"dashboard", "catalog"}

pytestmark = pytest.mark.skipif("postgresql" not in BACKENDS, reason="the benchmark needs PostgreSQL at 127.0.0.1:5432")


def test_bench_run_reports_every_operation(tmp_path: Path) -> None:
    # given: a tiny run of its own (own database name, own output directory)
    database = f"papergraph_bench_smoke_{uuid.uuid4().hex[:8]}"
    command = [sys.executable, "-m", "bench", "run", "--scale", "1", "--duration", "1", "--warmup", "0",
               "--connections", "4", "--database", database, "--output", str(tmp_path)]

    # when
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=110,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})

    # then
    assert completed.returncode == 0, completed.stderr[-3000:]
    [report_path] = tmp_path.glob("bench-*.json")
    report = json.loads(report_path.read_text())
    rows = {(row["scenario"], row["target"]) for row in report["results"]}
    measured = {scenario for scenario, _ in rows}
    skipped = {entry["scenario"] for entry in report["skipped"]}
    assert {"dashboard", "staff_search", "catalog", "payment_quote"} <= measured
    assert "make_payment" in measured | skipped
    assert {(scenario, "apollo") for scenario in PEER_SCENARIOS} <= rows
    for row in report["results"]:
        assert row["requests"] > 0, row
        assert row["errors"] == 0, row
        assert row["graphql_errors"] == 0, row  # counted by the wrk script from the answers themselves
        assert row["cpu_ms_per_request"] is not None, row
    assert report["machine"]["nproc"] >= 1
    assert report["seed"]["subscriptions"] == 1000
    markdown = next(tmp_path.glob("bench-*.md")).read_text()
    assert "| dashboard | papergraph | 4 |" in markdown
    assert "| dashboard | apollo | 4 |" in markdown
