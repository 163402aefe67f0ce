"""`offers(first, after)` and `offer(id)` through the public GraphQL API (OFR-1, TEN-1), with batching."""

from __future__ import annotations

from decimal import Decimal

from sandbox.demo import OFFER_ENTITLEMENTS, generate
from tests.conftest import graphql

DEMO = generate(1)
NCS_OFFERS = [o for o in DEMO.offers if o["tenant"] == "NCSDEMO"]

OFFERS_QUERY = """
query ($first: Int, $after: String) {
  offers(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    nodes {
      id name vendor logoUrl shortDescription category trialAvailable digital validFrom validTo allowedRegistrations
      activationFee { amount currency }
      activeSubscriptionCheck { lastName phone email address postalCode }
      group { id name category }
      terms { id code length lengthUnit commercial rate { amount currency } tax { amount } amount { amount } }
      deliveryAreas
      entitlementCodes
      lowestCommercialPrice { amount currency }
    }
  }
}
"""

OFFER_QUERY = """
query ($id: ID!) {
  offer(id: $id) { id name digital activationFee { amount currency } terms { code rate { amount currency } } }
}
"""


async def test_ofr1_offers_list_the_tenants_offers_with_groups_terms_areas_and_entitlements(staff_api_client):
    # when
    body = await graphql(staff_api_client, OFFERS_QUERY, {"first": 10})

    # then
    assert "errors" not in body
    offers = body["data"]["offers"]
    assert offers["totalCount"] == len(NCS_OFFERS)
    assert offers["pageInfo"]["hasNextPage"] is False
    by_id = {o["id"]: o for o in offers["nodes"]}
    for demo in NCS_OFFERS:
        offer = by_id[str(demo["id"])]
        assert offer["name"] == demo["name"]
        assert offer["digital"] is demo["digital"]
        assert offer["activationFee"] == {"amount": demo["activation_fee"], "currency": "USD"}
        assert offer["validFrom"] == demo["valid_from"].isoformat()
        assert [t["code"] for t in offer["terms"]] == [t["code"] for t in demo["terms"]]
        assert [t["rate"]["amount"] for t in offer["terms"]] == [t["rate"] for t in demo["terms"]]
        assert all(Decimal(t["amount"]["amount"]) == Decimal(t["rate"]["amount"]) + Decimal(t["tax"]["amount"])
                   for t in offer["terms"])
        assert offer["deliveryAreas"] == sorted(demo["delivery_areas"])
        assert offer["entitlementCodes"] == sorted(OFFER_ENTITLEMENTS[demo["name"]])
        assert offer["activeSubscriptionCheck"]["lastName"] is demo["check_criteria"]["last_name"]
        assert offer["group"]["id"] == str(demo["group_id"])


async def test_ofr1_digital_offer_has_no_delivery_areas(staff_api_client):
    body = await graphql(staff_api_client, OFFERS_QUERY, {"first": 10})

    digital = [o for o in body["data"]["offers"]["nodes"] if o["digital"]]
    assert digital and all(o["deliveryAreas"] == [] for o in digital)


async def test_offers_page_through_with_cursors(staff_api_client):
    # given
    first = await graphql(staff_api_client, OFFERS_QUERY, {"first": 2})
    page = first["data"]["offers"]

    # when
    second = await graphql(staff_api_client, OFFERS_QUERY, {"first": 2, "after": page["pageInfo"]["endCursor"]})

    # then
    assert [o["id"] for o in page["nodes"]] == [str(o["id"]) for o in NCS_OFFERS[:2]]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = second["data"]["offers"]
    assert [o["id"] for o in rest["nodes"]] == [str(o["id"]) for o in NCS_OFFERS[2:]]
    assert rest["pageInfo"]["hasNextPage"] is False and rest["pageInfo"]["hasPreviousPage"] is True


async def test_offers_first_above_the_maximum_is_a_coded_error(staff_api_client, settings):
    body = await graphql(staff_api_client, OFFERS_QUERY, {"first": settings.max_page_size + 1})

    assert body["data"] == {"offers": None}
    errors = [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]]
    assert errors == [("BAD_USER_INPUT", ["first"])]


