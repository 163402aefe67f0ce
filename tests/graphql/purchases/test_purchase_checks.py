"""purchaseSubscription's active-subscription check through the public API: the offer's validation flags gate it
(BUY-6), a match refuses naming each flag it trips (BUY-7: existing, stopped within 30 days tenant time, debt), the
address requirements decide whether Address or Postal code is compared (BUY-8), and `RestrictCreateUser` (SET-4)
with BUY-10's identical answers."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from datasources.models import Registration, SubscriptionLink
from tests.conftest import bearer, graphql
from tests.graphql.own_tenant import own_registration
from tests.graphql.purchases.test_purchase_subscription import PURCHASE, card_profile, nothing_left_behind, \
    purchase_input, rows, sales, setup

NEW_YORK = ZoneInfo("America/New_York")
ALL_FLAGS = {"no_existing": True, "stopped_recently": True, "outstanding_balance": True}
# 23:30 on 10 August in New York is already 11 August in UTC: "today" must be the tenant's
LATE_EVENING = datetime(2026, 8, 10, 23, 30, tzinfo=NEW_YORK)
TENANT_TODAY = date(2026, 8, 10)
CANCEL = """
mutation ($id: ID!) {
  cancelSubscription(input: {subscriptionId: $id, reason: "MOVING"}) { subscription { status } userErrors { code } }
}
"""


@pytest.fixture
def clock(services):
    """Pins the app's clock (`Services.clock`: papergraph's "now" for calendar rules) and puts it back."""
    original = services.clock

    def pin(instant: datetime) -> None:
        services.clock = lambda: instant

    yield pin
    services.clock = original


async def buying(own_tenant, sandboxes, **offer_fields):
    """A tenant, its offer (`offer_fields`: validation flags, criteria, address requirements) and a purchase input
    whose subscriber is Jane Doe at 12 Elm Ave, 10001."""
    tenant, offer, profile_id = await setup(own_tenant, sandboxes, **offer_fields)
    return tenant, offer, purchase_input(offer, profile_id)


def existing(own_tenant, tenant, offer, data, *, status="ACTIVE", product=None, subscriber=None, **fields) -> dict:
    """A subscription of the circulation system matching the purchase's subscriber (last name and e-mail)."""
    return own_tenant.add_subscription(
        tenant, f"{tenant.code}-E{uuid.uuid4().hex[:6]}", product=product or str(offer.id), status=status,
        subscriber={"lastName": data["subscriber"]["lastName"], "email": data["subscriber"]["email"],
                    **(subscriber or {})}, **fields)


async def buy(client, tenant, data, **headers) -> dict:
    answer = await graphql(client, PURCHASE, {"input": data}, **{**tenant.headers, **headers})
    return answer["data"]["purchaseSubscription"]


def codes(payload: dict) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


# -- BUY-6 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("check", [{"last_name": True, "email": True}, {}], ids=["criteria", "no-criteria"])
async def test_buy6_no_validation_flag_no_check(staff_api_client, own_tenant, sandboxes, check):
    # given: an offer without flags (its criteria, even invalid ones, do not matter) and an active match that owes
    tenant, offer, data = await buying(own_tenant, sandboxes, validation={}, check=check)
    existing(own_tenant, tenant, offer, data, balance="-40.00")
    # when
    payload = await buy(staff_api_client, tenant, data)
    # then
    assert payload["userErrors"] == [] and payload["subscription"]["status"] == "ACTIVE"


async def test_buy6_the_offer_says_whether_its_check_runs(staff_api_client, own_tenant, sandboxes):
    tenant, offer, _ = await buying(own_tenant, sandboxes, validation={"outstanding_balance": True},
                                    requires={"billing": True})
    answer = await graphql(staff_api_client, """query ($id: ID!) { offer(id: $id) { activeSubscriptionCheck {
        runs noExistingSubscription subscriptionStoppedRecently noOutstandingBalance requiresDeliveryAddress
        requiresBillingAddress } } }""", {"id": str(offer.id)}, **tenant.headers)
    assert answer["data"]["offer"]["activeSubscriptionCheck"] == {
        "runs": True, "noExistingSubscription": False, "subscriptionStoppedRecently": False,
        "noOutstandingBalance": True, "requiresDeliveryAddress": False, "requiresBillingAddress": True}


