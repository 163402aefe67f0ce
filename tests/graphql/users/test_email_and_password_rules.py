"""USR-4 (e-mail hygiene) and USR-5 (password policy) on every path of the user mutations where an e-mail
or a password enters, and USR-9: an accepted operation records its event, a refused one none. createUser's
own cases are in test_create_user.py, purchaseSubscription's in tests/graphql/purchases/."""

from __future__ import annotations

import pytest

from tests.conftest import graphql
from tests.graphql.users.support import create_user, events, token_of, unique_email

CHANGE_PASSWORD = """
mutation ($crid: String!, $password: String!) {
  changePassword(input: {customerRegistrationId: $crid, password: $password}) { userErrors { code field } }
}
"""
START = "mutation ($email: String!) { startForgotPassword(input: {email: $email}) { accepted userErrors { code field } } }"
FINISH = """
mutation ($token: String!, $password: String!) {
  finishForgotPassword(input: {token: $token, password: $password}) { userErrors { code field } }
}
"""
CHANGE_EMAIL = """
mutation ($crid: String!, $email: String!) {
  changeEmail(input: {customerRegistrationId: $crid, email: $email}) { registration { email } userErrors { code field } }
}
"""
SEND_CODE = """
mutation ($email: String!) { sendVerificationCode(input: {email: $email}) { accepted userErrors { code field } } }
"""
VERIFY = """
mutation ($email: String!, $code: String!) {
  verifyEmail(input: {email: $email, code: $code}) { registration { state } userErrors { code field } }
}
"""
PASSWORDS = [("Abcdef1!", True), ("Abcde1!", False), ("Abcdefg!", False), ("Abcdefg1", False),
             ("1234567!", True), ("Pass word 1!", True)]
PASSWORD_IDS = ["8-characters", "7-characters", "no-digit", "no-special", "digits-and-one-special", "with-spaces"]
INVISIBLE = {"zero-width-space": "\u200b", "zero-width-joiner": "\u200d", "word-joiner": "\u2060",
             "no-break-space": "\u00a0", "soft-hyphen": "\u00ad", "bom": "\ufeff", "ideographic-space": "\u3000",
             "hangul-filler": "\u3164", "bell": "\u0007", "line-separator": "\u2028"}


def with_invisible(email: str, char: str) -> str:
    local, domain = email.split("@")
    return f"{local[:3]}{char}{local[3:]}@{domain}"


def codes(payload: dict) -> list[tuple[str, list[str]]]:
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


async def mg2_user(staff_api_client, own_tenant, **fields):
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    return tenant, await create_user(staff_api_client, tenant, password="Old-pass-12", **fields)


# -- USR-5 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("password, accepted", PASSWORDS, ids=PASSWORD_IDS)
async def test_usr5_usr9_change_password(staff_api_client, own_tenant, services, password, accepted):
    # given
    tenant, user = await mg2_user(staff_api_client, own_tenant)
    # when
    answer = await graphql(staff_api_client, CHANGE_PASSWORD, {"crid": user["crid"], "password": password},
                           **tenant.headers)
    # then
    payload = answer["data"]["changePassword"]
    assert codes(payload) == ([] if accepted else [("PASSWORD_TOO_WEAK", ["input", "password"])])
    assert len(await events(services, tenant, user["crid"], "CHGPASSWORD")) == (1 if accepted else 0)


@pytest.mark.parametrize("password, accepted", PASSWORDS, ids=PASSWORD_IDS)
async def test_usr5_usr9_finish_forgot_password(staff_api_client, own_tenant, services, password, accepted):
    # given
    tenant, user = await mg2_user(staff_api_client, own_tenant)
    await graphql(staff_api_client, START, {"email": user["email"]}, **tenant.headers)
    [request] = await events(services, tenant, user["crid"], "PWDREQ")
    # when
    answer = await graphql(staff_api_client, FINISH, {"token": token_of(services, "forgot-password", request),
                                                      "password": password}, **tenant.headers)
    # then
    payload = answer["data"]["finishForgotPassword"]
    assert codes(payload) == ([] if accepted else [("PASSWORD_TOO_WEAK", ["input", "password"])])
    assert len(await events(services, tenant, user["crid"], "PWDRESET")) == (1 if accepted else 0)


# -- USR-4 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("char", INVISIBLE.values(), ids=INVISIBLE.keys())
async def test_usr4_change_email_refuses_invisible_characters(staff_api_client, own_tenant, services, char):
    tenant, user = await mg2_user(staff_api_client, own_tenant)

    answer = await graphql(staff_api_client, CHANGE_EMAIL, {"crid": user["crid"],
                                                            "email": with_invisible(unique_email(), char)},
                           **tenant.headers)

    assert codes(answer["data"]["changeEmail"]) == [("INVALID_EMAIL", ["input", "email"])]
    assert await events(services, tenant, user["crid"], "CHGEMAIL") == []


@pytest.mark.parametrize("char", INVISIBLE.values(), ids=INVISIBLE.keys())
async def test_usr4_forgot_password_and_verification_refuse_invisible_characters(staff_api_client, own_tenant,
                                                                                 services, char):
    # given: an unverified user (so a verification code would be sent)
    tenant, user = await mg2_user(staff_api_client, own_tenant, verifyEmail=True)
    email = with_invisible(user["email"], char)
    # when
    start = await graphql(staff_api_client, START, {"email": email}, **tenant.headers)
    send = await graphql(staff_api_client, SEND_CODE, {"email": email}, **tenant.headers)
    verify = await graphql(staff_api_client, VERIFY, {"email": email, "code": "x"}, **tenant.headers)
    # then: refused, not silently accepted as an unknown address
    for payload in (start["data"]["startForgotPassword"], send["data"]["sendVerificationCode"],
                    verify["data"]["verifyEmail"]):
        assert codes(payload) == [("INVALID_EMAIL", ["input", "email"])]
    assert await events(services, tenant, user["crid"], "PWDREQ") == []
    assert len(await events(services, tenant, user["crid"], "VERIFYCODE")) == 1  # the one createUser sent


async def test_usr4_usr9_every_e_mail_path_trims_and_records_its_event(staff_api_client, own_tenant, services):
    # given
    tenant, user = await mg2_user(staff_api_client, own_tenant, verifyEmail=True)
    padded = f" \t{user['email']}  "
    # when
    start = await graphql(staff_api_client, START, {"email": padded}, **tenant.headers)
    send = await graphql(staff_api_client, SEND_CODE, {"email": padded}, **tenant.headers)
    code = token_of(services, "verify-email", (await events(services, tenant, user["crid"], "VERIFYCODE"))[-1])
    verify = await graphql(staff_api_client, VERIFY, {"email": padded, "code": code}, **tenant.headers)
    new = unique_email()
    change = await graphql(staff_api_client, CHANGE_EMAIL, {"crid": user["crid"], "email": f"\n{new} "},
                           **tenant.headers)
    # then
    assert start["data"]["startForgotPassword"] == {"accepted": True, "userErrors": []}
    assert send["data"]["sendVerificationCode"] == {"accepted": True, "userErrors": []}
    assert verify["data"]["verifyEmail"] == {"registration": {"state": "STANDARD"}, "userErrors": []}
    assert change["data"]["changeEmail"] == {"registration": {"email": new}, "userErrors": []}
    assert [e.type_code for e in await events(services, tenant, user["crid"])] == [
        "CREATEPENDING", "VERIFYCODE", "PWDREQ", "VERIFYCODE", "VERIFYEMAIL", "CHGEMAIL"]
