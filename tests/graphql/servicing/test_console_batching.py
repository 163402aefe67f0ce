"""The customer-service console (issue 16 item 4): a staff member goes search → subscription → stops / complaints,
one query each (the bench scenarios' own documents, bench/scenarios.py), and each costs the same number of upstream
calls and SQL statements whatever the list's size: 1, 10 or 100 subscriptions, links, stops or complaints.

Upstream calls are counted at the circulation emulator, SQL statements at the engine (like the dashboard's,
tests/graphql/subscriptions/test_dashboard_batching.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bench.scenarios import CONSOLE_COMPLAINTS, CONSOLE_SEARCH, CONSOLE_STOPS, CONSOLE_SUBSCRIPTION
from datasources.models import Event, Registration, SubscriptionLink, TemporaryEntitlement
from tests.conftest import graphql
from tests.graphql.servicing.support import servicing_world
from tests.graphql.servicing.test_stop_saver_flow import downgrade_world

SIZES = [1, 10, 100]


async def measure(client, services, world, query: str, variables: dict) -> tuple[dict, list[str], int]:
    control = services.sandboxes["circulation"].state.control
    await graphql(client, "{ __typename }", **world.headers["staff"])  # the tenant is cached outside the measure
    control.requests.clear()
    before_upstream, before_sql = control.total, services.db.statements
    body = await graphql(client, query, variables, **world.headers["staff"])
    paths = sorted(r["path"].rsplit("/", 1)[-1] for r in control.requests)  # the endpoint's last segment
    assert control.total - before_upstream == len(paths)
    assert "errors" not in body, body["errors"]
    return body, paths, services.db.statements - before_sql


@pytest.mark.parametrize("size", SIZES)
async def test_console_search_costs_the_same_for_1_10_and_100_subscriptions(api_client, own_tenant, services, tokens,
                                                                            size):
    # given: `size` subscriptions of one surname, each with a complaint
    world = await servicing_world(own_tenant, services, tokens, subscriber={"lastName": "Consolé"})
    ids = [world.subscription_id] + [f"{world.tenant.code}-C{n:03d}" for n in range(1, size)]
    for subscription_id in ids[1:]:
        own_tenant.add_subscription(world.tenant, subscription_id, product="1", subscriber={"lastName": "Consolé"})
    await world.tenant.add(*[Event(tenant_id=world.tenant.id, type_code="COMPLAINT", subscription_id=i, reason="WET",
                                   details={"deliveryDate": "2026-05-30", "resolution": "NONE"}) for i in ids])
    # when
    body, upstream, sql = await measure(api_client, services, world, CONSOLE_SEARCH,
                                        {"search": {"lastName": "Consolé"}, "first": 100})
    # then: one search call; the staff member's access, the settings version, offers, complaint events and the
    # entitlements they granted
    nodes = body["data"]["subscriptions"]["nodes"]
    assert sorted(n["id"] for n in nodes) == sorted(ids)
    assert all(len(n["complaints"]) == 1 for n in nodes)
    assert upstream == ["search"]
    assert sql == 5


@pytest.mark.parametrize("size", SIZES)
async def test_console_subscription_costs_the_same_for_1_10_and_100_links(api_client, own_tenant, services, tokens,
                                                                          size):
    # given: the owner and `size` - 1 guests more
    world, _ = await downgrade_world(own_tenant, services, tokens)
    guests = await world.tenant.add(*[Registration(tenant_id=world.tenant.id, crid=f"auth0|g{n}-{world.tenant.code}",
                                                   email=f"g{n}-{world.tenant.code.lower()}@example.com")
                                      for n in range(size + 1)])
    guests = guests if isinstance(guests, tuple) else (guests,)
    await world.tenant.add(*[SubscriptionLink(tenant_id=world.tenant.id, registration_id=g.id,
                                              subscription_id=world.subscription_id, role="GUEST") for g in guests])
    # when
    body, upstream, sql = await measure(api_client, services, world, CONSOLE_SUBSCRIPTION, {"id": world.subscription_id})
    # then: the subscription batch, its billing options, the stop reasons; SQL per relation, not per link
    assert len(body["data"]["subscription"]["links"]) == size + 3  # owner, guest, and the new ones
    assert upstream == ["billing-options", "stop-reasons", "subscriptions"]
    assert sql == 7


@pytest.mark.parametrize("size", SIZES)
async def test_console_stops_cost_the_same_for_1_10_and_100_stops(api_client, own_tenant, services, tokens, size):
    # given: `size` one-day stops, every other day
    world, _ = await downgrade_world(own_tenant, services, tokens)
    record = own_tenant.circulation().papers[world.tenant.code].subscriptions[world.subscription_id]
    first = date(2026, 6, 2)
    record["temporaryStops"] = [{"id": f"TS{n:07d}", "startDate": (first + timedelta(days=2 * n)).isoformat(),
                                 "restartDate": (first + timedelta(days=2 * n + 1)).isoformat(), "reason": "VACATION"}
                                for n in range(size)]
    # when
    body, upstream, sql = await measure(api_client, services, world, CONSOLE_STOPS, {"id": world.subscription_id})
    # then: the subscription, its stops, the offered dates (read once for both fields that need them)
    assert len(body["data"]["subscription"]["temporaryStops"]) == size
    assert [o["name"] for o in body["data"]["stopSaver"]["downgradeOffers"]] == ["Sunday", "Weekend"]
    assert upstream == ["subscriptions", "temporary-stop-dates", "temporary-stops"]
    assert sql == 5


@pytest.mark.parametrize("size", SIZES)
async def test_console_complaints_cost_the_same_for_1_10_and_100_complaints(api_client, own_tenant, services, tokens,
                                                                            size):
    # given: `size` complaints, each granting e-edition access (CMP-2)
    world = await servicing_world(own_tenant, services, tokens)
    events = await world.tenant.add(*[Event(
        tenant_id=world.tenant.id, type_code="COMPLAINT", subscription_id=world.subscription_id, reason="MISSED",
        crid=world.owner.crid, details={"deliveryDate": "2026-05-30", "resolution": "EEDITION_ACCESS"})
        for _ in range(size)])
    events = events if isinstance(events, tuple) else (events,)
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    await world.tenant.add(*[TemporaryEntitlement(
        tenant_id=world.tenant.id, crid=world.owner.crid, entitlement_code="EEDITION", starts_at=now,
        expires_at=now + timedelta(days=1), reason="COMPLAINT", event_id=e.id) for e in events])
    # when
    body, upstream, sql = await measure(api_client, services, world, CONSOLE_COMPLAINTS, {"id": world.subscription_id})
    # then: the subscription and the categories upstream; complaints and their entitlements in two statements
    complaints = body["data"]["subscription"]["complaints"]
    assert len(complaints) == size and all(c["temporaryEntitlement"]["reason"] == "COMPLAINT" for c in complaints)
    assert upstream == ["complaint-categories", "subscriptions"]
    assert sql == 4
