"""The demo's billing and auto-pay panel (demo/account.js) end to end in headless Chromium (tests/node/account_e2e.mjs)
against `papergraph run` on loopback with a fresh SQLite database and the emulators in-process: the demo subscriber
signs a subscription up to eBill (EBL-1), downloads its newest bill statement as a PDF (EBL-4), reads the auto-pay
plan of another (EZ-4) and cancels it (EZ-5). Each change is checked where it landed: the circulation system's own
state and ledger, and papergraph's answers and events.

Chromium and Node come as for tests/browser/test_demo.py; without them the test is skipped, and fails under CI."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from sandbox.signin import sign_in
from tests.browser.support import require_chromium, run_walk
from tests.browser.test_demo import SUBSCRIBER
from tests.support import papergraph_run

EBILL = "NCS-0000202"  # active print, owned by the demo subscriber, not on auto-pay nor eBill, billed since March
AUTO_PAY = "NCS-0000152"  # active, on auto-pay, owned by the demo subscriber
STATE = """
query ($id: ID!) { subscription(id: $id) { status autoPay ebill events { nodes { typeCode } } } }
"""


@pytest.fixture
def demo_server(tmp_path):
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/papergraph.db", "PAPERGRAPH_ENVIRONMENT": "development"}
    with papergraph_run(env, tmp_path / "papergraph.log", start_timeout=240) as server:  # a bound on a hang (shared CI)
        yield server


def drive(base: str, chromium: str, artifacts: Path) -> dict:
    config = {"baseUrl": base, "chromium": chromium, **SUBSCRIBER, "ebill": EBILL, "autoPay": AUTO_PAY,
              "artifacts": str(artifacts)}
    return run_walk("account_e2e.mjs", config, "the account panel")


def test_demo_signs_up_to_ebill_downloads_a_statement_and_cancels_auto_pay(demo_server, tmp_path):
    # given: papergraph as `make run` starts it, and Debian's Chromium
    chromium = require_chromium()
    base = demo_server.base

    # when: the demo subscriber signs NCS-0000202 up to eBill (double-clicking), downloads its newest statement,
    # then reads NCS-0000152's auto-pay plan and cancels it
    outcome = drive(base, chromium, tmp_path)

    # then: the page showed the flag switched, served a real PDF through the checked route, and the plan
    assert outcome["ebill"]["before"].startswith("Off") and outcome["ebill"]["after"].startswith("On")
    download = outcome["download"]
    assert (download["status"], download["contentType"]) == (200, "application/pdf")
    assert download["head"].startswith("%PDF-1.") and download["filename"].endswith(".pdf")
    assert Path(download["saved"]).read_bytes().startswith(b"%PDF-1.")
    assert "Auto-pay plan" in outcome["plan"] and "Renews by itself\nyes" in outcome["plan"]
    assert "Current plan" in outcome["cancelled"]["plan"] and "Renews by itself\nno" in outcome["cancelled"]["plan"]
    assert outcome["cancelled"]["cancelButtons"] == 0
    # and the circulation system holds it: one eBill sign-up despite the double click, one auto-pay cancel
    ledger = httpx.get(f"{base}/sandbox/circulation/_sandbox/ledger", params={"paperCode": "NCSDEMO"}).json()["entries"]
    assert [(e["operation"], e["subscriptionId"]) for e in ledger] == [("EBILL_SIGNUP", EBILL),
                                                                      ("AUTOPAY_CANCEL", AUTO_PAY)]
    token = sign_in(f"{base}/sandbox/auth0", "subscriber")
    states = {}
    for subscription_id in (EBILL, AUTO_PAY):
        answer = httpx.post(f"{base}/graphql", json={"query": STATE, "variables": {"id": subscription_id}},
                            headers={"authorization": f"Bearer {token}"}).json()
        states[subscription_id] = answer["data"]["subscription"]
    assert states[EBILL]["ebill"] is True
    assert "EBILLSIGNUP" in [e["typeCode"] for e in states[EBILL]["events"]["nodes"]]
    assert (states[AUTO_PAY]["autoPay"], states[AUTO_PAY]["status"]) == (False, "ACTIVE")
    assert "AUTOPAYCANCEL" in [e["typeCode"] for e in states[AUTO_PAY]["events"]["nodes"]]
    assert outcome["offline"] == []
    assert not [line for line in outcome["console"] if line.startswith("pageerror")], outcome["console"]
