"""The forgot-password flow (USR-7) and e-mail verification (USR-1, USR-9) through the public API."""

from __future__ import annotations

from datasources.repositories.users import UserRepository
from domain.passwords import verify_password
from tests.conftest import graphql
from tests.graphql.users.support import auth0_password_is
from tests.graphql.users.support import create_user, events, expire, token_of, unique_email

START = """
mutation ($email: String!) { startForgotPassword(input: {email: $email}) { accepted userErrors { code field } } }
"""
VALID = "query ($token: String!) { forgotPasswordLinkValid(token: $token) }"
FINISH = """
mutation ($token: String!, $password: String!) {
  finishForgotPassword(input: {token: $token, password: $password}) {
    registration { crid state } userErrors { code field message }
  }
}
"""
SEND_CODE = """
mutation ($email: String!) { sendVerificationCode(input: {email: $email}) { accepted userErrors { code } } }
"""
VERIFY = """
mutation ($email: String!, $code: String!) {
  verifyEmail(input: {email: $email, code: $code}) { registration { state } userErrors { code field message } }
}
"""


async def forgot_password_token(staff_api_client, services, tenant, user) -> str:
    answer = await graphql(staff_api_client, START, {"email": user["email"]}, **tenant.headers)
    assert answer["data"]["startForgotPassword"] == {"accepted": True, "userErrors": []}
    event = (await events(services, tenant, user["crid"], "PWDREQ"))[-1]
    return token_of(services, "forgot-password", event)


async def test_usr7_start_validate_finish_sets_the_password_once(staff_api_client, own_tenant, services):
    # given
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    user = await create_user(staff_api_client, tenant, password="Old-pass-12")
    token = await forgot_password_token(staff_api_client, services, tenant, user)
    assert (await graphql(staff_api_client, VALID, {"token": token}, **tenant.headers))["data"] == {
        "forgotPasswordLinkValid": True}
    # when
    first = await graphql(staff_api_client, FINISH, {"token": token, "password": "New-pass-12"}, **tenant.headers)
    second = await graphql(staff_api_client, FINISH, {"token": token, "password": "Other-pass-12"}, **tenant.headers)
    # then
    assert first["data"]["finishForgotPassword"]["userErrors"] == []
    assert [e["code"] for e in second["data"]["finishForgotPassword"]["userErrors"]] == ["INVALID_LINK"]
    row = await UserRepository(services.db).by_crid(tenant.id, user["crid"])
    assert verify_password("New-pass-12", row.password_hash)
    assert (await graphql(staff_api_client, VALID, {"token": token}, **tenant.headers))["data"][
        "forgotPasswordLinkValid"] is False
    [request] = await events(services, tenant, user["crid"], "PWDREQ")
    [reset] = await events(services, tenant, user["crid"], "PWDRESET")
    assert reset.parent_id == request.id


async def test_usr7_expired_link_is_invalid(staff_api_client, own_tenant, services):
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    user = await create_user(staff_api_client, tenant, password="Old-pass-12")
    await forgot_password_token(staff_api_client, services, tenant, user)
    expired = await expire(services, (await events(services, tenant, user["crid"], "PWDREQ"))[-1])
    assert (await graphql(staff_api_client, VALID, {"token": expired}, **tenant.headers))["data"][
        "forgotPasswordLinkValid"] is False
    answer = await graphql(staff_api_client, FINISH, {"token": expired, "password": "New-pass-12"}, **tenant.headers)
    assert [e["code"] for e in answer["data"]["finishForgotPassword"]["userErrors"]] == ["INVALID_LINK"]


async def test_usr7_a_newer_request_retires_the_older_link(staff_api_client, own_tenant, services):
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    user = await create_user(staff_api_client, tenant, password="Old-pass-12")
    older = await forgot_password_token(staff_api_client, services, tenant, user)
    newer = await forgot_password_token(staff_api_client, services, tenant, user)
    answer = await graphql(staff_api_client, VALID, {"token": older}, **tenant.headers)
    assert answer["data"]["forgotPasswordLinkValid"] is False
    assert (await graphql(staff_api_client, VALID, {"token": newer}, **tenant.headers))["data"][
        "forgotPasswordLinkValid"] is True


