"""NavigaPayDataSource against the NavigaPay emulator: in-process, and over a real loopback socket."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from datasources.base import UpstreamRejected, UpstreamTimeout, UpstreamUnavailable
from datasources.navigapay import PROFILE_CONCURRENCY, NavigaPayDataSource, PaymentDeclined
from sandbox.navigapay import create_app
from tests.support import serve_on_loopback

NCS = "NCSDEMO"
VISA, DECLINED, NO_FUNDS = "4242424242424242", "4000000000000002", "4000000000009995"
CARD = {"expiry": "12/30", "cvv": "737", "cardholderName": "Ada Andersen"}
DESCRIPTOR = "DAILY LEDGER"


@pytest.fixture
def app():
    app = create_app(public_url="https://pay.example.test")
    app.state.store.clock = lambda: datetime(2026, 3, 10, 12, tzinfo=UTC)
    return app


@pytest.fixture
async def datasource_for():
    """Builds datasources on an emulator in-process, and closes their clients after the test."""
    clients: list[httpx.AsyncClient] = []

    def build(app, *, timeout: float = 2.0, read_retries: int = 2, api_key: str | None = None):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://navigapay")
        clients.append(client)
        return NavigaPayDataSource(client, api_key=api_key, timeout=timeout, read_retries=read_retries,
                                   backoff_base=0.001)

    yield build
    for client in clients:
        await client.aclose()


@pytest.fixture
def navigapay(app, datasource_for):
    return datasource_for(app)


@pytest.fixture
async def browser(app):
    """The customer's browser: reaches the hosted page, which papergraph never does."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="https://pay.example.test") as client:
        yield client


async def tokenized_profile(navigapay, browser, number: str = VISA) -> dict:
    session = await navigapay.start_session(NCS, "NCS-0000001", "CREDIT_CARD")
    page = await browser.post(session["iframeUrl"], data={"cardNumber": number, **CARD})
    message = json.loads(re.search(r"const message = (\{.*?\});", page.text)[1])
    return await navigapay.complete_session(session["sessionId"], message["profileId"], message["groupId"],
                                            message["paymentType"])


async def ledger(app) -> list[dict]:
    return app.state.store.ledger()


# sessions and profiles (GW-1, PM-4) ----------------------------------------------------------------
async def test_gw_1_session_hosted_form_and_completion_end_to_end(navigapay, browser):
    # given a session papergraph started
    session = await navigapay.start_session(NCS, "NCS-0000001", "CREDIT_CARD",
                                            return_url="https://ss.example.com/done", customer_id="cus_ada")
    # when the browser loads the iframe and submits the card
    form = await browser.get(session["iframeUrl"])
    page = await browser.post(session["iframeUrl"], data={"cardNumber": "5555 5555 5555 4444", **CARD})
    message = json.loads(re.search(r"const message = (\{.*?\});", page.text)[1])
    # and papergraph completes the session with what the page posted
    profile = await navigapay.complete_session(session["sessionId"], message["profileId"], message["groupId"],
                                               message["paymentType"])
    # then
    assert form.status_code == 200 and '<form method="post"' in form.text
    assert message["type"] == "navigapay:tokenized" and message["groupId"] == session["groupId"]
    assert profile["profileId"] == message["profileId"]
    assert (profile["brand"], profile["last4"], profile["expiry"], profile["customerId"]) == (
        "MASTERCARD", "4444", "12/30", "cus_ada")
    assert await navigapay.get_profile(profile["profileId"]) == profile


async def test_gw_1_completing_twice_answers_the_same_profile(navigapay, browser, app):
    session = await navigapay.start_session(NCS, "NCS-0000001", "CREDIT_CARD")
    await browser.post(session["iframeUrl"], data={"cardNumber": VISA, **CARD})
    s = app.state.store.sessions[session["sessionId"]]
    args = (session["sessionId"], s["profileId"], s["groupId"], "CREDIT_CARD")
    assert await navigapay.complete_session(*args) == await navigapay.complete_session(*args)


