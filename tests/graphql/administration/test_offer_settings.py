"""setOfferCheckCriteria (OFR-4) and setOfferAllowedRegistrations (OFR-5) through the public API, with the
source platform's exact messages, and the UPDATEOFFER event each records (NOT-1). Who may call them is in
tests/auth/test_matrix.py."""

from __future__ import annotations

import pytest
from sqlmodel import select

from datasources.models import Event
from tests.conftest import graphql

SET_CHECK = """
mutation ($input: SetOfferCheckCriteriaInput!) {
  setOfferCheckCriteria(input: $input) {
    offer { id activeSubscriptionCheck { lastName phone email address postalCode } }
    userErrors { code field message }
  }
}
"""
SET_ALLOWED = """
mutation ($input: SetOfferAllowedRegistrationsInput!) {
  setOfferAllowedRegistrations(input: $input) { offer { id allowedRegistrations } userErrors { code field message } }
}
"""
OFFER = """
query ($id: ID!) {
  offer(id: $id) { allowedRegistrations activeSubscriptionCheck { lastName phone email address postalCode } }
}
"""
AT_LEAST_ONE = "Please select at least one search parameter"
ONE_MORE = "Please select one more search parameter"
NOT_BOTH = "Zip Code and Address cannot be enabled simultaneously"
NONE_SET = {"lastName": False, "phone": False, "email": False, "address": False, "postalCode": False}
INITIAL = {**NONE_SET, "lastName": True, "email": True}  # what tests/graphql/own_tenant.py gives an offer


async def offer_of_own_tenant(own_tenant, settings: dict[str, str] | None = None):
    tenant = await own_tenant(settings=settings)
    return tenant, await tenant.offer(allowed_registrations=3)


async def set_check(client, tenant, offer_id, **flags) -> dict:
    answer = await graphql(client, SET_CHECK, {"input": {"offerId": str(offer_id), **flags}}, **tenant.headers)
    return answer["data"]["setOfferCheckCriteria"]


async def set_allowed(client, tenant, offer_id, allowed: int) -> dict:
    answer = await graphql(client, SET_ALLOWED, {"input": {"offerId": str(offer_id), "allowedRegistrations": allowed}},
                           **tenant.headers)
    return answer["data"]["setOfferAllowedRegistrations"]


async def stored(client, tenant, offer) -> dict:
    return (await graphql(client, OFFER, {"id": str(offer.id)}, **tenant.headers))["data"]["offer"]


async def offer_events(services, tenant) -> list[Event]:
    async with services.db.session() as session:
        return list((await session.execute(select(Event).where(
            Event.tenant_id == tenant.id, Event.type_code == "UPDATEOFFER").order_by(Event.id))).scalars())


def errors(payload: dict) -> list[tuple[str, str]]:
    return [(e["code"], e["message"]) for e in payload["userErrors"]]


# -- OFR-4 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("flags, message", [
    ({}, AT_LEAST_ONE),
    ({"lastName": False, "phone": False, "email": False, "address": False, "postalCode": False}, AT_LEAST_ONE),
    ({"lastName": True}, ONE_MORE),
    ({"postalCode": True}, ONE_MORE),
    ({"address": True, "postalCode": True}, NOT_BOTH),
    ({"lastName": True, "phone": True, "email": True, "address": True, "postalCode": True}, NOT_BOTH),
], ids=["nothing", "all-false", "last-name-alone", "postal-code-alone", "address-and-postal-code", "all-five"])
async def test_ofr4_invalid_criteria_are_refused_with_the_exact_message_and_nothing_changes(
        staff_api_client, own_tenant, services, flags, message):
    # given
    tenant, offer = await offer_of_own_tenant(own_tenant)
    # when
    payload = await set_check(staff_api_client, tenant, offer.id, **flags)
    # then
    assert payload["offer"] is None
    assert [(e["code"], e["field"], e["message"]) for e in payload["userErrors"]] == [("INVALID", ["input"], message)]
    assert (await stored(staff_api_client, tenant, offer))["activeSubscriptionCheck"] == INITIAL
    assert await offer_events(services, tenant) == []


@pytest.mark.parametrize("flags", [
    {"lastName": True, "postalCode": True},  # each is not enough alone, together they are
    {"lastName": True, "email": True},
    {"postalCode": True, "phone": True},
    {"email": True},
    {"phone": True},
    {"address": True},
    {"lastName": True, "phone": True, "email": True, "address": True},
    {"lastName": True, "phone": True, "email": True, "postalCode": True},
], ids=lambda flags: "+".join(flags))
async def test_ofr4_valid_criteria_are_stored_exactly_as_given(staff_api_client, own_tenant, flags):
    # given
    tenant, offer = await offer_of_own_tenant(own_tenant)
    # when
    payload = await set_check(staff_api_client, tenant, offer.id, **flags)
    # then: flags not given are cleared, not kept
    assert payload["userErrors"] == []
    assert payload["offer"]["activeSubscriptionCheck"] == {**NONE_SET, **flags}
    assert (await stored(staff_api_client, tenant, offer))["activeSubscriptionCheck"] == {**NONE_SET, **flags}


