"""`expiringSubscriptions(daysAhead:)`: subscriptions still running that end within the window, one group
per account and end date (NOT-2), in the tenant's time zone."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sandbox.demo import generate
from tests.conftest import graphql

EXPIRING_QUERY = """
query ($days: Int!, $first: Int, $after: String) {
  expiringSubscriptions(daysAhead: $days, first: $first, after: $after) {
    totalCount
    nodes { accountNumber endDate subscriptions { id accountNumber endDate status } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

DEMO = generate(1)
STOPPED = {"STOPPED", "PERMANENTLY_STOPPED"}


def _tenant_today(tz: str = "America/New_York"):
    return datetime.now(ZoneInfo(tz)).date()


async def _all_groups(staff_api_client, days: int, **headers) -> list[dict]:
    groups, after = [], None
    for _ in range(50):
        body = await graphql(staff_api_client, EXPIRING_QUERY, {"days": days, "first": 100, "after": after}, **headers)
        assert "errors" not in body, body
        connection = body["data"]["expiringSubscriptions"]
        groups += connection["nodes"]
        if not connection["pageInfo"]["hasNextPage"]:
            return groups
        after = connection["pageInfo"]["endCursor"]
    raise AssertionError("too many pages")


async def test_not2_every_running_subscription_ending_in_the_window_once(staff_api_client):
    # given
    today = _tenant_today()
    end = today + timedelta(days=30)
    expected = sorted(s["id"] for s in DEMO.subscriptions_of("NCSDEMO")
                      if s["status"] not in STOPPED and today.isoformat() <= s["endDate"] <= end.isoformat())

    # when
    groups = await _all_groups(staff_api_client, 30)

    # then: ordered by end date then account; each group is one account and one date
    assert sorted(s["id"] for g in groups for s in g["subscriptions"]) == expected
    assert [(g["endDate"], g["accountNumber"]) for g in groups] == sorted((g["endDate"], g["accountNumber"]) for g in groups)
    assert len({(g["endDate"], g["accountNumber"]) for g in groups}) == len(groups)
    for group in groups:
        assert {(s["accountNumber"], s["endDate"]) for s in group["subscriptions"]} == {
            (group["accountNumber"], group["endDate"])}
        assert not {s["status"] for s in group["subscriptions"]} & STOPPED


async def test_not2_subscriptions_of_one_account_ending_the_same_day_are_one_group(staff_api_client, sandboxes):
    # given: two running subscriptions and a stopped one of one account, ending on the same day
    today = _tenant_today()
    day = (today + timedelta(days=5)).isoformat()
    template = next(s for s in DEMO.subscriptions_of("NCSDEMO"))
    records = []
    for n, status in enumerate(["ACTIVE", "IN_GRACE", "STOPPED"]):
        record = copy.deepcopy(template)
        record.update(id=f"NCS-T{n}", accountNumber="0999999", endDate=day, status=status)
        records.append(record)
    sandboxes["circulation"].state.store.add_subscriptions(records)

    # when
    groups = await _all_groups(staff_api_client, 5)

    # then
    mine = [g for g in groups if g["accountNumber"] == "0999999"]
    assert mine == [{"accountNumber": "0999999", "endDate": day, "subscriptions": [
        {"id": "NCS-T0", "accountNumber": "0999999", "endDate": day, "status": "ACTIVE"},
        {"id": "NCS-T1", "accountNumber": "0999999", "endDate": day, "status": "IN_GRACE"},
    ]}]


async def test_not2_window_is_today_to_days_ahead_in_the_tenant_time_zone(staff_api_client, sandboxes):
    # given: subscriptions ending yesterday, today, and on the last and the day after the last day of the
    # window, by the calendar of the tenant (Oslo), not of the server
    today = _tenant_today("Europe/Oslo")
    template = next(s for s in DEMO.subscriptions_of("MTXDEMO"))
    offsets = {"MTX-Tm1": -1, "MTX-T0": 0, "MTX-T3": 3, "MTX-T4": 4}
    records = []
    for sid, offset in offsets.items():
        record = copy.deepcopy(template)
        record.update(id=sid, accountNumber=f"09{sid[-2:]}", status="ACTIVE",
                      endDate=(today + timedelta(days=offset)).isoformat())
        records.append(record)
    sandboxes["circulation"].state.store.add_subscriptions(records)

    # when
    groups = await _all_groups(staff_api_client, 3, x_tenant="MTXDEMO")

    # then
    ids = {s["id"] for g in groups for s in g["subscriptions"]}
    assert {"MTX-T0", "MTX-T3"} <= ids
    assert not {"MTX-Tm1", "MTX-T4"} & ids


@pytest.mark.parametrize("days", [0, -5, 91])
async def test_not2_days_ahead_out_of_bounds_is_a_coded_error_naming_the_argument(staff_api_client, services, days):
    control = services.sandboxes["circulation"].state.control
    before = control.total

    body = await graphql(staff_api_client, EXPIRING_QUERY, {"days": days})

    assert body["data"] == {"expiringSubscriptions": None}
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == ["daysAhead"]
    assert "daysAhead" in error["message"] and "between 1 and 90" in error["message"]
    assert control.total == before
