"""Bad input answered as bad input (issue 14, items 10-14): a request error or BAD_USER_INPUT naming what is
wrong, never a 500, never a suggestion of a name in production (docs/input-validation.md)."""

from __future__ import annotations

import pytest

from tests.conftest import bearer
from tests.http.conftest import GRAPHQL_RESPONSE, codes, post

pytestmark = pytest.mark.sqlite_only

CATALOG_WITH_A_VARIABLE_FIRST = "query($f: Int){ catalog(first: $f) { totalCount } }"
TWO_OPERATIONS = "query A { __typename } query B { householdLevels { id } }"
LINKS_BY_ROLE = "query($role: LinkRole) { __typename }"
SEARCH = "query($s: SubscriptionSearchInput!) { subscriptions(search: $s) { totalCount } }"
PROCESSING_FEE = "query($a: Decimal!) { processingFee(amount: $a, paymentType: 1) { processingFee { amount } } }"


async def test_a_boolean_for_an_int_variable_is_bad_user_input_not_a_500(staff_api_client):
    # when: `true` for `$f: Int` (isinstance(True, int) is true in Python)
    response = await post(staff_api_client, {"query": CATALOG_WITH_A_VARIABLE_FIRST, "variables": {"f": True}})

    # then
    assert response.status_code == 400, response.text
    assert codes(response) == ["BAD_USER_INPUT"]
    assert "$f" in response.json()["errors"][0]["message"]


async def test_a_document_of_several_operations_without_an_operation_name_is_a_request_error(staff_api_client):
    # when: GraphQL spec, GetOperation: several operations and no operationName is a request error
    response = await post(staff_api_client, {"query": TWO_OPERATIONS})

    # then: nothing ran
    assert response.status_code == 400, response.text
    assert "data" not in response.json()
    assert codes(response) == ["OPERATION_RESOLUTION_FAILURE"]
    assert "operationName" in response.json()["errors"][0]["message"]


async def test_a_document_of_several_operations_runs_the_one_named(staff_api_client):
    response = await post(staff_api_client, {"query": TWO_OPERATIONS, "operationName": "A"})

    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_production_suggests_no_names_in_variable_coercion_errors(production_client_with):
    # given
    client = production_client_with()

    # when: a misspelt input field in the variables
    response = await post(client, {"query": SEARCH, "variables": {"s": {"lastname": "Smith"}}})

    # then
    assert response.status_code == 400, response.text
    assert "Did you mean" not in response.text and "lastName" not in response.text


async def test_production_suggests_no_enum_values_in_variable_coercion_errors(production_client_with, schema_enum):
    # given
    client = production_client_with()
    enum_name, member = schema_enum

    # when: an enum value in the wrong case
    response = await post(client, {"query": f'query($v: {enum_name}) {{ registration(crid: "x") '
                                            f'{{ linkedSubscriptions(role: $v) {{ id }} }} }}',
                                   "variables": {"v": member.lower()}})

    # then
    assert response.status_code == 400, response.text
    assert codes(response) == ["BAD_USER_INPUT"]
    assert "Did you mean" not in response.text and member not in response.text


@pytest.fixture
def schema_enum():
    """An enum of the schema and one of its values (LinkRole OWNER: the one the issue names)."""
    from graphql import GraphQLEnumType

    from schema import build_schema

    enum = build_schema()._schema.type_map.get("LinkRole")
    assert isinstance(enum, GraphQLEnumType)
    return "LinkRole", "OWNER"


async def test_development_still_suggests_names_in_variable_coercion_errors(staff_api_client):
    response = await post(staff_api_client, {"query": SEARCH, "variables": {"s": {"lastname": "Smith"}}})

    assert response.status_code == 400
    assert "Did you mean 'lastName'" in response.text


@pytest.mark.parametrize("amount", ["1e999", "NaN", "-NaN", "Infinity", "-Infinity", "sNaN", "1" * 29,
                                    "1" * 29 + ".00", "0." + "0" * 40 + "1", "12abc", "", " 1"])
async def test_an_amount_that_is_not_a_finite_decimal_of_sane_size_is_bad_user_input_naming_it(staff_api_client,
                                                                                               amount):
    # when
    response = await post(staff_api_client, {"query": PROCESSING_FEE, "variables": {"a": amount}})

    # then: a request error naming the variable, not a masked 500
    assert response.status_code == 400, response.text
    assert codes(response) == ["BAD_USER_INPUT"]
    assert "$a" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("amount", ["1e999", "NaN", "Infinity", "sNaN", "1" * 29])
async def test_an_inline_amount_that_is_not_a_finite_decimal_is_refused_naming_it(staff_api_client, amount):
    # when: the same amounts written in the document
    response = await post(staff_api_client, {
        "query": f'{{ processingFee(amount: "{amount}", paymentType: 1) {{ processingFee {{ amount }} }} }}'})

    # then
    assert response.status_code == 400, response.text
    assert codes(response) == ["BAD_USER_INPUT"]
    assert "amount" in response.json()["errors"][0]["message"]


async def test_a_plain_amount_still_quotes(staff_api_client):
    response = await post(staff_api_client, {"query": PROCESSING_FEE, "variables": {"a": "2147483648.10"}})

    assert response.status_code == 200, response.text
    assert "errors" not in response.json()


@pytest.mark.parametrize("claim", ["FULL_CONTROL", ["subscriptions", "FULL_CONTROL"], 7])
async def test_a_token_whose_access_claim_is_not_an_object_is_401_with_a_reason(api_client, tokens, claim):
    # given: a correctly signed staff token whose access claim is malformed
    token = tokens.staff(access={}, **{"https://papergraph.dev/access": claim})

    # when
    response = await post(api_client, {"query": "{ householdLevels { id } }"}, **bearer(token))

    # then
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/")
    assert "access" in response.text
