"""eBill through the API (EZ-3, EBL-1..5): sign-up and sign-out on every circulation kind, each once, switching the
flag at once and recording an event; refusals that say which and record nothing; the bill statements newest first
and their PDFs behind a route that checks the caller; auto-pay sign-up ends eBill; the purchase's opt-in."""

from __future__ import annotations

import pytest

from sandbox.faults import FaultRule
from tests.conftest import graphql
from tests.graphql.account.support import KINDS, account_world, call, codes, events, path_of
from tests.sandbox.test_circulation_account import assert_valid_pdf

SIGN_UP = """
mutation ($id: ID!) { signUpEBill(input: {subscriptionId: $id}) {
  subscription { id ebill ebillAvailability { signUpAllowed manageAllowed reason { code } } }
  event { typeCode source } userErrors { code field message } } }
"""
SIGN_OUT = """
mutation ($id: ID!) { signOutEBill(input: {subscriptionId: $id}) {
  subscription { id ebill ebillAvailability { signUpAllowed manageAllowed } }
  event { typeCode } userErrors { code field message } } }
"""
READ = "query ($id: ID!) { subscription(id: $id) { ebill ebillAvailability { signUpAllowed manageAllowed } } }"
STATEMENTS = """
query ($id: ID!) { subscription(id: $id) { billStatements {
  id issueDate periodStart periodEnd amountDue { amount currency } downloadUrl } } }
"""
EBILL_EVENTS = ("EBILLSIGNUP", "EBILLSIGNOUT")


# -- sign-up and sign-out (EBL-1, EBL-2) ----------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
async def test_ebl_1_ebl_2_owner_signs_up_and_out_once_each_on_every_kind(api_client, own_tenant, services, tokens,
                                                                          kind):
    # given
    world = await account_world(own_tenant, services, tokens, kind)
    # when
    up = await call(api_client, world, SIGN_UP, id=world.subscription_id)
    read = await call(api_client, world, READ, id=world.subscription_id)
    out = await call(api_client, world, SIGN_OUT, id=world.subscription_id)
    # then: the flag switched at once, both ways, each recorded
    assert up["userErrors"] == [] and up["subscription"]["ebill"] is True
    assert up["subscription"]["ebillAvailability"] == {"signUpAllowed": False, "manageAllowed": True,
                                                       "reason": {"code": "ALREADY_ON_EBILL"}}
    assert read["ebill"] is True
    assert out["userErrors"] == [] and out["subscription"]["ebill"] is False
    assert out["subscription"]["ebillAvailability"] == {"signUpAllowed": True, "manageAllowed": False}
    assert (up["event"], out["event"]) == ({"typeCode": "EBILLSIGNUP", "source": "CUSTOMER"}, {"typeCode": "EBILLSIGNOUT"})
    recorded = await events(services, world, *EBILL_EVENTS)
    assert [(e.type_code, e.crid) for e in recorded] == [("EBILLSIGNUP", world.owner.crid),
                                                         ("EBILLSIGNOUT", world.owner.crid)]
    # EBL-2 (decision): bills go to the owner's e-mail
    assert recorded[0].details["email"] == "owner@example.com"
    assert world.record()["ebill"] is False


async def test_ebl_1_a_repeated_sign_up_or_sign_out_is_refused_and_records_nothing(api_client, own_tenant, services,
                                                                                  tokens):
    # given
    world = await account_world(own_tenant, services, tokens)
    await call(api_client, world, SIGN_UP, id=world.subscription_id)
    # when
    again = await call(api_client, world, SIGN_UP, id=world.subscription_id)
    await call(api_client, world, SIGN_OUT, id=world.subscription_id)
    out_again = await call(api_client, world, SIGN_OUT, id=world.subscription_id)
    # then
    assert codes(again) == ["ALREADY_ON_EBILL"] and again["userErrors"][0]["field"] == ["input", "subscriptionId"]
    assert codes(out_again) == ["NOT_ON_EBILL"]
    assert again["subscription"] is None and again["event"] is None
    assert [e.type_code for e in await events(services, world, *EBILL_EVENTS)] == ["EBILLSIGNUP", "EBILLSIGNOUT"]


@pytest.mark.parametrize("fields,code,words", [
    ({"status": "STOPPED"}, "STOPPED", "stopped"),
    ({"autoPay": True}, "ON_AUTO_PAY", "auto-pay"),
])
async def test_ez_3_a_stopped_or_auto_pay_subscription_is_refused_saying_which(api_client, own_tenant, services,
                                                                               tokens, fields, code, words):
    world = await account_world(own_tenant, services, tokens, **fields)
    refused = await call(api_client, world, SIGN_UP, id=world.subscription_id)
    assert codes(refused) == [code] and words in refused["userErrors"][0]["message"]
    assert await events(services, world, *EBILL_EVENTS) == [] and world.record()["ebill"] is False


async def test_ebl_1_staff_sign_up_bills_the_owner(api_client, own_tenant, services, tokens):
    world = await account_world(own_tenant, services, tokens)
    up = await call(api_client, world, SIGN_UP, "staff", id=world.subscription_id)
    assert up["userErrors"] == [] and up["event"]["source"] == "STAFF"
    [event] = await events(services, world, "EBILLSIGNUP")
    assert (event.crid, event.details["email"]) == (world.owner.crid, "owner@example.com")
    assert world.record()["ebillEmail"] == "owner@example.com"