async def test_gw_1_completion_with_another_group_is_rejected(navigapay, browser, app):
    session = await navigapay.start_session(NCS, "NCS-0000001", "CREDIT_CARD")
    await browser.post(session["iframeUrl"], data={"cardNumber": VISA, **CARD})
    profile_id = app.state.store.sessions[session["sessionId"]]["profileId"]
    with pytest.raises(UpstreamRejected) as caught:
        await navigapay.complete_session(session["sessionId"], profile_id, "grp_forged", "CREDIT_CARD")
    assert (caught.value.status, caught.value.upstream_code) == (422, "SESSION_MISMATCH")


async def test_gw_4_invalid_card_is_refused_by_the_hosted_page(navigapay, browser):
    session = await navigapay.start_session(NCS, "NCS-0000001", "CREDIT_CARD")
    page = await browser.post(session["iframeUrl"], data={"cardNumber": "4" * 20, **CARD})
    assert page.status_code == 422 and 'data-code="INVALID_CARD_NUMBER"' in page.text


async def test_unknown_profile_is_none_and_get_profiles_omits_it(navigapay, browser):
    known = await tokenized_profile(navigapay, browser)
    assert await navigapay.get_profile("prof_nope") is None
    profiles = await navigapay.get_profiles([known["profileId"], "prof_nope", known["profileId"]])
    assert profiles == {known["profileId"]: known}


async def test_get_profiles_issues_single_reads_with_bounded_concurrency(app, datasource_for):
    # given 25 profiles and an upstream that records how many reads overlap
    for n in range(25):
        app.state.store.add_profile({"profileId": f"prof_{n}", "customerId": "cus", "merchant": NCS,
                                     "paymentType": "CREDIT_CARD", "brand": "VISA", "last4": "4242",
                                     "expiry": "12/30"})
    in_flight, peak = 0, 0

    async def counting(scope, receive, send):
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            await asyncio.sleep(0.01)
            await app(scope, receive, send)
        finally:
            in_flight -= 1

    navigapay = datasource_for(counting)
    # when
    profiles = await navigapay.get_profiles(f"prof_{n}" for n in range(25))
    # then
    assert len(profiles) == 25
    assert app.state.control.count("GET", "/api/v1/profiles/") == 25
    assert 1 < peak <= PROFILE_CONCURRENCY


# money movement (GW-2, GW-3, MNY-1) ----------------------------------------------------------------
async def test_gw_2_authorize_and_capture_with_decimal_money(navigapay, browser):
    profile = await tokenized_profile(navigapay, browser)
    auth = await navigapay.authorize(profile["profileId"], Decimal("40.00"), "USD", DESCRIPTOR, "pg-1",
                                     idempotency_key="auth-1", merchant=NCS)
    captured = await navigapay.capture(auth["transactionId"], Decimal("35.50"), idempotency_key="cap-1")
    assert auth["status"] == "AUTHORIZED" and auth["amount"] == Decimal("40.00")
    assert captured["status"] == "CAPTURED" and captured["capturedAmount"] == Decimal("35.50")
    assert isinstance(captured["refundedAmount"], Decimal)
    assert auth["statementDescriptor"] == DESCRIPTOR  # GW-3


async def test_mny_1_a_sale_above_int32_round_trips_exactly(navigapay, browser, app):
    profile = await tokenized_profile(navigapay, browser)
    sale = await navigapay.sale(profile["profileId"], Decimal("2147483648.01"), "USD", DESCRIPTOR, "pg-big",
                                idempotency_key="sale-big")
    assert sale["amount"] == sale["capturedAmount"] == Decimal("2147483648.01")
    assert (await ledger(app))[0]["amount"] == Decimal("2147483648.01")


async def test_idempotent_sale_charges_once(navigapay, browser, app):
    profile = await tokenized_profile(navigapay, browser)
    args = (profile["profileId"], Decimal("25.00"), "USD", DESCRIPTOR, "pg-2")
    first = await navigapay.sale(*args, idempotency_key="sale-2")
    second = await navigapay.sale(*args, idempotency_key="sale-2")
    assert first == second
    assert len(await ledger(app)) == 1


