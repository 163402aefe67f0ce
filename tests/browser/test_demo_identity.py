"""The demo's identity journey (issue 15, item 7; docs/demo.md), walked end to end in headless Chromium (Debian's, by
playwright-core from tests/node/identity_e2e.mjs) against `papergraph run` on loopback with a fresh SQLite database
and the emulators in-process, mail included: a new customer of Valley Courier (CPRDEMO, an own-auth MG2 tenant)
signs up (USR-3), reads the verification mail on /demo/mail and verifies (USR-8, SSN-2), signs in with papergraph's
own sign-in (SSN-1, SSN-3), buys a new subscription with a new card in NavigaPay's hosted iframe (BUY-11, GW-1),
and invites a guest (INV-1), who accepts from the mail's link with a new password (INV-4, LNK-4); and a stranger
buys without an account (/demo/subscribe/), the subscription waiting for its claim (BUY-10).

Each outcome is then checked where it landed: NavigaPay's ledger, the circulation system's subscription and
ledger, the mail emulator's inbox (over its HTTP API: the messages papergraph sent over SMTP), and papergraph's
API (the links, the used links)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from app import create_app
from domain.messages import front_end_link
from settings import Settings
from tests.browser.test_demo import require_chromium
from tests.conftest import BACKENDS, POSTGRES_ADMIN_URL, _pg_admin
from tests.support import NODE_DIR, papergraph_run, require_node

TENANT = "CPRDEMO"
CUSTOMER = {"firstName": "Nina", "lastName": "Novak", "email": "nina.novak@example.com", "password": "Sunny-days-42!"}
GUEST = {"firstName": "Gus", "lastName": "Gray", "email": "gus.gray@example.com", "password": "Guest-pass-42!"}
STRANGER = {"firstName": "Sam", "lastName": "Stone", "email": "sam.stone@example.com"}
OFFER = "All Access Digital, 1 month"  # CPRDEMO's digital offer (sandbox/demo.py): 9.99 + 0.80 tax, no fees
ADDRESS = {"House number": "12", "Street": "Elm Ave", "City": "Springfield", "Postal code": "60601",
           "Country": "US"}
CARD = {"number": "4242 4242 4242 4242", "expiry": "12/30", "cvv": "123", "name": "Nina Novak"}
BROWSER_SECONDS = 150  # a bound on a hang, not a measurement

SIGN_IN = """mutation ($input: SignInInput!) { signIn(input: $input) { session { accessToken } userErrors { code } } }"""
LINKS = """query ($id: ID!) {
  subscription(id: $id) { id status links { role registration { email firstName lastName } } }
  pendingInvitations(subscriptionId: $id) { email }
}"""
MINE = "{ me { email links { role subscriptionId } } }"
VERIFY = """mutation ($input: VerifyEmailInput!) { verifyEmail(input: $input) { userErrors { code } } }"""


async def test_the_links_of_the_journeys_messages_land_on_demo_pages(tmp_path):
    """MSG-2, INV-4: under the default front end (papergraph's `/demo/`), the verification, invitation and
    sign-in links that messages carry open the demo's pages, their query kept through the trailing-slash redirect."""
    # given
    settings = Settings(environment="test", database_url=f"sqlite+aiosqlite:///{tmp_path}/demo.db")
    base = settings.frontend_base_url
    links = {"verify-email.js": front_end_link(base, "verify-email", email="a@example.com", code="c0de"),
             "invitation.js": front_end_link(base, "invitation", token="t0ken"),
             "sign-in.js": front_end_link(base, "sign-in")}

    # when
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings)), base_url=base,
                                 follow_redirects=True) as client:
        pages = {script: await client.get(link) for script, link in links.items()}
        modules = [await client.get(f"{base}{name}") for name in ("identity.js", "journey.js", "identity.css")]

    # then
    for script, page in pages.items():
        assert page.status_code == 200 and f'<script type="module" src="{script}">' in page.text, script
        assert page.url.query == httpx.URL(links[script]).query and page.url.path.endswith("/"), page.url
    assert [module.status_code for module in modules] == [200, 200, 200]
    assert "javascript" in modules[0].headers["content-type"]