async def test_usr7_garbage_and_other_tenants_tokens_are_invalid(staff_api_client, own_tenant, services):
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    other = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    user = await create_user(staff_api_client, tenant, password="Old-pass-12")
    token = await forgot_password_token(staff_api_client, services, tenant, user)
    for candidate, headers in (("garbage", tenant.headers), ("", tenant.headers), (token, other.headers)):
        answer = await graphql(staff_api_client, VALID, {"token": candidate}, **headers)
        assert answer["data"]["forgotPasswordLinkValid"] is False


async def test_usr7_finish_enforces_the_password_policy_and_keeps_the_link(staff_api_client, own_tenant, services):
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    user = await create_user(staff_api_client, tenant, password="Old-pass-12")
    token = await forgot_password_token(staff_api_client, services, tenant, user)
    weak = await graphql(staff_api_client, FINISH, {"token": token, "password": "weakpass"}, **tenant.headers)
    assert [e["code"] for e in weak["data"]["finishForgotPassword"]["userErrors"]] == ["PASSWORD_TOO_WEAK"]
    assert (await graphql(staff_api_client, VALID, {"token": token}, **tenant.headers))["data"][
        "forgotPasswordLinkValid"] is True


async def test_usr7_unknown_email_is_accepted_without_an_event(staff_api_client, own_tenant, services):
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    answer = await graphql(staff_api_client, START, {"email": unique_email()}, **tenant.headers)
    assert answer["data"]["startForgotPassword"] == {"accepted": True, "userErrors": []}
    assert await events(services, tenant) == []
    invisible = await graphql(staff_api_client, START, {"email": "x\u200b@example.com"}, **tenant.headers)
    assert invisible["data"]["startForgotPassword"]["userErrors"] == [{"code": "INVALID_EMAIL",
                                                                       "field": ["input", "email"]}]


async def test_usr7_forgot_password_on_auth0_sets_the_auth0_password(staff_api_client, own_tenant, services, sandboxes):
    tenant = await own_tenant()
    user = await create_user(staff_api_client, tenant, password="Old-pass-12")
    token = await forgot_password_token(staff_api_client, services, tenant, user)
    await graphql(staff_api_client, FINISH, {"token": token, "password": "New-pass-12"}, **tenant.headers)
    assert auth0_password_is(sandboxes, user["crid"], "New-pass-12")


async def test_verification_code_verifies_the_email_once(staff_api_client, own_tenant, services):
    # given: an unverified user and a resent code
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    user = await create_user(staff_api_client, tenant, password="Secret-pass-1", verifyEmail=True)
    assert user["state"] == "UNVERIFIED"
    sent = await graphql(staff_api_client, SEND_CODE, {"email": user["email"]}, **tenant.headers)
    assert sent["data"]["sendVerificationCode"] == {"accepted": True, "userErrors": []}
    code = token_of(services, "verify-email", (await events(services, tenant, user["crid"], "VERIFYCODE"))[-1])
    # when
    verified = await graphql(staff_api_client, VERIFY, {"email": user["email"], "code": code}, **tenant.headers)
    again = await graphql(staff_api_client, VERIFY, {"email": user["email"], "code": code}, **tenant.headers)
    # then
    assert verified["data"]["verifyEmail"] == {"registration": {"state": "STANDARD"}, "userErrors": []}
    assert [e["code"] for e in again["data"]["verifyEmail"]["userErrors"]] == ["INVALID_CODE"]
    assert len(await events(services, tenant, user["crid"], "VERIFYEMAIL")) == 1


async def test_verification_code_of_another_email_or_expired_is_refused(staff_api_client, own_tenant, services):
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    user = await create_user(staff_api_client, tenant, password="Secret-pass-1", verifyEmail=True)
    event = (await events(services, tenant, user["crid"], "VERIFYCODE"))[-1]
    code = token_of(services, "verify-email", event)
    wrong_email = await graphql(staff_api_client, VERIFY, {"email": unique_email(), "code": code}, **tenant.headers)
    expired = await graphql(staff_api_client, VERIFY, {"email": user["email"], "code": await expire(services, event)},
                            **tenant.headers)
    for answer in (wrong_email, expired):
        assert [e["code"] for e in answer["data"]["verifyEmail"]["userErrors"]] == ["INVALID_CODE"]


async def test_verified_user_gets_no_new_code(staff_api_client, own_tenant, services):
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    user = await create_user(staff_api_client, tenant, password="Secret-pass-1")
    await graphql(staff_api_client, SEND_CODE, {"email": user["email"]}, **tenant.headers)
    assert await events(services, tenant, user["crid"], "VERIFYCODE") == []
