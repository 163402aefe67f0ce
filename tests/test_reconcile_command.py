"""`papergraph reconcile` logs the way the README promises for papergraph (telemetry/logs.py): one JSON object
per line on stdout, every string through the redactor, the run's report included, and nothing unformatted
on stderr. Run as the scheduler runs it: a process of its own.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from decimal import Decimal

from datasources.db import Database
from datasources.models import Payment, Tenant, utcnow
from tests.support import ROOT

SECRET = "hunter2-never-logged"


async def a_pending_payment_whose_retry_breaks(url: str) -> None:
    """A PENDING_APPLY attempt whose circulation call is unknown to papergraph: reconciling it raises an
    unexpected error whose message carries a password, so its traceback must be redacted."""
    db = Database(url)
    try:
        async with db.session() as session:
            tenant = Tenant(code="LOGTEST", name="Log test", circulation_kind="NCS", time_zone="UTC")
            session.add(tenant)
            await session.flush()
            zero = Decimal("0.00")
            session.add(Payment(
                tenant_id=tenant.id, subscription_id="LOGTEST-1", flow="ONE_TIME", state="PENDING_APPLY",
                currency="USD", option_amount=Decimal("10.00"), option_tax=zero, tip=zero, donation=zero,
                activation_fee=zero, processing_fee=zero, fee_tax=zero, balance_applied=zero,
                total=Decimal("10.00"), gateway_transaction_id="txn_1", idempotency_key="log-test",
                created_at=utcnow(), updated_at=utcnow(),
                plan={"steps": [{"call": f"password={SECRET}", "body": {}, "key": "k", "money": True}]}))
            await session.commit()
    finally:
        await db.dispose()


def test_reconcile_logs_json_lines_redacted_on_stdout(tmp_path):
    # given: a database with one attempt whose reconciliation breaks with a secret in its error
    from cli import migrate
    from settings import Settings

    url = f"sqlite+aiosqlite:///{tmp_path / 'reconcile.db'}"
    migrate(Settings(database_url=url, environment="test"))
    asyncio.run(a_pending_payment_whose_retry_breaks(url))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PAPERGRAPH_DATABASE_URL": url,
           "PAPERGRAPH_ENVIRONMENT": "test", "PAPERGRAPH_UPSTREAMS": "remote",
           "PAPERGRAPH_CIRCULATION_BASE_URL": "http://127.0.0.1:9", "PAPERGRAPH_NAVIGAPAY_BASE_URL": "http://127.0.0.1:9",
           "PAPERGRAPH_AUTH0_BASE_URL": "http://127.0.0.1:9"}

    # when
    completed = subprocess.run([sys.executable, "-m", "cli", "reconcile", "--stale-after", "0"], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=120)

    # then: exit 1 (an attempt broke), every stdout line a JSON log entry, the secret nowhere
    assert completed.returncode == 1, completed.stderr[-2000:]
    lines = [json.loads(line) for line in completed.stdout.splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines), lines
    [broken] = [line for line in lines if line["message"].startswith("reconciling payment")]
    assert broken["level"] == "error" and broken["logger"] == "papergraph.reconcile"
    assert "KeyError" in broken["traceback"] and "[REDACTED]" in broken["traceback"]
    [report] = [line for line in lines if line["message"].startswith("reconcile:")]
    assert "1 attempts examined" in report["message"] and "errors 1" in report["message"]
    assert SECRET not in completed.stdout and SECRET not in completed.stderr
    assert completed.stderr.strip() == ""
