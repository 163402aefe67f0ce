"""The demo's servicing part (demo/servicing.js, issue 16 item 5) driven end to end in headless Chromium
(tests/node/servicing_e2e.mjs) against `papergraph run` with a fresh database: the demo subscriber schedules a
vacation stop on a print subscription and cancels it (STP-1), then reports a missed delivery made good with
e-edition access (CMP-1, CMP-2). The outcome is checked where it landed: the circulation emulator's ledger and
state, and the entitlement through papergraph's API."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from sandbox.signin import sign_in
from tests.browser.support import require_chromium, run_walk
from tests.browser.test_demo import SUBSCRIBER, demo_server  # noqa: F401 (fixture)

PRINT = "NCS-0000052"  # the demo subscriber's own active 7-Day print subscription
CHECK = """
query ($id: ID!) {
  subscription(id: $id) { temporaryStops { id } complaints { category resolution temporaryEntitlement { id } } }
  me { crid temporaryEntitlements { id entitlementCode reason active } }
}
"""


def drive(base: str, chromium: str, artifacts: Path) -> dict:
    config = {"baseUrl": base, "chromium": chromium, **SUBSCRIBER, "subscription": PRINT, "artifacts": str(artifacts)}
    return run_walk("servicing_e2e.mjs", config, "the servicing demo")


def test_demo_vacation_stop_and_missed_delivery_complaint_with_eedition_access(demo_server, tmp_path):
    # given: papergraph as `make run` starts it, and Debian's Chromium
    chromium = require_chromium()
    base = demo_server.base

    # when: the subscriber schedules a stop with the offered dates, cancels it, and reports a missed delivery
    outcome = drive(base, chromium, tmp_path)

    # then: the page said so
    assert outcome["steps"] == ["sign in", "open servicing", "schedule stop", "cancel stop", "complain"]
    assert outcome["stops"] == "No vacation stop scheduled."
    assert "e-edition access until" in outcome["history"]
    # and the circulation system scheduled the stop with the page's dates, removed it, and holds the complaint
    ledger = httpx.get(f"{base}/sandbox/circulation/_sandbox/ledger", params={"paperCode": "NCSDEMO"}).json()["entries"]
    mine = [e for e in ledger if e["subscriptionId"] == PRINT]
    assert [e["operation"] for e in mine] == ["TEMPORARY_STOP", "TEMPORARY_STOP_CANCEL", "COMPLAINT"]
    stop = mine[0]["temporaryStop"]
    assert (stop["startDate"], stop["restartDate"]) == (outcome["scheduled"]["start"], outcome["scheduled"]["restart"])
    assert (mine[2]["complaint"]["category"], mine[2]["complaint"]["deliveryDate"]) == ("MISSED", outcome["deliveryDate"])
    # and through the API: no stop left, the complaint, and the e-edition access it granted (CMP-2, ENT-3)
    token = sign_in(f"{base}/sandbox/auth0", "subscriber")
    answer = httpx.post(f"{base}/graphql", json={"query": CHECK, "variables": {"id": PRINT}},
                        headers={"authorization": f"Bearer {token}"}).json()
    assert "errors" not in answer, answer
    subscription = answer["data"]["subscription"]
    assert subscription["temporaryStops"] == []
    [complaint] = subscription["complaints"]
    assert (complaint["category"], complaint["resolution"]) == ("MISSED", "EEDITION_ACCESS")
    granted = [e for e in answer["data"]["me"]["temporaryEntitlements"] if e["reason"] == "COMPLAINT"]
    assert granted == [{"id": complaint["temporaryEntitlement"]["id"], "entitlementCode": "EEDITION",
                        "reason": "COMPLAINT", "active": True}]
    assert outcome["offline"] == []
    assert not [line for line in outcome["console"] if line.startswith("pageerror")], outcome["console"]
