"""A dead circulation system degrades only the fields that need it, and its circuit breaker spares it once
open: counted at the emulator, through the public GraphQL API."""

from __future__ import annotations

import pytest

from datasources.breaker import BreakerState
from sandbox.demo import generate
from sandbox.faults import FaultRule
from tests.conftest import graphql

pytestmark = pytest.mark.sqlite_only(
    "a dead circulation system and its breaker: reads from the upstream, no repository write")

DASHBOARD_QUERY = """
query SubscriberDashboard($crid: String!) {
  registration(crid: $crid) {
    crid email firstName lastName state
    links { subscriptionId role }
    linkedSubscriptions { id status balance { amount currency } billingOptions { term } }
  }
  householdLevels(onlyActive: true) { id label }
  catalog(first: 3) { totalCount edges { node { name } } }
}
"""

DEMO = generate(1)


def _owner_crid() -> str:
    return next(link["crid"] for link in DEMO.links if link["tenant"] == "NCSDEMO" and link["role"] == "OWNER")


async def test_dashboard_with_circulation_down_answers_every_field_that_does_not_need_it(staff_api_client,
                                                                                        sandboxes):
    # given: every call to the circulation system answers 503
    sandboxes["circulation"].state.control.rules.append(FaultRule(status=503))

    # when
    body = await graphql(staff_api_client, DASHBOARD_QUERY, {"crid": _owner_crid()})

    # then: the registration, its links, household levels and the catalog resolve; the subscriptions are null
    # with one coded error
    data = body["data"]
    assert data["registration"]["crid"] == _owner_crid() and data["registration"]["email"]
    assert data["registration"]["links"]
    assert data["registration"]["linkedSubscriptions"] is None
    assert data["householdLevels"] and data["catalog"]["totalCount"] > 0
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["registration", "linkedSubscriptions"], "UPSTREAM_UNAVAILABLE")]


async def test_once_the_breaker_opens_the_dead_upstream_is_not_called_and_answers_stay_coded(staff_api_client,
                                                                                             sandboxes, services):
    # given: the circulation system is down; the test settings allow 1 retry, the breaker opens after 5 failures
    control = sandboxes["circulation"].state.control
    control.rules.append(FaultRule(status=503))
    crid = _owner_crid()

    # when: enough dashboards to open the breaker, then ten more
    for _ in range(3):
        await graphql(staff_api_client, DASHBOARD_QUERY, {"crid": crid})
    calls_when_open = control.total
    later = [await graphql(staff_api_client, DASHBOARD_QUERY, {"crid": crid}) for _ in range(10)]

    # then: the circulation system saw 5 calls in all, and every later answer is the same partial dashboard
    assert services.circulation.breaker.state is BreakerState.OPEN
    assert calls_when_open == control.total == 5
    for body in later:
        assert body["data"]["registration"]["crid"] == crid
        assert [e["extensions"]["code"] for e in body["errors"]] == ["UPSTREAM_UNAVAILABLE"]


async def test_a_probe_after_the_cooldown_brings_the_dashboard_back(staff_api_client, sandboxes, services):
    # given: the breaker opened on a dead circulation system, which then recovers
    control = sandboxes["circulation"].state.control
    control.rules.append(FaultRule(status=503))
    crid = _owner_crid()
    for _ in range(3):
        await graphql(staff_api_client, DASHBOARD_QUERY, {"crid": crid})
    control.rules.clear()
    breaker = services.circulation.breaker
    breaker.opened_at -= breaker.cooldown  # the cool-down has passed

    # when
    body = await graphql(staff_api_client, DASHBOARD_QUERY, {"crid": crid})

    # then
    assert "errors" not in body
    assert body["data"]["registration"]["linkedSubscriptions"]
    assert breaker.state is BreakerState.CLOSED
