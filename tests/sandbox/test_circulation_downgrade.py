"""Contract tests of the circulation emulator's downgrade endpoint (STP-4): recorded for the next renewal and
applied on its day, every kind alike, its refusals, idempotency and the fault injection the rest has."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.sandbox.circulation_support import ANCHOR, api, app, client, pick  # noqa: F401 (fixtures)

PAPERS = ["CPRDEMO", "MTXDEMO", "NCSDEMO", "SAXDEMO"]  # CIRCPRO, MATRIX, NCS, SAXO
NCS = "NCSDEMO"


def renewing(r: dict[str, Any]) -> bool:
    return (r["status"] == "ACTIVE" and bool(r["billingOptions"]) and bool(r.get("endDate"))
            and date.fromisoformat(r["endDate"]) > ANCHOR + timedelta(days=1))


def body(record: dict[str, Any], **changes: Any) -> dict[str, Any]:
    lowest = min(Decimal(o["rate"]) for o in record["billingOptions"])
    return {"productCode": "LOW-1", "term": "1M", "length": 1, "lengthUnit": "MONTH",
            "rate": f"{lowest - Decimal('0.01'):.2f}", "tax": "0.10", "reason": "PRICE", **changes}


async def schedule(client, paper: str, sub: str, payload: dict[str, Any], **headers):
    return await client.post(api(paper, f"/subscriptions/{sub}/downgrade"), json=payload, headers=headers)


@pytest.mark.parametrize("paper", PAPERS)
async def test_stp_4_every_kind_records_a_downgrade_for_the_next_renewal(client, pick, paper):
    # given
    record = pick(paper, renewing)
    product = record["productCode"]
    # when
    created = await schedule(client, paper, record["id"], body(record))
    shown = (await client.get(api(paper, f"/subscriptions/{record['id']}/downgrade"))).json()
    view = (await client.get(api(paper, f"/subscriptions/{record['id']}"))).json()
    # then: waiting for the end of the current term; the product is unchanged until then
    assert created.status_code == 201
    downgrade = created.json()["downgrade"]
    assert (downgrade["productCode"], downgrade["effectiveDate"], downgrade["reason"]) == (
        "LOW-1", record["endDate"], "PRICE")
    assert shown == {"downgrade": downgrade} and view["scheduledDowngrade"] == downgrade
    assert view["productCode"] == product


@pytest.mark.parametrize("paper", PAPERS)
async def test_stp_4_every_kind_applies_it_on_the_renewal_day_paper_time(client, app, pick, paper):
    # given
    record = pick(paper, renewing)
    product, payload = record["productCode"], body(record)
    assert (await schedule(client, paper, record["id"], payload)).status_code == 201
    zone = app.state.store.papers[paper].time_zone
    renewal = datetime.combine(date.fromisoformat(record["endDate"]), datetime.min.time(), tzinfo=ZoneInfo(zone))
    path = api(paper, f"/subscriptions/{record['id']}")
    # when: one second before midnight of the renewal day, then midnight (the paper's time zone)
    app.state.store.clock = lambda: (renewal - timedelta(seconds=1)).astimezone(UTC)
    before = (await client.get(path)).json()
    app.state.store.clock = lambda: renewal.astimezone(UTC)
    after = (await client.get(path)).json()
    options = (await client.get(path + "/billing-options")).json()["billingOptions"]
    # then
    assert before["productCode"] == product and before["scheduledDowngrade"] is not None
    assert after["productCode"] == "LOW-1" and after["scheduledDowngrade"] is None
    assert [(o["term"], o["rate"], o["amount"]) for o in options] == [
        ("1M", payload["rate"], f"{Decimal(payload['rate']) + Decimal('0.10'):.2f}")]
    ledger = (await client.get(path + "/transactions")).json()["transactions"]
    assert [e["operation"] for e in ledger][-2:] == ["DOWNGRADE", "DOWNGRADE_APPLIED"]


async def test_stp_4_refusals(client, pick):
    record = pick(NCS, renewing)
    stopped = pick(NCS, lambda r: r["status"] == "STOPPED" and bool(r["billingOptions"]))
    same = await schedule(client, NCS, record["id"], body(record, productCode=record["productCode"]))
    dearer = await schedule(client, NCS, record["id"], body(record, rate=f"{max(Decimal(o['rate']) for o in record['billingOptions']):.2f}"))
    refused_stopped = await schedule(client, NCS, stopped["id"], body(stopped))
    bad = await schedule(client, NCS, record["id"], body(record, length=0))
    unknown_field = await schedule(client, NCS, record["id"], {**body(record), "surprise": 1})
    first = await schedule(client, NCS, record["id"], body(record))
    second = await schedule(client, NCS, record["id"], body(record, productCode="LOW-2"))
    assert (same.status_code, same.json()["code"]) == (422, "SAME_PRODUCT")
    assert (dearer.status_code, dearer.json()["code"]) == (422, "NOT_A_DOWNGRADE")
    assert (refused_stopped.status_code, refused_stopped.json()["code"]) == (422, "SUBSCRIPTION_STOPPED")
    assert (bad.status_code, bad.json()["code"]) == (400, "INVALID_REQUEST")
    assert unknown_field.status_code == 400
    assert first.status_code == 201
    assert (second.status_code, second.json()["code"]) == (409, "DOWNGRADE_ALREADY_SCHEDULED")


async def test_stp_4_a_past_end_date_renews_tomorrow_and_a_cancel_drops_it(client, pick):
    record = pick(NCS, lambda r: r["status"] in ("ACTIVE", "IN_GRACE") and bool(r["billingOptions"])
                  and r.get("endDate") and date.fromisoformat(r["endDate"]) <= ANCHOR)
    created = await schedule(client, NCS, record["id"], body(record))
    assert created.json()["downgrade"]["effectiveDate"] == (ANCHOR + timedelta(days=1)).isoformat()
    assert (await client.post(api(NCS, f"/subscriptions/{record['id']}/cancel"), json={"reason": "PRICE"})
            ).status_code == 200
    assert (await client.get(api(NCS, f"/subscriptions/{record['id']}/downgrade"))).json() == {"downgrade": None}


async def test_stp_4_idempotency_key_replays_and_refuses_another_request(client, pick):
    record = pick(NCS, renewing)
    key = {"Idempotency-Key": "dg-1"}
    first = await schedule(client, NCS, record["id"], body(record), **key)
    again = await schedule(client, NCS, record["id"], body(record), **key)
    other = await schedule(client, NCS, record["id"], body(record, reason="MOVING"), **key)
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert (other.status_code, other.json()["code"]) == (409, "IDEMPOTENCY_KEY_REUSED")


async def test_fault_before_the_downgrade_changes_nothing_after_hides_the_answer(client, pick):
    record = pick(NCS, renewing)
    path = api(NCS, f"/subscriptions/{record['id']}/downgrade")
    before = await schedule(client, NCS, record["id"], body(record), **{"X-Sandbox-Fault": "status=503"})
    assert before.status_code == 503 and (await client.get(path)).json() == {"downgrade": None}
    await client.post("/_sandbox/faults", json={"rules": [
        {"method": "POST", "path": "/downgrade$", "status": 502, "after": True, "times": 1}]})
    after = await schedule(client, NCS, record["id"], body(record))
    assert after.status_code == 502 and (await client.get(path)).json()["downgrade"]["productCode"] == "LOW-1"
