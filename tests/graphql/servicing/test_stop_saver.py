"""StopSaver (STP-3, STP-4 step order) and the stop-reason list (STP-5) through the API."""

from __future__ import annotations

from sandbox.faults import FaultRule
from tests.conftest import graphql
from tests.graphql.servicing.support import servicing_world

STOP_SAVER = "query ($id: ID!) { stopSaver(subscriptionId: $id) { steps temporaryStopDates } }"
REASONS = "{ stopReasons { code description } }"
CANCEL = """
mutation ($id: ID!, $reason: String!) {
  cancelSubscription(input: {subscriptionId: $id, reason: $reason}) { subscription { status } userErrors { code field } }
}
"""


async def test_stp_3_print_subscriber_gets_the_temp_stop_step_first(api_client, own_tenant, services, tokens):
    world = await servicing_world(own_tenant, services, tokens)
    flow = (await graphql(api_client, STOP_SAVER, {"id": world.subscription_id}, **world.headers["owner"])
            )["data"]["stopSaver"]
    assert flow["steps"] == ["TEMPORARY_STOP", "DOWNGRADE", "CANCEL"]
    assert flow["temporaryStopDates"][0] == "2026-06-02"


async def test_stp_3_digital_subscriber_never_sees_the_temp_stop_step(api_client, own_tenant, services, tokens,
                                                                      sandboxes):
    world = await servicing_world(own_tenant, services, tokens, digital=True)
    control = sandboxes["circulation"].state.control
    control.requests.clear()
    flow = (await graphql(api_client, STOP_SAVER, {"id": world.subscription_id}, **world.headers["owner"])
            )["data"]["stopSaver"]
    assert flow == {"steps": ["DOWNGRADE", "CANCEL"], "temporaryStopDates": None}
    assert control.count(path_contains="temporary-stop-dates") == 0


async def test_stp_3_a_temp_stop_step_that_fails_to_load_is_skipped(api_client, own_tenant, services, tokens,
                                                                    sandboxes):
    # given: the offered dates cannot be read
    world = await servicing_world(own_tenant, services, tokens)
    sandboxes["circulation"].state.control.rules.append(FaultRule(path="/temporary-stop-dates$", status=503))
    # when
    answer = await graphql(api_client, STOP_SAVER, {"id": world.subscription_id}, **world.headers["owner"])
    # then: the flow goes on to the next step, no error
    assert "errors" not in answer
    assert answer["data"]["stopSaver"] == {"steps": ["DOWNGRADE", "CANCEL"], "temporaryStopDates": None}


async def test_stp_3_guest_is_refused(api_client, own_tenant, services, tokens):
    world = await servicing_world(own_tenant, services, tokens)
    answer = await graphql(api_client, STOP_SAVER, {"id": world.subscription_id}, **world.headers["guest"])
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_stp_5_cancel_needs_a_code_from_the_tenant_list(api_client, own_tenant, services, tokens):
    # given
    world = await servicing_world(own_tenant, services, tokens)
    reasons = (await graphql(api_client, REASONS, **world.headers["owner"]))["data"]["stopReasons"]
    # when
    unknown = (await graphql(api_client, CANCEL, {"id": world.subscription_id, "reason": "BORED"},
                             **world.headers["owner"]))["data"]["cancelSubscription"]
    listed = (await graphql(api_client, CANCEL, {"id": world.subscription_id, "reason": reasons[0]["code"]},
                            **world.headers["owner"]))["data"]["cancelSubscription"]
    # then
    assert {"code": "PRICE", "description": "Too expensive"} in reasons
    assert unknown == {"subscription": None, "userErrors": [{"code": "UNKNOWN_STOP_REASON",
                                                             "field": ["input", "reason"]}]}
    assert listed["userErrors"] == [] and listed["subscription"]["status"] == "STOPPED"
