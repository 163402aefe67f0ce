"""Day passes end at the documented instant (SUB-5, BUY-9), through `accessLevel` (ENT-2).

Demo subscription 11 of NCSDEMO (America/New_York) is an ACTIVE PAID_PASS of the digital offer (PREMIUM
included) started 2025-09-26: its access ends at 00:00 of 2025-09-28, New York time. Subscription 197 is a
PERMANENTLY_STOPPED PAID_PASS started 2026-08-10. "Now" is the app's clock (`services.clock`).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from domain.entitlements import day_pass_ends_at, day_pass_expired
from sandbox.demo import generate, subscription_id
from tests.conftest import graphql
from tests.graphql.entitlements.test_access_level import ACCESS_QUERY

NEW_YORK = ZoneInfo("America/New_York")
SUBSCRIPTIONS = list(generate(1).subscriptions_of("NCSDEMO"))


def test_the_demo_day_passes_are_as_the_tests_assume():
    assert [(SUBSCRIPTIONS[j]["kind"], SUBSCRIPTIONS[j]["status"], SUBSCRIPTIONS[j]["startDate"][:10])
            for j in (11, 197)] == [("PAID_PASS", "ACTIVE", "2025-09-26"), ("PAID_PASS", "PERMANENTLY_STOPPED",
                                                                            "2026-08-10")]


@pytest.mark.parametrize("now, level", [
    (datetime(2025, 9, 26, 0, 0, tzinfo=NEW_YORK), "PREMIUM"),           # bought on day D
    (datetime(2025, 9, 27, 23, 59, 59, tzinfo=NEW_YORK), "PREMIUM"),     # the last second of D+1
    (datetime(2025, 9, 28, 0, 0, tzinfo=NEW_YORK), "PURCHASE"),          # 00:00 of D+2: ended
    (datetime(2026, 1, 1, 12, 0, tzinfo=NEW_YORK), "PURCHASE"),          # months later (the case)
], ids=["day-D", "last-second", "midnight-D+2", "months-later"])
async def test_sub5_buy9_a_day_pass_grants_access_until_midnight_of_d_plus_2_tenant_time(
        staff_api_client, own_rows, services, now, level):
    # given: a registration holding only the day pass, and the clock at `now`
    registration = await own_rows.registration()
    await own_rows.link(registration, subscription_id("NCSDEMO", 11), "OWNER")
    services.clock = lambda: now
    # when
    body = await graphql(staff_api_client, ACCESS_QUERY, {"code": "PREMIUM", "crid": registration.crid})
    # then
    assert body["data"]["accessLevel"]["accessLevel"] == level


async def test_sub5_a_stopped_day_pass_grants_nothing_even_on_its_day(staff_api_client, own_rows, services):
    registration = await own_rows.registration()
    await own_rows.link(registration, subscription_id("NCSDEMO", 197), "OWNER")
    services.clock = lambda: datetime(2026, 8, 10, 12, 0, tzinfo=NEW_YORK)

    body = await graphql(staff_api_client, ACCESS_QUERY, {"code": "PREMIUM", "crid": registration.crid})

    assert body["data"]["accessLevel"]["accessLevel"] == "PURCHASE"


@pytest.mark.parametrize("time_zone, utc_end", [("America/New_York", "2025-09-28T04:00:00+00:00"),
                                                ("Europe/Oslo", "2025-09-27T22:00:00+00:00")])
def test_buy9_the_end_is_midnight_in_the_tenants_own_time_zone(time_zone, utc_end):
    end = day_pass_ends_at(date(2025, 9, 26), time_zone)
    assert end.astimezone(ZoneInfo("UTC")).isoformat() == utc_end
    assert day_pass_expired("PAID_PASS", date(2025, 9, 26), end, time_zone) is True


def test_sub5_other_kinds_never_expire_as_passes():
    later = datetime(2030, 1, 1, tzinfo=NEW_YORK)
    assert day_pass_expired("REGULAR", date(2025, 9, 26), later, "America/New_York") is False
    assert day_pass_expired("PAID_PASS", date(2025, 9, 26), later, "America/New_York") is True
