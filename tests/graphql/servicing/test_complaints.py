"""Complaints through the API (CMP-1..3; ENT-3; NOT-1; LNK-3): categories from the tenant's circulation system,
the delivery date at midnight tenant time, the reporter's CRID on the event, e-edition access as a temporary
entitlement tied to the complaint's event, redelivery print only and once per date, guest refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from datasources.models import Event, TemporaryEntitlement
from tests.conftest import graphql
from tests.graphql.servicing.support import servicing_world

FILE = """
mutation ($input: FileComplaintInput!) {
  fileComplaint(input: $input) {
    complaint { id category deliveryDate resolution temporaryEntitlement { entitlementCode reason active expiresAt } }
    userErrors { code field message }
  }
}
"""
CATEGORIES = "{ complaintCategories { code description } }"
HISTORY = "query ($id: ID!) { subscription(id: $id) { complaints { id category deliveryDate resolution } } }"
ACCESS = "query ($crid: String!) { accessLevel(entitlementCode: \"EEDITION\", crid: $crid) { accessLevel } }"


def now_pinned(world) -> datetime:
    """Real time, pinned: the access-level reader compares with the wall clock."""
    now = datetime.now(UTC).replace(microsecond=0)
    world.set_clock(now)
    return now


async def file(client, world, delivery: str, who: str = "owner", **fields) -> dict:
    answer = await graphql(client, FILE, {"input": {"subscriptionId": world.subscription_id, "category": "MISSED",
                                                    "deliveryDate": delivery, **fields}}, **world.headers[who])
    payload = (answer.get("data") or {}).get("fileComplaint")
    return payload if payload is not None else answer


def codes(payload: dict) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


async def complaint_events(services, world) -> list[Event]:
    async with services.db.session() as session:
        return list((await session.execute(select(Event).where(
            Event.tenant_id == world.tenant.id, Event.type_code == "COMPLAINT").order_by(Event.id))).scalars())


@pytest.mark.parametrize("kind", ["NCS", "MATRIX", "CIRCPRO", "SAXO"])
async def test_cmp_1_owner_files_a_complaint_recorded_with_the_reporter_crid(api_client, own_tenant, services,
                                                                             tokens, kind):
    # given
    world = await servicing_world(own_tenant, services, tokens, kind)
    # when
    categories = (await graphql(api_client, CATEGORIES, **world.headers["owner"]))["data"]["complaintCategories"]
    payload = await file(api_client, world, "2026-05-31")
    history = await graphql(api_client, HISTORY, {"id": world.subscription_id}, **world.headers["owner"])
    # then
    assert {"code": "MISSED", "description": "Paper not delivered"} in categories
    assert payload["userErrors"] == []
    assert history["data"]["subscription"]["complaints"] == [
        {"id": payload["complaint"]["id"], "category": "MISSED", "deliveryDate": "2026-05-31", "resolution": "NONE"}]
    [event] = await complaint_events(services, world)
    assert (str(event.id), event.crid, event.reason, event.subscription_id) == (
        payload["complaint"]["id"], world.owner.crid, "MISSED", world.subscription_id)


async def test_cmp_1_delivery_date_at_midnight_tenant_time(api_client, own_tenant, services, tokens):
    """At 23:59 on 1 June in New York, 2 June is in the future; at 00:00 on 2 June it is today."""
    world = await servicing_world(own_tenant, services, tokens)
    world.set_clock(datetime(2026, 6, 2, 3, 59, tzinfo=UTC))
    before = await file(api_client, world, "2026-06-02")
    world.set_clock(datetime(2026, 6, 2, 4, 0, tzinfo=UTC))
    after = await file(api_client, world, "2026-06-02")
    assert codes(before) == ["DATE_IN_FUTURE"] and before["userErrors"][0]["field"] == ["input", "deliveryDate"]
    assert after["userErrors"] == []


async def test_cmp_1_unknown_category_is_refused(api_client, own_tenant, services, tokens):
    world = await servicing_world(own_tenant, services, tokens)
    refused = await file(api_client, world, "2026-05-31", category="ALIENS")
    assert codes(refused) == ["UNKNOWN_CATEGORY"] and await complaint_events(services, world) == []


async def test_lnk_3_guest_cannot_file_or_read_complaints(api_client, own_tenant, services, tokens):
    world = await servicing_world(own_tenant, services, tokens)
    answer = await file(api_client, world, "2026-05-31", who="guest")
    history = await graphql(api_client, HISTORY, {"id": world.subscription_id}, **world.headers["guest"])
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert history["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_cmp_2_eedition_access_comes_from_a_temporary_entitlement_tied_to_the_event(
        api_client, own_tenant, services, tokens):
    # given: a tenant with an EEDITION entitlement, and an owner with no access of their own
    world = await servicing_world(own_tenant, services, tokens)
    await world.tenant.entitlement("EEDITION")
    now = now_pinned(world)
    today = now.astimezone(ZoneInfo("America/New_York")).date()
    before = await graphql(api_client, ACCESS, {"crid": world.owner.crid}, **world.headers["owner"])
    # when
    payload = await file(api_client, world, today.isoformat(), resolution="EEDITION_ACCESS")
    after = await graphql(api_client, ACCESS, {"crid": world.owner.crid}, **world.headers["owner"])
    # then
    assert payload["userErrors"] == []
    granted = payload["complaint"]["temporaryEntitlement"]
    day_after_tomorrow = datetime.combine(today + timedelta(days=2), datetime.min.time(),
                                          tzinfo=ZoneInfo("America/New_York"))
    assert (granted["entitlementCode"], granted["reason"], granted["active"]) == ("EEDITION", "COMPLAINT", True)
    assert datetime.fromisoformat(granted["expiresAt"]) == day_after_tomorrow
    assert before["data"]["accessLevel"]["accessLevel"] != "PREMIUM"
    assert after["data"]["accessLevel"]["accessLevel"] == "PREMIUM"
    [event] = await complaint_events(services, world)
    async with services.db.session() as session:
        [row] = list((await session.execute(select(TemporaryEntitlement).where(
            TemporaryEntitlement.tenant_id == world.tenant.id))).scalars())
    assert (row.event_id, row.crid, row.reason) == (event.id, world.owner.crid, "COMPLAINT")


async def test_cmp_2_without_an_eedition_entitlement_nothing_is_granted(api_client, own_tenant, services, tokens):
    world = await servicing_world(own_tenant, services, tokens)
    refused = await file(api_client, world, "2026-06-01", resolution="EEDITION_ACCESS")
    assert codes(refused) == ["EEDITION_NOT_AVAILABLE"] and await complaint_events(services, world) == []


async def test_cmp_3_redelivery_print_only_today_once_per_date(api_client, own_tenant, services, tokens):
    world = await servicing_world(own_tenant, services, tokens)
    first = await file(api_client, world, "2026-06-01", resolution="REDELIVERY")
    second = await file(api_client, world, "2026-06-01", resolution="REDELIVERY")
    yesterday = await file(api_client, world, "2026-05-31", resolution="REDELIVERY")
    assert first["userErrors"] == [] and first["complaint"]["resolution"] == "REDELIVERY"
    assert codes(second) == ["REDELIVERY_ALREADY_REQUESTED"]
    assert codes(yesterday) == ["REDELIVERY_TODAY_ONLY"]
    assert len(await complaint_events(services, world)) == 1


async def test_cmp_3_no_redelivery_for_a_digital_subscription(api_client, own_tenant, services, tokens):
    world = await servicing_world(own_tenant, services, tokens, digital=True)
    refused = await file(api_client, world, "2026-06-01", resolution="REDELIVERY")
    assert codes(refused) == ["DIGITAL_SUBSCRIPTION"]


async def test_cmp_1_staff_files_for_the_owner_by_default(api_client, own_tenant, services, tokens):
    world = await servicing_world(own_tenant, services, tokens)
    payload = await file(api_client, world, "2026-05-31", who="staff")
    assert payload["userErrors"] == []
    [event] = await complaint_events(services, world)
    assert (event.crid, event.source) == (world.owner.crid, "STAFF")
