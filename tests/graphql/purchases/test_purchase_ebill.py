"""The purchase's eBill opt-in (EBL-5): a new start may opt in to eBill; the opt-in runs after the start is written,
so a failed opt-in leaves the start standing and is reported in the payload (decision); a start without it is not on
eBill."""

from __future__ import annotations

import pytest
from sqlmodel import select

from datasources.models import Event
from sandbox.faults import FaultRule
from tests.conftest import graphql
from tests.graphql.purchases.test_purchase_subscription import purchase_input, setup

PURCHASE = """
mutation ($input: PurchaseSubscriptionInput!) {
  purchaseSubscription(input: $input) {
    subscription { id status ebill ebillAvailability { manageAllowed } }
    charged { amount }
    ebillOptIn { signedUp message }
    userErrors { code field message }
  }
}
"""


async def ebill_events(services, tenant) -> list[Event]:
    async with services.db.session() as session:
        return list((await session.execute(select(Event).where(
            Event.tenant_id == tenant.id, Event.type_code == "EBILLSIGNUP"))).scalars())


@pytest.mark.parametrize("kind", ["NCS", "MATRIX", "CIRCPRO", "SAXO"])
async def test_ebl_5_a_purchase_opts_in_to_ebill(staff_api_client, own_tenant, sandboxes, services, kind):
    # given
    tenant, offer, profile = await setup(own_tenant, sandboxes, kind)
    given = purchase_input(offer, profile, ebill=True)
    # when
    answer = await graphql(staff_api_client, PURCHASE, {"input": given}, **tenant.headers)
    # then
    payload = answer["data"]["purchaseSubscription"]
    assert payload["userErrors"] == [] and payload["ebillOptIn"] == {"signedUp": True, "message": None}
    assert payload["subscription"]["ebill"] is True and payload["subscription"]["ebillAvailability"]["manageAllowed"]
    [event] = await ebill_events(services, tenant)
    assert (event.subscription_id, event.source, event.details["email"]) == (
        payload["subscription"]["id"], "PURCHASE", given["subscriber"]["email"])


async def test_ebl_5_without_the_opt_in_the_start_is_not_on_ebill(staff_api_client, own_tenant, sandboxes, services):
    tenant, offer, profile = await setup(own_tenant, sandboxes)
    answer = await graphql(staff_api_client, PURCHASE, {"input": purchase_input(offer, profile)}, **tenant.headers)
    payload = answer["data"]["purchaseSubscription"]
    assert payload["ebillOptIn"] is None and payload["subscription"]["ebill"] is False
    assert await ebill_events(services, tenant) == []


async def test_ebl_5_a_failed_opt_in_leaves_the_start_standing_and_is_reported(staff_api_client, own_tenant,
                                                                              sandboxes, services):
    # given: the circulation system refuses eBill sign-ups
    tenant, offer, profile = await setup(own_tenant, sandboxes)
    control = sandboxes["circulation"].state.control
    control.rules.append(FaultRule(method="POST", path="/ebill$", status=503))
    try:
        # when
        answer = await graphql(staff_api_client, PURCHASE, {"input": purchase_input(offer, profile, ebill=True)},
                               **tenant.headers)
    finally:
        control.rules.clear()
    # then: bought, charged, active, not on eBill, and the payload says why
    payload = answer["data"]["purchaseSubscription"]
    assert payload["userErrors"] == [] and "errors" not in answer
    assert payload["subscription"]["status"] == "ACTIVE" and payload["subscription"]["ebill"] is False
    assert payload["charged"]["amount"] != "0.00"
    assert payload["ebillOptIn"]["signedUp"] is False and "later" in payload["ebillOptIn"]["message"]
    assert await ebill_events(services, tenant) == []
    started = [e for e in sandboxes["circulation"].state.store.ledger
               if e["paperCode"] == tenant.code and e["operation"] == "START"]
    assert len(started) == 1