async def test_idempotency_key_reused_with_another_body_is_rejected(navigapay, browser, app):
    profile = await tokenized_profile(navigapay, browser)
    await navigapay.sale(profile["profileId"], Decimal("25.00"), "USD", DESCRIPTOR, "pg-3", idempotency_key="k")
    with pytest.raises(UpstreamRejected) as caught:
        await navigapay.sale(profile["profileId"], Decimal("26.00"), "USD", DESCRIPTOR, "pg-3", idempotency_key="k")
    assert (caught.value.status, caught.value.upstream_code) == (409, "IDEMPOTENCY_KEY_REUSED")
    assert len(await ledger(app)) == 1


@pytest.mark.parametrize("number, code", [(DECLINED, "CARD_DECLINED"), (NO_FUNDS, "INSUFFICIENT_FUNDS")])
async def test_a_decline_maps_to_payment_declined_with_its_transaction(navigapay, browser, app, number, code):
    profile = await tokenized_profile(navigapay, browser, number)
    with pytest.raises(PaymentDeclined) as caught:
        await navigapay.sale(profile["profileId"], Decimal("25.00"), "USD", DESCRIPTOR, "pg-4",
                             idempotency_key="sale-4")
    assert isinstance(caught.value, UpstreamRejected)
    assert (caught.value.status, caught.value.upstream_code, caught.value.code) == (402, code, "PAYMENT_DECLINED")
    entry, = await ledger(app)
    assert (entry["transactionId"], entry["state"]) == (caught.value.transaction_id, "declined")


async def test_void_and_refund(navigapay, browser, app):
    profile = await tokenized_profile(navigapay, browser)
    first = await navigapay.sale(profile["profileId"], Decimal("10.00"), "USD", DESCRIPTOR, "pg-5",
                                 idempotency_key="sale-5")
    second = await navigapay.sale(profile["profileId"], Decimal("10.00"), "USD", DESCRIPTOR, "pg-6",
                                  idempotency_key="sale-6")
    voided = await navigapay.void(first["transactionId"], idempotency_key="void-5")
    app.state.store.settle()
    part = await navigapay.refund(second["transactionId"], Decimal("4.00"), idempotency_key="refund-6a")
    rest = await navigapay.refund(second["transactionId"], idempotency_key="refund-6b")
    assert voided["status"] == "VOIDED"
    assert (part["status"], part["refundedAmount"]) == ("PARTIALLY_REFUNDED", Decimal("4.00"))
    assert (rest["status"], rest["refundedAmount"]) == ("REFUNDED", Decimal("10.00"))
    assert [r["amount"] for r in rest["refunds"]] == [Decimal("4.00"), Decimal("6.00")]
    assert [e["state"] for e in await ledger(app)] == ["voided", "refunded"]


async def test_reconciliation_reads_transactions_back(navigapay, browser):
    profile = await tokenized_profile(navigapay, browser)
    sale = await navigapay.sale(profile["profileId"], Decimal("10.00"), "USD", DESCRIPTOR, "pg-7",
                                idempotency_key="sale-7")
    assert await navigapay.get_transaction(sale["transactionId"]) == sale
    assert await navigapay.get_transaction("txn_nope") is None
    assert await navigapay.find_transactions("pg-7") == [sale]
    assert await navigapay.find_transactions("pg-7", merchant="MTXDEMO") == []


async def test_money_calls_refuse_floats_and_empty_keys_before_sending(navigapay, app):
    with pytest.raises(TypeError):
        await navigapay.sale("prof", 25.0, "USD", DESCRIPTOR, "pg-8", idempotency_key="sale-8")
    with pytest.raises(ValueError):
        await navigapay.void("txn", idempotency_key="")
    assert app.state.control.total == 0


