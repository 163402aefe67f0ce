"""`subscription(id)` through the public GraphQL API (SUB-1, HHL-1, HHL-3)."""

from __future__ import annotations

from decimal import Decimal

from sandbox.demo import HOUSEHOLD_LEVELS, generate
from tests.conftest import graphql

SUBSCRIPTION_QUERY = """
query ($id: ID!) {
  subscription(id: $id) {
    id accountNumber status kind digital startDate endDate autoPay ebill billingMethod
    balance { amount currency }
    householdLevel { id levelId description active label }
  }
}
"""

DEMO = generate(1)


def _demo_subscription(paper: str, predicate=lambda s: True) -> dict:
    return next(s for s in DEMO.subscriptions_of(paper) if predicate(s))


async def test_subscription_answers_from_demo_data_with_its_household_level(staff_api_client):
    # given
    record = _demo_subscription("NCSDEMO", lambda s: s["balance"] != "0.00")
    level = next(h for h in HOUSEHOLD_LEVELS if h[0] == record["householdLevelId"])

    # when
    body = await graphql(staff_api_client, SUBSCRIPTION_QUERY, {"id": record["id"]})

    # then
    assert "errors" not in body
    subscription = body["data"]["subscription"]
    assert subscription["status"] == record["status"]
    assert subscription["accountNumber"] == record["accountNumber"]
    assert Decimal(subscription["balance"]["amount"]) == Decimal(record["balance"])
    assert subscription["balance"]["currency"] == "USD"
    assert subscription["householdLevel"]["levelId"] == level[0]
    assert subscription["householdLevel"]["description"] == level[1]
    assert subscription["householdLevel"]["label"] == f"{level[0]} - {level[1]}"


async def test_unknown_subscription_id_is_null_without_errors(staff_api_client):
    body = await graphql(staff_api_client, SUBSCRIPTION_QUERY, {"id": "NCS-9999999"})

    assert body == {"data": {"subscription": None}}


async def test_subscription_of_another_tenant_is_null(staff_api_client):
    # TEN-1: a MATRIX tenant's subscription is invisible to the NCS tenant
    other = _demo_subscription("MTXDEMO")

    body = await graphql(staff_api_client, SUBSCRIPTION_QUERY, {"id": other["id"]}, x_tenant="NCSDEMO")

    assert body == {"data": {"subscription": None}}
    mine = await graphql(staff_api_client, SUBSCRIPTION_QUERY, {"id": other["id"]}, x_tenant="MTXDEMO")
    assert mine["data"]["subscription"]["id"] == other["id"]
    assert mine["data"]["subscription"]["balance"]["currency"] == "NOK"


async def test_upstream_failure_is_a_coded_error_and_the_rest_still_resolves(staff_api_client, sandboxes):
    # given: the circulation system answers 503 to everything
    control = sandboxes["circulation"].state.control
    control.rules.clear()
    from sandbox.faults import FaultRule

    control.rules.append(FaultRule(path="/subscriptions", status=503))
    query = '{ subscription(id: "NCS-0000001") { id } householdLevels { levelId } }'

    # when
    body = await graphql(staff_api_client, query)

    # then
    assert body["data"]["subscription"] is None
    assert len(body["data"]["householdLevels"]) == len(HOUSEHOLD_LEVELS)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UPSTREAM_UNAVAILABLE"]
    assert "Traceback" not in str(body)


async def test_upstream_timeout_is_coded_upstream_timeout(staff_api_client, sandboxes):
    from sandbox.faults import FaultRule

    sandboxes["circulation"].state.control.rules.append(FaultRule(path="/subscriptions", timeout=True))

    body = await graphql(staff_api_client, '{ subscription(id: "NCS-0000001") { id } }')

    assert body["data"] == {"subscription": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UPSTREAM_TIMEOUT"]


async def test_many_subscriptions_household_levels_cost_one_sql_query(staff_api_client, services):
    # given: 5 aliased subscriptions with different household levels
    ids = [s["id"] for s in list(DEMO.subscriptions_of("NCSDEMO"))[:5]]
    query = "{ " + " ".join(f's{i}: subscription(id: "{sid}") {{ householdLevel {{ levelId }} }}'
                             for i, sid in enumerate(ids)) + " }"
    await graphql(staff_api_client, '{ householdLevels { levelId } }')  # warm the tenant cache
    before_sql = services.db.statements
    control = services.sandboxes["circulation"].state.control
    before_upstream = control.total

    # when
    body = await graphql(staff_api_client, query)

    # then: one batched upstream call and one SQL query, not five of each (plus the staff member's
    # access levels, read once per request: MGR-1)
    assert "errors" not in body
    assert len({body["data"][f"s{i}"]["householdLevel"]["levelId"] for i in range(5)}) == 5
    assert control.total - before_upstream == 1
    assert services.db.statements - before_sql == 1 + 1 + 1  # + the tenant's settings version (SET-3)