# -- BUY-7: no existing subscription ------------------------------------------------------------------
@pytest.mark.parametrize("status", ["ACTIVE", "PAUSED", "IN_GRACE"])
async def test_buy7_no_existing_subscription_refuses_an_active_paused_or_in_grace_match(
        staff_api_client, own_tenant, sandboxes, services, status):
    # given
    tenant, offer, data = await buying(own_tenant, sandboxes, validation={"no_existing": True})
    existing(own_tenant, tenant, offer, data, status=status)
    # when
    payload = await buy(staff_api_client, tenant, data)
    # then: refused naming the flag, nothing charged or written
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("ACTIVE_SUBSCRIPTION_EXISTS", ["input", "subscriber"])]
    assert sales(sandboxes, tenant) == []
    await nothing_left_behind(services, tenant)


@pytest.mark.parametrize("status", ["STOPPED", "PERMANENTLY_STOPPED"])
async def test_buy7_no_existing_subscription_lets_a_stopped_match_buy(staff_api_client, own_tenant, sandboxes, status):
    tenant, offer, data = await buying(own_tenant, sandboxes, validation={"no_existing": True})
    existing(own_tenant, tenant, offer, data, status=status, stopDate=date.today().isoformat(), balance="-5.00")

    payload = await buy(staff_api_client, tenant, data)

    assert payload["userErrors"] == []


# -- BUY-7: stopped recently -------------------------------------------------------------------------
@pytest.mark.parametrize("days_ago, status, refused", [
    (0, "STOPPED", True),
    (30, "STOPPED", True),                 # day 30: still recent
    (31, "STOPPED", False),                # day 31: no longer
    (30, "PERMANENTLY_STOPPED", True),
    (31, "PERMANENTLY_STOPPED", False),
], ids=["today", "day-30", "day-31", "permanent-day-30", "permanent-day-31"])
async def test_buy7_stopped_recently_means_within_30_days_tenant_time(staff_api_client, own_tenant, sandboxes, clock,
                                                                      days_ago, status, refused):
    # given: 23:30 in New York (already tomorrow in UTC), a match stopped `days_ago` tenant days before
    clock(LATE_EVENING)
    tenant, offer, data = await buying(own_tenant, sandboxes, validation={"stopped_recently": True})
    existing(own_tenant, tenant, offer, data, status=status,
             stopDate=(TENANT_TODAY - timedelta(days=days_ago)).isoformat())
    # when
    payload = await buy(staff_api_client, tenant, data)
    # then
    assert codes(payload) == (["SUBSCRIPTION_STOPPED_RECENTLY"] if refused else [])
    assert len(sales(sandboxes, tenant)) == (0 if refused else 1)


async def test_buy7_day_30_ends_at_the_tenants_midnight(staff_api_client, own_tenant, sandboxes, clock):
    # given: a match stopped 30 tenant days before 10 August; the clock at 00:00 of 11 August in New York
    clock(datetime(2026, 8, 11, 0, 0, tzinfo=NEW_YORK))
    tenant, offer, data = await buying(own_tenant, sandboxes, validation={"stopped_recently": True})
    existing(own_tenant, tenant, offer, data, status="STOPPED", stopDate=(TENANT_TODAY - timedelta(days=30)).isoformat())
    # when / then: now it is day 31
    assert codes(await buy(staff_api_client, tenant, data)) == []


