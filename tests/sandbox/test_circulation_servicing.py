"""Contract tests of the circulation emulator's servicing endpoints: temporary stops (STP-1, STP-2) and complaints
(CMP-1, CMP-3), every kind, with the fault injection the rest of the emulator has."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.sandbox.circulation_support import ANCHOR, DATA, api, app, client, pick  # noqa: F401 (fixtures)

KINDS = {"NCSDEMO": 1, "MTXDEMO": 2, "CPRDEMO": 1, "SAXDEMO": 2}  # paper → lead days of the offered window
NCS = "NCSDEMO"


def print_active(r: dict[str, Any]) -> bool:
    return r["status"] == "ACTIVE" and not r["digital"]


def day(offset: int) -> str:
    return (ANCHOR + timedelta(days=offset)).isoformat()


async def schedule(client, paper: str, sub: str, start: str, restart: str | None = None, **headers) -> httpx.Response:
    body = {"startDate": start, **({"restartDate": restart} if restart else {})}
    return await client.post(api(paper, f"/subscriptions/{sub}/temporary-stops"), json=body, headers=headers)


@pytest.mark.parametrize("paper", sorted(KINDS))
async def test_stp_1_every_kind_offers_dates_and_schedules_lists_and_cancels(client, pick, paper):
    # given
    record = pick(paper, print_active)
    # when
    dates = (await client.get(api(paper, f"/subscriptions/{record['id']}/temporary-stop-dates"))).json()["dates"]
    created = await schedule(client, paper, record["id"], dates[0], dates[5])
    listed = (await client.get(api(paper, f"/subscriptions/{record['id']}/temporary-stops"))).json()
    # then
    assert dates[0] == day(KINDS[paper]) and len(dates) == 90
    assert created.status_code == 201
    stop = created.json()["temporaryStop"]
    assert (stop["startDate"], stop["restartDate"], stop["reason"]) == (dates[0], dates[5], "VACATION")
    assert listed["temporaryStops"] == [stop]
    cancelled = await client.post(api(paper, f"/subscriptions/{record['id']}/temporary-stops/{stop['id']}/cancel"))
    assert cancelled.status_code == 200
    assert (await client.get(api(paper, f"/subscriptions/{record['id']}/temporary-stops"))).json() == {
        "temporaryStops": []}


@pytest.mark.parametrize("paper", sorted(KINDS))
async def test_stp_2_every_kind_changes_the_restart_date(client, pick, paper):
    # given: an open-ended stop (no restart date)
    record = pick(paper, print_active)
    start = day(KINDS[paper])
    stop = (await schedule(client, paper, record["id"], start)).json()["temporaryStop"]
    # when
    changed = await client.put(api(paper, f"/subscriptions/{record['id']}/temporary-stops/{stop['id']}/restart"),
                               json={"restartDate": day(KINDS[paper] + 3)})
    # then
    assert changed.status_code == 200
    assert changed.json()["temporaryStop"]["restartDate"] == day(KINDS[paper] + 3)


async def test_stp_1_dates_outside_the_offered_window_are_refused(client, pick):
    record = pick(NCS, print_active)
    today = await schedule(client, NCS, record["id"], day(0))
    after_window = await schedule(client, NCS, record["id"], day(91))
    last = await schedule(client, NCS, record["id"], day(90))
    assert (today.status_code, today.json()["code"]) == (422, "DATE_NOT_OFFERED")
    assert (after_window.status_code, after_window.json()["code"]) == (422, "DATE_NOT_OFFERED")
    assert last.status_code == 201


async def test_stp_1_restart_must_be_after_start(client, pick):
    record = pick(NCS, print_active)
    same_day = await schedule(client, NCS, record["id"], day(3), day(3))
    assert (same_day.status_code, same_day.json()["code"]) == (422, "RESTART_NOT_AFTER_START")
    assert (await schedule(client, NCS, record["id"], day(3), day(4))).status_code == 201


async def test_stp_1_overlap_by_one_day_is_refused_and_back_to_back_is_not(client, pick):
    # given: stopped from day 5, delivered again on day 10
    record = pick(NCS, print_active)
    assert (await schedule(client, NCS, record["id"], day(5), day(10))).status_code == 201
    # when
    overlapping = await schedule(client, NCS, record["id"], day(9), day(12))
    before_overlapping = await schedule(client, NCS, record["id"], day(2), day(6))
    back_to_back = await schedule(client, NCS, record["id"], day(10), day(12))
    # then
    assert (overlapping.status_code, overlapping.json()["code"]) == (409, "OVERLAPPING_STOP")
    assert (before_overlapping.status_code, before_overlapping.json()["code"]) == (409, "OVERLAPPING_STOP")
    assert back_to_back.status_code == 201


async def test_stp_1_an_open_ended_stop_overlaps_everything_after_it(client, pick):
    record = pick(NCS, print_active)
    assert (await schedule(client, NCS, record["id"], day(5))).status_code == 201
    later = await schedule(client, NCS, record["id"], day(60), day(61))
    assert later.json()["code"] == "OVERLAPPING_STOP"


async def test_stp_1_a_digital_subscription_has_no_print_to_stop(client, pick):
    record = pick(NCS, lambda r: r["status"] == "ACTIVE" and r["digital"])
    refused = await schedule(client, NCS, record["id"], day(3))
    assert (refused.status_code, refused.json()["code"]) == (422, "DIGITAL_SUBSCRIPTION")


async def test_stp_2_restart_before_today_is_refused_and_today_accepted(client, app, pick):
    # given: a stop that started yesterday (the clock moves on two days after scheduling)
    record = pick(NCS, print_active)
    stop = (await schedule(client, NCS, record["id"], day(1))).json()["temporaryStop"]
    app.state.store.clock = lambda: datetime(ANCHOR.year, ANCHOR.month, ANCHOR.day + 2, 12, tzinfo=UTC)
    path = api(NCS, f"/subscriptions/{record['id']}/temporary-stops/{stop['id']}/restart")
    # when
    yesterday = await client.put(path, json={"restartDate": day(1)})
    today = await client.put(path, json={"restartDate": day(2)})
    # then
    assert (yesterday.status_code, yesterday.json()["code"]) == (422, "DATE_IN_PAST")
    assert today.status_code == 200


async def test_stp_2_today_is_the_paper_time_zone_day_at_midnight(client, app, pick):
    """Just before midnight in New York (EDT since 8 March: 04:00 UTC is 00:00 there): the offered window moves at the
    paper's midnight, not UTC's."""
    record = pick(NCS, print_active)
    path = api(NCS, f"/subscriptions/{record['id']}/temporary-stop-dates")
    app.state.store.clock = lambda: datetime(2026, 3, 11, 3, 59, tzinfo=UTC)  # 23:59 on the 10th in New York
    before = (await client.get(path)).json()["dates"][0]
    app.state.store.clock = lambda: datetime(2026, 3, 11, 4, 0, tzinfo=UTC)  # 00:00 on the 11th in New York
    after = (await client.get(path)).json()["dates"][0]
    assert (before, after) == ("2026-03-11", "2026-03-12")


async def test_stp_cancel_refuses_a_stop_that_has_started(client, app, pick):
    record = pick(NCS, print_active)
    stop = (await schedule(client, NCS, record["id"], day(1), day(4))).json()["temporaryStop"]
    app.state.store.clock = lambda: datetime(ANCHOR.year, ANCHOR.month, ANCHOR.day + 1, 12, tzinfo=UTC)
    refused = await client.post(api(NCS, f"/subscriptions/{record['id']}/temporary-stops/{stop['id']}/cancel"))
    assert (refused.status_code, refused.json()["code"]) == (422, "STOP_ALREADY_STARTED")


async def test_unknown_stop_is_404(client, pick):
    record = pick(NCS, print_active)
    missing = await client.post(api(NCS, f"/subscriptions/{record['id']}/temporary-stops/TS404/cancel"))
    assert (missing.status_code, missing.json()["code"]) == (404, "TEMPORARY_STOP_NOT_FOUND")


async def test_unknown_body_fields_are_refused(client, pick):
    record = pick(NCS, print_active)
    response = await client.post(api(NCS, f"/subscriptions/{record['id']}/temporary-stops"),
                                 json={"startDate": day(3), "endDate": day(5)})
    assert (response.status_code, response.json()["code"]) == (400, "INVALID_REQUEST")


async def test_schedule_is_idempotent_per_key(client, pick):
    record = pick(NCS, print_active)
    first = await schedule(client, NCS, record["id"], day(3), day(5), **{"Idempotency-Key": "k1"})
    again = await schedule(client, NCS, record["id"], day(3), day(5), **{"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    listed = (await client.get(api(NCS, f"/subscriptions/{record['id']}/temporary-stops"))).json()
    assert len(listed["temporaryStops"]) == 1


async def test_fault_before_schedule_changes_nothing(client, pick):
    record = pick(NCS, print_active)
    faulted = await schedule(client, NCS, record["id"], day(3), **{"X-Sandbox-Fault": "status=503"})
    listed = (await client.get(api(NCS, f"/subscriptions/{record['id']}/temporary-stops"))).json()
    assert faulted.status_code == 503 and listed["temporaryStops"] == []


async def test_fault_after_schedule_makes_the_stop_and_hides_the_answer(client, app, pick):
    record = pick(NCS, print_active)
    await client.post("/_sandbox/faults", json={"rules": [
        {"method": "POST", "path": "/temporary-stops$", "status": 502, "after": True, "times": 1}]})
    faulted = await schedule(client, NCS, record["id"], day(3))
    listed = (await client.get(api(NCS, f"/subscriptions/{record['id']}/temporary-stops"))).json()
    assert faulted.status_code == 502 and len(listed["temporaryStops"]) == 1


async def test_fault_rule_on_offered_dates(client, pick):
    record = pick(NCS, print_active)
    await client.post("/_sandbox/faults", json={"rules": [{"path": "/temporary-stop-dates$", "status": 503,
                                                           "times": 1}]})
    path = api(NCS, f"/subscriptions/{record['id']}/temporary-stop-dates")
    assert (await client.get(path)).status_code == 503
    assert (await client.get(path)).status_code == 200


# complaints (CMP-1, CMP-3) -------------------------------------------------------------------------------
async def complain(client, sub: str, category: str, delivery: str, redelivery: bool = False, **headers):
    return await client.post(api(NCS, f"/subscriptions/{sub}/complaints"), headers=headers,
                             json={"category": category, "deliveryDate": delivery, "redelivery": redelivery})


@pytest.mark.parametrize("paper", sorted(KINDS))
async def test_cmp_1_every_kind_lists_categories_and_files_a_complaint(client, pick, paper):
    record = pick(paper, print_active)
    categories = (await client.get(api(paper, "/complaint-categories"))).json()["categories"]
    filed = await client.post(api(paper, f"/subscriptions/{record['id']}/complaints"),
                              json={"category": categories[0]["code"], "deliveryDate": day(-1)})
    listed = (await client.get(api(paper, f"/subscriptions/{record['id']}/complaints"))).json()["complaints"]
    assert {"code": "MISSED", "description": "Paper not delivered"} in categories
    assert filed.status_code == 201 and listed == [filed.json()["complaint"]]


async def test_cmp_1_future_date_and_unknown_category_are_refused(client, pick):
    record = pick(NCS, print_active)
    future = await complain(client, record["id"], "MISSED", day(1))
    unknown = await complain(client, record["id"], "ALIENS", day(0))
    assert (future.status_code, future.json()["code"]) == (422, "DATE_IN_FUTURE")
    assert (unknown.status_code, unknown.json()["code"]) == (422, "UNKNOWN_CATEGORY")
    assert (await complain(client, record["id"], "MISSED", day(0))).status_code == 201


async def test_cmp_3_redelivery_print_only_today_only_one_per_date(client, pick):
    printed = pick(NCS, print_active)
    digital = pick(NCS, lambda r: r["status"] == "ACTIVE" and r["digital"])
    first = await complain(client, printed["id"], "MISSED", day(0), True)
    second = await complain(client, printed["id"], "MISSED", day(0), True)
    yesterday = await complain(client, printed["id"], "MISSED", day(-1), True)
    on_digital = await complain(client, digital["id"], "MISSED", day(0), True)
    assert first.status_code == 201
    assert (second.status_code, second.json()["code"]) == (409, "REDELIVERY_ALREADY_REQUESTED")
    assert yesterday.json()["code"] == "REDELIVERY_TODAY_ONLY"
    assert on_digital.json()["code"] == "DIGITAL_SUBSCRIPTION"


async def test_fault_before_complaint_records_nothing(client, pick):
    record = pick(NCS, print_active)
    faulted = await complain(client, record["id"], "MISSED", day(0), **{"X-Sandbox-Fault": "status=500"})
    listed = (await client.get(api(NCS, f"/subscriptions/{record['id']}/complaints"))).json()["complaints"]
    assert faulted.status_code == 500 and listed == []


async def test_stp_5_every_kind_lists_stop_reasons(client):
    for paper in KINDS:
        reasons = (await client.get(api(paper, "/stop-reasons"))).json()["reasons"]
        assert {"code": "PRICE", "description": "Too expensive"} in reasons


async def test_fault_on_stop_reasons(client):
    assert (await client.get(api(NCS, "/stop-reasons"), headers={"X-Sandbox-Fault": "status=503"})).status_code == 503
