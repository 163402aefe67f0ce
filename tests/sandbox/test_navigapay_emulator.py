"""The NavigaPay emulator over HTTP in-process: hosted page, profiles, money movement, idempotency."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sandbox.demo import generate
from sandbox.navigapay import create_app, load_demo
from tests.support import free_port

PUBLIC_URL = "https://pay.example.test/sandbox/navigapay"
NCS = "NCSDEMO"
VISA, DECLINED, NO_FUNDS = "4242424242424242", "4000000000000002", "4000000000009995"
MASTERCARD, AMEX = "5555555555554444", "378282246310005"
CARD = {"expiry": "12/30", "cvv": "123", "cardholderName": "Ada Andersen"}
BANK = {"routingNumber": "021000021", "accountNumber": "000123456789", "bankName": "First Community Bank"}
POST_MESSAGE = re.compile(r"const message = (\{.*?\});")


@pytest.fixture
def app():
    app = create_app(public_url=PUBLIC_URL)
    app.state.store.clock = lambda: datetime(2026, 3, 10, 12, tzinfo=UTC)
    return app


@pytest.fixture
async def client(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://navigapay") as client:
        yield client


async def start(client, payment_type="CREDIT_CARD", **extra) -> dict:
    body = {"merchant": NCS, "subscriptionId": "NCS-0000001", "paymentType": payment_type, **extra}
    response = await client.post("/api/v1/sessions", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def profile_for(client, number=VISA) -> dict:
    session = await start(client)
    tokenized = await client.post(f"/api/v1/sessions/{session['sessionId']}/tokenize",
                                  json={"cardNumber": number, **CARD})
    assert tokenized.status_code == 201, tokenized.text
    completed = await client.post(f"/api/v1/sessions/{session['sessionId']}/complete",
                                  json={k: tokenized.json()[k] for k in ("profileId", "groupId", "paymentType")})
    return completed.json()


def charge(profile_id: str, amount="25.00", **extra) -> dict:
    return {"profileId": profile_id, "amount": amount, "currency": "USD", "statementDescriptor": "DAILY LEDGER",
            "reference": "pg-pay-1", **extra}


async def ledger(client) -> list[dict]:
    return (await client.get("/_sandbox/ledger")).json()["entries"]


# sessions and the hosted page (GW-1, GW-4) ---------------------------------------------------------
async def test_gw_1_session_gives_an_iframe_url_under_the_public_url(client):
    session = await start(client)
    assert session["iframeUrl"] == f"{PUBLIC_URL}/hosted/{session['sessionId']}"
    assert session["groupId"] and session["paymentType"] == "CREDIT_CARD"


@pytest.mark.parametrize("body, message", [
    ({"merchant": NCS, "subscriptionId": "S", "paymentType": "CASH"}, "paymentType"),
    ({"merchant": NCS, "subscriptionId": "S", "paymentType": "BANK", "returnUrl": "javascript:alert(1)"}, "returnUrl"),
    ({"subscriptionId": "S", "paymentType": "BANK"}, "merchant"),
    ({"merchant": NCS, "subscriptionId": "S", "paymentType": "BANK", "colour": "red"}, "unknown fields"),
])
async def test_malformed_session_start_is_a_400(client, body, message):
    response = await client.post("/api/v1/sessions", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_REQUEST" and message in response.json()["message"]


async def test_gw_1_hosted_page_is_a_self_contained_form(client):
    session = await start(client)
    response = await client.get(f"/hosted/{session['sessionId']}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    page = response.text
    assert '<form method="post"' in page
    for name in ("cardNumber", "expiry", "cvv", "cardholderName"):
        assert f'name="{name}"' in page
    # no external asset: no src=, no stylesheet link, no absolute URL at all
    assert "src=" not in page and "<link" not in page and "http" not in page


async def test_gw_1_hosted_form_flow_end_to_end(client, app):
    # given a session with a return URL that already has a query
    session = await start(client, returnUrl="https://ss.example.com/pay/done?step=3", customerId="cus_ada")
    url = f"/hosted/{session['sessionId']}"
    # when the customer submits the form
    response = await client.post(url, data={"cardNumber": "4242 4242 4242 4242", **CARD})
    # then the page posts the token to its parent
    assert response.status_code == 200
    message = json.loads(POST_MESSAGE.search(response.text)[1])
    assert message == {"type": "navigapay:tokenized", "profileId": message["profileId"],
                       "groupId": session["groupId"], "paymentType": "CREDIT_CARD"}
    assert 'window.parent.postMessage(message, "*")' in response.text
    # and links the frame back to the return URL with the same three values
    link = re.search(r'<a id="return" href="([^"]+)"', response.text)[1].replace("&amp;", "&")
    query = parse_qs(urlsplit(link).query)
    assert link.startswith("https://ss.example.com/pay/done?step=3&")
    assert query["profileId"] == [message["profileId"]] and query["groupId"] == [session["groupId"]]
    # and papergraph completes the session with them and gets the masked profile (PM-4)
    done = await client.post(f"/api/v1/sessions/{session['sessionId']}/complete",
                             json={k: message[k] for k in ("profileId", "groupId", "paymentType")})
    assert done.status_code == 200
    assert done.json() == {
        "profileId": message["profileId"], "customerId": "cus_ada", "merchant": NCS, "paymentType": "CREDIT_CARD",
        "brand": "VISA", "last4": "4242", "expiry": "12/30", "holderName": "Ada Andersen", "bankName": None,
        "routingNumber": None, "accountMasked": None,
    }
    # a reload shows the result again, a second submission is refused
    assert POST_MESSAGE.search((await client.get(url)).text)
    assert (await client.post(url, data={"cardNumber": VISA, **CARD})).status_code == 409


async def test_pm_4_neither_the_card_number_nor_the_cvv_is_kept(client, app):
    await profile_for(client, number="5105105105105100")
    state = repr(vars(app.state.store))
    assert "5105105105105100" not in state and "5100" in state
    assert "'123'" not in state and "cvv" not in state.lower()


@pytest.mark.parametrize("fields, code", [
    ({"cardNumber": "4" + "0" * 18 + "0"}, "INVALID_CARD_NUMBER"),  # GW-4: 20 digits
    ({"cardNumber": "4242424242424241"}, "INVALID_CARD_NUMBER"),  # Luhn
    ({"cardNumber": "4242-4242-abcd-4242"}, "INVALID_CARD_NUMBER"),
    ({"cardNumber": "9999999999999995"}, "CARD_BRAND_NOT_SUPPORTED"),
    ({"cvv": "12345"}, "INVALID_CVV"),  # GW-4: at most 4 digits
    ({"cvv": "12"}, "INVALID_CVV"),
    ({"expiry": "13/30"}, "INVALID_EXPIRY"),
    ({"expiry": "02/26"}, "CARD_EXPIRED"),  # the clock is pinned to March 2026
    ({"cardholderName": " "}, "INVALID_NAME"),
])
async def test_gw_4_invalid_card_re_renders_the_form_with_the_error(client, fields, code):
    session = await start(client)
    form = {"cardNumber": VISA, **CARD, **fields}
    response = await client.post(f"/hosted/{session['sessionId']}", data=form)
    assert response.status_code == 422
    assert f'data-code="{code}"' in response.text
    assert form["cardNumber"] not in response.text  # the number typed is never echoed back
    assert 'name="cardNumber"' in response.text
    json_twin = await client.post(f"/api/v1/sessions/{(await start(client))['sessionId']}/tokenize", json=form)
    assert json_twin.status_code == 422 and json_twin.json()["code"] == code


async def test_gw_4_a_19_digit_card_and_a_4_digit_cvv_are_accepted(client):
    session = await start(client)
    response = await client.post(f"/api/v1/sessions/{session['sessionId']}/tokenize",
                                 json={"cardNumber": "4000000000000000006", **CARD, "cvv": "1234"})
    assert response.status_code == 201


async def test_a_card_expiring_this_month_is_still_valid(client):
    session = await start(client)
    response = await client.post(f"/api/v1/sessions/{session['sessionId']}/tokenize",
                                 json={"cardNumber": VISA, **CARD, "expiry": "03/26"})
    assert response.status_code == 201


@pytest.mark.parametrize("number, brand", [
    (VISA, "VISA"), (MASTERCARD, "MASTERCARD"), ("2223003122003222", "MASTERCARD"), (AMEX, "AMEX"),
    ("6011111111111117", "DISCOVER"), ("3056930009020004", "DINERS"), ("36227206271667", "DINERS"),
])
async def test_brand_is_detected_from_the_number(client, number, brand):
    profile = await profile_for(client, number)
    assert (profile["brand"], profile["last4"]) == (brand, number[-4:])


async def test_pm_3_a_merchant_can_refuse_diners_at_tokenization(client):
    await client.post("/_sandbox/load", json={"merchants": [{"merchant": NCS, "refusedBrands": ["DINERS"]}]})
    session = await start(client)
    response = await client.post(f"/api/v1/sessions/{session['sessionId']}/tokenize",
                                 json={"cardNumber": "36227206271667", **CARD})
    assert response.status_code == 422 and response.json()["code"] == "CARD_BRAND_NOT_SUPPORTED"


async def test_pm_4_bank_account_is_tokenized_masked(client):
    session = await start(client, "BANK")
    page = (await client.get(f"/hosted/{session['sessionId']}")).text
    assert 'name="routingNumber"' in page and 'name="cardNumber"' not in page
    bad = await client.post(f"/hosted/{session['sessionId']}", data={**BANK, "routingNumber": "021000022"})
    assert bad.status_code == 422 and 'data-code="INVALID_ROUTING_NUMBER"' in bad.text
    assert BANK["accountNumber"] not in bad.text
    message = json.loads(POST_MESSAGE.search((await client.post(f"/hosted/{session['sessionId']}", data=BANK)).text)[1])
    profile = (await client.get(f"/api/v1/profiles/{message['profileId']}")).json()
    assert profile["paymentType"] == "BANK" and profile["brand"] is None
    assert (profile["bankName"], profile["routingNumber"], profile["accountMasked"], profile["last4"]) == (
        "First Community Bank", "021000021", "****6789", "6789")


async def test_gw_1_complete_session_checks_what_it_is_given(client):
    session = await start(client)
    sid = session["sessionId"]
    body = {"profileId": "prof_x", "groupId": session["groupId"], "paymentType": "CREDIT_CARD"}
    not_yet = await client.post(f"/api/v1/sessions/{sid}/complete", json=body)
    assert (not_yet.status_code, not_yet.json()["code"]) == (409, "SESSION_NOT_TOKENIZED")
    token = (await client.post(f"/api/v1/sessions/{sid}/tokenize", json={"cardNumber": VISA, **CARD})).json()
    good = {"profileId": token["profileId"], "groupId": session["groupId"], "paymentType": "CREDIT_CARD"}
    for wrong in ({"groupId": "grp_other"}, {"paymentType": "BANK"}, {"profileId": "prof_other"}):
        response = await client.post(f"/api/v1/sessions/{sid}/complete", json={**good, **wrong})
        assert (response.status_code, response.json()["code"]) == (422, "SESSION_MISMATCH")
    first = await client.post(f"/api/v1/sessions/{sid}/complete", json=good)
    again = await client.post(f"/api/v1/sessions/{sid}/complete", json=good)
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    unknown = await client.post("/api/v1/sessions/ses_nope/complete", json=good)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "SESSION_NOT_FOUND")
    assert (await client.get("/hosted/ses_nope")).status_code == 404


async def test_ten_1_a_profile_read_scoped_to_another_merchant_is_not_found(client):
    profile = await profile_for(client)
    assert (await client.get(f"/api/v1/profiles/{profile['profileId']}", params={"merchant": NCS})).status_code == 200
    other = await client.get(f"/api/v1/profiles/{profile['profileId']}", params={"merchant": "MTXDEMO"})
    assert (other.status_code, other.json()["code"]) == (404, "PROFILE_NOT_FOUND")
    charged = await client.post("/api/v1/sales", json=charge(profile["profileId"], merchant="MTXDEMO"))
    assert charged.status_code == 404


# money movement (GW-2, GW-3, MNY-1) ----------------------------------------------------------------
async def test_gw_2_authorize_then_capture_part(client):
    profile = await profile_for(client)
    auth = await client.post("/api/v1/authorizations", json=charge(profile["profileId"], "40.00"))
    assert auth.status_code == 201
    txn = auth.json()
    assert (txn["status"], txn["kind"], txn["amount"], txn["capturedAmount"]) == ("AUTHORIZED", "AUTHORIZATION",
                                                                                  "40.00", "0.00")
    assert txn["statementDescriptor"] == "DAILY LEDGER"  # GW-3
    too_much = await client.post("/api/v1/captures", json={"transactionId": txn["transactionId"], "amount": "40.01"})
    assert (too_much.status_code, too_much.json()["code"]) == (422, "AMOUNT_EXCEEDS_AUTHORIZED")
    captured = await client.post("/api/v1/captures", json={"transactionId": txn["transactionId"], "amount": "30.00"})
    assert (captured.json()["status"], captured.json()["capturedAmount"]) == ("CAPTURED", "30.00")
    twice = await client.post("/api/v1/captures", json={"transactionId": txn["transactionId"]})
    assert (twice.status_code, twice.json()["code"]) == (409, "INVALID_TRANSACTION_STATE")
    unknown = await client.post("/api/v1/captures", json={"transactionId": "txn_nope"})
    assert unknown.status_code == 404


async def test_sale_void_and_refunds(client):
    profile = await profile_for(client)
    sale = (await client.post("/api/v1/sales", json=charge(profile["profileId"], "50.00"))).json()
    assert (sale["status"], sale["capturedAmount"]) == ("CAPTURED", "50.00")
    voided = await client.post(f"/api/v1/transactions/{sale['transactionId']}/void")
    assert voided.json()["status"] == "VOIDED"
    again = await client.post(f"/api/v1/transactions/{voided.json()['transactionId']}/void")
    assert (again.status_code, again.json()["code"]) == (409, "INVALID_TRANSACTION_STATE")

    settled = (await client.post("/api/v1/sales", json=charge(profile["profileId"], "50.00"))).json()
    await client.post("/_sandbox/settle", json={"transactionIds": [settled["transactionId"]]})
    late_void = await client.post(f"/api/v1/transactions/{settled['transactionId']}/void")
    assert (late_void.status_code, late_void.json()["code"]) == (409, "TRANSACTION_SETTLED")
    refunds = f"/api/v1/transactions/{settled['transactionId']}/refunds"
    part = await client.post(refunds, json={"amount": "20.00"})
    assert (part.json()["status"], part.json()["refundedAmount"]) == ("PARTIALLY_REFUNDED", "20.00")
    over = await client.post(refunds, json={"amount": "30.01"})
    assert (over.status_code, over.json()["code"]) == (422, "AMOUNT_EXCEEDS_REFUNDABLE")
    rest = await client.post(refunds)
    assert (rest.json()["status"], rest.json()["refundedAmount"]) == ("REFUNDED", "50.00")
    assert [r["amount"] for r in rest.json()["refunds"]] == ["20.00", "30.00"]
    assert [e["state"] for e in await ledger(client)] == ["voided", "refunded"]


async def test_an_authorization_cannot_be_refunded_only_voided(client):
    profile = await profile_for(client)
    auth = (await client.post("/api/v1/authorizations", json=charge(profile["profileId"]))).json()
    refused = await client.post(f"/api/v1/transactions/{auth['transactionId']}/refunds")
    assert refused.status_code == 409
    assert (await client.post(f"/api/v1/transactions/{auth['transactionId']}/void")).json()["status"] == "VOIDED"


@pytest.mark.parametrize("number, code", [(DECLINED, "CARD_DECLINED"), (NO_FUNDS, "INSUFFICIENT_FUNDS")])
@pytest.mark.parametrize("path", ["/api/v1/authorizations", "/api/v1/sales"])
async def test_test_cards_decline_with_402_and_a_declined_ledger_entry(client, number, code, path):
    profile = await profile_for(client, number)
    response = await client.post(path, json=charge(profile["profileId"]))
    assert response.status_code == 402
    assert response.json()["code"] == code
    entry, = await ledger(client)
    assert (entry["transactionId"], entry["state"], entry["declineCode"]) == (
        response.json()["transactionId"], "declined", code)


@pytest.mark.parametrize("amount, status", [
    ("0", 422), ("-1.00", 422), ("1.001", 400), ("abc", 400), ("NaN", 400), (None, 400), (True, 400),
    ("1" * 30, 400),
])
async def test_gw_2_amount_must_be_positive_with_two_decimals(client, amount, status):
    profile = await profile_for(client)
    response = await client.post("/api/v1/sales", json=charge(profile["profileId"], amount))
    assert response.status_code == status
    assert await ledger(client) == []


@pytest.mark.parametrize("descriptor, status", [(None, 400), ("", 400), ("X" * 23, 400), ("X" * 22, 201)])
async def test_gw_3_statement_descriptor_is_required_and_at_most_22_characters(client, descriptor, status):
    profile = await profile_for(client)
    body = charge(profile["profileId"], statementDescriptor=descriptor)
    assert (await client.post("/api/v1/authorizations", json=body)).status_code == status


async def test_gw_2_unknown_profile_is_a_404(client):
    response = await client.post("/api/v1/authorizations", json=charge("prof_nope"))
    assert (response.status_code, response.json()["code"]) == (404, "PROFILE_NOT_FOUND")


async def test_mny_1_amounts_above_int32_round_trip_exactly(client):
    profile = await profile_for(client)
    # a JSON number is parsed as an exact decimal too
    raw = ('{"profileId": "%s", "amount": 2147483648.01, "currency": "USD", "statementDescriptor": "D",'
           ' "reference": "big"}' % profile["profileId"])
    sale = await client.post("/api/v1/sales", content=raw, headers={"content-type": "application/json"})
    assert sale.json()["amount"] == "2147483648.01"
    assert (await ledger(client))[0]["capturedAmount"] == "2147483648.01"
    huge = await client.post("/api/v1/sales", json=charge(profile["profileId"], "98765432109876543.21"))
    assert huge.json()["amount"] == "98765432109876543.21"


async def test_transactions_can_be_found_by_reference(client):
    profile = await profile_for(client)
    sale = (await client.post("/api/v1/sales", json=charge(profile["profileId"], reference="pg-77"))).json()
    found = (await client.get("/api/v1/transactions", params={"reference": "pg-77"})).json()["transactions"]
    assert [t["transactionId"] for t in found] == [sale["transactionId"]]
    assert (await client.get("/api/v1/transactions", params={"reference": "pg-78"})).json() == {"transactions": []}
    assert (await client.get(f"/api/v1/transactions/{sale['transactionId']}")).json() == sale
    assert (await client.get("/api/v1/transactions")).status_code == 400


# idempotency ---------------------------------------------------------------------------------------
async def test_same_idempotency_key_and_body_replays_without_charging_again(client):
    profile = await profile_for(client)
    headers = {"idempotency-key": "pay-1"}
    first = await client.post("/api/v1/sales", json=charge(profile["profileId"]), headers=headers)
    second = await client.post("/api/v1/sales", json=charge(profile["profileId"]), headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json() and second.headers["idempotent-replayed"] == "true"
    assert len(await ledger(client)) == 1


async def test_same_idempotency_key_with_another_body_is_a_409(client):
    profile = await profile_for(client)
    headers = {"idempotency-key": "pay-2"}
    await client.post("/api/v1/sales", json=charge(profile["profileId"]), headers=headers)
    reused = await client.post("/api/v1/sales", json=charge(profile["profileId"], "26.00"), headers=headers)
    elsewhere = await client.post("/api/v1/authorizations", json=charge(profile["profileId"]), headers=headers)
    assert (reused.status_code, reused.json()["code"]) == (409, "IDEMPOTENCY_KEY_REUSED")
    assert elsewhere.status_code == 409
    assert len(await ledger(client)) == 1


async def test_concurrent_requests_with_one_key_charge_once(client, app):
    # given a little latency so the requests overlap inside the app
    profile = await profile_for(client)
    app.state.control.latency_ms = 5
    headers = {"idempotency-key": "pay-3"}
    # when
    responses = await asyncio.gather(*(
        client.post("/api/v1/sales", json=charge(profile["profileId"]), headers=headers) for _ in range(20)))
    # then
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["transactionId"] for r in responses}) == 1
    assert len(await ledger(client)) == 1
    assert app.state.idempotency_locks._locks == {}  # the per-key lock is dropped once unused


async def test_a_replayed_decline_is_not_attempted_again(client):
    profile = await profile_for(client, DECLINED)
    headers = {"idempotency-key": "pay-4"}
    first = await client.post("/api/v1/sales", json=charge(profile["profileId"]), headers=headers)
    second = await client.post("/api/v1/sales", json=charge(profile["profileId"]), headers=headers)
    assert first.status_code == second.status_code == 402 and first.json() == second.json()
    assert len(await ledger(client)) == 1


async def test_a_refused_request_is_not_remembered(client):
    profile = await profile_for(client)
    headers = {"idempotency-key": "pay-5"}
    refused = await client.post("/api/v1/sales", json=charge(profile["profileId"], "0"), headers=headers)
    assert refused.status_code == 422
    assert (await client.post("/api/v1/sales", json=charge(profile["profileId"]), headers=headers)).status_code == 201


# admin, API key, faults, the command line ----------------------------------------------------------
async def test_api_key_guards_the_api_but_not_the_hosted_page():
    app = create_app(api_key="s3cret")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://navigapay") as client:
        body = {"merchant": NCS, "subscriptionId": "S", "paymentType": "CREDIT_CARD"}
        refused = await client.post("/api/v1/sessions", json=body)
        assert (refused.status_code, refused.json()["code"]) == (401, "UNAUTHORIZED")
        session = await client.post("/api/v1/sessions", json=body, headers={"authorization": "Bearer s3cret"})
        assert session.status_code == 201
        assert (await client.get(f"/hosted/{session.json()['sessionId']}")).status_code == 200
        assert (await client.get("/api/v1/profiles/x")).status_code == 401


async def test_demo_profiles_load_in_process_and_through_the_admin_api(client, app):
    data = generate(1, anchor=date(2026, 3, 10))
    assert load_demo(app.state.store, data) == len(data.gateway_profiles) > 0
    bank = next(p for p in data.gateway_profiles if p["paymentType"] == "BANK")
    profile = (await client.get(f"/api/v1/profiles/{bank['profileId']}")).json()
    assert profile["accountMasked"] == "****" + bank["last4"]
    await client.post("/_sandbox/reset")
    assert (await client.get(f"/api/v1/profiles/{bank['profileId']}")).status_code == 404
    loaded = await client.post("/_sandbox/load", json={"profiles": data.gateway_profiles[:3]})
    assert loaded.json() == {"loaded": 3, "profiles": 3}
    card = data.gateway_profiles[0]
    sale = await client.post("/api/v1/sales", json=charge(card["profileId"]))
    assert sale.json()["merchant"] == card["merchant"]
    bad = await client.post("/_sandbox/load", json={"profiles": [{"profileId": "p"}]})
    assert bad.status_code == 400


async def test_faults_apply_to_the_api(client):
    response = await client.get("/api/v1/transactions/x", headers={"x-sandbox-fault": "status=503"})
    assert response.status_code == 503


def test_runs_alone_from_the_command_line():
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "sandbox.navigapay", "--port", str(port), "--scale", "1",
                                "--api-key", "k", "--public-url", "https://pay.example.test"])
    try:
        profile_id = generate(1).gateway_profiles[0]["profileId"]
        deadline = time.monotonic() + 15
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/v1/profiles/{profile_id}",
                                     headers={"authorization": "Bearer k"})
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the emulator did not start"
                time.sleep(0.1)
        assert response.status_code == 200 and response.json()["profileId"] == profile_id
        session = httpx.post(f"http://127.0.0.1:{port}/api/v1/sessions", headers={"authorization": "Bearer k"},
                             json={"merchant": NCS, "subscriptionId": "S", "paymentType": "BANK"}).json()
        assert session["iframeUrl"].startswith("https://pay.example.test/hosted/")
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_a_fault_after_the_work_loses_only_the_answer(client):
    # given: the sale is made, then its answer is lost (what a timeout after charging looks like)
    profile = await profile_for(client)
    # when
    response = await client.post("/api/v1/sales", json=charge(profile["profileId"]),
                                 headers={"x-sandbox-fault": "status=503;after", "idempotency-key": "k-after"})
    replay = await client.post("/api/v1/sales", json=charge(profile["profileId"]), headers={"idempotency-key": "k-after"})
    # then: the charge exists, once, and a retry with the key gets it
    assert response.status_code == 503
    [sale] = [e for e in await ledger(client) if e["kind"] == "SALE"]
    assert sale["state"] == "captured"
    assert replay.status_code == 201 and replay.json()["transactionId"] == sale["transactionId"]


async def test_after_without_another_fault_answers_as_usual(client):
    response = await client.get("/api/v1/transactions/x", headers={"x-sandbox-fault": "after"})

    assert response.status_code == 404
