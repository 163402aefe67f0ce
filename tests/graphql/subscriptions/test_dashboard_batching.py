"""The dashboard query costs the same whatever the number of subscriptions: one call per upstream endpoint
per nesting level and one SQL query per relation per level (SUB-1, PAY-3, PM-4, HHL-1, LNK-1).

Upstream calls are counted at the emulator itself, SQL statements at the engine."""

from __future__ import annotations

import pytest

from sandbox.demo import generate
from sandbox.faults import FaultRule
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


# -- a customer's own dashboard: the billing options beside the subscriptions (latency, not call count) --------
OWN_DASHBOARD = """
query Own($crid: String!) {
  registration(crid: $crid) { linkedSubscriptions { id billingOptions { term amount { amount } } } }
}
"""
SUBSCRIPTIONS_CALL = r"^/api/v1/papers/NCSDEMO/subscriptions$"
BILLING_OPTIONS_CALL = "/api/v1/papers/NCSDEMO/billing-options"


def _busiest_demo_customer() -> str:
    counts: dict[str, int] = {}
    for link in DEMO.links:
        if link["tenant"] == "NCSDEMO":
            counts[link["crid"]] = counts.get(link["crid"], 0) + 1
    return max(counts, key=counts.get)


async def test_a_customers_own_dashboard_costs_one_call_per_endpoint_with_the_billing_options(api_client, services,
                                                                                            tokens):
    # given: a signed-in customer linked to several subscriptions (LNK-3: their billing options are theirs to read)
    crid = _busiest_demo_customer()
    control = services.sandboxes["circulation"].state.control
    authorization = f"Bearer {tokens.customer(crid)}"
    await graphql(api_client, "{ __typename }", authorization=authorization)
    control.requests.clear()

    # when
    body = await graphql(api_client, OWN_DASHBOARD, {"crid": crid}, authorization=authorization)

    # then: every subscription with its options, from one subscriptions call and one billing-options call
    assert "errors" not in body, body["errors"]
    subscriptions = body["data"]["registration"]["linkedSubscriptions"]
    assert len(subscriptions) > 1 and all(s["billingOptions"] for s in subscriptions)
    assert sorted(r["path"] for r in control.requests) == sorted(EXPECTED_UPSTREAM)


async def test_a_customers_own_billing_options_are_asked_for_beside_the_subscriptions_not_after_them(
        api_client, staff_api_client, services, tokens):
    # given: a circulation system whose subscriptions call fails, and a customer asking for their dashboard
    crid = _busiest_demo_customer()
    control = services.sandboxes["circulation"].state.control
    authorization = f"Bearer {tokens.customer(crid)}"
    await graphql(api_client, "{ __typename }", authorization=authorization)
    control.rules.append(FaultRule(method="GET", path=SUBSCRIPTIONS_CALL, status=500))
    try:
        control.requests.clear()
        # when: the customer's own dashboard
        own = await graphql(api_client, OWN_DASHBOARD, {"crid": crid}, authorization=authorization)
        customer_calls = [r["path"] for r in control.requests]
        control.requests.clear()
        # and: staff asking for the same registration (no prefetch: staff rules are the fields' own)
        staff = await graphql(staff_api_client, OWN_DASHBOARD, {"crid": crid})
        staff_calls = [r["path"] for r in control.requests]
    finally:
        control.rules.clear()

    # then: both answer the subscriptions' failure as before ...
    assert own["data"]["registration"]["linkedSubscriptions"] is None and own["errors"]
    assert staff["data"]["registration"]["linkedSubscriptions"] is None and staff["errors"]
    # ... but the customer's billing options were asked for in the same tick as the subscriptions, so a page
    # that succeeds waits for one round trip, not two; staff's request waited for the subscriptions first
    assert BILLING_OPTIONS_CALL in customer_calls
    assert BILLING_OPTIONS_CALL not in staff_calls