async def test_ofr4_change_records_updateoffer_with_the_criteria_before_and_after(staff_api_client, own_tenant,
                                                                                  services):
    # given
    tenant, offer = await offer_of_own_tenant(own_tenant)
    # when
    await set_check(staff_api_client, tenant, offer.id, lastName=True, postalCode=True)
    # then
    [event] = await offer_events(services, tenant)
    assert event.details == {"offerId": offer.id, "checkCriteria": ["last_name", "postal_code"],
                             "before": ["last_name", "email"]}


@pytest.mark.parametrize("offer_id", ["0", "999999", "abc", "²", "99999999999"])
async def test_ofr4_unknown_offer_is_not_found(staff_api_client, own_tenant, offer_id):
    tenant, _ = await offer_of_own_tenant(own_tenant)

    payload = await set_check(staff_api_client, tenant, offer_id, email=True)

    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("NOT_FOUND", ["input", "offerId"])]


async def test_ten1_offer_of_another_tenant_is_not_found_and_unchanged(staff_api_client, own_tenant):
    # given
    other, offer = await offer_of_own_tenant(own_tenant)
    tenant = await own_tenant()
    # when
    check = await set_check(staff_api_client, tenant, offer.id, phone=True)
    allowed = await set_allowed(staff_api_client, tenant, offer.id, 1)
    # then
    assert [e["code"] for e in check["userErrors"]] == ["NOT_FOUND"]
    assert [e["code"] for e in allowed["userErrors"]] == ["NOT_FOUND"]
    assert await stored(staff_api_client, other, offer) == {"allowedRegistrations": 3,
                                                            "activeSubscriptionCheck": INITIAL}


# -- OFR-5 ------------------------------------------------------------------------------------------
async def test_ofr5_exactly_the_default_max_links_is_accepted_one_more_is_refused(staff_api_client, own_tenant,
                                                                                  services):
    # given: Subscription.MaxLinks defaults to 10 (TEN-2)
    tenant, offer = await offer_of_own_tenant(own_tenant)
    # when
    at_max = await set_allowed(staff_api_client, tenant, offer.id, 10)
    past_max = await set_allowed(staff_api_client, tenant, offer.id, 11)
    # then
    assert at_max == {"offer": {"id": str(offer.id), "allowedRegistrations": 10}, "userErrors": []}
    assert past_max["offer"] is None
    assert [(e["code"], e["field"], e["message"]) for e in past_max["userErrors"]] == [
        ("INVALID", ["input", "allowedRegistrations"], "Enter a value less than the maximum limit i.e. 10")]
    assert (await stored(staff_api_client, tenant, offer))["allowedRegistrations"] == 10
    assert [e.details for e in await offer_events(services, tenant)] == [
        {"offerId": offer.id, "allowedRegistrations": 10, "before": 3}]


@pytest.mark.parametrize("max_links", ["1", "4", "25"])
async def test_ofr5_the_maximum_is_the_tenants_max_links_setting(staff_api_client, own_tenant, max_links):
    # given
    tenant, offer = await offer_of_own_tenant(own_tenant, {"Subscription.MaxLinks": max_links})
    limit = int(max_links)
    # when
    at_max = await set_allowed(staff_api_client, tenant, offer.id, limit)
    past_max = await set_allowed(staff_api_client, tenant, offer.id, limit + 1)
    # then
    assert at_max["userErrors"] == [] and at_max["offer"]["allowedRegistrations"] == limit
    assert errors(past_max) == [("INVALID", f"Enter a value less than the maximum limit i.e. {limit}")]


@pytest.mark.parametrize("allowed", [0, -1, -2147483648])
async def test_ofr5_zero_or_negative_is_refused(staff_api_client, own_tenant, services, allowed):
    tenant, offer = await offer_of_own_tenant(own_tenant)

    payload = await set_allowed(staff_api_client, tenant, offer.id, allowed)

    assert errors(payload) == [("INVALID", "Enter a value of at least 1")]
    assert (await stored(staff_api_client, tenant, offer))["allowedRegistrations"] == 3
    assert await offer_events(services, tenant) == []


async def test_ofr5_one_is_accepted(staff_api_client, own_tenant):
    tenant, offer = await offer_of_own_tenant(own_tenant)

    payload = await set_allowed(staff_api_client, tenant, offer.id, 1)

    assert payload["userErrors"] == [] and payload["offer"]["allowedRegistrations"] == 1


async def test_ofr5_the_largest_int_is_refused_with_the_maximum(staff_api_client, own_tenant):
    tenant, offer = await offer_of_own_tenant(own_tenant)

    payload = await set_allowed(staff_api_client, tenant, offer.id, 2147483647)

    assert errors(payload) == [("INVALID", "Enter a value less than the maximum limit i.e. 10")]


async def test_ofr5_unknown_offer_is_not_found(staff_api_client, own_tenant):
    tenant, _ = await offer_of_own_tenant(own_tenant)

    payload = await set_allowed(staff_api_client, tenant, "999999", 2)

    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("NOT_FOUND", ["input", "offerId"])]
