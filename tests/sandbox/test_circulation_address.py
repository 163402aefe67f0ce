"""Contract tests of the circulation emulator's subscriber endpoints: details (ADR-1), dated moves (ADR-3, ADR-4) on
every kind, and the SUB-2 search index (prefix names and company, phones with or without the country code), with
the fault injection the rest of the emulator has."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from sandbox.circulation.store import CirculationStore
from tests.sandbox.circulation_support import ANCHOR, api, app, client, pick  # noqa: F401 (fixtures)

PAPERS = ["NCSDEMO", "MTXDEMO", "CPRDEMO", "SAXDEMO"]
NCS = "NCSDEMO"
ADDRESS = {"houseNumber": "12", "streetName": "Harbour St", "city": "Sydney", "postalCode": "2000", "country": "AU",
           "levelDesignator": "Level", "levelNumber": "3"}


def active(r: dict[str, Any]) -> bool:
    return r["status"] == "ACTIVE" and r["kind"] == "REGULAR"


def day(offset: int) -> str:
    return (ANCHOR + timedelta(days=offset)).isoformat()


async def move(client, paper: str, sub: str, effective: str, address: dict | None = None, **extra) -> httpx.Response:
    headers = extra.pop("headers", {})
    body = {"effectiveDate": effective, "address": address or ADDRESS, **extra}
    return await client.post(api(paper, f"/subscriptions/{sub}/moves"), json=body, headers=headers)


async def read(client, paper: str, sub: str) -> dict[str, Any]:
    return (await client.get(api(paper, f"/subscriptions/{sub}"))).json()


@pytest.mark.parametrize("paper", PAPERS)
async def test_adr_3_a_move_effective_today_applies_at_once_on_every_kind(client, pick, paper):
    record = pick(paper, active)
    answer = await move(client, paper, record["id"], day(0))
    after = await read(client, paper, record["id"])
    listed = (await client.get(api(paper, f"/subscriptions/{record['id']}/moves"))).json()
    assert answer.status_code == 201, answer.text
    assert answer.json()["move"]["status"] == "APPLIED"
    assert after["subscriber"]["address"] == ADDRESS  # ADR-4: the level designator and number are kept
    assert listed["moves"] == [answer.json()["move"]]


@pytest.mark.parametrize("paper", PAPERS)
async def test_adr_3_a_move_dated_yesterday_is_refused_on_every_kind(client, pick, paper):
    record = pick(paper, active)
    answer = await move(client, paper, record["id"], day(-1))
    assert answer.status_code == 422 and answer.json()["code"] == "DATE_IN_PAST"
    assert (await read(client, paper, record["id"]))["subscriber"]["address"] == record["subscriber"]["address"]


async def test_adr_3_today_is_the_papers_day_at_midnight(client, app, pick):
    # 23:59 in Sydney on the anchor day vs 00:00 of the next: the same UTC date either way
    record = pick("SAXDEMO", active)
    app.state.store.clock = lambda: datetime(ANCHOR.year, ANCHOR.month, ANCHOR.day, 12, 59, tzinfo=UTC)  # 23:59 AEDT
    in_time = await move(client, "SAXDEMO", record["id"], day(0))
    app.state.store.clock = lambda: datetime(ANCHOR.year, ANCHOR.month, ANCHOR.day, 13, 0, tzinfo=UTC)  # 00:00
    late = await move(client, "SAXDEMO", record["id"], day(0))
    assert in_time.status_code == 201  # 23:59 on the anchor day: still today
    assert late.status_code == 422 and late.json()["code"] == "DATE_IN_PAST"


async def test_adr_3_a_future_move_waits_for_its_day(client, app, pick):
    record = pick(NCS, active)
    before = record["subscriber"]["address"]
    answer = await move(client, NCS, record["id"], day(2))
    second = await move(client, NCS, record["id"], day(5))
    waiting = await read(client, NCS, record["id"])
    app.state.store.clock = lambda: datetime(ANCHOR.year, ANCHOR.month, ANCHOR.day + 2, 5, tzinfo=UTC)  # 00:00 NY
    moved = await read(client, NCS, record["id"])
    assert answer.status_code == 201 and answer.json()["move"]["status"] == "SCHEDULED"
    assert second.status_code == 409 and second.json()["code"] == "MOVE_ALREADY_SCHEDULED"
    assert waiting["subscriber"]["address"] == before
    assert moved["subscriber"]["address"] == ADDRESS


async def test_adr_4_an_ncs_comp_move_carries_billing_method_and_rate_code_together_or_not_at_all(client, pick):
    """ADR-4: papergraph sends them when `Flow.AddressMove` is RealTime; NCS's AddMove takes a comp move without
    them too (the subscription keeps its own), but never one without the other."""
    comp = pick(NCS, lambda r: r["status"] == "ACTIVE" and r["kind"] == "COMPLIMENTARY")
    own = (comp.get("billingMethod"), comp.get("rateCode"))
    half = await move(client, NCS, comp["id"], day(0), billingMethod="COMP")
    plain = await move(client, NCS, comp["id"], day(0))
    kept = await read(client, NCS, comp["id"])
    carried = await move(client, NCS, comp["id"], day(0), billingMethod="COMP", rateCode="CMP7")
    after = await read(client, NCS, comp["id"])
    assert half.status_code == 422 and half.json()["code"] == "MOVE_BILLING_REQUIRED"
    assert plain.status_code == 201, plain.text
    assert (plain.json()["move"]["billingMethod"], plain.json()["move"]["rateCode"]) == (None, None)
    assert (kept.get("billingMethod"), kept.get("rateCode")) == own != ("COMP", "CMP7")
    assert carried.status_code == 201, carried.text
    assert carried.json()["move"] | {"id": None} == {"id": None, "effectiveDate": day(0), "address": ADDRESS,
                                                     "billingMethod": "COMP", "rateCode": "CMP7", "status": "APPLIED"}
    assert (after["billingMethod"], after["rateCode"]) == ("COMP", "CMP7")


@pytest.mark.parametrize("paper", ["MTXDEMO", "CPRDEMO", "SAXDEMO"])
async def test_adr_4_other_kinds_refuse_comp_move_fields(client, pick, paper):
    comp = pick(paper, lambda r: r["status"] == "ACTIVE" and r["kind"] == "COMPLIMENTARY")
    refused = await move(client, paper, comp["id"], day(0), billingMethod="COMP", rateCode="CMP7")
    plain = await move(client, paper, comp["id"], day(0))
    assert refused.status_code == 422 and refused.json()["code"] == "MOVE_BILLING_NOT_SUPPORTED"
    assert plain.status_code == 201


async def test_adr_4_regular_ncs_subscription_refuses_comp_move_fields(client, pick):
    record = pick(NCS, active)
    refused = await move(client, NCS, record["id"], day(0), billingMethod="COMP", rateCode="CMP7")
    assert refused.status_code == 422 and refused.json()["code"] == "MOVE_BILLING_NOT_SUPPORTED"


@pytest.mark.parametrize("address, message", [
    ({k: v for k, v in ADDRESS.items() if k != "city"}, "address.city: required"),
    ({**ADDRESS, "levelNumber": None}, "address.levelNumber: levelDesignator and levelNumber come together"),
    ({**ADDRESS, "postalCode": " "}, "address.postalCode: must be 1 to 100 characters"),
    ({**ADDRESS, "floor": "3"}, "address.floor: unknown field"),
])
async def test_move_body_is_validated_before_anything_changes(client, pick, address, message):
    record = pick(NCS, active)
    answer = await move(client, NCS, record["id"], day(0), address)
    assert answer.status_code == 400 and answer.json()["message"] == message
    assert (await client.get(api(NCS, f"/subscriptions/{record['id']}/moves"))).json() == {"moves": []}


async def test_a_stopped_subscription_is_not_moved(client, pick):
    record = pick(NCS, lambda r: r["status"] == "STOPPED")
    answer = await move(client, NCS, record["id"], day(0))
    assert answer.status_code == 422 and answer.json()["code"] == "SUBSCRIPTION_STOPPED"


async def test_move_honours_the_idempotency_key(client, pick):
    record = pick(NCS, active)
    first = await move(client, NCS, record["id"], day(3), headers={"Idempotency-Key": "mv-1"})
    again = await move(client, NCS, record["id"], day(3), headers={"Idempotency-Key": "mv-1"})
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true" and again.json() == first.json()


async def test_fault_before_move_changes_nothing(client, pick):
    record = pick(NCS, active)
    faulted = await move(client, NCS, record["id"], day(0), headers={"X-Sandbox-Fault": "status=503"})
    assert faulted.status_code == 503
    assert (await read(client, NCS, record["id"]))["subscriber"]["address"] == record["subscriber"]["address"]


async def test_fault_after_move_applies_it_and_hides_the_answer(client, pick):
    record = pick(NCS, active)
    await client.post("/_sandbox/faults", json={"rules": [
        {"method": "POST", "path": "/moves$", "status": 502, "after": True, "times": 1}]})
    faulted = await move(client, NCS, record["id"], day(0))
    assert faulted.status_code == 502
    assert (await read(client, NCS, record["id"]))["subscriber"]["address"] == ADDRESS


# details (ADR-1) -------------------------------------------------------------------------------------
async def test_adr_1_details_change_names_company_and_phones_and_is_on_the_ledger(client, pick):
    record = pick(NCS, active)
    changed = await client.patch(api(NCS, f"/subscriptions/{record['id']}"), json={"subscriber": {
        "firstName": "Ada", "lastName": "Lovelace", "companyName": "Analytical Engines", "phones": ["+15550001111"]}})
    ledger = (await client.get("/_sandbox/ledger", params={"paperCode": NCS})).json()["entries"]
    assert changed.status_code == 200, changed.text
    subscriber = changed.json()["subscriber"]
    assert (subscriber["firstName"], subscriber["lastName"], subscriber["companyName"], subscriber["phones"]) == (
        "Ada", "Lovelace", "Analytical Engines", ["+15550001111"])
    assert subscriber["address"] == record["subscriber"]["address"]
    assert ledger[-1]["operation"] == "SUBSCRIBER_DETAILS" and ledger[-1]["after"]["lastName"] == "Lovelace"


async def test_details_refuse_a_blank_last_name(client, pick):
    record = pick(NCS, active)
    refused = await client.patch(api(NCS, f"/subscriptions/{record['id']}"), json={"subscriber": {"lastName": " "}})
    assert refused.status_code == 400 and refused.json()["message"] == "subscriber.lastName: must be 1 to 100 characters"


# search index (SUB-2) ---------------------------------------------------------------------------------
async def search(client, paper: str, **criteria) -> dict[str, Any]:
    return (await client.get(api(paper, "/subscriptions/search"), params={**criteria, "limit": 500})).json()


async def test_sub_2_company_and_names_match_by_case_insensitive_prefix(client, app):
    records = app.state.store.papers[NCS].subscriptions.values()
    acme = sorted(r["id"] for r in records if r["subscriber"].get("companyName") == "Acme Media")
    found = await search(client, NCS, companyName="acme")
    last = next(iter(records))["subscriber"]["lastName"]
    by_last = sorted(r["id"] for r in records if r["subscriber"]["lastName"].casefold().startswith(last[:3].casefold()))
    assert [r["id"] for r in found["subscriptions"]] == acme and found["total"] == len(acme) > 0
    assert [r["id"] for r in (await search(client, NCS, lastName=last[:3].upper()))["subscriptions"]] == by_last
    assert (await search(client, NCS, companyName="media"))["total"] == 0  # a prefix, not a substring


async def test_sub_2_phone_with_or_without_country_code(client, app):
    store: CirculationStore = app.state.store
    record = next(r for r in store.papers[NCS].subscriptions.values() if r["subscriber"]["phones"])
    phone = record["subscriber"]["phones"][0]  # e.g. +15550007919
    national = phone[2:]
    for criterion in (phone, national, f"({national[:3]}) {national[3:6]}-{national[6:]}", "1 " + national):
        assert record["id"] in [r["id"] for r in (await search(client, NCS, phone=criterion))["subscriptions"]], criterion


async def test_sub_2_index_follows_changes_and_moves(client, pick):
    record = pick(NCS, active)
    old_last_name = record["subscriber"]["lastName"]
    await client.patch(api(NCS, f"/subscriptions/{record['id']}"), json={"subscriber": {"lastName": "Zyxwvut",
                                                                                        "phones": ["0412 345 678"]}})
    await move(client, NCS, record["id"], day(0), {**ADDRESS, "postalCode": "99999"})
    assert [r["id"] for r in (await search(client, NCS, lastName="zyx"))["subscriptions"]] == [record["id"]]
    assert [r["id"] for r in (await search(client, NCS, postalCode="99999"))["subscriptions"]] == [record["id"]]
    assert [r["id"] for r in (await search(client, NCS, phone="0412345678"))["subscriptions"]] == [record["id"]]
    assert record["id"] not in [r["id"] for r in (await search(client, NCS, lastName=old_last_name))["subscriptions"]]


async def test_fault_on_search(client):
    answer = await client.get(api(NCS, "/subscriptions/search"), params={"lastName": "a"},
                              headers={"X-Sandbox-Fault": "status=503"})
    assert answer.status_code == 503