async def test_ebl_1_guest_and_another_customer_are_refused_and_staff_gets_not_found(api_client, own_tenant, services,
                                                                                     tokens):
    world = await account_world(own_tenant, services, tokens)
    guest = await call(api_client, world, SIGN_UP, "guest", id=world.subscription_id)
    stranger = await call(api_client, world, SIGN_OUT, "stranger", id=world.subscription_id)
    unknown = await call(api_client, world, SIGN_UP, "staff", id=f"{world.tenant.code}-NOPE")
    assert guest["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert stranger["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert codes(unknown) == ["NOT_FOUND"]
    assert await events(services, world, *EBILL_EVENTS) == [] and world.record()["ebill"] is False


async def test_ebl_1_a_circulation_outage_changes_nothing_and_records_nothing(api_client, own_tenant, services, tokens,
                                                                             sandboxes):
    world = await account_world(own_tenant, services, tokens)
    control = sandboxes["circulation"].state.control
    control.rules.append(FaultRule(method="POST", path="/ebill$", status=503))
    try:
        answer = await graphql(api_client, SIGN_UP, {"id": world.subscription_id}, **world.headers["owner"])
    finally:
        control.rules.clear()
    assert answer["data"]["signUpEBill"] is None and answer["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert await events(services, world, *EBILL_EVENTS) == [] and world.record()["ebill"] is False


# -- EBL-3 -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
async def test_ebl_3_auto_pay_sign_up_ends_ebill_in_the_same_change(api_client, own_tenant, sandboxes, tokens, kind):
    from tests.graphql.payments.support import SIGN_UP_AUTO_PAY, pay, paying
    # given: a subscription on eBill with a payment method
    setup = await paying(own_tenant, sandboxes, tokens, kind=kind, ebill=True)
    # when
    payload = await pay(api_client, setup, SIGN_UP_AUTO_PAY, total="0.00", term="1M", length=1,
                        paymentType="CREDIT_CARD")
    read = await graphql(api_client, READ, {"id": setup.subscription_id}, **setup.headers)
    # then
    assert payload["userErrors"] == [] and payload["subscription"]["autoPay"] is True
    assert read["data"]["subscription"] == {"ebill": False, "ebillAvailability": {"signUpAllowed": False,
                                                                                   "manageAllowed": False}}


# -- statements (EBL-4) ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
async def test_ebl_4_owner_lists_statements_newest_first_and_downloads_the_pdf(api_client, own_tenant, services,
                                                                               tokens, kind):
    # given
    world = await account_world(own_tenant, services, tokens, kind)
    # when
    answer = await call(api_client, world, STATEMENTS, id=world.subscription_id)
    statements = answer["billStatements"]
    pdf = await api_client.get(path_of(statements[0]["downloadUrl"]), headers=world.headers["owner"])
    # then
    assert [s["issueDate"] for s in statements] == ["2026-06-01", "2026-05-01", "2026-04-01", "2026-03-01",
                                                     "2026-02-01", "2026-01-01"]
    assert (statements[0]["periodStart"], statements[0]["periodEnd"]) == ("2026-06-01", "2026-06-30")
    assert statements[0]["amountDue"]["amount"] == "10.79"
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["cache-control"] == "private, no-store"
    assert_valid_pdf(pdf.content)
    assert statements[0]["id"].encode() in pdf.content


async def test_ebl_4_staff_download_and_everyone_else_gets_not_found(api_client, own_tenant, services, tokens):
    world = await account_world(own_tenant, services, tokens)
    [first, *_] = (await call(api_client, world, STATEMENTS, id=world.subscription_id))["billStatements"]
    path = path_of(first["downloadUrl"])
    answers = {who: await api_client.get(path, headers=world.headers[who])
               for who in ("staff", "reader", "guest", "stranger", "partner", "anonymous")}
    assert answers["staff"].status_code == answers["reader"].status_code == 200
    for who in ("guest", "stranger", "partner"):
        assert (answers[who].status_code, answers[who].json()["code"]) == (404, "NOT_FOUND"), who
    assert answers["anonymous"].status_code == 401


async def test_ebl_4_another_subscriptions_statement_is_not_found(api_client, own_tenant, services, tokens):
    # given: a statement of the other customer's subscription, asked for under the owner's own
    world = await account_world(own_tenant, services, tokens)
    theirs = (await call(api_client, world, STATEMENTS, "staff", id=world.other_subscription_id))["billStatements"][0]
    # when
    swapped = await api_client.get(f"/statements/{world.subscription_id}/{theirs['id']}", headers=world.headers["owner"])
    direct = await api_client.get(path_of(theirs["downloadUrl"]), headers=world.headers["owner"])
    listed = await graphql(api_client, STATEMENTS, {"id": world.other_subscription_id}, **world.headers["owner"])
    unknown = await api_client.get(f"/statements/{world.subscription_id}/ST-nope", headers=world.headers["owner"])
    # then
    assert (swapped.status_code, swapped.json()["code"]) == (404, "NOT_FOUND")
    assert (direct.status_code, direct.json()["code"]) == (404, "NOT_FOUND")
    assert listed["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (unknown.status_code, unknown.json()["code"]) == (404, "NOT_FOUND")


async def test_ebl_4_guest_cannot_list_statements(api_client, own_tenant, services, tokens):
    world = await account_world(own_tenant, services, tokens)
    answer = await graphql(api_client, STATEMENTS, {"id": world.subscription_id}, **world.headers["guest"])
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_ebl_4_a_circulation_outage_is_a_503_not_a_traceback(api_client, own_tenant, services, tokens, sandboxes):
    world = await account_world(own_tenant, services, tokens)
    [first, *_] = (await call(api_client, world, STATEMENTS, id=world.subscription_id))["billStatements"]
    control = sandboxes["circulation"].state.control
    control.rules.append(FaultRule(method="GET", path="/statements/", status=503))
    try:
        down = await api_client.get(path_of(first["downloadUrl"]), headers=world.headers["owner"])
    finally:
        control.rules.clear()
    assert (down.status_code, down.json()["code"]) == (503, "UPSTREAM_UNAVAILABLE")
