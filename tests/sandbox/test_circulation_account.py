"""Contract tests of the circulation emulator's account endpoints: eBill sign-up and sign-out (EZ-3, EBL-1, EBL-2),
bill statements and their PDFs (EBL-4), the current plan in each kind's own field names (EZ-4) and auto-pay cancel
(EZ-5), every kind, with the fault injection the rest of the emulator has."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.sandbox.circulation_support import ANCHOR, api, app, client, pick  # noqa: F401 (fixtures)

PAPERS = {"NCSDEMO": "NCS", "MTXDEMO": "MATRIX", "CPRDEMO": "CIRCPRO", "SAXDEMO": "SAXO"}
NCS = "NCSDEMO"


def may_ebill(r: dict[str, Any]) -> bool:
    return r["status"] == "ACTIVE" and not r["autoPay"] and not r["ebill"]


def on_auto_pay(r: dict[str, Any]) -> bool:
    return r["status"] == "ACTIVE" and r["autoPay"]


def started_long_ago(r: dict[str, Any]) -> bool:
    return r["startDate"] < "2025-06-01"


def assert_valid_pdf(data: bytes) -> None:
    """A PDF a reader opens: header, every cross-reference offset pointing at its object, the trailer's startxref
    pointing at the table, and %%EOF."""
    assert data.startswith(b"%PDF-1.") and data.rstrip().endswith(b"%%EOF")
    startxref = int(re.search(rb"startxref\n(\d+)\n", data).group(1))
    assert data[startxref:startxref + 4] == b"xref"
    count = int(re.match(rb"xref\n0 (\d+)\n", data[startxref:]).group(1))
    entries = re.findall(rb"(\d{10}) 00000 n \n", data[startxref:])
    assert len(entries) == count - 1
    for number, offset in enumerate(entries, start=1):
        assert data[int(offset):].startswith(b"%d 0 obj" % number)
    stream = re.search(rb"<< /Length (\d+) >>\nstream\n", data)
    length = int(stream.group(1))
    assert data[stream.end() + length:stream.end() + length + 10] == b"\nendstream"


# -- eBill ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("paper", sorted(PAPERS))
async def test_ebl_1_every_kind_signs_up_and_out_once_each(client, app, pick, paper):
    # given
    record = pick(paper, may_ebill)
    path = api(paper, f"/subscriptions/{record['id']}/ebill")
    # when
    up = await client.post(path, json={"email": "owner@example.com"})
    again = await client.post(path, json={"email": "owner@example.com"})
    out = await client.post(path + "/cancel", json={})
    out_again = await client.post(path + "/cancel", json={})
    # then
    assert up.status_code == 200 and up.json()["subscription"]["ebill"] is True
    assert up.json()["subscription"]["ebillEmail"] == "owner@example.com"  # EBL-2: bills to the owner's e-mail
    assert (again.status_code, again.json()["code"]) == (409, "ALREADY_ON_EBILL")
    assert out.status_code == 200 and out.json()["subscription"]["ebill"] is False
    assert (out_again.status_code, out_again.json()["code"]) == (409, "NOT_ON_EBILL")
    operations = [e["operation"] for e in app.state.store.ledger if e["subscriptionId"] == record["id"]]
    assert operations == ["EBILL_SIGNUP", "EBILL_SIGNOUT"]


@pytest.mark.parametrize("predicate,reason", [
    (lambda r: r["status"] == "STOPPED", "stopped"), (on_auto_pay, "on auto-pay")])
async def test_ez_3_ebill_sign_up_refused_when_stopped_or_on_auto_pay(client, pick, predicate, reason):
    record = pick(NCS, predicate)
    refused = await client.post(api(NCS, f"/subscriptions/{record['id']}/ebill"), json={"email": "a@example.com"})
    assert (refused.status_code, refused.json()["code"]) == (422, "EBILL_NOT_AVAILABLE")
    assert reason in refused.json()["message"] and record["ebill"] is False


async def test_ebill_body_is_strict(client, pick):
    record = pick(NCS, may_ebill)
    path = api(NCS, f"/subscriptions/{record['id']}/ebill")
    for body in ({}, {"email": "nobody"}, {"email": "a@example.com", "extra": 1}):
        refused = await client.post(path, json=body)
        assert (refused.status_code, refused.json()["code"]) == (400, "INVALID_REQUEST")
    assert record["ebill"] is False


async def test_ebl_3_auto_pay_sign_up_ends_ebill(client, pick):
    record = pick(NCS, lambda r: r["status"] == "ACTIVE" and r["ebill"] and not r["autoPay"])
    option = record["billingOptions"][0]
    answer = await client.post(api(NCS, f"/subscriptions/{record['id']}/autopay"), json={
        "paymentType": "CREDIT_CARD", "term": option["term"], "length": option["length"], "paymentToken": "tok"})
    assert answer.status_code == 200
    assert (answer.json()["subscription"]["autoPay"], answer.json()["subscription"]["ebill"]) == (True, False)


async def test_fault_before_ebill_sign_up_changes_nothing_and_after_hides_the_change(client, pick):
    record = pick(NCS, may_ebill)
    path = api(NCS, f"/subscriptions/{record['id']}/ebill")
    before = await client.post(path, json={"email": "a@example.com"}, headers={"X-Sandbox-Fault": "status=503"})
    assert before.status_code == 503 and record["ebill"] is False
    after = await client.post(path, json={"email": "a@example.com"},
                              headers={"X-Sandbox-Fault": "after;status=503", "Idempotency-Key": "e-1"})
    replay = await client.post(path, json={"email": "a@example.com"}, headers={"Idempotency-Key": "e-1"})
    assert after.status_code == 503 and record["ebill"] is True
    assert replay.status_code == 200 and replay.headers["idempotent-replayed"] == "true"


# -- statements (EBL-4) ---------------------------------------------------------------------------------
@pytest.mark.parametrize("paper", sorted(PAPERS))
async def test_ebl_4_every_kind_lists_statements_newest_first_and_serves_each_pdf(client, pick, paper):
    # given: a subscription billed for more than six months
    record = pick(paper, started_long_ago)
    # when
    listed = (await client.get(api(paper, f"/subscriptions/{record['id']}/statements"))).json()["statements"]
    pdf = await client.get(api(paper, f"/subscriptions/{record['id']}/statements/{listed[0]['id']}"))
    # then
    assert [s["issueDate"] for s in listed] == ["2026-03-01", "2026-02-01", "2026-01-01", "2025-12-01",
                                                 "2025-11-01", "2025-10-01"]
    assert listed[0]["periodEnd"] == "2026-03-31" and listed[1]["periodEnd"] == "2026-02-28"
    assert re.fullmatch(r"\d+\.\d\d", listed[0]["amountDue"])
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert_valid_pdf(pdf.content)
    assert record["accountNumber"].encode() in pdf.content and listed[0]["id"].encode() in pdf.content


async def test_ebl_4_each_kind_words_its_statement_its_own_way(client, pick):
    titles = set()
    for paper in PAPERS:
        record = pick(paper, started_long_ago)
        [first, *_] = (await client.get(api(paper, f"/subscriptions/{record['id']}/statements"))).json()["statements"]
        pdf = (await client.get(api(paper, f"/subscriptions/{record['id']}/statements/{first['id']}"))).content
        titles.add(re.search(rb"/Title \(([^)]*)\)", pdf).group(1))
    assert len(titles) == 4


async def test_ebl_4_a_subscription_started_this_month_has_one_statement(client, pick):
    record = pick(NCS, started_long_ago)
    record["startDate"] = ANCHOR.replace(day=2).isoformat()
    listed = (await client.get(api(NCS, f"/subscriptions/{record['id']}/statements"))).json()["statements"]
    assert [s["issueDate"] for s in listed] == ["2026-03-01"]


async def test_ebl_4_another_subscriptions_statement_is_not_found(client, pick):
    mine = pick(NCS, started_long_ago)
    other = pick(NCS, lambda r: started_long_ago(r) and r["id"] != mine["id"])
    [theirs, *_] = (await client.get(api(NCS, f"/subscriptions/{other['id']}/statements"))).json()["statements"]
    refused = await client.get(api(NCS, f"/subscriptions/{mine['id']}/statements/{theirs['id']}"))
    unknown = await client.get(api(NCS, "/subscriptions/NOPE/statements"))
    assert (refused.status_code, refused.json()["code"]) == (404, "STATEMENT_NOT_FOUND")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "SUBSCRIPTION_NOT_FOUND")


async def test_fault_rule_on_statement_pdf(client, pick):
    record = pick(NCS, started_long_ago)
    [first, *_] = (await client.get(api(NCS, f"/subscriptions/{record['id']}/statements"))).json()["statements"]
    await client.post("/_sandbox/faults", json={"rules": [{"path": "/statements/", "status": 503, "times": 1}]})
    faulted = await client.get(api(NCS, f"/subscriptions/{record['id']}/statements/{first['id']}"))
    served = await client.get(api(NCS, f"/subscriptions/{record['id']}/statements/{first['id']}"))
    assert faulted.status_code == 503 and served.status_code == 200


# -- current plan (EZ-4) and auto-pay cancel (EZ-5) -------------------------------------------------------
PLAN_NAMES = {
    "NCSDEMO": ("term", "paidThroughDate", "amount", "autoRenew", "balance"),
    "MTXDEMO": ("termCode", "paidThru", "totalAmount", "autoRenew", "accountBalance"),
    "CPRDEMO": ("Term", "PaidThroughDate", "Amount", "AutoRenew", "Balance"),
    "SAXDEMO": ("term", "expiryDate", "total", "renewAutomatically", "balance"),
}


@pytest.mark.parametrize("paper", sorted(PAPERS))
async def test_ez_4_every_kind_answers_the_plan_in_its_own_names(client, pick, paper):
    record = pick(paper, on_auto_pay)
    plan = (await client.get(api(paper, f"/subscriptions/{record['id']}/plan"))).json()["plan"]
    term, paid, amount, renew, balance = PLAN_NAMES[paper]
    assert len(plan) == 10
    option = next(o for o in record["billingOptions"] if o["term"] == plan[term])
    assert (plan[paid], plan[amount], plan[renew], plan[balance]) == (
        record["endDate"], str(option["amount"]), True, str(record["balance"]))


async def test_ez_4_a_stopped_subscription_has_a_plan_that_does_not_renew(client, pick):
    record = pick(NCS, lambda r: r["status"] == "STOPPED")
    plan = (await client.get(api(NCS, f"/subscriptions/{record['id']}/plan"))).json()["plan"]
    assert plan["autoRenew"] is False and plan["paidThroughDate"] == record["endDate"]


@pytest.mark.parametrize("paper", sorted(PAPERS))
async def test_ez_5_every_kind_cancels_auto_pay_but_not_the_subscription(client, app, pick, paper):
    # given
    record = pick(paper, on_auto_pay)
    record["autoPayPlan"] = {"paymentType": "CREDIT_CARD", "term": record["billingOptions"][0]["term"],
                             "length": 1, "tip": "2.00", "donation": "1.00"}
    path = api(paper, f"/subscriptions/{record['id']}/autopay/cancel")
    # when
    cancelled = await client.post(path, json={})
    again = await client.post(path, json={})
    # then
    subscription = cancelled.json()["subscription"]
    assert cancelled.status_code == 200
    assert (subscription["autoPay"], subscription["autoPayPlan"], subscription["status"]) == (False, None, "ACTIVE")
    assert all(not o["autoRenew"] for o in record["billingOptions"])
    assert (again.status_code, again.json()["code"]) == (409, "NOT_ON_AUTO_PAY")
    [entry] = [e for e in app.state.store.ledger if e["operation"] == "AUTOPAY_CANCEL"]
    assert (entry["tip"], entry["donation"]) == ("2.00", "1.00")


async def test_fault_before_auto_pay_cancel_changes_nothing(client, pick):
    record = pick(NCS, on_auto_pay)
    faulted = await client.post(api(NCS, f"/subscriptions/{record['id']}/autopay/cancel"), json={},
                                headers={"X-Sandbox-Fault": "status=503"})
    assert faulted.status_code == 503 and record["autoPay"] is True