@pytest.fixture(params=BACKENDS)
def new_database_url(request, tmp_path) -> str:
    """An empty database on each backend the suite runs on: the journey writes registrations, payments, links and
    invitations through papergraph's repositories."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/papergraph.db"
    name = f"papergraph_demo_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    request.addfinalizer(lambda: asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')))
    return f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"


@pytest.fixture
def demo_server(new_database_url, tmp_path):
    """`papergraph run` as `make run` starts it: embedded emulators (the mail emulator too, which the in-process
    delivery worker sends to over SMTP), a new database that it migrates and seeds with the demo data."""
    env = {"DATABASE_URL": new_database_url, "PAPERGRAPH_ENVIRONMENT": "development"}
    with papergraph_run(env, tmp_path / "papergraph.log") as server:
        yield server


def walk(base: str, chromium: str, artifacts: Path) -> dict:
    """Run tests/node/identity_e2e.mjs; its JSON outcome, or a failure showing its step, the browser console and
    the screenshot it saved."""
    node = require_node()
    config = {"baseUrl": base, "chromium": chromium, "artifacts": str(artifacts), "customer": CUSTOMER,
              "guest": GUEST, "stranger": STRANGER, "offer": OFFER, "address": ADDRESS, "card": CARD}
    completed = subprocess.run([node, "identity_e2e.mjs", json.dumps(config)], cwd=NODE_DIR, capture_output=True,
                               text=True, timeout=BROWSER_SECONDS)
    lines = completed.stdout.strip().splitlines()
    outcome = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {"ok": False}
    if not outcome.get("ok"):
        console = "\n".join(outcome.get("console", []))
        pytest.fail(f"the journey failed at step {outcome.get('step')!r} ({outcome.get('url')}): "
                    f"{outcome.get('error')}\nscreenshot: {outcome.get('screenshot')}\nbrowser console:\n{console}\n"
                    f"requests that would have left the machine: {outcome.get('offline')}\n"
                    f"node stderr:\n{completed.stderr[-3000:]}", pytrace=False)
    return outcome


def api(base: str, query: str, variables: dict | None = None, token: str | None = None) -> dict:
    headers = {"authorization": f"Bearer {token}"} if token else {"x-tenant": TENANT}
    answer = httpx.post(f"{base}/graphql", json={"query": query, "variables": variables or {}}, headers=headers,
                        timeout=30).json()
    assert "errors" not in answer, answer
    return answer["data"]


def signed_in(base: str, person: dict) -> str:
    payload = api(base, SIGN_IN, {"input": {"loginName": person["email"], "password": person["password"]}})["signIn"]
    assert payload["userErrors"] == [], payload
    return payload["session"]["accessToken"]


def inbox(base: str, address: str) -> list[dict]:
    """The messages the mail emulator received for `address`, read in full, oldest first."""
    listed = httpx.get(f"{base}/sandbox/mail/api/v1/search", params={"query": f"to:{address}"}).json()["messages"]
    return [httpx.get(f"{base}/sandbox/mail/api/v1/message/{m['ID']}").json() for m in reversed(listed)]


def test_demo_identity_journey_sign_up_verify_sign_in_buy_invite_and_accept(demo_server, tmp_path):
    """USR-3, USR-8, SSN-1, SSN-2, SSN-4, BUY-10, BUY-11, INV-1, INV-4, LNK-4, MSG-2: the whole journey in the
    browser, and a stranger's purchase without an account, each ledger and mailbox checked afterwards."""
    # given: papergraph as `make run` starts it, and Debian's Chromium
    chromium = require_chromium()
    base = demo_server.base

    # when: the customer signs up, verifies, signs in, buys and invites; the guest accepts in a browser of their own,
    # and a stranger buys in a third
    outcome = walk(base, chromium, tmp_path)

    # then: the page sent the customer to the mailbox, where the verification mail went to them, with a link into
    # the demo's front end that verified the address; the sign-in form came prefilled, and signing in showed them
    assert outcome["mailboxLink"] == f"../mail/?to={CUSTOMER['email'].replace('@', '%40')}"
    assert outcome["verification"]["subject"] == "Verify your e-mail for Valley Courier"
    assert outcome["verifiedAt"].startswith(f"{base}/demo/verify-email/?")
    assert "(INVALID_CODE)" in outcome["codeAgain"]  # its code, typed in afterwards: used already
    assert outcome["prefilled"] == CUSTOMER["email"] and CUSTOMER["email"] in outcome["who"]
    # and the purchase: the page showed the server's charge, and the dashboard the new subscription as the owner's
    charged = outcome["bought"].rsplit("$", 1)[1].split(" ")[0]
    assert charged == "10.79" and [label.endswith("$10.79") for label in outcome["offersSeen"]] == [True, True]
    subscription_id = outcome["subscriptionId"]
    assert "Owner" in outcome["ownerCard"] and "active" in outcome["ownerCard"]
    assert GUEST["email"] in outcome["invited"] and GUEST["email"] in outcome["pending"]
    # and signing out ended the session at papergraph: the page's token is refused since (SSN-4)
    assert outcome["signOutStatus"] == 200
    refused = httpx.post(f"{base}/graphql", json={"query": MINE},
                         headers={"authorization": f"Bearer {outcome['ownerToken']}"})
    assert refused.status_code == 401
    # and the guest saw who invited them, joined, and sees the subscription as a guest on their own account page
    assert outcome["invitationTitle"] == "Nina Novak invites you to Valley Courier"
    assert GUEST["email"] in outcome["guestWho"] and "Guest" in outcome["guestCard"]
    assert "This invitation is accepted" in outcome["usedLink"]

    # and the stranger bought without an account (BUY-11), and was told the subscription waits for its claim
    stranger_id = outcome["strangerBought"].split("Thank you: ", 1)[1].split(" ", 1)[0]
    assert stranger_id != subscription_id and STRANGER["email"] in outcome["strangerBought"]

    # and NavigaPay captured exactly one sale per purchase, for what the page showed, each with its own card
    gateway = httpx.get(f"{base}/sandbox/navigapay/_sandbox/ledger", params={"merchant": TENANT}).json()["entries"]
    sales = [entry for entry in gateway if entry["kind"] == "SALE"]
    assert [(s["amount"], s["state"], s["currency"]) for s in sales] == [(charged, "captured", "USD")] * 2
    assert len({sale["profileId"] for sale in sales}) == 2
    # and the circulation system has the new subscriptions, the customer's and the stranger's, each started once
    for started, person in ((subscription_id, CUSTOMER), (stranger_id, STRANGER)):
        circulation = httpx.get(f"{base}/sandbox/circulation/api/v1/papers/{TENANT}/subscriptions/{started}")
        record = circulation.json()
        assert circulation.status_code == 200 and record["status"] == "ACTIVE" and record["digital"] is True
        assert record["subscriber"]["email"] == person["email"]
        assert record["subscriber"]["lastName"] == person["lastName"]
    ledger = httpx.get(f"{base}/sandbox/circulation/_sandbox/ledger", params={"paperCode": TENANT}).json()["entries"]
    assert [(e["operation"], e["subscriptionId"]) for e in ledger] == [("START", subscription_id),
                                                                        ("START", stranger_id)]

    # and the mail emulator got, over SMTP, one verification mail for the customer and one invitation for the
    # guest, each to its own recipient only
    customer_mail, guest_mail = inbox(base, CUSTOMER["email"]), inbox(base, GUEST["email"])
    verification = [m for m in customer_mail if m["Subject"].startswith("Verify your e-mail")]
    invitation = [m for m in guest_mail if "invites you" in m["Subject"]]
    assert len(verification) == 1 and len(invitation) == 1
    assert [to["Address"] for to in verification[0]["To"]] == [CUSTOMER["email"]]
    assert [to["Address"] for to in invitation[0]["To"]] == [GUEST["email"]]
    assert not [m for m in guest_mail if m["Subject"].startswith("Verify")]
    assert not [m for m in customer_mail if "invites you" in m["Subject"]]
    assert any(subscription_id in m["Subject"] for m in customer_mail)  # the purchase's receipt (MSG-3)
    # and the stranger's address got the claim message (BUY-10), with a link into the demo's sign-in page
    [claim] = [m for m in inbox(base, STRANGER["email"]) if "bought with your e-mail" in m["Subject"]]
    assert outcome["claim"]["subject"] == claim["Subject"] == "A Valley Courier subscription bought with your e-mail"
    assert f"{base}/demo/sign-in?claim={stranger_id}" in claim["Text"]
    # and their links point at the demo's front end, and each worked once
    [verify_link] = {link for link in verification[0]["Text"].split() if "/demo/verify-email" in link}
    query = parse_qs(urlparse(verify_link).query)
    again = api(base, VERIFY, {"input": {"email": query["email"][0], "code": query["code"][0]}})
    assert again["verifyEmail"]["userErrors"] != []

    # and papergraph's API shows the guest link: the owner sees the guest (names and e-mail, LNK-4), no
    # invitation waits any more, and the guest's own registration is linked as GUEST
    owner = api(base, LINKS, {"id": subscription_id}, signed_in(base, CUSTOMER))
    links = {link["role"]: link["registration"] for link in owner["subscription"]["links"]}
    assert links == {"OWNER": {"email": CUSTOMER["email"], "firstName": "Nina", "lastName": "Novak"},
                     "GUEST": {"email": GUEST["email"], "firstName": "Gus", "lastName": "Gray"}}
    assert owner["pendingInvitations"] == []
    guest = api(base, MINE, token=signed_in(base, GUEST))["me"]
    assert guest == {"email": GUEST["email"], "links": [{"role": "GUEST", "subscriptionId": subscription_id}]}
    # and nothing tried to leave the machine, and no page failed
    assert outcome["offline"] == []
    assert not [line for line in outcome["console"] if line.startswith("pageerror")], outcome["console"]
