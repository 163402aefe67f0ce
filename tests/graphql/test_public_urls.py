"""Public URLs follow the settings actually used (issue 17 item 7): with `PAPERGRAPH_PORT` changed and no
`PAPERGRAPH_PUBLIC_URL`, the hosted-iframe URL names that port; a new passwordless user's `changePasswordUrl`
is a page a browser can reach (the Auth0 tenant's public page, the embedded emulator under `/sandbox/auth0`),
returning to `PAPERGRAPH_FRONTEND_URL`, never the emulator's internal host."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from settings import Settings
from tests.conftest import graphql
from tests.graphql.own_tenant import own_tenant  # noqa: F401  (fixture)
from tests.graphql.payments.support import paying
from tests.graphql.payments.test_payment_sessions import start
from tests.graphql.users.test_create_user import CREATE_USER, unique_email

pytestmark = pytest.mark.sqlite_only("public URLs are derived from the settings in use; the database is not what differs")
FRONT_END = "https://subscribe.example.test/account"


@pytest.fixture
def settings(database_url) -> Settings:
    return Settings(environment="test", database_url=database_url, upstreams="embedded", seed_demo_data=False,
                    upstream_timeout=2.0, upstream_read_retries=1, port=9123, frontend_url=FRONT_END)


def test_the_public_url_defaults_to_the_host_and_port_papergraph_listens_on():
    assert Settings(environment="test", port=9123).public_base_url == "http://127.0.0.1:9123"
    assert Settings(environment="test", host="0.0.0.0", port=81).public_base_url == "http://127.0.0.1:81"
    assert Settings(environment="test", public_url="https://api.example.test/").public_base_url \
        == "https://api.example.test"


async def test_gw1_the_hosted_iframe_url_names_the_port_in_use(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, method=None)
    # when
    session = await start(api_client, setup)
    # then
    assert session["session"]["iframeUrl"].startswith("http://127.0.0.1:9123/sandbox/navigapay/hosted/")


async def test_usr3_the_change_password_url_is_public_and_returns_to_the_front_end(staff_api_client, own_tenant,
                                                                                   sandboxes):
    # given: an Auth0 tenant (the default provider)
    tenant = await own_tenant()
    # when: a passwordless user is created (the purchase creates new users the same way)
    answer = await graphql(staff_api_client, CREATE_USER, {"input": {"email": unique_email()}}, **tenant.headers)
    # then
    url = answer["data"]["createUser"]["changePasswordUrl"]
    assert url.startswith("http://127.0.0.1:9123/sandbox/auth0/lo/reset?ticket=")
    ticket = parse_qs(urlsplit(url).query)["ticket"][0]
    assert sandboxes["auth0"].state.store.tickets[ticket]["result_url"] == FRONT_END
