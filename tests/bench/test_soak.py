"""The soak test (`python -m bench soak`, bench/soak.py): its ledger check on hand-made ledgers, and a short run of
the whole thing — two servers on PostgreSQL, faulty emulators, a restart of one server with payments in flight,
reconciliation — whose report must say the ledgers agree. The real run is minutes long and not part of the
suite (README: Soak test)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

from bench.soak import check_ledgers
from tests.conftest import BACKENDS

ROOT = Path(__file__).resolve().parents[2]


def attempt(id: int, state: str, total: str = "16.38", sale: str | None = None, applied: str | None = None) -> dict:
    return {"id": id, "flow": "ONE_TIME", "state": state, "total": Decimal(total), "gateway_transaction_id": sale,
            "circulation_transaction_id": applied, "reference": f"pg-ref:NCSDEMO:{id}", "last_error": None}


def sale(id: str, attempt_id: int, state: str = "captured", amount: str = "16.38") -> dict:
    return {"transactionId": id, "reference": f"pg-ref:NCSDEMO:{attempt_id}", "state": state, "amount": amount}


def application(id: str, sale_id: str | None, subscription_id: str = "NCS-0000002") -> dict:
    return {"transactionId": id, "operation": "PAYMENT", "subscriptionId": subscription_id,
            "gatewayTransactionId": sale_id}


def test_ledgers_agree_when_each_charge_is_applied_once_or_given_back():
    # given: an applied payment, a voided one, a declined one and a restart the credit covered (RST-4)
    rows = [attempt(1, "APPLIED", sale="txn_1", applied="CT1"), attempt(2, "VOIDED", sale="txn_2"),
            attempt(3, "DECLINED", sale="txn_3"), attempt(4, "APPLIED", total="0.00", applied="CT2")]
    sales = [sale("txn_1", 1), sale("txn_2", 2, "voided"), sale("txn_3", 3, "declined")]
    applications = [application("CT1", "txn_1"), application("CT2", None)]

    # when
    problems, counts = check_ledgers(rows, sales, applications, keys_in_progress=0)

    # then
    assert problems == []
    assert counts["payments_by_state"] == {"APPLIED": 2, "VOIDED": 1, "DECLINED": 1}
    assert counts["sales"] == {"captured": 1, "voided": 1, "declined": 1}


def test_ledgers_disagree_on_a_double_charge_and_a_charge_never_applied():
    # given: attempt 1 charged twice under its reference, attempt 2 charged and applied nowhere
    rows = [attempt(1, "APPLIED", sale="txn_1", applied="CT1"), attempt(2, "APPLIED", sale="txn_3", applied="CT9")]
    sales = [sale("txn_1", 1), sale("txn_2", 1), sale("txn_3", 2)]
    applications = [application("CT1", "txn_1")]

    # when
    problems, _ = check_ledgers(rows, sales, applications, keys_in_progress=0)

    # then
    assert "payment 1 charged 2 times" in problems
    assert "sale txn_3 applied 0 times" in problems
    assert "sale txn_2 applied 0 times" in problems


def test_ledgers_disagree_on_unfinished_attempts_and_an_application_of_money_given_back():
    # given: an attempt left CHARGED, a key in progress, and a voided sale the circulation system applied
    rows = [attempt(1, "CHARGED", sale="txn_1"), attempt(2, "VOIDED", sale="txn_2")]
    sales = [sale("txn_1", 1), sale("txn_2", 2, "voided")]
    applications = [application("CT1", "txn_2")]

    # when
    problems, _ = check_ledgers(rows, sales, applications, keys_in_progress=1)

    # then
    assert "payment 1 is still CHARGED: None" in problems
    assert "1 idempotency keys of payments are still in progress" in problems
    assert "sale txn_2 is voided and applied all the same" in problems
    assert "circulation CT1 applied without a kept charge (txn_2)" in problems


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="the soak needs PostgreSQL at 127.0.0.1:5432")
def test_a_short_soak_with_a_restart_ends_with_the_ledgers_agreeing(tmp_path):
    # given: a short run of its own (own database, own output directory): 15 s of load, server b restarted once
    command = [sys.executable, "-m", "bench", "soak", "--seconds", "15", "--restart-every", "6", "--clients", "4",
               "--scale", "2", "--database", f"papergraph_soak_{uuid.uuid4().hex[:8]}", "--output", str(tmp_path)]

    # when
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})

    # then
    [path] = tmp_path.glob("soak-*.json")
    report = json.loads(path.read_text())
    assert completed.returncode == 0 and report["ok"], (report.get("failures"), completed.stderr[-3000:])
    assert report["problems"] == [] and report["requests"]["hung"] == 0
    assert len(report["restarts"]) >= 1
    assert report["ledgers"]["payments_by_state"].get("APPLIED", 0) > 0
    assert set(report["ledgers"]["payments_by_state"]) <= {"APPLIED", "VOIDED", "REFUNDED", "DECLINED", "FAILED"}
