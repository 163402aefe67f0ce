"""The demo's address change (ADR-1, ADR-3), driven end to end in headless Chromium (tests/node/address_e2e.mjs)
against `papergraph run` with a fresh SQLite database and the emulators in-process: the demo subscriber reads the
delivery address of a subscription they own, is refused a postal code outside the paper's PostalCodeMask (`99999`
on NCSDEMO), then moves. The move is checked where it landed: the circulation emulator's ledger and its subscriber
record as papergraph reads it."""

from __future__ import annotations

import json

import httpx
import pytest

from sandbox.signin import sign_in
from tests.browser.support import require_chromium, run_walk
from tests.browser.test_demo import SUBSCRIBER
from tests.support import papergraph_run

OWNED = "NCS-0000102"  # the demo subscriber owns it (tests/browser/test_demo.py pays it)
NEW_ADDRESS = {"houseNumber": "77", "streetName": "Harbour Road", "city": "Springfield", "postalCode": "10009",
               "country": "US"}
READ = """query ($id: ID!) { subscription(id: $id) {
  subscriber { address { houseNumber streetName city postalCode country } }
  addressMoves { effectiveDate status } } }"""


@pytest.fixture
def demo_server(tmp_path):
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/papergraph.db", "PAPERGRAPH_ENVIRONMENT": "development"}
    with papergraph_run(env, tmp_path / "papergraph.log") as server:
        yield server


def test_demo_address_change_is_refused_outside_the_mask_then_moves_the_subscriber(demo_server, tmp_path):
    # given: papergraph as `make run` starts it, and Debian's Chromium
    chromium = require_chromium()
    base = demo_server.base
    config = {"baseUrl": base, "chromium": chromium, **SUBSCRIBER, "subscription": OWNED, "address": NEW_ADDRESS,
              "badPostalCode": "123", "artifacts": str(tmp_path)}

    # when: the subscriber tries a three-digit postal code, then a valid address, without picking a date
    outcome = run_walk("address_e2e.mjs", config, "the address demo")

    # then: the page showed the refusal, then the new address and the applied move
    assert "99999" in outcome["refusal"] and "INVALID_POSTAL_CODE" in outcome["refusal"]
    assert outcome["status"] == "Address changed to 77 Harbour Road, Springfield, 10009, US."
    assert "Harbour Road" not in outcome["before"] and "77 Harbour Road" in outcome["after"]
    # and the circulation emulator holds it: one ADDRESS_MOVE (the refused try never reached it), applied today
    ledger = httpx.get(f"{base}/sandbox/circulation/_sandbox/ledger", params={"paperCode": "NCSDEMO"}).json()["entries"]
    moves = [entry for entry in ledger if entry["operation"] == "ADDRESS_MOVE"]
    assert [(m["subscriptionId"], m["move"]["address"]) for m in moves] == [(OWNED, NEW_ADDRESS)]
    token = sign_in(f"{base}/sandbox/auth0", "subscriber")
    answer = httpx.post(f"{base}/graphql", json={"query": READ, "variables": {"id": OWNED}},
                        headers={"authorization": f"Bearer {token}"}).json()
    subscription = answer["data"]["subscription"]
    assert subscription["subscriber"]["address"] == NEW_ADDRESS
    assert [m["status"] for m in subscription["addressMoves"]] == ["APPLIED"]
    assert subscription["addressMoves"][0]["effectiveDate"] == moves[0]["move"]["effectiveDate"]
    assert not [line for line in outcome["console"] if line.startswith("pageerror")], outcome["console"]
    assert outcome["offline"] == []
