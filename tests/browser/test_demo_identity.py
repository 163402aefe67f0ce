"""The demo's identity journey (issue 15, item 7; docs/demo.md), walked end to end in headless Chromium (Debian's, by
playwright-core from tests/node/identity_e2e.mjs) against `papergraph run` on loopback with a fresh SQLite database
and the emulators in-process, mail included: a new customer of Valley Courier (CPRDEMO, an own-auth MG2 tenant)
signs up (USR-3), reads the verification mail on /demo/mail and verifies (USR-8, SSN-2), signs in with papergraph's
own sign-in (SSN-1, SSN-3), buys a new subscription with a new card in NavigaPay's hosted iframe (BUY-11, GW-1),
and invites a guest (INV-1), who accepts from the mail's link with a new password (INV-4, LNK-4); and a stranger
buys without an account (/demo/subscribe/): with their own new e-mail, which gets an unverified registration owning
the subscription and the verification and confirmation mails (BUY-4, USR-3), and with the guest's registered
e-mail, whose subscription waits until the guest follows the claim mail's link, signs in and claims it (BUY-10).

Each outcome is then checked where it landed: NavigaPay's ledger, the circulation system's subscription and
ledger, the mail emulator's inbox (over its HTTP API: the messages papergraph sent over SMTP), and papergraph's
API (the links, the used links)."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from app import create_app
from domain.messages import front_end_link
from settings import Settings
from tests.browser.support import require_chromium, run_walk
from tests.conftest import BACKENDS, POSTGRES_ADMIN_URL, _pg_admin
from tests.support import papergraph_run

TENANT = "CPRDEMO"
CUSTOMER = {"firstName": "Nina", "lastName": "Novak", "email": "nina.novak@example.com", "password": "Sunny-days-42!"}
GUEST = {"firstName": "Gus", "lastName": "Gray", "email": "gus.gray@example.com", "password": "Guest-pass-42!"}
STRANGER = {"firstName": "Sam", "lastName": "Stone", "email": "sam.stone@example.com", "password": "Stone-age-42!"}
OFFER = "All Access Digital, 1 month"  # CPRDEMO's digital offer (sandbox/demo.py): 9.99 + 0.80 tax, no fees
ADDRESS = {"House number": "12", "Street": "Elm Ave", "City": "Springfield", "Postal code": "60601",
           "Country": "US"}
CARD = {"number": "4242 4242 4242 4242", "expiry": "12/30", "cvv": "123", "name": "Nina Novak"}
BROWSER_SECONDS = 360  # a bound on a hang, not a measurement

SIGN_IN = """mutation ($input: SignInInput!) { signIn(input: $input) { session { accessToken } userErrors { code } } }"""
LINKS = """query ($id: ID!) {
  subscription(id: $id) { id status links { role registration { email firstName lastName } } }
  pendingInvitations(subscriptionId: $id) { email }
}"""
MINE = "{ me { email links { role subscriptionId } } }"
VERIFY = """mutation ($input: VerifyEmailInput!) { verifyEmail(input: $input) { userErrors { code } } }"""
CLAIM = """mutation ($input: ClaimPurchaseInput!) {
  claimPurchase(input: $input) { subscription { id } userErrors { code } }
}"""
CLAIMED = """query ($token: String!) { purchaseClaim(token: $token) { subscriptionId state } }"""


async def test_the_links_of_the_journeys_messages_land_on_demo_pages(tmp_path):
    """MSG-2, INV-4, BUY-10, USR-3: under the default front end (papergraph's `/demo/`), the verification,
    invitation, claim (sign-in) and set-password links that messages carry open the demo's pages, their query
    kept through the trailing-slash redirect."""
    # given
    settings = Settings(environment="test", database_url=f"sqlite+aiosqlite:///{tmp_path}/demo.db")
    base = settings.frontend_base_url
    links = {"verify-email.js": front_end_link(base, "verify-email", email="a@example.com", code="c0de"),
             "invitation.js": front_end_link(base, "invitation", token="t0ken"),
             "sign-in.js": front_end_link(base, "sign-in", claim="t0ken"),
             "reset-password.js": front_end_link(base, "reset-password", token="t0ken")}

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
    with papergraph_run(env, tmp_path / "papergraph.log", start_timeout=240) as server:  # a bound on a hang
        yield server


def walk(base: str, chromium: str, artifacts: Path) -> dict:
    """Run tests/node/identity_e2e.mjs; its JSON outcome, or a failure showing where it broke."""
    config = {"baseUrl": base, "chromium": chromium, "artifacts": str(artifacts), "customer": CUSTOMER,
              "guest": GUEST, "stranger": STRANGER, "offer": OFFER, "address": ADDRESS, "card": CARD}
    return run_walk("identity_e2e.mjs", config, "the journey", seconds=BROWSER_SECONDS)


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
    """USR-3, USR-8, SSN-1, SSN-2, SSN-4, BUY-4, BUY-10, BUY-11, INV-1, INV-4, LNK-4, MSG-2: the whole journey in the
    browser, and a stranger's purchases without an account, one with a new e-mail and one with the guest's,
    which the guest claims from the claim mail's link; each ledger and mailbox checked afterwards."""
    # given: papergraph as `make run` starts it, and Debian's Chromium
    chromium = require_chromium()
    base = demo_server.base

    # when: the customer signs up, verifies, signs in, buys and invites; the guest accepts in a browser of their own;
    # a stranger buys in a third, for themselves and then with the guest's e-mail, which the guest claims
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
    assert charged == "10.79" and [label.endswith("$10.79") for label in outcome["offersSeen"]] == [True] * 3
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

    # and the stranger bought without an account (BUY-11), twice, the answer saying nothing of whose the e-mail is
    stranger_id = outcome["strangerBought"].split("Thank you: ", 1)[1].split(" ", 1)[0]
    gift_id = outcome["giftBought"].split("Thank you: ", 1)[1].split(" ", 1)[0]
    assert len({subscription_id, stranger_id, gift_id}) == 3
    assert STRANGER["email"] in outcome["strangerBought"] and GUEST["email"] in outcome["giftBought"]
    assert outcome["strangerBought"].replace(stranger_id, "").replace(STRANGER["email"], "") == \
        outcome["giftBought"].replace(gift_id, "").replace(GUEST["email"], "")
    # and the guest, from the claim mail's link, signed in, saw what was bought with their e-mail, claimed it,
    # and their account page shows it as theirs; the link opened again shows it claimed, with nothing to click
    assert "sign in" in outcome["claimIntro"]
    assert gift_id in outcome["claimShown"] and "All Access Digital" in outcome["claimShown"]
    assert "$10.79" in outcome["claimShown"] and "Claim it" in outcome["claimShown"]
    assert "Owner" in outcome["claimedCard"] and "active" in outcome["claimedCard"]
    assert "claimed already" in outcome["claimAgain"] and outcome["claimButtonAgain"] is False

    # and NavigaPay captured exactly one sale per purchase, for what the page showed, each with its own card
    gateway = httpx.get(f"{base}/sandbox/navigapay/_sandbox/ledger", params={"merchant": TENANT}).json()["entries"]
    sales = [entry for entry in gateway if entry["kind"] == "SALE"]
    assert [(s["amount"], s["state"], s["currency"]) for s in sales] == [(charged, "captured", "USD")] * 3
    assert len({sale["profileId"] for sale in sales}) == 3
    # and the circulation system has the new subscriptions, each started once, for the subscriber the form named
    started = ((subscription_id, CUSTOMER), (stranger_id, STRANGER), (gift_id, GUEST))
    for subscription, person in started:
        circulation = httpx.get(f"{base}/sandbox/circulation/api/v1/papers/{TENANT}/subscriptions/{subscription}")
        record = circulation.json()
        assert circulation.status_code == 200 and record["status"] == "ACTIVE" and record["digital"] is True
        assert record["subscriber"]["email"] == person["email"]
        assert record["subscriber"]["lastName"] == person["lastName"]
    ledger = httpx.get(f"{base}/sandbox/circulation/_sandbox/ledger", params={"paperCode": TENANT}).json()["entries"]
    assert [(e["operation"], e["subscriptionId"]) for e in ledger] == [("START", s) for s, _ in started]

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
    # and the stranger's new e-mail got its verification mail and the purchase confirmation with a link to choose a
    # password (BUY-4, USR-3), to that address only, and no claim message
    stranger_mail = inbox(base, STRANGER["email"])
    [stranger_verification] = [m for m in stranger_mail if m["Subject"].startswith("Verify your e-mail")]
    [welcome] = [m for m in stranger_mail if stranger_id in m["Subject"]]
    assert outcome["strangerVerification"]["subject"] == stranger_verification["Subject"]
    assert outcome["strangerWelcome"]["subject"] == welcome["Subject"]
    assert welcome["Subject"] == f"Welcome to Valley Courier: your subscription {stranger_id}"
    assert any(link.startswith(f"{base}/demo/reset-password?token=") for link in outcome["strangerWelcome"]["links"])
    for message in (stranger_verification, welcome):
        assert [to["Address"] for to in message["To"]] == [STRANGER["email"]]
    assert not [m for m in stranger_mail if "bought with your e-mail" in m["Subject"]]
    # and with them the stranger verified the address, chose a password and signed in: the subscription is theirs
    assert "Owner" in outcome["strangerCardShown"] and "active" in outcome["strangerCardShown"]
    stranger_links = api(base, MINE, token=signed_in(base, STRANGER))["me"]["links"]
    assert stranger_links == [{"role": "OWNER", "subscriptionId": stranger_id}]
    # and the guest's registered e-mail got the claim message (BUY-10), to them only, its link into the demo's
    # sign-in page carrying a sealed token, not the subscription id; the purchase sent no other message
    [claim] = [m for m in guest_mail if "bought with your e-mail" in m["Subject"]]
    assert outcome["claim"]["subject"] == claim["Subject"] == "A Valley Courier subscription bought with your e-mail"
    assert [to["Address"] for to in claim["To"]] == [GUEST["email"]]
    claim_link = outcome["claimLink"]
    assert claim_link.startswith(f"{base}/demo/sign-in?claim=") and claim_link in claim["Text"]
    assert gift_id not in claim_link
    assert not [m for m in guest_mail + customer_mail if gift_id in m["Subject"]]
    assert not [m for m in customer_mail if "bought with your e-mail" in m["Subject"]]
    # and their links point at the demo's front end, and each worked once: the verification code, and the claim
    [verify_link] = {link for link in verification[0]["Text"].split() if "/demo/verify-email" in link}
    query = parse_qs(urlparse(verify_link).query)
    again = api(base, VERIFY, {"input": {"email": query["email"][0], "code": query["code"][0]}})
    assert again["verifyEmail"]["userErrors"] != []
    customer_token, guest_token = signed_in(base, CUSTOMER), signed_in(base, GUEST)
    claim_token = parse_qs(urlparse(claim_link).query)["claim"][0]
    claimed_again = api(base, CLAIM, {"input": {"token": claim_token}}, guest_token)["claimPurchase"]
    assert claimed_again == {"subscription": None, "userErrors": [{"code": "ALREADY_CLAIMED"}]}
    assert api(base, CLAIMED, {"token": claim_token}, guest_token)["purchaseClaim"] == {
        "subscriptionId": gift_id, "state": "CLAIMED"}
    assert api(base, CLAIMED, {"token": claim_token}, customer_token)["purchaseClaim"] is None  # not theirs
    # and the claimed subscription is linked to the guest alone, as OWNER (BUY-10)
    gift = api(base, LINKS, {"id": gift_id}, guest_token)["subscription"]
    assert [(link["role"], link["registration"]["email"]) for link in gift["links"]] == [("OWNER", GUEST["email"])]

    # and papergraph's API shows the guest link: the owner sees the guest (names and e-mail, LNK-4), no
    # invitation waits any more, and the guest's own registration is linked as GUEST (and as OWNER of the claimed one)
    owner = api(base, LINKS, {"id": subscription_id}, customer_token)
    links = {link["role"]: link["registration"] for link in owner["subscription"]["links"]}
    assert links == {"OWNER": {"email": CUSTOMER["email"], "firstName": "Nina", "lastName": "Novak"},
                     "GUEST": {"email": GUEST["email"], "firstName": "Gus", "lastName": "Gray"}}
    assert owner["pendingInvitations"] == []
    guest = api(base, MINE, token=guest_token)["me"]
    assert guest["email"] == GUEST["email"]
    assert sorted((link["role"], link["subscriptionId"]) for link in guest["links"]) == sorted(
        [("GUEST", subscription_id), ("OWNER", gift_id)])
    # and nothing tried to leave the machine, and no page failed
    assert outcome["offline"] == []
    assert not [line for line in outcome["console"] if line.startswith("pageerror")], outcome["console"]
