"""`accessLevel(entitlementCode, crid)` (ENT-2, ENT-3), read only.

Demo subscription j has status STATUSES[j % 10] (0-5 ACTIVE, 6 STOPPED, 7 PERMANENTLY_STOPPED, 8 PAUSED,
9 IN_GRACE) and the print offer when j % 3 == 0, else the digital one. The digital offer includes EEDITION
and PREMIUM; the print offer EEDITION, PREMIUM and PUZZLES. Each test links a registration of its own to
the demo subscriptions it needs.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from sandbox.demo import generate, subscription_id
from tests.conftest import graphql

DEMO = generate(1)
NCS_SUBSCRIPTIONS = list(DEMO.subscriptions_of("NCSDEMO"))

ACCESS_QUERY = """
query ($code: String!, $crid: String!) {
  accessLevel(entitlementCode: $code, crid: $crid) {
    entitlementCode crid accessLevel grantingSubscriptionIds temporary
  }
}
"""


def _sid(j: int) -> str:
    return subscription_id("NCSDEMO", j)


def test_demo_subscriptions_are_as_the_tests_assume():
    facts = {j: (NCS_SUBSCRIPTIONS[j]["status"], NCS_SUBSCRIPTIONS[j]["productCode"]) for j in (1, 3, 6, 7, 8, 9, 18)}
    print_offer, digital_offer = "12", "11"
    assert facts == {1: ("ACTIVE", digital_offer), 3: ("ACTIVE", print_offer), 6: ("STOPPED", print_offer),
                     7: ("PERMANENTLY_STOPPED", digital_offer), 8: ("PAUSED", digital_offer),
                     9: ("IN_GRACE", print_offer), 18: ("PAUSED", print_offer)}


async def _access(staff_api_client, code: str, crid: str) -> dict | None:
    body = await graphql(staff_api_client, ACCESS_QUERY, {"code": code, "crid": crid})
    assert "errors" not in body, body
    return body["data"]["accessLevel"]


async def _registration_linked_to(own_rows, *indexes: int, role: str = "OWNER"):
    registration = await own_rows.registration()
    for j in indexes:
        await own_rows.link(registration, _sid(j), role)
    return registration


async def test_ent2_premium_when_an_active_subscriptions_offer_includes_it(staff_api_client, own_rows):
    registration = await _registration_linked_to(own_rows, 1)  # active digital

    answer = await _access(staff_api_client, "PREMIUM", registration.crid)

    assert answer == {"entitlementCode": "PREMIUM", "crid": registration.crid, "accessLevel": "PREMIUM",
                      "grantingSubscriptionIds": [_sid(1)], "temporary": False}


async def test_ent2_upgrade_when_the_active_subscription_does_not_include_it(staff_api_client, own_rows):
    registration = await _registration_linked_to(own_rows, 1)  # digital: no PUZZLES

    answer = await _access(staff_api_client, "PUZZLES", registration.crid)

    assert answer["accessLevel"] == "UPGRADE"
    assert answer["grantingSubscriptionIds"] == []


@pytest.mark.parametrize("j", [3, 9, 18], ids=["ACTIVE", "IN_GRACE", "PAUSED"])
async def test_ent2_active_paused_and_in_grace_subscriptions_count(staff_api_client, own_rows, j):
    registration = await _registration_linked_to(own_rows, j)  # print: includes PUZZLES

    assert (await _access(staff_api_client, "PUZZLES", registration.crid))["accessLevel"] == "PREMIUM"


async def test_ent2_guest_links_count_too(staff_api_client, own_rows):
    registration = await _registration_linked_to(own_rows, 3, role="GUEST")

    assert (await _access(staff_api_client, "PUZZLES", registration.crid))["accessLevel"] == "PREMIUM"


async def test_ent2_premium_wins_over_a_subscription_without_it(staff_api_client, own_rows):
    registration = await _registration_linked_to(own_rows, 1, 3, 6)

    answer = await _access(staff_api_client, "PUZZLES", registration.crid)

    assert answer["accessLevel"] == "PREMIUM"
    assert answer["grantingSubscriptionIds"] == [_sid(3)]


@pytest.mark.parametrize("indexes", [(6,), (6, 7)], ids=["stopped", "stopped-and-permanently-stopped"])
async def test_ent2_purchase_when_only_stopped_subscriptions(staff_api_client, own_rows, indexes):
    registration = await _registration_linked_to(own_rows, *indexes)

    assert (await _access(staff_api_client, "PUZZLES", registration.crid))["accessLevel"] == "PURCHASE"
    assert (await _access(staff_api_client, "EEDITION", registration.crid))["accessLevel"] == "PURCHASE"


async def test_ent2_purchase_without_any_subscription(staff_api_client, own_rows):
    registration = await own_rows.registration()

    answer = await _access(staff_api_client, "EEDITION", registration.crid)

    assert answer["accessLevel"] == "PURCHASE" and answer["grantingSubscriptionIds"] == []


async def test_ent2_link_to_a_subscription_the_circulation_system_does_not_have_is_ignored(staff_api_client, own_rows):
    registration = await own_rows.registration()
    await own_rows.link(registration, "NCS-9999999")

    assert (await _access(staff_api_client, "EEDITION", registration.crid))["accessLevel"] == "PURCHASE"


async def test_ent3_unexpired_temporary_entitlement_gives_premium(staff_api_client, own_rows):
    registration = await own_rows.registration()
    await own_rows.temporary_entitlement(registration, "PUZZLES", expires_in=timedelta(hours=2))

    answer = await _access(staff_api_client, "PUZZLES", registration.crid)

    assert answer["accessLevel"] == "PREMIUM" and answer["temporary"] is True
    assert (await _access(staff_api_client, "EEDITION", registration.crid))["accessLevel"] == "PURCHASE"


async def test_ent3_expired_temporary_entitlement_gives_nothing(staff_api_client, own_rows):
    registration = await _registration_linked_to(own_rows, 1)
    await own_rows.temporary_entitlement(registration, "PUZZLES", expires_in=-timedelta(minutes=1))

    answer = await _access(staff_api_client, "PUZZLES", registration.crid)

    assert answer["accessLevel"] == "UPGRADE" and answer["temporary"] is False


async def test_unknown_entitlement_or_crid_is_null(staff_api_client, own_rows):
    registration = await _registration_linked_to(own_rows, 1)

    assert await _access(staff_api_client, "NOPE", registration.crid) is None
    assert await _access(staff_api_client, "PREMIUM", "auth0|nobody") is None


async def test_ten1_registration_of_another_tenant_is_null(staff_api_client, own_rows):
    registration = await own_rows.registration(tenant="MTXDEMO")

    body = await graphql(staff_api_client, ACCESS_QUERY, {"code": "PREMIUM", "crid": registration.crid}, x_tenant="NCSDEMO")

    assert body == {"data": {"accessLevel": None}}


async def test_many_access_levels_cost_one_upstream_call_and_a_fixed_number_of_statements(
    staff_api_client, own_rows, services
):
    # given: five registrations, each with its own subscriptions, asked about in one request
    registrations = [await _registration_linked_to(own_rows, j, j + 30) for j in (1, 3, 6, 9, 18)]
    query = "{ " + " ".join(
        f'a{i}: accessLevel(entitlementCode: "PUZZLES", crid: "{r.crid}") {{ accessLevel }}'
        for i, r in enumerate(registrations)
    ) + " }"
    await graphql(staff_api_client, "{ __typename }")
    control = services.sandboxes["circulation"].state.control
    before_sql, before_upstream = services.db.statements, control.total

    # when
    body = await graphql(staff_api_client, query)

    # then: entitlements, links, temporary entitlements, offer entitlements; one batched circulation call
    assert "errors" not in body
    assert [body["data"][f"a{i}"]["accessLevel"] for i in range(5)] == ["UPGRADE", "PREMIUM", "PURCHASE",
                                                                         "PREMIUM", "PREMIUM"]
    # + the staff member's access levels (MGR-1) + the tenant's settings version (SET-3), once per request
    assert services.db.statements - before_sql == 4 + 1 + 1
    assert control.total - before_upstream == 1


async def test_ent2_upstream_failure_is_a_coded_error(staff_api_client, own_rows, sandboxes):
    from sandbox.faults import FaultRule

    registration = await _registration_linked_to(own_rows, 1)
    control = sandboxes["circulation"].state.control
    control.rules.append(FaultRule(path="/subscriptions", status=503))

    body = await graphql(staff_api_client, ACCESS_QUERY, {"code": "PREMIUM", "crid": registration.crid})

    assert body["data"] == {"accessLevel": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UPSTREAM_UNAVAILABLE"]