async def test_api_key_is_sent_as_a_bearer_token(datasource_for):
    app = create_app(api_key="k3y")
    with_key, without_key = datasource_for(app, api_key="k3y"), datasource_for(app)
    assert (await with_key.start_session(NCS, "S", "BANK"))["sessionId"]
    with pytest.raises(UpstreamRejected) as caught:
        await without_key.start_session(NCS, "S", "BANK")
    assert caught.value.status == 401


# error mapping and retries -------------------------------------------------------------------------
async def add_fault(app, **rule) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://navigapay") as admin:
        (await admin.post("/_sandbox/faults", json={"rules": [rule]})).raise_for_status()


async def test_a_keyed_sale_retried_after_a_503_charges_once(navigapay, browser, app):
    profile = await tokenized_profile(navigapay, browser)
    await add_fault(app, method="POST", path="/sales$", status=503, times=1)
    sale = await navigapay.sale(profile["profileId"], Decimal("25.00"), "USD", DESCRIPTOR, "pg-9",
                                idempotency_key="sale-9")
    assert sale["status"] == "CAPTURED"
    assert app.state.control.count("POST", "/api/v1/sales") == 2
    assert len(await ledger(app)) == 1


async def test_a_lasting_503_maps_to_unavailable(navigapay, app):
    await add_fault(app, method="GET", path="/transactions/", status=503)
    with pytest.raises(UpstreamUnavailable) as caught:
        await navigapay.get_transaction("txn_1")
    assert caught.value.status == 503
    assert app.state.control.count("GET") == 3  # one try and two retries


async def test_start_session_is_not_retried(navigapay, app):
    await add_fault(app, method="POST", path="/sessions$", status=503, times=1)
    with pytest.raises(UpstreamUnavailable):
        await navigapay.start_session(NCS, "S", "CREDIT_CARD")
    assert app.state.control.count("POST") == 1


async def test_dropped_connection_maps_to_unavailable(app, datasource_for):
    navigapay = datasource_for(app, read_retries=0)
    await add_fault(app, path="/transactions/", drop=True)
    with pytest.raises(UpstreamUnavailable):
        await navigapay.get_transaction("txn_1")


async def test_hang_maps_to_timeout(app, datasource_for):
    navigapay = datasource_for(app, timeout=0.2)
    await add_fault(app, path="/sales$", timeout=True)
    with pytest.raises(UpstreamTimeout):
        await navigapay.sale("prof", Decimal("1.00"), "USD", DESCRIPTOR, "pg-10", idempotency_key="sale-10")


# over a real socket --------------------------------------------------------------------------------
async def test_over_loopback_the_whole_flow_and_a_dropped_connection(app):
    # a hang is tested in-process only: uvicorn would wait for the hanging handler on shutdown
    with serve_on_loopback(app) as base_url:
        async with httpx.AsyncClient(base_url=base_url) as client:
            navigapay = NavigaPayDataSource(client, api_key=None, timeout=2.0, read_retries=0)
            # when papergraph and a browser talk to the emulator over TCP
            session = await navigapay.start_session(NCS, "NCS-0000001", "CREDIT_CARD")
            hosted = session["iframeUrl"].replace("https://pay.example.test", base_url)
            page = await client.post(hosted, data={"cardNumber": VISA, **CARD})
            message = json.loads(re.search(r"const message = (\{.*?\});", page.text)[1])
            profile = await navigapay.complete_session(session["sessionId"], message["profileId"],
                                                       message["groupId"], message["paymentType"])
            sale = await navigapay.sale(profile["profileId"], Decimal("2147483648.00"), "USD", DESCRIPTOR,
                                        "pg-11", idempotency_key="sale-11")
            # and when it drops the connection mid-body
            await client.post("/_sandbox/faults", json={"rules": [{"path": "/transactions/", "drop": True}]})
            with pytest.raises(UpstreamUnavailable):
                await navigapay.get_transaction(sale["transactionId"])
    assert sale["capturedAmount"] == Decimal("2147483648.00")
