"""Delivery faults (MSG-1): a refused or cut-off SMTP delivery is retried under the same Message-ID, so the
mailbox never holds the message twice; a permanent refusal is not retried; the change that caused the message
stands whatever happens to it."""

from __future__ import annotations

from tests.conftest import graphql
from tests.graphql.messages.support import Inbox, messaging_tenant, outbox
from tests.graphql.users.support import unique_email

CREATE_USER = """
mutation ($input: CreateUserInput!) { createUser(input: $input) { registration { crid } userErrors { code } } }
"""


async def wait_until_settled(services, tenant, inbox_or_none=None):
    import asyncio

    for _ in range(500):
        rows = await outbox(services, tenant)
        if rows and all(row.state != "PENDING" for row in rows):
            return rows
        await asyncio.sleep(0.02)
    raise AssertionError(f"outbox still pending: {[(r.state, r.attempts, r.last_error) for r in rows]}")


async def create(staff_api_client, tenant, email):
    answer = await graphql(staff_api_client, CREATE_USER, {"input": {"email": email, "password": "Some-pass-12"}},
                           **tenant.headers)
    assert answer["data"]["createUser"]["userErrors"] == []
    return answer["data"]["createUser"]["registration"]["crid"]


async def test_msg1_a_temporary_refusal_is_retried_and_delivered_once(app, staff_api_client, own_tenant, services):
    # given: the mail server answers 451 to the first two deliveries to this address
    tenant = await messaging_tenant(own_tenant, settings={"Flow.UserProvider": "MG2"})
    email = unique_email()
    inbox = Inbox(app)
    await inbox.faults({"method": "DATA", "path": email, "status": 451, "times": 2})
    # when
    await create(staff_api_client, tenant, email)
    # then
    [row] = await wait_until_settled(services, tenant)
    assert (row.state, row.attempts) == ("SENT", 3)
    [message] = await inbox.wait_for(email)
    assert message["MessageID"] == row.message_id.strip("<>")
    assert inbox.smtp_commands("DATA", email) == 3


async def test_msg1_a_delivery_cut_off_after_acceptance_is_retried_under_the_same_message_id(
        app, staff_api_client, own_tenant, services):
    # given: the server keeps the message, then drops the connection before answering
    tenant = await messaging_tenant(own_tenant, settings={"Flow.UserProvider": "MG2"})
    email = unique_email()
    inbox = Inbox(app)
    await inbox.faults({"method": "DATA", "path": email, "drop": True, "after": True, "times": 1})
    # when
    await create(staff_api_client, tenant, email)
    # then: sent twice, under one Message-ID, so the mailbox holds it once
    [row] = await wait_until_settled(services, tenant)
    assert (row.state, row.attempts) == ("SENT", 2)
    assert inbox.smtp_commands("DATA", email) == 2
    assert len(await inbox.wait_for(email)) == 1
    assert app.state.sandboxes["mail"].state.store.duplicates_ignored >= 1


async def test_msg1_a_dropped_connection_before_the_message_is_retried(app, staff_api_client, own_tenant, services):
    # given
    tenant = await messaging_tenant(own_tenant, settings={"Flow.UserProvider": "MG2"})
    email = unique_email()
    inbox = Inbox(app)
    await inbox.faults({"method": "RCPT", "path": email, "drop": True, "times": 1})
    # when
    await create(staff_api_client, tenant, email)
    # then
    [row] = await wait_until_settled(services, tenant)
    assert (row.state, row.attempts) == ("SENT", 2)
    assert len(await inbox.wait_for(email)) == 1


async def test_msg1_a_permanent_refusal_fails_the_message_and_keeps_the_change(app, staff_api_client, own_tenant,
                                                                             services):
    # given
    tenant = await messaging_tenant(own_tenant, settings={"Flow.UserProvider": "MG2"})
    email = unique_email()
    inbox = Inbox(app)
    await inbox.faults({"method": "RCPT", "path": email, "status": 550})
    # when
    crid = await create(staff_api_client, tenant, email)
    # then
    [row] = await wait_until_settled(services, tenant)
    assert (row.state, row.attempts) == ("FAILED", 1) and row.last_error.startswith("550")
    assert await inbox.to(email) == []
    from datasources.repositories.users import UserRepository

    assert (await UserRepository(services.db).by_crid(tenant.id, crid)) is not None
