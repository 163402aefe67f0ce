"""MSG-4 (with STP-4): a StopSaver downgrade or cancel e-mails the subscriber, whether the customer or staff acts;
read from the mail emulator after a real SMTP delivery."""

from __future__ import annotations

import pytest

from tests.graphql.messages.support import FRONT_END, Inbox, with_templates
from tests.graphql.servicing.test_stop_saver_flow import cancel, downgrade, downgrade_world, pass_step, start


@pytest.mark.parametrize("who", ["owner", "staff"])
async def test_msg_4_downgrade_emails_the_subscriber_whoever_acts(app, api_client, own_tenant, services, tokens, who):
    # given
    world, found = await downgrade_world(own_tenant, services, tokens, digital=True)
    await with_templates(world.tenant)
    inbox = Inbox(app)
    flow_id = (await start(api_client, world, who))["stopSaver"]["id"]
    # when
    assert (await downgrade(api_client, world, flow_id, found.cheaper, "PRICE", who))["userErrors"] == []
    # then
    [message] = await inbox.wait_for(f"reader-{world.tenant.code.lower()}@example.com")
    assert message["Subject"] == "Own Test Paper: your subscription changes on 2026-06-20"
    assert f"subscription {world.subscription_id} changes to Weekend (1M, 7.50" in message["Text"] and "Reason given: PRICE" in message["Text"]
    assert f"{FRONT_END}/account?subscription={world.subscription_id}" in message["Text"]
    assert "<b>Weekend</b>" in message["HTML"]


@pytest.mark.parametrize("who", ["owner", "staff"])
async def test_msg_4_cancel_at_the_stop_saver_step_emails_the_subscriber(app, api_client, own_tenant, services, tokens,
                                                                        who):
    # given: a flow at its cancel step
    world, _ = await downgrade_world(own_tenant, services, tokens, digital=True)
    await with_templates(world.tenant)
    inbox = Inbox(app)
    flow_id = (await start(api_client, world, who))["stopSaver"]["id"]
    await pass_step(api_client, world, flow_id, "DOWNGRADE", who)
    # when
    assert (await cancel(api_client, world, flow_id, "MOVING", who))["userErrors"] == []
    # then
    [message] = await inbox.wait_for(f"reader-{world.tenant.code.lower()}@example.com")
    assert message["Subject"] == f"Own Test Paper: subscription {world.subscription_id} cancelled"
    assert "Reason given: MOVING" in message["Text"]


async def test_msg_4_without_a_subscriber_email_the_owner_gets_it(app, api_client, own_tenant, services, tokens):
    world, _ = await downgrade_world(own_tenant, services, tokens, digital=True)
    record = own_tenant.circulation().papers[world.tenant.code].subscriptions[world.subscription_id]
    record["subscriber"]["email"] = None
    await with_templates(world.tenant)
    inbox = Inbox(app)
    assert (await cancel(api_client, world, None, "PRICE", "staff"))["userErrors"] == []
    [message] = await inbox.wait_for(world.owner.email)
    assert "cancelled" in message["Subject"]


async def test_msg_1_no_template_no_message(app, api_client, own_tenant, services, tokens):
    # given: the tenant has every template but the downgrade one
    world, found = await downgrade_world(own_tenant, services, tokens, digital=True)
    await with_templates(world.tenant, without=("DOWNGRADESUBSCRIPTION",))
    inbox = Inbox(app)
    flow_id = (await start(api_client, world))["stopSaver"]["id"]
    # when: a downgrade (no message), then a cancel (a message) as a marker that delivery ran
    assert (await downgrade(api_client, world, flow_id, found.cheaper))["userErrors"] == []
    assert (await cancel(api_client, world, None, "PRICE"))["userErrors"] == []
    # then: only the cancel's message arrived
    messages = await inbox.wait_for(f"reader-{world.tenant.code.lower()}@example.com")
    assert [m["Subject"].endswith("cancelled") for m in messages] == [True]
