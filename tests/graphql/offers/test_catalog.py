"""`catalog(category, vendor, trialAvailable, first, after)`: offers on sale as product cards (OFR-6)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from tests.conftest import graphql
from tests.support import tenant_today

CATALOG_QUERY = """
query ($category: String, $vendor: String, $trialAvailable: Boolean, $first: Int, $after: String) {
  catalog(category: $category, vendor: $vendor, trialAvailable: $trialAvailable, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      offerId vendor logoUrl name shortDescription category trialAvailable
      lowestCommercialPrice { amount currency }
      offer { id terms { code } group { name } }
    }
  }
}
"""


async def test_ofr6_catalog_lists_current_offers_as_cards_with_the_lowest_commercial_price(api_client):
    # when
    body = await graphql(api_client, CATALOG_QUERY)

    # then: the expired weekend promo is not on sale; the digital trial term (1.00) is not commercial
    assert "errors" not in body
    cards = {card["name"]: card for card in body["data"]["catalog"]["nodes"]}
    assert set(cards) == {"All Access Digital", "7-Day Print + Digital"}
    digital = cards["All Access Digital"]
    assert digital["vendor"] == "The Daily Ledger"
    assert digital["logoUrl"] == "https://cdn.example.com/ncsdemo/digital.png"
    assert digital["shortDescription"] == "Unlimited articles, apps and the e-edition."
    assert digital["trialAvailable"] is True
    assert digital["lowestCommercialPrice"] == {"amount": "9.99", "currency": "USD"}
    assert cards["7-Day Print + Digital"]["lowestCommercialPrice"] == {"amount": "65.00", "currency": "USD"}
    assert digital["offer"]["id"] == digital["offerId"]


async def test_ofr6_catalog_filters_by_category_vendor_and_trial(api_client):
    async def names(**variables) -> list[str]:
        body = await graphql(api_client, CATALOG_QUERY, variables)
        assert "errors" not in body
        return sorted(card["name"] for card in body["data"]["catalog"]["nodes"])

    assert await names(category="DIGITAL") == ["All Access Digital"]
    assert await names(category="print") == ["7-Day Print + Digital"]  # case-insensitive
    assert await names(trialAvailable=True) == ["All Access Digital"]
    assert await names(trialAvailable=False) == ["7-Day Print + Digital"]
    assert await names(vendor="the daily ledger") == ["7-Day Print + Digital", "All Access Digital"]
    assert await names(vendor="Someone Else") == []
    assert await names(category="PRINT", trialAvailable=True) == []


async def test_ofr6_offer_without_commercial_terms_has_no_price(api_client, own_rows):
    # given
    tenant = await own_rows.tenant(currency="EUR")
    await own_rows.offer(tenant.id, name="Trial only",
                         terms=[{"code": "TRIAL", "rate": Decimal("1.00"), "commercial": False}])
    await own_rows.offer(tenant.id, name="Cheapest", terms=[
        {"code": "1Y", "rate": Decimal("2147483648.10")}, {"code": "1M", "rate": Decimal("0.99")},
        {"code": "TRIAL", "rate": Decimal("0.00"), "commercial": False},
    ])

    # when
    body = await graphql(api_client, CATALOG_QUERY, x_tenant=tenant.code)

    # then
    cards = {card["name"]: card for card in body["data"]["catalog"]["nodes"]}
    assert cards["Trial only"]["lowestCommercialPrice"] is None
    assert cards["Cheapest"]["lowestCommercialPrice"] == {"amount": "0.99", "currency": "EUR"}


async def test_ofr6_catalog_leaves_out_offers_not_yet_on_sale_or_past(api_client, own_rows):
    # given
    tenant = await own_rows.tenant()
    today = tenant_today(tenant.time_zone)
    await own_rows.offer(tenant.id, name="Future", valid_from=today + timedelta(days=10))
    await own_rows.offer(tenant.id, name="Past", valid_from=today - timedelta(days=60),
                         valid_to=today - timedelta(days=2))
    await own_rows.offer(tenant.id, name="Open-ended", valid_from=today - timedelta(days=2), valid_to=None)

    # when
    body = await graphql(api_client, CATALOG_QUERY, x_tenant=tenant.code)

    # then
    assert [card["name"] for card in body["data"]["catalog"]["nodes"]] == ["Open-ended"]
    assert body["data"]["catalog"]["totalCount"] == 1


async def test_ofr6_catalog_pages_and_costs_the_same_statements_for_one_or_many_cards(api_client, services, own_rows):
    # given
    tenant = await own_rows.tenant()
    for n in range(5):
        await own_rows.offer(tenant.id, name=f"Card {n}", terms=[{"code": "1M", "rate": Decimal("3.00") + n}])
    await graphql(api_client, "{ __typename }", x_tenant=tenant.code)

    async def statements(first: int) -> tuple[int, dict]:
        before = services.db.statements
        body = await graphql(api_client, CATALOG_QUERY, {"first": first}, x_tenant=tenant.code)
        return services.db.statements - before, body

    # when
    one, page = await statements(1)
    five, _ = await statements(5)

    # then: the page with its offers' terms (one statement, the terms also serving `offer.terms`), and the groups
    assert one == five == 2 + 1  # + the tenant's settings version (SET-3), read once per request
    catalog = page["data"]["catalog"]
    assert catalog["totalCount"] == 5 and catalog["pageInfo"]["hasNextPage"] is True
    assert catalog["nodes"][0]["lowestCommercialPrice"]["amount"] == "3.00"
    rest = await graphql(api_client, CATALOG_QUERY, {"first": 10, "after": catalog["pageInfo"]["endCursor"]},
                         x_tenant=tenant.code)
    assert [c["name"] for c in rest["data"]["catalog"]["nodes"]] == [f"Card {n}" for n in range(1, 5)]


async def test_ofr6_catalog_cards_carry_each_offers_own_terms_read_with_the_page(api_client, own_rows):
    """The page and its offers' terms come from one statement (one row per term): an offer without terms is
    still one card, with no price and no terms, and each card's `offer.terms` are its own, in term order."""
    # given
    tenant = await own_rows.tenant()
    await own_rows.offer(tenant.id, name="A: no terms", terms=[])
    await own_rows.offer(tenant.id, name="B: three terms", terms=[
        {"code": "1Y", "rate": Decimal("99.00")}, {"code": "1M", "rate": Decimal("9.00")},
        {"code": "TRIAL", "rate": Decimal("0.50"), "commercial": False}])
    await own_rows.offer(tenant.id, name="C: one term", terms=[{"code": "13W", "rate": Decimal("30.00")}])

    # when
    body = await graphql(api_client, CATALOG_QUERY, {"first": 2}, x_tenant=tenant.code)
    after = body["data"]["catalog"]["pageInfo"]["endCursor"]
    rest = await graphql(api_client, CATALOG_QUERY, {"first": 2, "after": after}, x_tenant=tenant.code)

    # then
    assert "errors" not in body and "errors" not in rest
    first, second = body["data"]["catalog"], rest["data"]["catalog"]
    assert first["totalCount"] == second["totalCount"] == 3
    assert first["pageInfo"]["hasNextPage"] is True and second["pageInfo"]["hasNextPage"] is False
    cards = [*first["nodes"], *second["nodes"]]
    assert [card["name"] for card in cards] == ["A: no terms", "B: three terms", "C: one term"]
    assert [[term["code"] for term in card["offer"]["terms"]] for card in cards] == [[], ["1Y", "1M", "TRIAL"], ["13W"]]
    assert [card["lowestCommercialPrice"] for card in cards] == [
        None, {"amount": "9.00", "currency": "EUR"}, {"amount": "30.00", "currency": "EUR"}]
