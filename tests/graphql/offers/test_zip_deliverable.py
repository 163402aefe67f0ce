"""`zipDeliverable(zip, offerId)`: whether an offer delivers to a postal code and, when not, why (OFR-2,
OFR-3). A digital offer delivers to every postal code."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sandbox.demo import generate
from tests.conftest import graphql
from tests.support import tenant_today

DEMO = generate(1)
NCS = {o["name"]: o for o in DEMO.offers if o["tenant"] == "NCSDEMO"}
PRINT = NCS["7-Day Print + Digital"]
DIGITAL = NCS["All Access Digital"]
EXPIRED = NCS["Weekend Print (expired promo)"]

ZIP_QUERY = """
query ($zip: String!, $offerId: ID) {
  zipDeliverable(zip: $zip, offerId: $offerId) { zip offerId deliverable reason message }
}
"""


async def _ask(api_client, zip_code: str, offer_id=None, **headers) -> dict:
    body = await graphql(api_client, ZIP_QUERY, {"zip": zip_code, "offerId": offer_id and str(offer_id)}, **headers)
    assert "errors" not in body, body
    return body["data"]["zipDeliverable"]


@pytest.mark.parametrize("zip_code", PRINT["delivery_areas"])
async def test_ofr2_print_offer_delivers_to_its_areas(api_client, zip_code):
    answer = await _ask(api_client, zip_code, PRINT["id"])

    assert answer == {"zip": zip_code, "offerId": str(PRINT["id"]), "deliverable": True, "reason": None,
                      "message": None}


async def test_ofr2_zip_plus_four_and_spaces_match_the_area(api_client):
    assert (await _ask(api_client, f" {PRINT['delivery_areas'][0]}-1234 ", PRINT["id"]))["deliverable"] is True


async def test_ofr3_print_offer_outside_its_areas_says_why(api_client):
    answer = await _ask(api_client, "99999", PRINT["id"])

    assert answer["deliverable"] is False
    assert answer["reason"] == "OUTSIDE_DELIVERY_AREA"
    assert answer["message"]


@pytest.mark.parametrize("zip_code", ["99999", "10001", "SW1A 1AA"])
async def test_ofr2_digital_offer_delivers_everywhere(api_client, zip_code):
    answer = await _ask(api_client, zip_code, DIGITAL["id"])

    assert answer["deliverable"] is True and answer["reason"] is None


async def test_ofr3_past_validity_is_the_reason_even_inside_the_area(api_client):
    answer = await _ask(api_client, EXPIRED["delivery_areas"][0], EXPIRED["id"])

    assert answer["deliverable"] is False
    assert answer["reason"] == "VALIDITY_PAST"


async def test_ofr2_without_an_offer_any_current_offer_counts(api_client):
    # the NCS tenant has a current digital offer: every postal code is served
    answer = await _ask(api_client, "99999")

    assert answer == {"zip": "99999", "offerId": None, "deliverable": True, "reason": None, "message": None}


async def test_ofr3_tenant_without_offers_has_no_active_offers(api_client, own_rows):
    tenant = await own_rows.tenant()

    answer = await _ask(api_client, "75001", x_tenant=tenant.code)

    assert answer["deliverable"] is False and answer["reason"] == "NO_ACTIVE_OFFERS"


async def test_ofr3_reasons_across_a_tenants_offers(api_client, own_rows):
    # given: a current print offer for 75001, an expired one for 75002, one not on sale yet for 75003
    tenant = await own_rows.tenant()
    today = tenant_today(tenant.time_zone)  # Europe/Paris: not the host's day for an hour a day
    await own_rows.offer(tenant.id, areas=["75001"], valid_to=today)
    await own_rows.offer(tenant.id, areas=["75002"], valid_from=today - timedelta(days=90),
                         valid_to=today - timedelta(days=1))
    await own_rows.offer(tenant.id, areas=["75003"], valid_from=today + timedelta(days=1))

    # when / then
    assert (await _ask(api_client, "75001", x_tenant=tenant.code))["deliverable"] is True
    assert (await _ask(api_client, "75002", x_tenant=tenant.code))["reason"] == "OUTSIDE_DELIVERY_AREA"
    assert (await _ask(api_client, "75003", x_tenant=tenant.code))["reason"] == "OUTSIDE_DELIVERY_AREA"


async def test_ofr3_only_expired_or_future_offers(api_client, own_rows):
    tenant = await own_rows.tenant()
    today = tenant_today(tenant.time_zone)  # Europe/Paris: not the host's day for an hour a day
    future = await own_rows.offer(tenant.id, areas=["75003"], valid_from=today + timedelta(days=1))

    assert (await _ask(api_client, "75003", x_tenant=tenant.code))["reason"] == "NO_ACTIVE_OFFERS"
    assert (await _ask(api_client, "75003", future.id, x_tenant=tenant.code))["reason"] == "NO_ACTIVE_OFFERS"

    await own_rows.offer(tenant.id, digital=True, valid_from=today - timedelta(days=90),
                         valid_to=today - timedelta(days=1))
    assert (await _ask(api_client, "75003", x_tenant=tenant.code))["reason"] == "VALIDITY_PAST"


async def test_unknown_offer_is_null_and_another_tenants_offer_too(api_client):
    mtx = next(o for o in DEMO.offers if o["tenant"] == "MTXDEMO")

    for offer_id in ("999999", str(mtx["id"]), "x"):
        body = await graphql(api_client, ZIP_QUERY, {"zip": "10001", "offerId": offer_id})
        assert body == {"data": {"zipDeliverable": None}}


@pytest.mark.parametrize("zip_code", ["", "   "])
async def test_blank_zip_is_bad_user_input_naming_the_field(api_client, zip_code):
    body = await graphql(api_client, ZIP_QUERY, {"zip": zip_code, "offerId": str(PRINT["id"])})

    assert body["data"] == {"zipDeliverable": None}
    errors = [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]]
    assert errors == [("BAD_USER_INPUT", ["zip"])]
