"""USR-10 through the public API: a customer changing their password gives the current one or signed in within the
last 5 minutes; a bearer token alone (issue 14 item 5) is not enough. A password-reset link needs neither."""

from __future__ import annotations

import time

import pytest

from tests.conftest import bearer, graphql
from tests.graphql.users.support import create_user, events, token_of

pytestmark = pytest.mark.sqlite_only

CHANGE_PASSWORD = """
mutation ($input: ChangePasswordInput!) {
  changePassword(input: $input) { registration { crid } userErrors { code field } }
}
"""
START = "mutation ($email: String!) { startForgotPassword(input: {email: $email}) { accepted userErrors { code } } }"
FINISH = """
mutation ($token: String!, $password: String!) {
  finishForgotPassword(input: {token: $token, password: $password}) {
    registration { crid } userErrors { code field }
  }
}
"""
OLD, NEW = "Old-pass-12", "New-pass-34!"


async def customer(staff_api_client, own_tenant, tokens, *, signed_in_ago: float):
    """An MG2 customer with password OLD, and headers with a token of a sign-in `signed_in_ago` seconds ago."""
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    user = await create_user(staff_api_client, tenant, password=OLD)
    token = tokens.customer(user["crid"], tenant.code, auth_time=int(time.time() - signed_in_ago))
    return tenant, user, {**tenant.headers, **bearer(token)}


async def change(client, user, headers, **fields) -> dict:
    answer = await graphql(client, CHANGE_PASSWORD, {"input": {"customerRegistrationId": user["crid"],
                                                               "password": NEW, **fields}}, **headers)
    return answer["data"]["changePassword"]


async def test_usr10_a_bearer_token_of_an_old_sign_in_alone_cannot_change_the_password(
        api_client, staff_api_client, own_tenant, tokens, services):
    # given: a token whose sign-in was an hour ago (stolen, or a computer left signed in)
    tenant, user, headers = await customer(staff_api_client, own_tenant, tokens, signed_in_ago=3600)
    # when
    payload = await change(api_client, user, headers)
    wrong = await change(api_client, user, headers, currentPassword="Not-the-pass-1!")
    # then
    for refused in (payload, wrong):
        assert refused["registration"] is None
        assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
            ("REAUTHENTICATION_REQUIRED", ["input", "currentPassword"])]
    assert await events(services, tenant, user["crid"], "CHGPASSWORD") == []


async def test_usr10_the_current_password_allows_the_change(api_client, staff_api_client, own_tenant, tokens, services):
    tenant, user, headers = await customer(staff_api_client, own_tenant, tokens, signed_in_ago=3600)

    payload = await change(api_client, user, headers, currentPassword=OLD)

    assert payload["userErrors"] == [] and payload["registration"] == {"crid": user["crid"]}
    assert len(await events(services, tenant, user["crid"], "CHGPASSWORD")) == 1


async def test_usr10_a_sign_in_within_five_minutes_allows_the_change(api_client, staff_api_client, own_tenant, tokens,
                                                                     services):
    tenant, user, headers = await customer(staff_api_client, own_tenant, tokens, signed_in_ago=60)

    payload = await change(api_client, user, headers)

    assert payload["userErrors"] == []
    assert len(await events(services, tenant, user["crid"], "CHGPASSWORD")) == 1


async def test_usr10_a_reset_link_needs_neither_password_nor_recent_sign_in(api_client, staff_api_client, own_tenant,
                                                                            tokens, services):
    # given: the forgot-password link, used by an anonymous visitor (USR-7)
    tenant, user, _ = await customer(staff_api_client, own_tenant, tokens, signed_in_ago=3600)
    await graphql(api_client, START, {"email": user["email"]}, **tenant.headers)
    [request] = await events(services, tenant, user["crid"], "PWDREQ")
    # when
    answer = await graphql(api_client, FINISH, {"token": token_of(services, "forgot-password", request),
                                                "password": NEW}, **tenant.headers)
    # then
    assert answer["data"]["finishForgotPassword"]["userErrors"] == []
    assert "errors" not in answer  # the link proved the account is the visitor's: its registration shows (LNK-4)
    assert answer["data"]["finishForgotPassword"]["registration"] == {"crid": user["crid"]}
    assert len(await events(services, tenant, user["crid"], "PWDRESET")) == 1
