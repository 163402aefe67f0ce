"""Messages of the account flows (MSG-1, MSG-2, USR-7, USR-3), each read from the mail emulator after a real
SMTP delivery; each link points at the tenant's front end and works once."""

from __future__ import annotations

from tests.conftest import graphql
from tests.graphql.messages.support import FRONT_END, Inbox, link_in, messaging_tenant, outbox, query_of, \
    redeem_ticket
from tests.graphql.users.support import create_user, unique_email

START_FORGOT = """
mutation ($email: String!) { startForgotPassword(input: {email: $email}) { accepted userErrors { code } } }
"""
FINISH_FORGOT = """
mutation ($token: String!, $password: String!) {
  finishForgotPassword(input: {token: $token, password: $password}) { userErrors { code } }
}
"""
CREATE_USER = """
mutation ($input: CreateUserInput!) {
  createUser(input: $input) { registration { crid email state } userErrors { code field message } }
}
"""
VERIFY = """
mutation ($email: String!, $code: String!) {
  verifyEmail(input: {email: $email, code: $code}) { registration { state } userErrors { code } }
}
"""


async def test_msg2_usr7_forgot_password_mail_carries_a_front_end_link_that_works_once(
        app, staff_api_client, own_tenant):
    # given
    tenant = await messaging_tenant(own_tenant, settings={"Flow.UserProvider": "MG2"})
    user = await create_user(staff_api_client, tenant, password="Old-pass-12")
    inbox = Inbox(app)
    # when
    answer = await graphql(staff_api_client, START_FORGOT, {"email": user["email"]}, **tenant.headers)
    # then
    assert answer["data"]["startForgotPassword"] == {"accepted": True, "userErrors": []}
    reset, welcome = sorted(await inbox.wait_for(user["email"], 2), key=lambda m: m["Subject"])
    assert reset["Subject"] == "Reset your Own Test Paper password"
    assert reset["From"] == {"Name": "Own Test Paper", "Address": "no-reply@papergraph.dev"}
    token = query_of(link_in(reset, "reset-password"))["token"]
    first = await graphql(staff_api_client, FINISH_FORGOT, {"token": token, "password": "New-pass-12"}, **tenant.headers)
    second = await graphql(staff_api_client, FINISH_FORGOT, {"token": token, "password": "New-pass-13"}, **tenant.headers)
    assert first["data"]["finishForgotPassword"]["userErrors"] == []
    assert second["data"]["finishForgotPassword"]["userErrors"] == [{"code": "INVALID_LINK"}]
    assert "localhost" not in reset["Text"] and "127.0.0.1" not in reset["Text"]


async def test_msg2_verification_mail_link_verifies_once(app, staff_api_client, own_tenant):
    # given
    tenant = await messaging_tenant(own_tenant, settings={"Flow.UserProvider": "MG2"})
    email = unique_email()
    inbox = Inbox(app)
    # when
    created = await graphql(staff_api_client, CREATE_USER, {"input": {
        "email": email, "password": "Some-pass-12", "verifyEmail": True}}, **tenant.headers)
    # then
    assert created["data"]["createUser"]["registration"]["state"] == "UNVERIFIED"
    [message] = await inbox.wait_for(email)
    assert message["Subject"] == "Verify your e-mail for Own Test Paper"
    link = query_of(link_in(message, "verify-email"))
    assert link["email"] == email and link["code"] in message["Text"]
    first = await graphql(staff_api_client, VERIFY, {"email": email, "code": link["code"]}, **tenant.headers)
    second = await graphql(staff_api_client, VERIFY, {"email": email, "code": link["code"]}, **tenant.headers)
    assert first["data"]["verifyEmail"] == {"registration": {"state": "STANDARD"}, "userErrors": []}
    assert second["data"]["verifyEmail"]["userErrors"] != []


async def test_msg1_no_template_no_message(app, staff_api_client, own_tenant, services):
    # given: the tenant has every template but the forgot-password one
    tenant = await messaging_tenant(own_tenant, settings={"Flow.UserProvider": "MG2"}, without=("PWDREQ",))
    user = await create_user(staff_api_client, tenant, password="Old-pass-12")
    inbox = Inbox(app)
    # when
    await graphql(staff_api_client, START_FORGOT, {"email": user["email"]}, **tenant.headers)
    # then: only the welcome message was written and sent
    [welcome] = await inbox.wait_for(user["email"])
    assert welcome["Subject"] == "Your Own Test Paper account"
    assert [row.event_type for row in await outbox(services, tenant)] == ["CREATELOGIN"]


async def test_usr3_passwordless_user_gets_the_change_password_link_that_works_once(app, staff_api_client, own_tenant):
    # given: an Auth0 tenant, whose passwordless users get a change-password ticket
    tenant = await messaging_tenant(own_tenant)
    email = unique_email()
    inbox = Inbox(app)
    # when
    created = await graphql(staff_api_client, CREATE_USER, {"input": {"email": email}}, **tenant.headers)
    # then
    assert created["data"]["createUser"]["userErrors"] == []
    [message] = await inbox.wait_for(email)
    assert "Choose your password here: http" in message["Text"]
    assert f"{FRONT_END}/sign-in" in message["Text"]
    # ...and the ticket sets a password once
    assert await redeem_ticket(app, message["Text"], "Chosen-pass-12!") in (200, 303)
    assert await redeem_ticket(app, message["Text"], "Other-pass-12!") == 400


async def test_the_demo_mailbox_page_and_the_inbox_api_are_served_in_embedded_mode(app, api_client, staff_api_client,
                                                                                   own_tenant):
    # given: a message delivered over SMTP
    tenant = await messaging_tenant(own_tenant, settings={"Flow.UserProvider": "MG2"})
    user = await create_user(staff_api_client, tenant, password="Old-pass-12")
    await Inbox(app).wait_for(user["email"])
    # when
    page = await api_client.get("/demo/mail/")
    found = await api_client.get("/sandbox/mail/api/v1/search", params={"query": f"to:{user['email']}"})
    # then
    assert page.status_code == 200 and "mail.js" in page.text
    assert [m["Subject"] for m in found.json()["messages"]] == ["Your Own Test Paper account"]