async def test_buy7_stopped_recently_without_a_stop_date_reads_the_end_date(staff_api_client, own_tenant, sandboxes,
                                                                            clock):
    clock(LATE_EVENING)
    tenant, offer, data = await buying(own_tenant, sandboxes, validation={"stopped_recently": True})
    existing(own_tenant, tenant, offer, data, status="STOPPED", endDate=(TENANT_TODAY - timedelta(days=10)).isoformat())

    assert codes(await buy(staff_api_client, tenant, data)) == ["SUBSCRIPTION_STOPPED_RECENTLY"]


async def test_buy7_stopped_recently_does_not_refuse_a_running_match(staff_api_client, own_tenant, sandboxes):
    tenant, offer, data = await buying(own_tenant, sandboxes, validation={"stopped_recently": True})
    existing(own_tenant, tenant, offer, data, status="ACTIVE")

    assert codes(await buy(staff_api_client, tenant, data)) == []


async def test_buy7_a_subscription_cancelled_through_the_api_stopped_recently(staff_api_client, own_tenant, sandboxes):
    # given: the subscriber's subscription, cancelled through papergraph (the emulator keeps its stop date)
    tenant, offer, data = await buying(own_tenant, sandboxes, validation={"stopped_recently": True})
    record = existing(own_tenant, tenant, offer, data, status="ACTIVE")
    cancelled = await graphql(staff_api_client, CANCEL, {"id": record["id"]}, **tenant.headers)
    assert cancelled["data"]["cancelSubscription"]["userErrors"] == []
    # when
    payload = await buy(staff_api_client, tenant, data)
    # then
    assert codes(payload) == ["SUBSCRIPTION_STOPPED_RECENTLY"]


# -- BUY-7: outstanding balance ----------------------------------------------------------------------
@pytest.mark.parametrize("status, balance, refused", [
    ("ACTIVE", "-0.01", True),
    ("PERMANENTLY_STOPPED", "-20.00", True),  # any status
    ("ACTIVE", "0.00", False),
    ("STOPPED", "25.00", False),               # a credit never blocks
], ids=["active-debt", "stopped-debt", "zero", "credit"])
async def test_buy7_outstanding_balance_is_a_balance_below_zero_in_any_status(
        staff_api_client, own_tenant, sandboxes, status, balance, refused):
    tenant, offer, data = await buying(own_tenant, sandboxes, validation={"outstanding_balance": True})
    existing(own_tenant, tenant, offer, data, status=status, balance=balance, stopDate="2020-01-01")

    payload = await buy(staff_api_client, tenant, data)

    assert codes(payload) == (["OUTSTANDING_BALANCE"] if refused else [])


async def test_buy7_a_credit_never_blocks_even_with_every_flag(staff_api_client, own_tenant, sandboxes, clock):
    # given: a match stopped long ago with a credit
    clock(LATE_EVENING)
    tenant, offer, data = await buying(own_tenant, sandboxes, validation=ALL_FLAGS)
    existing(own_tenant, tenant, offer, data, status="STOPPED", balance="50.00", stopDate="2026-01-02")
    # when / then
    assert codes(await buy(staff_api_client, tenant, data)) == []


async def test_buy7_the_refusal_names_every_flag_a_match_trips(staff_api_client, own_tenant, sandboxes, services):
    # given: every flag; one active match that owes, and another that stopped recently
    tenant, offer, data = await buying(own_tenant, sandboxes, validation=ALL_FLAGS)
    existing(own_tenant, tenant, offer, data, status="ACTIVE", balance="-5.00")
    # when
    payload = await buy(staff_api_client, tenant, data)
    # then: both flags, in the offer's order, and nothing bought
    assert codes(payload) == ["ACTIVE_SUBSCRIPTION_EXISTS", "OUTSTANDING_BALANCE"]
    assert "outstanding balance" in payload["userErrors"][1]["message"]
    assert "-5.00" not in json.dumps(payload)  # the match's own data is not told
    assert sales(sandboxes, tenant) == []
    await nothing_left_behind(services, tenant)
    # and a retry with the same key answers the same refusal, both flags (the key's first answer)
    assert await buy(staff_api_client, tenant, data) == payload


