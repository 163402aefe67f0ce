"""The browser demo (`/demo`, demo/): served by papergraph outside production, and driven end to end in headless
Chromium (Debian's, by playwright-core from tests/node/demo_e2e.mjs) against `papergraph run` on loopback with a
fresh SQLite database and the emulators in-process: sign in as the demo subscriber, read the dashboard, pay an
active subscription and restart a stopped one through NavigaPay's hosted iframe, then run a query in GraphiQL —
with the network blocked, GraphiQL's assets coming from papergraph itself.
The charges are checked where they landed: NavigaPay's and the circulation system's own ledgers, and
papergraph's.

Chromium comes from Debian (`make test` installs it as root when /usr/bin/chromium is missing); without it the
end-to-end test is skipped, and fails under CI."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from app import create_app
from sandbox.signin import sign_in
from settings import Settings
from tests.browser.support import require_chromium, run_walk
from tests.support import papergraph_run

SUBSCRIBER = {"username": "bjorn.haddad.1@ncsdemo.example.com", "password": "Demo-pass-1!"}  # `cli token subscriber`
PAYABLE = "NCS-0000102"  # active, digital 1M at 10.79, no payment method yet
RESTARTABLE = "NCS-0000027"  # stopped, REGULAR, a 3.10 credit, no payment method
CARD = {"number": "4242 4242 4242 4242", "expiry": "12/30", "cvv": "123", "name": "Bjorn Haddad"}
LEDGER = "query ($id: ID!) { subscription(id: $id) { status payments { state total { amount } } } }"


async def test_demo_is_served_with_its_config_outside_production(tmp_path):
    # given
    app = create_app(Settings(environment="test", database_url=f"sqlite+aiosqlite:///{tmp_path}/demo.db"))

    # when
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://papergraph.test") as client:
        page = await client.get("/demo/")
        script = await client.get("/demo/app.js")
        config = await client.get("/demo/config.json")

    # then
    assert page.status_code == 200 and '<script type="module" src="app.js">' in page.text
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert config.json() == {"graphqlUrl": "/graphql", "auth0": {
        "url": "/sandbox/auth0", "clientId": "papergraph-spa", "audience": "https://api.papergraph.dev"}}


async def test_demo_is_not_served_in_production_unless_asked(tmp_path):
    # given
    production = dict(environment="production", upstreams="remote", secret_key="s" * 32,
                      auth0_client_secret="a" * 32, navigapay_api_key="n" * 32,
                      database_url=f"sqlite+aiosqlite:///{tmp_path}/demo.db")

    # when
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(Settings(**production))),
                                 base_url="http://papergraph.test") as client:
        hidden = await client.get("/demo/")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(Settings(**production, demo=True))),
                                 base_url="http://papergraph.test") as client:
        asked = await client.get("/demo/config.json")

    # then: asked for, it points at the real Auth0 tenant
    assert hidden.status_code == 404
    assert asked.status_code == 200 and asked.json()["auth0"]["url"] == "http://127.0.0.1:8102"


@pytest.fixture
def demo_server(tmp_path):
    """`papergraph run` as a developer starts it (`make run`): embedded emulators, a new SQLite database that it
    migrates and seeds with the demo data."""
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/papergraph.db", "PAPERGRAPH_ENVIRONMENT": "development"}
    with papergraph_run(env, tmp_path / "papergraph.log") as server:
        yield server


def drive_demo(base: str, chromium: str, artifacts: Path) -> dict:
    """Run tests/node/demo_e2e.mjs; its JSON outcome, or a failure showing where it broke."""
    config = {"baseUrl": base, "chromium": chromium, **SUBSCRIBER, "pay": PAYABLE, "restart": RESTARTABLE,
              "card": CARD, "artifacts": str(artifacts), "graphiqlQuery": "{ me { email linkedSubscriptions { id } } }"}
    return run_walk("demo_e2e.mjs", config, "the demo")


def total_of(label: str) -> str:
    """"Pay $16.38" → "16.38": the total the page showed (en-US)."""
    return label.rsplit("$", 1)[1].replace(",", "")


def test_demo_pays_and_restarts_through_the_hosted_iframe_and_each_charge_lands_once(demo_server, tmp_path):
    # given: papergraph as `make run` starts it, and Debian's Chromium
    chromium = require_chromium()
    base = demo_server.base

    # when: the demo subscriber signs in, pays one subscription and restarts another, entering a card in the
    # NavigaPay frame each time (with a double click on each confirmation), then runs a query in GraphiQL
    outcome = drive_demo(base, chromium, tmp_path)

    # then: the dashboard showed what the API has, amounts as the server computed them
    dashboard = outcome["dashboard"][PAYABLE]
    assert "6 - Business" in dashboard and "$3.10 credit" in dashboard and "1 month: $10.79" in dashboard
    paid, restarted = total_of(outcome["paid"]["label"]), total_of(outcome["restarted"]["label"])
    assert paid == "16.38"  # 10.79 + the 5.00 activation fee (PAY-2) + 3.5 % fee 0.55 and its 7 % tax 0.04
    assert "Payment applied" in outcome["paid"]["status"]
    assert "Subscription restarted" in outcome["restarted"]["status"] and "active" in outcome["restartedCard"]
    # and each charge landed exactly once: one captured sale per checkout at NavigaPay, applied once by the
    # circulation system, one APPLIED attempt in papergraph
    gateway = httpx.get(f"{base}/sandbox/navigapay/_sandbox/ledger", params={"merchant": "NCSDEMO"}).json()["entries"]
    circulation = httpx.get(f"{base}/sandbox/circulation/_sandbox/ledger",
                            params={"paperCode": "NCSDEMO"}).json()["entries"]
    sales = {sale["transactionId"]: sale for sale in gateway if sale["kind"] == "SALE"}
    assert sorted(sale["amount"] for sale in sales.values()) == sorted([paid, restarted])
    assert all(sale["state"] == "captured" for sale in sales.values())
    applied = {(entry["operation"], entry["subscriptionId"]): entry for entry in circulation}
    assert len(circulation) == 2 and set(applied) == {("PAYMENT", PAYABLE), ("RESTART", RESTARTABLE)}
    assert sales[applied[("PAYMENT", PAYABLE)]["gatewayTransactionId"]]["amount"] == paid
    assert sales[applied[("RESTART", RESTARTABLE)]["gatewayTransactionId"]]["amount"] == restarted
    token = sign_in(f"{base}/sandbox/auth0", "subscriber")
    for subscription_id, total in ((PAYABLE, paid), (RESTARTABLE, restarted)):
        answer = httpx.post(f"{base}/graphql", json={"query": LEDGER, "variables": {"id": subscription_id}},
                            headers={"authorization": f"Bearer {token}"}).json()
        assert answer["data"]["subscription"]["status"] == "ACTIVE"
        assert answer["data"]["subscription"]["payments"] == [{"state": "APPLIED", "total": {"amount": total}}]
    # and GraphiQL, with the Authorization header set in its Headers tab, showed the subscriber's answer
    assert SUBSCRIBER["username"] in outcome["graphiql"] and PAYABLE in outcome["graphiql"]
    # and with the network blocked, GraphiQL loaded its assets from papergraph (issue 19, item 4): nothing tried to
    # leave the machine; with those assets blocked too, the page said why instead of "Loading..."
    assert outcome["offline"] == []
    assert "GraphiQL could not load" in outcome["graphiqlFallback"] and "make install" in outcome["graphiqlFallback"]
    assert not [line for line in outcome["console"] if line.startswith("pageerror")], outcome["console"]
