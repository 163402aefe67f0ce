"""`subscriptions(search:)`: SUB-2 criteria and validation, SUB-3 postal-code masks, paging."""

from __future__ import annotations

import pytest

from sandbox.demo import generate
from tests.conftest import graphql

SEARCH_QUERY = """
query ($search: SubscriptionSearchInput!, $first: Int, $after: String) {
  subscriptions(search: $search, first: $first, after: $after) {
    totalCount
    edges { cursor node { id accountNumber subscriber { lastName postalCode } } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""

DEMO = generate(1)


def _matching(paper: str, predicate) -> list[str]:
    return sorted(s["id"] for s in DEMO.subscriptions_of(paper) if predicate(s))


def _error(body: dict) -> dict:
    assert body["data"] == {"subscriptions": None}
    assert len(body["errors"]) == 1
    return body["errors"][0]


async def test_sub2_search_by_last_name_is_case_insensitive(staff_api_client):
    # given
    expected = _matching("NCSDEMO", lambda s: s["subscriber"]["lastName"].lower().startswith("brown"))  # a prefix

    # when
    body = await graphql(staff_api_client, SEARCH_QUERY, {"search": {"lastName": "  bROWN "}, "first": 100})

    # then
    connection = body["data"]["subscriptions"]
    assert connection["totalCount"] == len(expected) > 0
    assert [e["node"]["id"] for e in connection["edges"]] == expected


async def test_sub2_all_given_criteria_must_match(staff_api_client):
    record = next(s for s in DEMO.subscriptions_of("NCSDEMO") if s["subscriber"]["companyName"])
    expected = _matching("NCSDEMO", lambda s: s["subscriber"]["companyName"] == "Acme Media"
                         and s["subscriber"]["lastName"] == record["subscriber"]["lastName"])

    body = await graphql(staff_api_client, SEARCH_QUERY, {"search": {
        "companyName": "acme media", "lastName": record["subscriber"]["lastName"]}})

    assert [e["node"]["id"] for e in body["data"]["subscriptions"]["edges"]] == expected[:10]
    assert record["id"] in expected


async def test_sub2_search_by_account_number_and_phone(staff_api_client):
    record = next(s for s in DEMO.subscriptions_of("NCSDEMO") if s["subscriber"]["phones"])
    phone = record["subscriber"]["phones"][0]
    formatted = f"+1 ({phone[2:5]}) {phone[5:8]}-{phone[8:]}"

    by_account = await graphql(staff_api_client, SEARCH_QUERY, {"search": {"accountNumber": record["accountNumber"]}})
    by_phone = await graphql(staff_api_client, SEARCH_QUERY, {"search": {"phone": formatted}})

    assert record["id"] in [e["node"]["id"] for e in by_account["data"]["subscriptions"]["edges"]]
    assert record["id"] in [e["node"]["id"] for e in by_phone["data"]["subscriptions"]["edges"]]


async def test_sub2_no_match_is_an_empty_connection_not_an_error(staff_api_client):
    body = await graphql(staff_api_client, SEARCH_QUERY, {"search": {"email": "nobody@nowhere.example"}})

    assert body == {"data": {"subscriptions": {
        "totalCount": 0, "edges": [],
        "pageInfo": {"hasNextPage": False, "hasPreviousPage": False, "endCursor": None}}}}


@pytest.mark.parametrize("search", [{}, {"firstName": "", "lastName": "   ", "email": None}],
                         ids=["no-criteria", "blank-criteria"])
async def test_sub2_empty_search_is_a_coded_error_with_the_exact_message(staff_api_client, services, search):
    control = services.sandboxes["circulation"].state.control
    before = control.total

    body = await graphql(staff_api_client, SEARCH_QUERY, {"search": search})

    error = _error(body)
    assert error["message"] == "Please enter a value in at least one of the input fields."
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == ["search"]
    assert control.total == before  # refused before any upstream call


async def test_sub3_postal_code_must_match_the_tenant_mask(staff_api_client):
    # NCSDEMO uses the default mask 99999
    body = await graphql(staff_api_client, SEARCH_QUERY, {"search": {"postalCode": "1000"}})

    error = _error(body)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == ["search", "postalCode"]
    assert "postalCode" in error["message"] and "99999" in error["message"]


async def test_sub3_postal_code_mask_is_per_tenant(staff_api_client):
    # MTXDEMO's mask is 9999: its four-digit codes are accepted, a five-digit one is not
    postal = next(s for s in DEMO.subscriptions_of("MTXDEMO"))["subscriber"]["address"]["postalCode"]
    expected = _matching("MTXDEMO", lambda s: s["subscriber"]["address"]["postalCode"] == postal)

    accepted = await graphql(staff_api_client, SEARCH_QUERY, {"search": {"postalCode": postal}}, x_tenant="MTXDEMO")
    refused = await graphql(staff_api_client, SEARCH_QUERY, {"search": {"postalCode": "10001"}}, x_tenant="MTXDEMO")

    assert accepted["data"]["subscriptions"]["totalCount"] == len(expected) > 0
    assert _error(refused)["extensions"]["field"] == ["search", "postalCode"]


async def test_sub2_paging_walks_every_match_once(staff_api_client):
    # given
    expected = _matching("NCSDEMO", lambda s: s["subscriber"]["address"]["postalCode"] == "10001")
    seen, after = [], None

    # when
    for _ in range(20):
        body = await graphql(staff_api_client, SEARCH_QUERY, {"search": {"postalCode": "10001"}, "first": 15,
                                                        "after": after})
        connection = body["data"]["subscriptions"]
        seen += [e["node"]["id"] for e in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]

    # then
    assert seen == expected and len(expected) > 15


async def test_search_page_size_above_the_maximum_is_refused(staff_api_client):
    body = await graphql(staff_api_client, SEARCH_QUERY, {"search": {"lastName": "Brown"}, "first": 1000})

    error = _error(body)
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["field"] == ["first"]


async def test_search_results_of_another_tenant_are_never_returned(staff_api_client):
    # TEN-1: the same last name exists in every tenant; each sees only its own
    body = await graphql(staff_api_client, SEARCH_QUERY, {"search": {"lastName": "Brown"}, "first": 100},
                         x_tenant="SAXDEMO")

    ids = [e["node"]["id"] for e in body["data"]["subscriptions"]["edges"]]
    assert ids and all(i.startswith("SAX-") for i in ids)


async def test_search_upstream_outage_is_a_coded_error(staff_api_client, sandboxes):
    from sandbox.faults import FaultRule

    sandboxes["circulation"].state.control.rules.append(FaultRule(path="/subscriptions/search", status=503))

    body = await graphql(staff_api_client, SEARCH_QUERY, {"search": {"lastName": "Brown"}})

    error = _error(body)
    assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE" and "Traceback" not in str(body)


# -- issue 17: search staff can use (SUB-2) --------------------------------------------------------------
async def test_sub2_company_prefix_acme_finds_acme_media(staff_api_client):
    expected = _matching("NCSDEMO", lambda s: (s["subscriber"]["companyName"] or "").lower().startswith("acme"))

    body = await graphql(staff_api_client, SEARCH_QUERY, {"search": {"companyName": "acme"}, "first": 100})

    assert body["data"]["subscriptions"]["totalCount"] == len(expected) > 0
    assert [e["node"]["id"] for e in body["data"]["subscriptions"]["edges"]] == expected


async def test_sub2_names_match_by_prefix_not_by_substring(staff_api_client):
    record = next(s for s in DEMO.subscriptions_of("NCSDEMO"))
    last = record["subscriber"]["lastName"]
    expected = _matching("NCSDEMO", lambda s: s["subscriber"]["lastName"].lower().startswith(last[:3].lower()))

    prefix = await graphql(staff_api_client, SEARCH_QUERY, {"search": {"lastName": last[:3].upper()}, "first": 100})
    inner = await graphql(staff_api_client, SEARCH_QUERY, {"search": {"lastName": last[1:]}, "first": 100})

    assert [e["node"]["id"] for e in prefix["data"]["subscriptions"]["edges"]] == expected[:100]
    assert record["id"] not in [e["node"]["id"] for e in inner["data"]["subscriptions"]["edges"]]


@pytest.mark.parametrize("shape", ["international", "national", "formatted", "country code without plus"])
async def test_sub2_phone_with_or_without_country_code(staff_api_client, shape):
    record = next(s for s in DEMO.subscriptions_of("NCSDEMO") if s["subscriber"]["phones"])
    phone = record["subscriber"]["phones"][0]  # +1555NNNNNNN
    national = phone[2:]
    criterion = {"international": phone, "national": national,
                 "formatted": f"({national[:3]}) {national[3:6]}-{national[6:]}",
                 "country code without plus": "1 " + national}[shape]

    body = await graphql(staff_api_client, SEARCH_QUERY, {"search": {"phone": criterion}, "first": 100})

    assert record["id"] in [e["node"]["id"] for e in body["data"]["subscriptions"]["edges"]]