@pytest.mark.parametrize("other", [{"subscriber": {"lastName": "Roe"}}, {"product": "another-product"}],
                         ids=["another-last-name", "another-product"])
async def test_buy7_only_a_match_of_the_check_criteria_and_product_counts(staff_api_client, own_tenant, sandboxes,
                                                                          other):
    tenant, offer, data = await buying(own_tenant, sandboxes, validation=ALL_FLAGS)
    existing(own_tenant, tenant, offer, data, status="ACTIVE", balance="-5.00", **other)

    assert codes(await buy(staff_api_client, tenant, data)) == []


# -- BUY-8 ------------------------------------------------------------------------------------------
ELSEWHERE_SAME_ZIP = {"houseNumber": "99", "streetName": "Oak Rd", "city": "Springfield", "postalCode": "10001",
                      "country": "US"}
SAME_ADDRESS = {"houseNumber": "12", "streetName": "elm ave", "city": "Springfield", "postalCode": "10001",
                "country": "US"}


@pytest.mark.parametrize("requires", ["delivery", "billing"])
async def test_buy8_an_offer_requiring_an_address_compares_the_address_not_the_postal_code(
        staff_api_client, own_tenant, sandboxes, requires):
    # given: both Address and Postal code stored; the requirement enables Address, so Postal code counts as off
    tenant, offer, data = await buying(own_tenant, sandboxes, requires={requires: True},
                                       check={"last_name": True, "address": True, "postal_code": True})
    existing(own_tenant, tenant, offer, data, subscriber={"address": ELSEWHERE_SAME_ZIP, "email": "x@example.com"})
    # when: same last name and postal code, another street
    elsewhere = await buy(staff_api_client, tenant, data)
    existing(own_tenant, tenant, offer, data, subscriber={"address": SAME_ADDRESS, "email": "y@example.com"})
    same = await buy(staff_api_client, tenant, {**data, "idempotencyKey": uuid.uuid4().hex})
    # then
    assert codes(elsewhere) == []
    assert codes(same) == ["ACTIVE_SUBSCRIPTION_EXISTS"]


async def test_buy8_an_offer_requiring_no_address_compares_the_postal_code(staff_api_client, own_tenant, sandboxes):
    # given: the same stored criteria, no address requirement: Postal code is in force, Address counts as off
    tenant, offer, data = await buying(own_tenant, sandboxes,
                                       check={"last_name": True, "address": True, "postal_code": True})
    existing(own_tenant, tenant, offer, data, subscriber={"address": ELSEWHERE_SAME_ZIP, "email": "x@example.com"})
    # when / then: another street, same postal code: a match
    assert codes(await buy(staff_api_client, tenant, data)) == ["ACTIVE_SUBSCRIPTION_EXISTS"]


@pytest.mark.parametrize("requires, check", [
    ({}, {"last_name": True, "address": True}),                         # Address disabled: last name alone
    ({"delivery": True}, {"last_name": True, "postal_code": True}),     # Postal code disabled: last name alone
], ids=["address-disabled", "postal-code-disabled"])
async def test_buy8_a_disabled_criterion_counts_as_off(staff_api_client, own_tenant, sandboxes, services, requires,
                                                       check):
    tenant, offer, data = await buying(own_tenant, sandboxes, requires=requires, check=check)

    payload = await buy(staff_api_client, tenant, data)

    assert [(e["code"], e["message"]) for e in payload["userErrors"]] == [
        ("OFFER_CHECK_MISCONFIGURED", "Please select one more search parameter")]
    await nothing_left_behind(services, tenant)