async def test_ofr1_a_page_of_one_and_all_offers_cost_the_same_sql_statements(staff_api_client, services, own_rows):
    # given: a tenant of our own with 6 offers, each with terms, areas and entitlements
    tenant = await own_rows.tenant()
    for n in range(6):
        await own_rows.offer(tenant.id, name=f"Offer {n}", areas=[f"7500{n}", f"7510{n}"],
                             terms=[{"code": "1M", "rate": Decimal("5.00") + n},
                                    {"code": "1Y", "rate": Decimal("50.00")}],
                             entitlements=["EEDITION"])
    await graphql(staff_api_client, "{ __typename }", x_tenant=tenant.code)  # warm the tenant cache

    async def statements(first: int) -> int:
        before = services.db.statements
        body = await graphql(staff_api_client, OFFERS_QUERY, {"first": first}, x_tenant=tenant.code)
        assert "errors" not in body
        assert len(body["data"]["offers"]["nodes"]) == first
        return services.db.statements - before

    # when
    one, all_six = await statements(1), await statements(6)

    # then: the page, then one statement per relation (group, terms, areas, entitlements), whatever the size
    # + 1: the staff member's access levels (MGR-1); + 1: the tenant's settings version (SET-3), once per request
    assert one == all_six == 5 + 1 + 1


async def test_offer_by_id_in_the_tenants_currency(staff_api_client):
    # given: the demo print offer of the NCS tenant (USD) and of the Matrix tenant (NOK)
    ncs = next(o for o in NCS_OFFERS if o["name"] == "7-Day Print + Digital")
    mtx = next(o for o in DEMO.offers if o["tenant"] == "MTXDEMO" and o["name"] == ncs["name"])

    # when
    body = await graphql(staff_api_client, OFFER_QUERY, {"id": str(ncs["id"])})
    other = await graphql(staff_api_client, OFFER_QUERY, {"id": str(mtx["id"])}, x_tenant="MTXDEMO")

    # then
    assert body["data"]["offer"]["activationFee"] == {"amount": "4.95", "currency": "USD"}
    assert other["data"]["offer"]["terms"][0]["rate"] == {"amount": "65.00", "currency": "NOK"}


async def test_ten1_offer_of_another_tenant_is_null(staff_api_client):
    mtx = next(o for o in DEMO.offers if o["tenant"] == "MTXDEMO")

    body = await graphql(staff_api_client, OFFER_QUERY, {"id": str(mtx["id"])}, x_tenant="NCSDEMO")

    assert body == {"data": {"offer": None}}


async def test_unknown_or_malformed_offer_id_is_null_without_errors(staff_api_client):
    for offer_id in ("999999", "abc", "-1", "99999999999999999999999"):
        body = await graphql(staff_api_client, OFFER_QUERY, {"id": offer_id})
        assert body == {"data": {"offer": None}}, offer_id


async def test_offer_is_a_federation_entity(staff_api_client):
    query = """
    query ($representations: [_Any!]!) {
      _entities(representations: $representations) { ... on Offer { id name entitlementCodes } }
    }
    """

    body = await graphql(staff_api_client, query, {"representations": [
        {"__typename": "Offer", "id": str(NCS_OFFERS[0]["id"])}, {"__typename": "Offer", "id": "999999"},
    ]})

    assert "errors" not in body
    assert body["data"]["_entities"] == [
        {"id": str(NCS_OFFERS[0]["id"]), "name": NCS_OFFERS[0]["name"],
         "entitlementCodes": sorted(OFFER_ENTITLEMENTS[NCS_OFFERS[0]["name"]])},
        None,
    ]


async def test_ofr4_active_subscription_check_flags_are_exposed(staff_api_client):
    body = await graphql(staff_api_client, OFFERS_QUERY, {"first": 10})

    print_offer = next(o for o in body["data"]["offers"]["nodes"] if o["name"] == "7-Day Print + Digital")
    assert print_offer["activeSubscriptionCheck"] == {
        "lastName": True, "phone": False, "email": False, "address": False, "postalCode": True,
    }
