"""CI smoke test of the benchmark suite: the whole `python -m bench run` pipeline — database, seeding,
emulators, papergraph (fast and stock execution, each started with `papergraph run`), the Apollo peer (its
node dependencies installed by the run), wrk — at a tiny scale and duration. It asserts the report's shape,
that requests were served, that the peer refuses and allows what papergraph does (AUT-1, TEN-1, LNK-4) and
that every warm-up answer was compared, never timings: the CI machines are shared and small."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from bench.runner import AnswerBook, forge, normalized
from tests.conftest import BACKENDS

ROOT = Path(__file__).resolve().parents[2]
PEER_SCENARIOS = {"dashboard", "catalog"}

needs_postgresql = pytest.mark.skipif("postgresql" not in BACKENDS,
                                     reason="the benchmark needs PostgreSQL at 127.0.0.1:5432")
SERVERS = ("papergraph", "papergraph-stock", "apollo")


def test_answer_book_keeps_a_difference_between_servers_for_the_same_request() -> None:
    # given: two servers answering the same dashboard request, one of them with another balance
    book = AnswerBook()
    same = normalized(200, {"data": {"registration": {"crid": "c1"}}, "extensions": {"cost": {"requested": 9}}})
    other = normalized(200, {"data": {"registration": {"crid": "c2"}}})

    # when
    book.record("papergraph", "dashboard", "c1", same)
    book.record("apollo", "dashboard", "c1", normalized(200, {"data": {"registration": {"crid": "c1"}}}))
    book.record("papergraph-stock", "dashboard", "c1", other)

    # then: papergraph's cost extension is not part of the answer compared; the different answer is kept
    assert book.compared == 2
    assert [d["request"] for d in book.differences] == ["c1"]
    assert book.differences[0]["papergraph-stock"]["data"] == {"registration": {"crid": "c2"}}


def test_a_forged_token_differs_from_the_original_in_its_signature_only() -> None:
    token = "aGVhZA.cGF5bG9hZA.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
    forged = forge(token)
    assert forged != token
    assert forged.split(".")[:2] == token.split(".")[:2]


@needs_postgresql
def test_bench_run_reports_every_operation(tmp_path: Path) -> None:
    # given: a tiny run of its own (own database name, own output directory), one round per cell
    database = f"papergraph_bench_smoke_{uuid.uuid4().hex[:8]}"
    command = [sys.executable, "-m", "bench", "run", "--scale", "1", "--duration", "1", "--warmup", "0",
               "--compare-min", "12", "--rounds", "1", "--connections", "4", "--database", database,
               "--output", str(tmp_path)]

    # when
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300,
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
    assert {(scenario, "papergraph-stock") for scenario in measured} <= rows
    for row in report["results"]:
        assert row["requests"] > 0, row
        assert row["errors"] == 0, row
        assert row["graphql_errors"] == 0, row  # counted by the wrk script from the answers themselves
        assert row["cpu_ms_per_request"] is not None, row
    assert report["machine"]["nproc"] >= 1
    assert report["seed"]["subscriptions"] == 1000
    assert report["commit"]["commit"]
    # AUT-1, TEN-1, LNK-4: the peer refuses a forged, unsigned, foreign-audience and foreign-tenant token as
    # papergraph does, and answers another customer's registration with the same FORBIDDEN error
    parity = {row["case"]: row for row in report["auth_parity"]}
    assert all(row["same"] and row["ok"] for row in parity.values()), parity
    assert parity["forged signature (AUT-1)"]["status"] == {server: 401 for server in SERVERS}
    assert parity["another tenant's token (TEN-1)"]["status"] == {server: 403 for server in SERVERS}
    assert "another customer's registration (LNK-4)" in parity
    # every warm-up request's answer compared: no cell left out, no difference
    answers = report["answers"]
    assert answers["differences"] == []
    assert answers["requests"]["apollo"] >= 12 * len(PEER_SCENARIOS)
    assert answers["requests"]["papergraph-stock"] >= 12 * len(measured - {"make_payment"})
    assert answers["compared"] >= answers["requests"]["apollo"] + answers["requests"]["papergraph-stock"]
    markdown = next(tmp_path.glob("bench-*.md")).read_text()
    for server in SERVERS:
        assert f"| dashboard | {server} | 4 |" in markdown