async def test_buy8_set_offer_check_criteria_sets_flags_and_requirements_and_records_them(
        staff_api_client, own_tenant, sandboxes, services):
    # given: an offer checking nothing (no flag)
    tenant, offer, data = await buying(own_tenant, sandboxes, validation={})
    existing(own_tenant, tenant, offer, data, status="ACTIVE")
    # when: staff set a flag and an address requirement with Address as criterion
    answer = await graphql(staff_api_client, """mutation ($input: SetOfferCheckCriteriaInput!) {
        setOfferCheckCriteria(input: $input) { offer { activeSubscriptionCheck { runs address noExistingSubscription
        requiresDeliveryAddress } } userErrors { code } } }""", {"input": {
        "offerId": str(offer.id), "lastName": True, "address": True, "noExistingSubscription": True,
        "requiresDeliveryAddress": True}}, **tenant.headers)
    # then
    assert answer["data"]["setOfferCheckCriteria"] == {"offer": {"activeSubscriptionCheck": {
        "runs": True, "address": True, "noExistingSubscription": True, "requiresDeliveryAddress": True}},
        "userErrors": []}
    existing(own_tenant, tenant, offer, data, status="ACTIVE", subscriber={"address": SAME_ADDRESS})
    assert codes(await buy(staff_api_client, tenant, data)) == ["ACTIVE_SUBSCRIPTION_EXISTS"]


# -- SET-4: Config.System.RestrictCreateUser ----------------------------------------------------------
RESTRICTED = {"Config.System.RestrictCreateUser": "1"}


async def test_set4_restrict_create_user_refuses_a_staff_purchase_for_an_unknown_email(
        staff_api_client, own_tenant, sandboxes, services):
    tenant, offer, data = await buying(own_tenant, sandboxes, settings=RESTRICTED)

    payload = await buy(staff_api_client, tenant, data)

    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("USER_CREATION_RESTRICTED", ["input", "subscriber", "email"])]
    assert sales(sandboxes, tenant) == []
    await nothing_left_behind(services, tenant)


async def test_set4_restrict_create_user_lets_staff_buy_for_an_existing_registration(
        staff_api_client, own_tenant, sandboxes, services):
    tenant, offer, data = await buying(own_tenant, sandboxes, settings=RESTRICTED)
    known = await own_registration(tenant, email=data["subscriber"]["email"])

    payload = await buy(staff_api_client, tenant, data)

    assert payload["userErrors"] == [] and payload["registration"]["crid"] == known.crid
    assert [r.id for r in await rows(services, tenant, Registration)] == [known.id]


async def test_set4_buy10_restrict_create_user_refuses_every_anonymous_purchase_alike(
        api_client, own_tenant, sandboxes, services):
    # given: a registered e-mail and an unknown one, each with an anonymously tokenized card
    tenant, offer, _ = await setup(own_tenant, sandboxes, settings=RESTRICTED)
    known = await own_registration(tenant, email="known.reader@example.com")
    answers = []
    for email in (known.email, "nobody.here@example.com"):
        data = purchase_input(offer, await card_profile(sandboxes, tenant, started_by=None),
                              subscriber={"email": email}, idempotencyKey="same-key-shape-" + email[:5])
        answers.append(await graphql(api_client, PURCHASE, {"input": data}, **tenant.headers))
    # then: the same answer, saying nothing of either e-mail, and nothing bought
    assert answers[0] == answers[1]
    assert codes(answers[0]["data"]["purchaseSubscription"]) == ["SIGN_IN_REQUIRED"]
    assert sales(sandboxes, tenant) == []
    assert await rows(services, tenant, SubscriptionLink) == []


async def test_set4_restrict_create_user_lets_a_signed_in_customer_buy(api_client, own_tenant, sandboxes, tokens):
    tenant, offer, _ = await setup(own_tenant, sandboxes, settings=RESTRICTED)
    customer = await own_registration(tenant)
    data = purchase_input(offer, await card_profile(sandboxes, tenant, started_by=f"customer:{customer.crid}"))

    payload = await buy(api_client, tenant, data, **bearer(tokens.customer(customer.crid, tenant.code)))

    assert payload["userErrors"] == [] and payload["registration"]["crid"] == customer.crid
