"""`python -m bench served` (bench/served.py): papergraph run under wrk, CPU per request per measurement and the
split between workers; py-spy's raw stacks summarised. Shape and counts only, never timings."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from bench.served import summarise
from tests.conftest import BACKENDS

ROOT = Path(__file__).resolve().parents[2]


def test_summarise_gives_each_module_and_innermost_function_its_share_of_the_samples(tmp_path):
    raw = tmp_path / "w.txt"
    raw.write_text(
        "Runner.run (asyncio/runners.py:118);execute_fields (server/execution.py:230) 6\n"
        "Runner.run (asyncio/runners.py:118);Pool.fetch (/v/lib/python3.11/site-packages/asyncpg/pool.py:745) 3\n"
        "Runner.run (asyncio/runners.py:118) 1\n")
    summary = summarise(raw)
    assert summary["modules"] == [("server", 60.0), ("asyncpg", 30.0), ("asyncio", 10.0)]
    assert summary["functions"][0] == ("execute_fields (server/execution.py:230)", 60.0)


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="needs PostgreSQL at 127.0.0.1:5432")
def test_served_measures_papergraph_run_with_both_workers_serving():
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "served", "--scenario", "catalog", "--scale", "1", "--seconds", "2",
         "--warmup", "1", "--repeat", "2", "--latency-ms", "0", "--database", f"papergraph_served_{uuid.uuid4().hex[:8]}"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    rows = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]
    assert [row["round"] for row in rows] == [0, 1]
    for row in rows:
        assert row["requests"] > 0 and row["cpu_ms_per_request"] > 0
        assert len(row["worker_cpu_s"]) == 2
