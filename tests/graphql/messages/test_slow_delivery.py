"""A slow SMTP server (MSG-1, the mail emulator's `latency_ms` fault): a delivery that outlasts the SMTP timeout
counts as cut off and is retried under the same Message-ID, and the mailbox holds the message once. (The server
abandons the slow transaction when papergraph hangs up: aiosmtpd cancels its handler on a lost connection; had it
kept it, the Message-ID would make it a duplicate, as test_delivery_faults.py shows for a cut-off delivery.)"""

from __future__ import annotations

import pytest

from settings import Settings
from tests.graphql.messages.support import Inbox, messaging_tenant
from tests.graphql.messages.test_delivery_faults import create, wait_until_settled
from tests.graphql.users.support import unique_email


@pytest.fixture
def settings(database_url) -> Settings:
    """The messages' settings, with an SMTP timeout far below the fault's latency."""
    return Settings(environment="test", database_url=database_url, upstreams="embedded", seed_demo_data=False,
                    upstream_timeout=2.0, upstream_read_retries=1, mail_retry_base_seconds=0.05,
                    mail_poll_interval=0.05, frontend_url="https://front.example.test/default", smtp_timeout=0.2)


async def test_msg1_a_delivery_slower_than_the_timeout_is_retried_and_kept_once(app, staff_api_client, own_tenant,
                                                                                services):
    # given: the first DATA to this address takes 1.5 s, the SMTP timeout is 0.2 s
    tenant = await messaging_tenant(own_tenant, settings={"Flow.UserProvider": "MG2"})
    email = unique_email()
    inbox = Inbox(app)
    await inbox.faults({"method": "DATA", "path": email, "latency_ms": 1500, "times": 1})
    # when: a change causes a message (the welcome)
    await create(staff_api_client, tenant, email)
    # then: the first attempt timed out and was retried; the mailbox holds the message once, under its Message-ID
    [row] = await wait_until_settled(services, tenant)
    assert (row.state, row.attempts) == ("SENT", 2)
    assert inbox.smtp_commands("DATA", email) == 2
    [message] = await inbox.wait_for(email)
    assert message["MessageID"] == row.message_id.strip("<>")
    assert len(await inbox.to(email)) == 1
