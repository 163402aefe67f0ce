"""The dashboard query costs the same whatever the number of subscriptions: one call per upstream endpoint
per nesting level and one SQL query per relation per level (SUB-1, PAY-3, PM-4, HHL-1, LNK-1).

Upstream calls are counted at the emulator itself, SQL statements at the engine."""

from __future__ import annotations

import pytest

from sandbox.demo import generate
from tests.conftest import graphql

DASHBOARD_QUERY = """
query Dashboard($crid: String!) {
  registration(crid: $crid) {
    crid
    linkedSubscriptions {
      id accountNumber status kind digital endDate autoPay ebill registrationCount
      balance { amount currency }
      householdLevel { levelId label }
      offer { id name }
      paymentMethod { type cardBrand cardLast4 cardExpiry bankName bankAccountMasked bankRoutingNumber }
      billingOptions { term length lengthUnit rate { amount } tax { amount } otherCosts { amount } amount { amount currency } autoRenew }
      restartAvailability { available reasons { code message } }
      tipAvailability { oneTime { available reasons { code } } recurring { available reasons { code } } }
      ebillAvailability { signUpAllowed manageAllowed reason { code message } }
    }
  }
}
"""

SEARCH_QUERY = """
query ($postalCode: String!, $first: Int!) {
  subscriptions(search: {postalCode: $postalCode}, first: $first) {
    totalCount
    nodes {
      id registrationCount
      householdLevel { label }
      offer { name }
      paymentMethod { type cardLast4 }
      billingOptions { term amount { amount } }
      restartAvailability { available }
      tipAvailability { oneTime { available } }
      ebillAvailability { signUpAllowed }
    }
  }
}
"""

DEMO = generate(1)
NCS_IDS = [s["id"] for s in DEMO.subscriptions_of("NCSDEMO")]
# one call per endpoint: the subscriptions batch and the billing-options batch
EXPECTED_UPSTREAM = ["/api/v1/papers/NCSDEMO/subscriptions", "/api/v1/papers/NCSDEMO/billing-options"]
# registration, its links, household levels, offers, payment methods, registration counts, and the staff
# member's access levels (MGR-1)
EXPECTED_SQL = 6 + 1 + 1  # + the tenant's settings version (SET-3), read once per request


async def _measure(staff_api_client, services, query: str, variables: dict) -> tuple[dict, list[str], int]:
    control = services.sandboxes["circulation"].state.control
    await graphql(staff_api_client, "{ __typename }")  # the tenant is cached outside the measured request
    control.requests.clear()
    before_upstream, before_sql = control.total, services.db.statements
    body = await graphql(staff_api_client, query, variables)
    paths = sorted(r["path"] for r in control.requests)
    assert control.total - before_upstream == len(paths)
    return body, paths, services.db.statements - before_sql


@pytest.mark.parametrize("count", [1, 10, 100])
async def test_dashboard_costs_the_same_for_1_10_and_100_linked_subscriptions(staff_api_client, services, own_rows, count):
    # given: a registration linked to `count` subscriptions
    registration = await own_rows.registration()
    await own_rows.links(registration, NCS_IDS[:count])

    # when
    body, upstream, sql = await _measure(staff_api_client, services, DASHBOARD_QUERY, {"crid": registration.crid})

    # then
    assert "errors" not in body, body["errors"]
    subscriptions = body["data"]["registration"]["linkedSubscriptions"]
    assert [s["id"] for s in subscriptions] == NCS_IDS[:count]
    assert all(s["billingOptions"] and s["offer"] and s["householdLevel"] for s in subscriptions)
    if count > 1:
        assert any(s["paymentMethod"] for s in subscriptions)
    assert upstream == sorted(EXPECTED_UPSTREAM)
    assert sql == EXPECTED_SQL


@pytest.mark.parametrize("first", [1, 10, 50])
async def test_search_page_costs_the_same_whatever_its_size(staff_api_client, services, first):
    # given: postal code 10001 holds 50 of the demo subscriptions (SUB-2)
    expected_total = sum(1 for s in DEMO.subscriptions_of("NCSDEMO") if s["subscriber"]["address"]["postalCode"] == "10001")

    # when
    body, upstream, sql = await _measure(staff_api_client, services, SEARCH_QUERY, {"postalCode": "10001", "first": first})

    # then: the search, one billing-options batch; household levels, offers, payment methods, counts
    assert "errors" not in body, body["errors"]
    assert body["data"]["subscriptions"]["totalCount"] == expected_total >= 50
    assert len(body["data"]["subscriptions"]["nodes"]) == first
    assert upstream == sorted(["/api/v1/papers/NCSDEMO/subscriptions/search", "/api/v1/papers/NCSDEMO/billing-options"])
    # + 1: the staff member's access levels (MGR-1); + 1: the tenant's settings version (SET-3), once per request
    assert sql == 4 + 1 + 1
