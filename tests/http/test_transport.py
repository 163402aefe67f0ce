"""GraphQL over HTTP (server/http.py): media types, methods, status codes, CSRF, batches, API-1 headers."""

from __future__ import annotations

import json

import pytest

from tests.http.conftest import GRAPHQL_RESPONSE, codes, post
from tests.support import without_cost

TYPENAME = "{ __typename }"
SUBSCRIPTION_STATUS = 'query SubscriptionStatus { subscription(id: "NCS-0000001") { id status } }'
LINK_MUTATION = 'mutation Unlink { unlinkSubscription(input: {linkId: "0"}) { removedLinkId userErrors { code } } }'
UNPARSABLE = "{ subscription(id: "
UNKNOWN_FIELD = "{ subscriptionn { id } }"
NEEDS_ID = "query Needs($id: ID!) { subscription(id: $id) { id } }"
EMPTY_SEARCH = "{ subscriptions(search: {}) { totalCount } }"


async def test_graphql_response_json_is_answered_when_the_client_accepts_it(staff_api_client):
    # when
    response = await post(staff_api_client, {"query": TYPENAME})

    # then
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert without_cost(response.json()) == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("accept", [None, "application/json", "*/*", "application/*",
                                    "application/json, application/graphql-response+json;q=0.9"])
async def test_legacy_clients_get_application_json(staff_api_client, accept):
    # when
    response = await staff_api_client.post("/graphql", json={"query": TYPENAME},
                                     headers={"accept": accept} if accept else {})

    # then
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"


async def test_the_preferred_media_type_wins(staff_api_client):
    # when
    response = await post(staff_api_client, {"query": TYPENAME}, accept=f"application/json;q=0.5, {GRAPHQL_RESPONSE}")

    # then
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)


async def test_an_accept_header_naming_nothing_served_is_406(staff_api_client):
    # when
    response = await post(staff_api_client, {"query": TYPENAME}, accept="text/csv")

    # then
    assert response.status_code == 406
    assert codes(response) == ["NOT_ACCEPTABLE"]


async def test_queries_work_by_get(staff_api_client):
    # when
    response = await staff_api_client.get("/graphql", params={"query": SUBSCRIPTION_STATUS},
                                    headers={"accept": GRAPHQL_RESPONSE})

    # then
    assert response.status_code == 200
    assert response.json()["data"]["subscription"]["id"] == "NCS-0000001"


async def test_a_mutation_by_get_is_405_with_allow_post(staff_api_client):
    # when
    response = await staff_api_client.get("/graphql", params={"query": LINK_MUTATION}, headers={"accept": GRAPHQL_RESPONSE})

    # then
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert codes(response) == ["METHOD_NOT_ALLOWED"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/json; charset=latin-1"])
async def test_posts_a_browser_form_could_send_are_refused_415(staff_api_client, content_type):
    # given: the content types a cross-site form may send without a CORS preflight (CSRF)
    # when
    response = await staff_api_client.post("/graphql", content=json.dumps({"query": LINK_MUTATION}),
                                     headers={"content-type": content_type})

    # then
    assert response.status_code == 415
    assert codes(response) == ["UNSUPPORTED_MEDIA_TYPE"]


@pytest.mark.parametrize("body, message", [
    (b'{"query": ', "Unable to parse the request body as JSON"),
    (b"", "The request body is empty"),
    (b'{"qeury": "{ __typename }"}', "non-empty `query`"),
    (b'{"query": "{ __typename }", "variables": "x"}', "`variables` parameter must be an object"),
    (b'{"query": 7}', "`query` parameter must be a string"),
    (b"[]", "at least one operation"),
])
async def test_malformed_requests_are_400_whatever_the_media_type(staff_api_client, body, message):
    # when
    response = await staff_api_client.post("/graphql", content=body, headers={"content-type": "application/json"})

    # then
    assert response.status_code == 400
    assert codes(response) == ["BAD_REQUEST"]
    assert message in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("query, status, code", [
    (UNPARSABLE, 400, "GRAPHQL_PARSE_FAILED"),
    (UNKNOWN_FIELD, 400, "GRAPHQL_VALIDATION_FAILED"),
])
async def test_a_document_that_does_not_parse_or_validate_is_400_without_data(staff_api_client, query, status, code):
    # when
    response = await post(staff_api_client, {"query": query})

    # then
    assert response.status_code == status
    assert "data" not in response.json()
    assert codes(response) == [code]


async def test_variables_that_do_not_coerce_are_400_bad_user_input(staff_api_client):
    # when
    response = await post(staff_api_client, {"query": NEEDS_ID, "variables": {"id": None}})

    # then
    assert response.status_code == 400
    assert "data" not in response.json()
    assert codes(response) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("query", [UNPARSABLE, UNKNOWN_FIELD])
async def test_legacy_clients_get_200_for_every_well_formed_request(staff_api_client, query):
    # when
    response = await post(staff_api_client, {"query": query}, accept="application/json")

    # then
    assert response.status_code == 200
    assert len(response.json()["errors"]) == 1


async def test_a_response_with_data_is_200_even_with_errors(staff_api_client):
    # given: an empty search is a BAD_USER_INPUT field error (SUB-2), nulling its field
    # when
    response = await post(staff_api_client, {"query": EMPTY_SEARCH})

    # then
    assert response.status_code == 200
    assert response.json()["data"] == {"subscriptions": None}
    assert codes(response) == ["BAD_USER_INPUT"]


async def test_a_batch_is_answered_in_order(staff_api_client):
    # when
    response = await post(staff_api_client, [{"query": SUBSCRIPTION_STATUS}, {"query": UNKNOWN_FIELD}, {"query": TYPENAME}])

    # then
    assert response.status_code == 200
    first, second, third = response.json()
    assert first["data"]["subscription"]["id"] == "NCS-0000001"
    assert [e["extensions"]["code"] for e in second["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    assert "data" not in second
    assert without_cost(third) == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("refused", [
    {"accept": "text/csv"},
    {"content-type": "text/plain"},
])
async def test_api_1_headers_are_on_refusals_too(staff_api_client, refused):
    # when
    response = await staff_api_client.post("/graphql", content=b'{"query": "{ __typename }"}',
                                     headers={"content-type": "application/json", "x-session-id": "s-1", **refused})

    # then
    assert response.status_code in (406, 415)
    assert response.headers["x-request-id"]
    assert response.headers["x-session-id"] == "s-1"
    assert response.headers["x-version"]


async def test_graphiql_is_not_served_to_non_browsers(staff_api_client):
    # when
    response = await staff_api_client.get("/graphql", headers={"accept": "application/json"})

    # then: a GET without a query is a malformed GraphQL request
    assert response.status_code == 400
    assert codes(response) == ["BAD_REQUEST"]
