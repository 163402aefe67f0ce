"""purchaseSubscription through the public API (BUY-1..BUY-5, OFR-4, FEE-5, ENT-3, NOT-1)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import select

from datasources.models import Event, Payment, PaymentMethod, PaymentSession, Registration, SubscriptionLink, \
    TemporaryEntitlement, utcnow
from domain.purchases import luhn_check_digit
from telemetry.metrics import sample
from tests.conftest import graphql

PURCHASE = """
mutation ($input: PurchaseSubscriptionInput!) {
  purchaseSubscription(input: $input) {
    subscription { id accountNumber status name customerReferenceNumber productCode
                   subscriber { lastName email phones address { houseNumber streetName postalCode country } }
                   paymentMethod { type cardLast4 } }
    registration { crid email }
    charged { amount currency }
    customerReferenceNumber
    userErrors { code field message }
  }
}
"""


async def setup(own_tenant, sandboxes, kind: str = "NCS", settings: dict | None = None, **offer_fields):
    """An own tenant with a digital offer (entitlement EEDITION), a stopped template subscription to its
    product in the circulation emulator, and a NavigaPay card profile of the tenant."""
    tenant = await own_tenant(kind=kind, settings={"Flow.UserProvider": "MG2", **(settings or {})})
    await tenant.entitlement("EEDITION")
    offer = await tenant.offer(entitlements=["EEDITION"], **offer_fields)
    own_tenant.add_subscription(tenant, f"{tenant.code}-TEMPLATE", product=str(offer.id), status="STOPPED",
                                subscriber={"lastName": "Template", "email": "template@example.com"})
    return tenant, offer, await card_profile(sandboxes, tenant)


async def setup_unknown_product(own_tenant, sandboxes, settings: dict | None = None):
    """An own NCS tenant with an offer whose product its circulation system does not know (no template
    subscription: creating the subscription is refused), and a card profile."""
    tenant = await own_tenant(kind="NCS", settings=settings)
    return tenant, await tenant.offer(), await card_profile(sandboxes, tenant)


def staff_of(tenant) -> str:
    """The principal `staff_api_client` signs requests of `tenant` as (tests/conftest.py: staff_signing)."""
    return f"staff:auth0|staff-{tenant.code.lower()}"


async def card_profile(sandboxes, tenant, started_by: str | None = "staff") -> str:
    """A NavigaPay card profile of the tenant, tokenized in a completed payment session that `started_by`
    started (BUY-11; "staff": the staff console's; None: an anonymous start, which only a future new-start
    session will open)."""
    profile_id = f"prof_{uuid.uuid4().hex[:12]}"
    sandboxes["navigapay"].state.store.add_profile({
        "profileId": profile_id, "customerId": "cus_own", "merchant": tenant.code, "paymentType": "CREDIT_CARD",
        "brand": "VISA", "last4": "4242", "expiry": "12/30"})
    now = utcnow()
    await tenant.add(PaymentSession(
        tenant_id=tenant.id, session_id=f"ses_{uuid.uuid4().hex[:12]}", group_id="grp_own",
        subscription_id=f"{tenant.code}-TEMPLATE", payment_type="CREDIT_CARD", profile_id=profile_id,
        created_at=now, completed_at=now, started_by=staff_of(tenant) if started_by == "staff" else started_by))
    return profile_id


def purchase_input(offer, profile_id, **overrides) -> dict:
    subscriber = {"firstName": "Jane", "lastName": "Doe", "email": f"jane.{uuid.uuid4().hex[:8]}@example.com",
                  "phone": "+1 555 0100",
                  "address": {"houseNumber": "12", "streetName": "Elm Ave", "city": "Springfield",
                              "postalCode": "10001", "country": "US"}}
    subscriber.update(overrides.pop("subscriber", {}))
    return {"idempotencyKey": uuid.uuid4().hex, "offerId": str(offer.id), "term": "1M", "subscriber": subscriber,
            "paymentProfileId": profile_id, **overrides}


async def rows(services, tenant, model) -> list:
    async with services.db.session() as session:
        return list((await session.execute(select(model).where(model.tenant_id == tenant.id))).scalars())


async def nothing_left_behind(services, tenant) -> None:
    for model in (Registration, SubscriptionLink, PaymentMethod, TemporaryEntitlement, Event, Payment):
        assert await rows(services, tenant, model) == [], model.__name__


def sales(sandboxes, tenant) -> list[dict]:
    return [t for t in sandboxes["navigapay"].state.store.ledger(tenant.code)]


async def test_buy4_purchase_creates_everything_and_records_startstd(staff_api_client, own_tenant, sandboxes, services):
    # given
    tenant, offer, profile_id = await setup(own_tenant, sandboxes, activation_fee="2.50")
    data = purchase_input(offer, profile_id, subscriptionName="Kitchen copy")
    # when
    answer = await graphql(staff_api_client, PURCHASE, {"input": data}, **tenant.headers)
    # then
    payload = answer["data"]["purchaseSubscription"]
    assert payload["userErrors"] == []
    subscription = payload["subscription"]
    assert subscription["status"] == "ACTIVE" and subscription["name"] == "Kitchen copy"
    assert subscription["productCode"] == str(offer.id)
    assert subscription["subscriber"]["phones"] == ["+1 555 0100"]
    assert subscription["paymentMethod"] == {"type": "CREDIT_CARD", "cardLast4": "4242"}
    assert payload["charged"] == {"amount": "13.30", "currency": "USD"}  # 10.00 + 0.80 tax + 2.50 activation fee
    assert payload["registration"]["email"] == data["subscriber"]["email"]
    crid = payload["registration"]["crid"]
    [link] = await rows(services, tenant, SubscriptionLink)
    assert (link.subscription_id, link.role) == (subscription["id"], "OWNER")
    [entitlement] = await rows(services, tenant, TemporaryEntitlement)
    assert (entitlement.crid, entitlement.entitlement_code, entitlement.reason) == (crid, "EEDITION", "PURCHASE")
    events = {e.type_code: e for e in await rows(services, tenant, Event)}
    assert set(events) == {"CREATELOGIN", "STARTSTD", "UPDATELINK"}
    assert events["STARTSTD"].amount == Decimal("13.30") and events["STARTSTD"].subscription_id == subscription["id"]
    assert events["STARTSTD"].details["subscriptionName"] == "Kitchen copy"
    [payment] = await rows(services, tenant, Payment)
    assert (payment.flow, payment.total, payment.activation_fee) == ("PURCHASE", Decimal("13.30"), Decimal("2.50"))
    [sale] = sales(sandboxes, tenant)
    assert (sale["kind"], sale["status"], sale["amount"]) == ("SALE", "CAPTURED", Decimal("13.30"))


async def test_fee5_credit_card_processing_fee_is_charged(staff_api_client, own_tenant, sandboxes):
    tenant, offer, profile_id = await setup(own_tenant, sandboxes, settings={
        "Billing.CreditCard.ProcessingFee.Enable": "1", "Billing.CreditCard.ProcessingFee.Percentage": "3.5",
        "Billing.CreditCard.ProcessingFee.Tax.Enable": "1", "Billing.CreditCard.ProcessingFee.Tax.Percentage": "7"})
    answer = await graphql(staff_api_client, PURCHASE, {"input": purchase_input(offer, profile_id)}, **tenant.headers)
    # base 10.80; fee round(0.378) = 0.38; fee tax round(0.0266) = 0.03
    assert answer["data"]["purchaseSubscription"]["charged"]["amount"] == "11.21"


async def test_buy1_duplicate_purchase_is_rejected_and_nothing_is_created(staff_api_client, own_tenant, sandboxes, services):
    # given: a first purchase
    tenant, offer, profile_id = await setup(own_tenant, sandboxes)
    first = purchase_input(offer, profile_id)
    await graphql(staff_api_client, PURCHASE, {"input": first}, **tenant.headers)
    before = (len(await rows(services, tenant, Event)), len(sales(sandboxes, tenant)))
    # when: the same subscriber buys again (another attempt, another key), e-mail in other case
    again = {**first, "idempotencyKey": uuid.uuid4().hex,
             "subscriber": {**first["subscriber"], "email": first["subscriber"]["email"].upper()}}
    answer = await graphql(staff_api_client, PURCHASE, {"input": again}, **tenant.headers)
    # then
    errors = answer["data"]["purchaseSubscription"]["userErrors"]
    assert [e["code"] for e in errors] == ["ACTIVE_SUBSCRIPTION_EXISTS"]
    assert (len(await rows(services, tenant, Event)), len(sales(sandboxes, tenant))) == before


async def test_buy1_a_duplicate_behind_more_than_a_page_of_namesakes_is_found(staff_api_client, own_tenant, sandboxes,
                                                                             services):
    # given: 600 subscriptions of the same subscriber to other products, then one to the offer's product
    tenant, offer, profile_id = await setup(own_tenant, sandboxes)
    data = purchase_input(offer, profile_id)
    subscriber = {"lastName": data["subscriber"]["lastName"], "email": data["subscriber"]["email"]}
    for n in range(600):
        own_tenant.add_subscription(tenant, f"{tenant.code}-N{n:04d}", product="other", subscriber=subscriber,
                                    accountNumber=f"8{n:06d}")
    own_tenant.add_subscription(tenant, f"{tenant.code}-Z", product=str(offer.id), subscriber=subscriber)
    # when
    answer = await graphql(staff_api_client, PURCHASE, {"input": data}, **tenant.headers)
    # then
    errors = answer["data"]["purchaseSubscription"]["userErrors"]
    assert [e["code"] for e in errors] == ["ACTIVE_SUBSCRIPTION_EXISTS"]
    assert sales(sandboxes, tenant) == []
    await nothing_left_behind(services, tenant)


async def test_buy1_a_different_last_name_is_not_a_duplicate(staff_api_client, own_tenant, sandboxes):
    tenant, offer, profile_id = await setup(own_tenant, sandboxes)
    first = purchase_input(offer, profile_id)
    await graphql(staff_api_client, PURCHASE, {"input": first}, **tenant.headers)
    other = {**first, "idempotencyKey": uuid.uuid4().hex, "subscriber": {**first["subscriber"], "lastName": "Roe"}}
    answer = await graphql(staff_api_client, PURCHASE, {"input": other}, **tenant.headers)
    assert answer["data"]["purchaseSubscription"]["userErrors"] == []


async def test_ofr4_phone_criterion_is_skipped_for_a_subscription_without_phone(staff_api_client, own_tenant, sandboxes):
    # given: the offer checks last name and phone; existing subscriptions with that last name, one without phones
    tenant, offer, profile_id = await setup(own_tenant, sandboxes, check={"last_name": True, "phone": True})
    own_tenant.add_subscription(tenant, f"{tenant.code}-NOPHONE", product=str(offer.id),
                                subscriber={"lastName": "Doe", "phones": []})
    # when
    answer = await graphql(staff_api_client, PURCHASE, {"input": purchase_input(offer, profile_id)}, **tenant.headers)
    # then: phone skipped, so last name and product match
    assert [e["code"] for e in answer["data"]["purchaseSubscription"]["userErrors"]] == ["ACTIVE_SUBSCRIPTION_EXISTS"]


async def test_ofr4_another_phone_is_not_a_duplicate(staff_api_client, own_tenant, sandboxes):
    tenant, offer, profile_id = await setup(own_tenant, sandboxes, check={"last_name": True, "phone": True})
    own_tenant.add_subscription(tenant, f"{tenant.code}-PHONE", product=str(offer.id),
                                subscriber={"lastName": "Doe", "phones": ["+1 555 0199"]})
    answer = await graphql(staff_api_client, PURCHASE, {"input": purchase_input(offer, profile_id)}, **tenant.headers)
    assert answer["data"]["purchaseSubscription"]["userErrors"] == []


async def test_buy1_the_product_is_always_part_of_the_check(staff_api_client, own_tenant, sandboxes):
    tenant, offer, profile_id = await setup(own_tenant, sandboxes)
    own_tenant.add_subscription(tenant, f"{tenant.code}-OTHER", product="999999",
                                subscriber={"lastName": "Doe", "email": "jane@example.com"})
    data = purchase_input(offer, profile_id, subscriber={"email": "jane@example.com"})
    answer = await graphql(staff_api_client, PURCHASE, {"input": data}, **tenant.headers)
    assert answer["data"]["purchaseSubscription"]["userErrors"] == []


@pytest.mark.parametrize("check,message", [
    ({}, "Please select at least one search parameter"),
    ({"last_name": True}, "Please select one more search parameter"),
    ({"postal_code": True}, "Please select one more search parameter"),
    # BUY-8: without an address requirement the Address criterion is disabled, so Postal code is alone in force
    # (both stored together is refused where they are set: setOfferCheckCriteria)
    ({"address": True, "postal_code": True}, "Please select one more search parameter"),
])
async def test_ofr4_misconfigured_offer_cannot_be_bought(staff_api_client, own_tenant, sandboxes, services, check, message):
    tenant, offer, profile_id = await setup(own_tenant, sandboxes, check=check)
    answer = await graphql(staff_api_client, PURCHASE, {"input": purchase_input(offer, profile_id)}, **tenant.headers)
    errors = answer["data"]["purchaseSubscription"]["userErrors"]
    assert [(e["code"], e["message"]) for e in errors] == [("OFFER_CHECK_MISCONFIGURED", message)]
    await nothing_left_behind(services, tenant)


async def test_buy2_country_only_address_is_refused_outside_matrix(staff_api_client, own_tenant, sandboxes, services):
    tenant, offer, profile_id = await setup(own_tenant, sandboxes, kind="NCS")
    data = purchase_input(offer, profile_id, subscriber={"address": {"country": "NO"}})
    answer = await graphql(staff_api_client, PURCHASE, {"input": data}, **tenant.headers)
    errors = answer["data"]["purchaseSubscription"]["userErrors"]
    assert [(e["code"], e["message"]) for e in errors] == [
        ("INVALID_ADDRESS", "A country-only address is accepted for Matrix publications only")]
    await nothing_left_behind(services, tenant)


async def test_buy2_country_only_address_is_accepted_for_matrix(staff_api_client, own_tenant, sandboxes):
    tenant, offer, profile_id = await setup(own_tenant, sandboxes, kind="MATRIX", check={"last_name": True,
                                                                                         "email": True})
    data = purchase_input(offer, profile_id, subscriber={"address": {"country": "NO"}})
    answer = await graphql(staff_api_client, PURCHASE, {"input": data}, **tenant.headers)
    payload = answer["data"]["purchaseSubscription"]
    assert payload["userErrors"] == []
    assert payload["subscription"]["subscriber"]["address"] == {"houseNumber": "", "streetName": "Norway",
                                                                "postalCode": "", "country": "NO"}


async def test_buy2_an_address_that_is_not_country_only_needs_its_street_city_and_postal_code(staff_api_client, own_tenant,
                                                                                              sandboxes):
    tenant, offer, profile_id = await setup(own_tenant, sandboxes, kind="MATRIX")
    data = purchase_input(offer, profile_id, subscriber={"address": {"country": "NO", "city": "Oslo"}})
    answer = await graphql(staff_api_client, PURCHASE, {"input": data}, **tenant.headers)
    assert [e["field"] for e in answer["data"]["purchaseSubscription"]["userErrors"]] == [
        ["input", "subscriber", "address", "streetName"]]


async def test_buy3_generated_crn_is_account_number_plus_luhn_check_digit(staff_api_client, own_tenant, sandboxes, services):
    # given
    tenant, offer, profile_id = await setup(own_tenant, sandboxes, settings={"Purchase.GenerateCRN": "1"})
    # when
    answer = await graphql(staff_api_client, PURCHASE, {"input": purchase_input(offer, profile_id)}, **tenant.headers)
    # then
    payload = answer["data"]["purchaseSubscription"]
    account = payload["subscription"]["accountNumber"]
    expected = account + luhn_check_digit(account)
    assert payload["customerReferenceNumber"] == expected
    assert payload["subscription"]["customerReferenceNumber"] == expected
    [start] = [e for e in await rows(services, tenant, Event) if e.type_code == "STARTSTD"]
    assert start.details["miscCode1"] == expected


async def test_buy3_no_crn_without_the_setting(staff_api_client, own_tenant, sandboxes):
    tenant, offer, profile_id = await setup(own_tenant, sandboxes)
    answer = await graphql(staff_api_client, PURCHASE, {"input": purchase_input(offer, profile_id)}, **tenant.headers)
    payload = answer["data"]["purchaseSubscription"]
    assert payload["customerReferenceNumber"] is None and payload["subscription"]["customerReferenceNumber"] == ""


async def test_buy4_existing_registration_is_reused_and_buy5_phone_becomes_primary(staff_api_client, own_tenant, sandboxes,
                                                                                   services):
    # given: a first purchase with one phone, of a product with no email criterion
    tenant, offer, profile_id = await setup(own_tenant, sandboxes)
    second_offer = await tenant.offer(check={"last_name": True, "email": True})
    own_tenant.add_subscription(tenant, f"{tenant.code}-TEMPLATE2", product=str(second_offer.id), status="STOPPED")
    first = purchase_input(offer, profile_id, subscriber={"phone": "+1 555 0100"})
    first_answer = await graphql(staff_api_client, PURCHASE, {"input": first}, **tenant.headers)
    # when: the same subscriber buys the other offer with a new phone
    second = purchase_input(second_offer, profile_id, subscriber={**first["subscriber"], "phone": "+1 555 0200"})
    answer = await graphql(staff_api_client, PURCHASE, {"input": second}, **tenant.headers)
    # then
    payload = answer["data"]["purchaseSubscription"]
    assert payload["registration"]["crid"] == first_answer["data"]["purchaseSubscription"]["registration"]["crid"]
    assert payload["subscription"]["subscriber"]["phones"] == ["+1 555 0200", "+1 555 0100"]
    assert len(await rows(services, tenant, Registration)) == 1


async def test_idempotent_replay_buys_once_and_reused_key_with_other_input_is_refused(staff_api_client, own_tenant,
                                                                                       sandboxes):
    # given
    tenant, offer, profile_id = await setup(own_tenant, sandboxes)
    data = purchase_input(offer, profile_id)
    first = await graphql(staff_api_client, PURCHASE, {"input": data}, **tenant.headers)
    replays_before = sample("papergraph_idempotent_replays_total", operation="purchaseSubscription")
    # when
    replay = await graphql(staff_api_client, PURCHASE, {"input": data}, **tenant.headers)
    other = await graphql(staff_api_client, PURCHASE, {"input": {**data, "subscriptionName": "Other"}}, **tenant.headers)
    # then
    assert replay["data"]["purchaseSubscription"]["subscription"]["id"] == \
        first["data"]["purchaseSubscription"]["subscription"]["id"]
    assert replay["data"]["purchaseSubscription"]["userErrors"] == []
    assert [e["code"] for e in other["data"]["purchaseSubscription"]["userErrors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    assert len(sales(sandboxes, tenant)) == 1
    assert sample("papergraph_idempotent_replays_total", operation="purchaseSubscription") == replays_before + 1


async def test_declined_payment_leaves_nothing_behind(staff_api_client, own_tenant, sandboxes, services):
    # given
    tenant, offer, profile_id = await setup(own_tenant, sandboxes)
    sandboxes["navigapay"].state.store.profiles[profile_id]["_outcome"] = ("CARD_DECLINED", "The card was declined.")
    circulation_before = len(sandboxes["circulation"].state.store.papers[tenant.code].subscriptions)
    # when
    answer = await graphql(staff_api_client, PURCHASE, {"input": purchase_input(offer, profile_id)}, **tenant.headers)
    # then
    assert [e["code"] for e in answer["data"]["purchaseSubscription"]["userErrors"]] == ["PAYMENT_DECLINED"]
    await nothing_left_behind(services, tenant)
    assert len(sandboxes["circulation"].state.store.papers[tenant.code].subscriptions) == circulation_before


async def test_circulation_refusal_voids_the_sale_and_deletes_the_auth0_user(staff_api_client, own_tenant, sandboxes,
                                                                              services):
    # given: an Auth0 tenant whose circulation system does not know the product
    tenant, offer, profile_id = await setup_unknown_product(own_tenant, sandboxes)
    data = purchase_input(offer, profile_id)
    # when
    answer = await graphql(staff_api_client, PURCHASE, {"input": data}, **tenant.headers)
    # then
    assert [e["code"] for e in answer["data"]["purchaseSubscription"]["userErrors"]] == ["CIRCULATION_REFUSED"]
    [sale] = sales(sandboxes, tenant)
    assert sale["status"] == "VOIDED"
    assert await services.auth0.users_by_email(data["subscriber"]["email"]) == []
    await nothing_left_behind(services, tenant)


async def test_database_failure_after_the_circulation_create_cancels_it(staff_api_client, own_tenant, sandboxes, services,
                                                                        monkeypatch):
    # given
    from datasources.repositories.purchases import PurchaseRepository

    tenant, offer, profile_id = await setup(own_tenant, sandboxes)

    async def broken_write(self, record):
        raise RuntimeError("database went away")

    monkeypatch.setattr(PurchaseRepository, "write", broken_write)
    # when
    answer = await graphql(staff_api_client, PURCHASE, {"input": purchase_input(offer, profile_id)}, **tenant.headers)
    # then
    assert answer["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    created = [s for s in sandboxes["circulation"].state.store.papers[tenant.code].subscriptions.values()
               if s["id"] != f"{tenant.code}-TEMPLATE"]
    assert [s["status"] for s in created] == ["STOPPED"]
    [sale] = sales(sandboxes, tenant)
    assert sale["status"] == "VOIDED"
    await nothing_left_behind(services, tenant)


@pytest.mark.parametrize("overrides,code,field", [
    ({"offerId": "0"}, "OFFER_NOT_FOUND", ["input", "offerId"]),
    ({"term": "99Y"}, "TERM_NOT_FOUND", ["input", "term"]),
    ({"paymentProfileId": "prof_unknown"}, "PAYMENT_METHOD_NOT_FOUND", ["input", "paymentProfileId"]),
    ({"subscriptionName": "n" * 101}, "INVALID", ["input", "subscriptionName"]),
    ({"subscriber": {"email": "jane\u200b@example.com"}}, "INVALID_EMAIL", ["input", "subscriber", "email"]),
    ({"password": "weak"}, "PASSWORD_TOO_WEAK", ["input", "password"]),
    ({"idempotencyKey": "  "}, "INVALID", ["input", "idempotencyKey"]),
])
async def test_invalid_purchases_are_refused_with_nothing_left_behind(staff_api_client, own_tenant, sandboxes, services,
                                                                     overrides, code, field):
    tenant, offer, profile_id = await setup(own_tenant, sandboxes)
    data = purchase_input(offer, profile_id, **overrides)
    answer = await graphql(staff_api_client, PURCHASE, {"input": data}, **tenant.headers)
    errors = answer["data"]["purchaseSubscription"]["userErrors"]
    assert [(e["code"], e["field"]) for e in errors] == [(code, field)]
    await nothing_left_behind(services, tenant)
    assert sales(sandboxes, tenant) == []


async def test_subscription_name_of_100_characters_is_accepted(staff_api_client, own_tenant, sandboxes):
    tenant, offer, profile_id = await setup(own_tenant, sandboxes)
    answer = await graphql(staff_api_client, PURCHASE, {"input": purchase_input(offer, profile_id,
                                                                          subscriptionName="n" * 100)},
                           **tenant.headers)
    assert answer["data"]["purchaseSubscription"]["subscription"]["name"] == "n" * 100


# -- USR-4, USR-5 where the e-mail and password of a purchase enter --------------------------------------
@pytest.mark.parametrize("email", ["jane\u00a0doe@example.com", "jane\u00addoe@example.com", "\ufeffjane@example.com",
                                   "jane@exam\u2060ple.com", "jane@exa\rmple.com", "   "],
                         ids=["nbsp", "soft-hyphen", "bom", "word-joiner", "control", "blank"])
async def test_usr4_subscriber_email_with_invisible_characters_is_refused_before_anything(
        staff_api_client, own_tenant, sandboxes, services, email):
    tenant, offer, profile_id = await setup(own_tenant, sandboxes)

    answer = await graphql(staff_api_client, PURCHASE, {"input": purchase_input(offer, profile_id,
                                                                          subscriber={"email": email})}, **tenant.headers)

    errors = answer["data"]["purchaseSubscription"]["userErrors"]
    assert [(e["code"], e["field"]) for e in errors] == [("INVALID_EMAIL", ["input", "subscriber", "email"])]
    await nothing_left_behind(services, tenant)
    assert sales(sandboxes, tenant) == []


async def test_usr4_subscriber_email_is_trimmed(staff_api_client, own_tenant, sandboxes):
    tenant, offer, profile_id = await setup(own_tenant, sandboxes)
    email = f"jane.{uuid.uuid4().hex[:8]}@example.com"

    answer = await graphql(staff_api_client, PURCHASE, {"input": purchase_input(
        offer, profile_id, subscriber={"email": f" \t{email} "})}, **tenant.headers)

    payload = answer["data"]["purchaseSubscription"]
    assert payload["registration"]["email"] == email and payload["subscription"]["subscriber"]["email"] == email


@pytest.mark.parametrize("password, accepted", [
    ("Abcdef1!", True), ("Abcde1!", False), ("Abcdefg!", False), ("Abcdefg1", False)],
    ids=["8-characters", "7-characters", "no-digit", "no-special"])
async def test_usr5_password_of_a_new_registration(staff_api_client, own_tenant, sandboxes, services, password,
                                                   accepted):
    tenant, offer, profile_id = await setup(own_tenant, sandboxes)

    answer = await graphql(staff_api_client, PURCHASE, {"input": purchase_input(offer, profile_id, password=password)},
                           **tenant.headers)

    errors = answer["data"]["purchaseSubscription"]["userErrors"]
    assert [(e["code"], e["field"]) for e in errors] == ([] if accepted else [("PASSWORD_TOO_WEAK", ["input", "password"])])
    if not accepted:
        await nothing_left_behind(services, tenant)
        assert sales(sandboxes, tenant) == []


async def test_usr5_a_weak_password_is_refused_even_when_the_registration_exists(staff_api_client, own_tenant,
                                                                                 sandboxes, services):
    # given: the subscriber's registration exists (it will be reused, BUY-4)
    tenant, offer, profile_id = await setup(own_tenant, sandboxes)
    second_offer = await tenant.offer(check={"last_name": True, "email": True})
    own_tenant.add_subscription(tenant, f"{tenant.code}-TEMPLATE2", product=str(second_offer.id), status="STOPPED")
    first = purchase_input(offer, profile_id)
    await graphql(staff_api_client, PURCHASE, {"input": first}, **tenant.headers)
    # when: the next purchase comes with a password that breaks the policy
    answer = await graphql(staff_api_client, PURCHASE, {"input": purchase_input(
        second_offer, profile_id, subscriber=first["subscriber"], password="weak")}, **tenant.headers)
    # then: refused like everywhere a password enters, and nothing was bought
    errors = answer["data"]["purchaseSubscription"]["userErrors"]
    assert [(e["code"], e["field"]) for e in errors] == [("PASSWORD_TOO_WEAK", ["input", "password"])]
    assert len(sales(sandboxes, tenant)) == 1


@pytest.mark.parametrize("first_phone, second_phone, phones", [
    (None, "+1 555 0200", ["+1 555 0200"]),  # no phones yet: the given one becomes the primary
    ("+1 555 0100", "+1 (555) 0100", ["+1 555 0100"]),  # already one of them (by digits): nothing changes
    ("+1 555 0100", None, ["+1 555 0100"]),  # none given: nothing changes
], ids=["no-phones-yet", "same-phone", "none-given"])
async def test_buy5_phones_of_an_existing_subscriber(staff_api_client, own_tenant, sandboxes, first_phone, second_phone,
                                                     phones):
    # given: a first purchase, and a second offer of another product
    tenant, offer, profile_id = await setup(own_tenant, sandboxes)
    second_offer = await tenant.offer(check={"last_name": True, "email": True})
    own_tenant.add_subscription(tenant, f"{tenant.code}-TEMPLATE2", product=str(second_offer.id), status="STOPPED")
    first = purchase_input(offer, profile_id, subscriber={"phone": first_phone})
    await graphql(staff_api_client, PURCHASE, {"input": first}, **tenant.headers)
    # when
    second = purchase_input(second_offer, profile_id, subscriber={**first["subscriber"], "phone": second_phone})
    answer = await graphql(staff_api_client, PURCHASE, {"input": second}, **tenant.headers)
    # then
    assert answer["data"]["purchaseSubscription"]["subscription"]["subscriber"]["phones"] == phones


async def test_buy4_a_refused_purchase_is_the_keys_answer_and_a_new_key_buys_with_its_own_sale(
        staff_api_client, own_tenant, sandboxes):
    # given: a first attempt the circulation system refused (the product is unknown), its sale voided
    tenant, offer, profile_id = await setup_unknown_product(own_tenant, sandboxes, {"Flow.UserProvider": "MG2"})
    data = purchase_input(offer, profile_id)
    first = await graphql(staff_api_client, PURCHASE, {"input": data}, **tenant.headers)
    assert [e["code"] for e in first["data"]["purchaseSubscription"]["userErrors"]] == ["CIRCULATION_REFUSED"]
    own_tenant.add_subscription(tenant, f"{tenant.code}-TEMPLATE", product=str(offer.id), status="STOPPED")

    # when: the client sends the same key and input again, then tries again with a new key
    replay = await graphql(staff_api_client, PURCHASE, {"input": data}, **tenant.headers)
    sales_after_replay = sorted(s["status"] for s in sales(sandboxes, tenant))
    retry = await graphql(staff_api_client, PURCHASE, {"input": {**data, "idempotencyKey": uuid.uuid4().hex}},
                          **tenant.headers)

    # then: the key answers its first answer and buys nothing; the new attempt is charged by a sale of its own
    # that stands (not NavigaPay replaying the first, voided one)
    assert replay["data"]["purchaseSubscription"] == first["data"]["purchaseSubscription"]
    assert sales_after_replay == ["VOIDED"]
    assert retry["data"]["purchaseSubscription"]["userErrors"] == []
    assert retry["data"]["purchaseSubscription"]["charged"]["amount"] == "10.80"
    assert sorted(s["status"] for s in sales(sandboxes, tenant)) == ["CAPTURED", "VOIDED"]


async def test_pay4_reconcile_gives_back_the_sale_of_a_purchase_that_died_before_its_database_write(
        own_tenant, sandboxes, services):
    # given: a purchase whose process was killed after its sale: its key in progress, no payment row
    from datetime import timedelta

    from datasources.repositories.idempotency import IdempotencyRepository
    from domain.purchases import upstream_keys
    from resolvers.reconciliation import reconcile

    tenant, offer, profile_id = await setup(own_tenant, sandboxes)
    claim = await IdempotencyRepository(services.db).claim(tenant.id, "died-mid-purchase", "purchaseSubscription",
                                                           "hash")
    keys = upstream_keys(tenant.code, "died-mid-purchase", claim.record_id)
    sale = await services.navigapay.sale(profile_id, Decimal("10.80"), "USD", "Own Test Paper", keys["reference"],
                                         idempotency_key=keys["sale"], merchant=tenant.code)

    # when
    report = await reconcile(services, stale_after=timedelta(0))

    # then: the money is given back, and the key is free for the client's retry
    assert sandboxes["navigapay"].state.store.transaction(sale["transactionId"])["status"] == "VOIDED"
    assert report.keys_released == 1 and report.failed == 0
    again = await IdempotencyRepository(services.db).claim(tenant.id, "died-mid-purchase", "purchaseSubscription",
                                                           "hash")
    assert again.outcome.name == "NEW"
