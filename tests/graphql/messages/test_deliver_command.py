"""`papergraph deliver` (MSG-1): the delivery worker in a process of its own sends what the servers wrote to the
outbox, when the servers run without their own worker."""

from __future__ import annotations

import httpx
import pytest

from app import create_app
from cli import run_deliver
from tests.conftest import Tokens, graphql, staff_signing
from tests.graphql.messages.support import Inbox, messaging_tenant, outbox
from tests.graphql.own_tenant import OwnTenants
from tests.graphql.users.support import unique_email

CREATE_USER = """
mutation ($input: CreateUserInput!) { createUser(input: $input) { registration { crid } userErrors { code } } }
"""


@pytest.mark.sqlite_only("the command's wiring; the outbox and its delivery run on both databases in the message tests")
async def test_msg1_deliver_once_sends_what_a_server_without_worker_left_in_the_outbox(settings, capsys):
    # given: a server without its delivery worker
    quiet = settings.model_copy(update={"mail_worker": False})
    application = create_app(quiet)
    async with application.router.lifespan_context(application):
        services = application.state.services
        tenants = OwnTenants(services, application.state.sandboxes)
        try:
            tenant = await messaging_tenant(tenants, settings={"Flow.UserProvider": "MG2"})
            tokens = Tokens(application.state.sandboxes["auth0"].state.store, quiet.auth0_audience)
            email = unique_email()
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://pg.test",
                                         event_hooks={"request": [staff_signing(tokens, tenant.code)]}) as client:
                answer = await graphql(client, CREATE_USER, {"input": {"email": email, "password": "Some-pass-12"}},
                                       **tenant.headers)
            assert answer["data"]["createUser"]["userErrors"] == []
            [waiting] = await outbox(services, tenant)
            assert waiting.state == "PENDING"
            # when: `papergraph deliver --once`, against the server's SMTP (the mail emulator) as a remote server
            mail = services.mail_server
            status = await run_deliver(quiet.model_copy(update={
                "upstreams": "remote", "smtp_host": mail.host, "smtp_port": mail.port}), once=True)
            # then
            assert status == 0
            [sent] = await outbox(services, tenant)
            assert sent.state == "SENT"
            [message] = await Inbox(application).wait_for(email)
            assert message["Subject"] == "Your Own Test Paper account"
        finally:
            await tenants.cleanup()
