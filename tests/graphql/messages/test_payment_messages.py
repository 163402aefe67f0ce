"""Receipts and purchase confirmations (MSG-3, BUY-4): read from the mail emulator, with the fee lines that
were charged."""

from __future__ import annotations

from tests.conftest import graphql
from tests.graphql.messages.support import FRONT_END, Inbox, with_templates
from tests.graphql.own_tenant import own_registration  # noqa: F401
from tests.graphql.payments.support import FEES_ON, pay, paying
from tests.graphql.purchases.test_purchase_subscription import PURCHASE, purchase_input, setup

from datasources.models import Registration
from sqlmodel import select


async def email_of(services, tenant, crid: str) -> str:
    async with services.db.session() as session:
        return (await session.execute(select(Registration.email).where(
            Registration.tenant_id == tenant.id, Registration.crid == crid))).scalar_one()


async def test_msg3_card_payment_receipt_shows_the_processing_fee_and_its_tax(app, api_client, own_tenant, sandboxes,
                                                                             services, tokens):
    # given: fees on (3.5 %, tax 7 %), a VISA attached
    setup_ = await paying(own_tenant, sandboxes, tokens, settings=FEES_ON)
    await with_templates(setup_.tenant)
    inbox = Inbox(app)
    # when: 10.79 + 2.00 tip → fee 0.45, fee tax 0.03
    payload = await pay(api_client, setup_, optionTerm="1M", optionAmount="10.79", tip="2.00",
                        paymentType="CREDIT_CARD", total="13.27")
    # then
    assert payload["userErrors"] == []
    [receipt] = await inbox.wait_for(await email_of(services, setup_.tenant, setup_.crid))
    assert receipt["Subject"] == f"Own Test Paper receipt for subscription {setup_.subscription_id}"
    for line in ("Subscription: 10.79 USD", "Tip: 2.00 USD", "Credit-card processing fee: 0.45 USD",
                 "Processing fee tax: 0.03 USD", "Total: 13.27 USD"):
        assert line in receipt["Text"]
    assert "<td>Credit-card processing fee</td><td>0.45 USD</td>" in receipt["HTML"]
    assert f"{FRONT_END}/account?subscription={setup_.subscription_id}" in receipt["Text"]


async def test_msg3_no_fee_line_when_no_fee_was_charged(app, api_client, own_tenant, sandboxes, services, tokens):
    # given: fees off
    setup_ = await paying(own_tenant, sandboxes, tokens)
    await with_templates(setup_.tenant)
    inbox = Inbox(app)
    # when
    payload = await pay(api_client, setup_, optionTerm="1M", optionAmount="10.79", paymentType="CREDIT_CARD",
                        total="10.79")
    # then
    assert payload["userErrors"] == []
    [receipt] = await inbox.wait_for(await email_of(services, setup_.tenant, setup_.crid))
    assert "processing fee" not in receipt["Text"].lower() and "Total: 10.79 USD" in receipt["Text"]


async def test_buy4_msg3_purchase_confirmation_lists_the_charge_with_its_fee_lines(app, staff_api_client, own_tenant,
                                                                                  sandboxes):
    # given
    tenant, offer, profile_id = await setup(own_tenant, sandboxes, settings=FEES_ON, activation_fee="2.50")
    await with_templates(tenant)
    data = purchase_input(offer, profile_id)
    inbox = Inbox(app)
    # when
    answer = await graphql(staff_api_client, PURCHASE, {"input": data}, **tenant.headers)
    # then
    payload = answer["data"]["purchaseSubscription"]
    assert payload["userErrors"] == []
    subscription_id = payload["subscription"]["id"]
    messages = await inbox.wait_for(data["subscriber"]["email"], 2)  # the welcome (CREATELOGIN) and this
    [confirmation] = [m for m in messages if m["Subject"].startswith("Welcome to Own Test Paper")]
    assert subscription_id in confirmation["Subject"]
    assert "Activation fee: 2.50 USD" in confirmation["Text"]
    assert "Credit-card processing fee:" in confirmation["Text"]
    assert f"Total: {payload['charged']['amount']} USD" in confirmation["Text"]


async def test_buy10_buy4_msg1_an_anonymous_purchase_sends_the_claim_to_a_known_email_and_the_confirmation_to_a_new_one(
        app, api_client, own_tenant, sandboxes):
    # given: a registered e-mail and a new one, two anonymous buyers, each with a card of their own session
    from tests.graphql.own_tenant import own_registration
    from tests.graphql.purchases.test_stranger_purchase import card_typed_in, new_start_session

    tenant, offer, _ = await setup(own_tenant, sandboxes)
    await with_templates(tenant)
    known = await own_registration(tenant, email=f"known.{tenant.code.lower()}@example.com")
    new = f"new.{tenant.code.lower()}@example.com"
    inbox = Inbox(app)
    answers = []
    for email in (known.email, new):
        posted = await card_typed_in(api_client, await new_start_session(api_client, tenant, offer))
        data = purchase_input(offer, None, paymentSession=posted, subscriber={"email": email})
        del data["paymentProfileId"]
        # when
        answers.append((await graphql(api_client, PURCHASE, {"input": data}, x_tenant=tenant.code))["data"])
    # then: the known e-mail's owner is asked to claim its subscription (BUY-10), with a link that is not the
    # subscription id; the new e-mail gets the confirmation and the verification message (BUY-4, USR-3)
    for answer in answers:
        assert answer["purchaseSubscription"]["userErrors"] == [] and answer["purchaseSubscription"]["registration"] is None
    known_id, new_id = (answer["purchaseSubscription"]["subscription"]["id"] for answer in answers)
    [claim] = await inbox.wait_for(known.email)
    assert claim["Subject"] == "A Own Test Paper subscription bought with your e-mail"
    assert f"{FRONT_END}/sign-in?claim=" in claim["Text"] and known_id not in claim["Text"]
    subjects = sorted(m["Subject"] for m in await inbox.wait_for(new, 2))
    assert subjects == ["Verify your e-mail for Own Test Paper", f"Welcome to Own Test Paper: your subscription {new_id}"]


async def test_msg3_restart_receipt_lists_the_option_and_the_card_fee(app, api_client, own_tenant, sandboxes, services,
                                                                     tokens):
    # given: a stopped subscription, fees on, a VISA attached
    from tests.graphql.payments.support import RESTART

    setup_ = await paying(own_tenant, sandboxes, tokens, status="STOPPED", settings=FEES_ON)
    await with_templates(setup_.tenant)
    inbox = Inbox(app)
    # when: 10.79 → fee 0.38, fee tax 0.03
    payload = await pay(api_client, setup_, RESTART, paymentType="CREDIT_CARD", total="11.20", optionTerm="1M",
                        optionAmount="10.79")
    # then
    assert payload["userErrors"] == []
    [receipt] = await inbox.wait_for(await email_of(services, setup_.tenant, setup_.crid))
    assert receipt["Subject"] == f"Own Test Paper: subscription {setup_.subscription_id} restarted"
    for line in ("Subscription: 10.79 USD", "Credit-card processing fee: 0.38 USD", "Processing fee tax: 0.03 USD",
                 "Total: 11.20 USD"):
        assert line in receipt["Text"]
