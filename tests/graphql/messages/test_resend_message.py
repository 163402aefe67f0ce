"""Staff resend a message, optionally elsewhere (MSG-1), through the public API; each message is read from the mail
emulator after a real SMTP delivery."""

from __future__ import annotations

from tests.conftest import bearer, graphql
from tests.graphql.messages.support import Inbox, link_in, messaging_tenant, outbox, query_of, with_templates
from tests.graphql.messages.test_payment_messages import email_of
from tests.graphql.payments.support import pay, paying
from tests.graphql.users.support import create_user

RESEND = """
mutation ($input: ResendMessageInput!) {
  resendMessage(input: $input) { queued userErrors { code field message } }
}
"""
EVENTS = """
query ($id: ID!) { subscription(id: $id) { events(first: 20) { nodes { id typeCode } } } }
"""
START_FORGOT = """
mutation ($email: String!) { startForgotPassword(input: {email: $email}) { accepted userErrors { code } } }
"""
FINISH_FORGOT = """
mutation ($token: String!, $password: String!) {
  finishForgotPassword(input: {token: $token, password: $password}) { userErrors { code } }
}
"""
USER_EVENTS = """
query ($crid: String!) { registration(crid: $crid) { events(first: 20) { nodes { id typeCode } } } }
"""


def codes(answer: dict) -> list[str]:
    return [e["code"] for e in answer["data"]["resendMessage"]["userErrors"]]


async def test_msg1_staff_resend_a_receipt_to_its_recipient_and_elsewhere(app, api_client, staff_api_client,
                                                                          own_tenant, sandboxes, services, tokens):
    # given: a card payment's receipt, delivered
    setup_ = await paying(own_tenant, sandboxes, tokens)
    await with_templates(setup_.tenant)
    inbox = Inbox(app)
    assert (await pay(api_client, setup_, optionTerm="1M", optionAmount="10.79", paymentType="CREDIT_CARD",
                      total="10.79"))["userErrors"] == []
    owner_email = await email_of(services, setup_.tenant, setup_.crid)
    [first] = await inbox.wait_for(owner_email)
    events = await graphql(staff_api_client, EVENTS, {"id": setup_.subscription_id}, **setup_.tenant.headers)
    [event_id] = [e["id"] for e in events["data"]["subscription"]["events"]["nodes"] if e["typeCode"] == "PAYMENT"]
    # when: staff send it again, and to the subscriber's accountant
    again = await graphql(staff_api_client, RESEND, {"input": {"eventId": event_id}}, **setup_.tenant.headers)
    elsewhere = await graphql(staff_api_client, RESEND, {"input": {"eventId": event_id, "to": " books@example.com "}},
                              **setup_.tenant.headers)
    # then: two new messages, each with its own Message-ID, the same receipt
    assert again["data"]["resendMessage"] == {"queued": True, "userErrors": []}
    assert elsewhere["data"]["resendMessage"] == {"queued": True, "userErrors": []}
    second, _ = await inbox.wait_for(owner_email, 2)
    [copy] = await inbox.wait_for("books@example.com")
    assert second["Subject"] == copy["Subject"] == first["Subject"]
    assert "Total: 10.79 USD" in copy["Text"]
    assert len({first["MessageID"], second["MessageID"], copy["MessageID"]}) == 3
    rows = await outbox(services, setup_.tenant)
    assert [(r.event_type, r.recipient) for r in rows] == [("PAYMENT", owner_email), ("PAYMENT", owner_email),
                                                           ("PAYMENT", "books@example.com")]


async def test_msg1_a_password_link_is_resent_only_to_its_recipient_and_still_works_once(app, staff_api_client,
                                                                                       own_tenant, services):
    # given: a forgot-password mail, delivered
    tenant = await messaging_tenant(own_tenant, settings={"Flow.UserProvider": "MG2"})
    user = await create_user(staff_api_client, tenant, password="Old-pass-12")
    inbox = Inbox(app)
    await graphql(staff_api_client, START_FORGOT, {"email": user["email"]}, **tenant.headers)
    await inbox.wait_for(user["email"], 2)  # the welcome and the reset link
    events = await graphql(staff_api_client, USER_EVENTS, {"crid": user["crid"]}, **tenant.headers)
    [event_id] = [e["id"] for e in events["data"]["registration"]["events"]["nodes"] if e["typeCode"] == "PWDREQ"]
    # when
    elsewhere = await graphql(staff_api_client, RESEND, {"input": {"eventId": event_id, "to": "thief@example.com"}},
                              **tenant.headers)
    again = await graphql(staff_api_client, RESEND, {"input": {"eventId": event_id}}, **tenant.headers)
    # then: never elsewhere; to its recipient, the same link, which still works once
    assert codes(elsewhere) == ["NOT_ELSEWHERE"] and codes(again) == []
    resets = [m for m in await inbox.wait_for(user["email"], 3) if m["Subject"].startswith("Reset")]
    assert len(resets) == 2
    tokens = {query_of(link_in(m, "reset-password"))["token"] for m in resets}
    assert len(tokens) == 1
    [token] = tokens
    first = await graphql(staff_api_client, FINISH_FORGOT, {"token": token, "password": "New-pass-12"}, **tenant.headers)
    second = await graphql(staff_api_client, FINISH_FORGOT, {"token": token, "password": "New-pass-13"},
                           **tenant.headers)
    assert first["data"]["finishForgotPassword"]["userErrors"] == []
    assert second["data"]["finishForgotPassword"]["userErrors"] == [{"code": "INVALID_LINK"}]
    assert await inbox.to("thief@example.com") == []


async def test_msg1_resend_refusals_change_nothing(app, staff_api_client, own_tenant, services, tokens):
    # given: a tenant without the forgot-password template, and one of its users
    tenant = await messaging_tenant(own_tenant, settings={"Flow.UserProvider": "MG2"}, without=("PWDREQ",))
    user = await create_user(staff_api_client, tenant, password="Old-pass-12")
    await graphql(staff_api_client, START_FORGOT, {"email": user["email"]}, **tenant.headers)
    events = await graphql(staff_api_client, USER_EVENTS, {"crid": user["crid"]}, **tenant.headers)
    by_type = {e["typeCode"]: e["id"] for e in events["data"]["registration"]["events"]["nodes"]}
    before = await outbox(services, tenant)
    # when
    no_template = await graphql(staff_api_client, RESEND, {"input": {"eventId": by_type["PWDREQ"]}}, **tenant.headers)
    unknown = await graphql(staff_api_client, RESEND, {"input": {"eventId": "999999999"}}, **tenant.headers)
    bad_address = await graphql(staff_api_client, RESEND, {"input": {"eventId": by_type["CREATELOGIN"],
                                                                     "to": "a\u200b@example.com"}}, **tenant.headers)
    customer = await graphql(staff_api_client, RESEND, {"input": {"eventId": by_type["CREATELOGIN"]}},
                             **{**tenant.headers, **bearer(tokens.customer(user["crid"], tenant.code))})
    # then
    assert codes(no_template) == ["NO_MESSAGE"] and codes(unknown) == ["NOT_FOUND"]
    assert codes(bad_address) == ["INVALID_EMAIL"]
    assert customer["data"]["resendMessage"] is None and customer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert [r.id for r in await outbox(services, tenant)] == [r.id for r in before]
