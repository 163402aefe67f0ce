"""`entitlement(code)` and the Entitlement entity (ENT-1): the settings record is optional."""

from __future__ import annotations

from sandbox.demo import ENTITLEMENTS
from tests.conftest import graphql

ENTITLEMENT_QUERY = """
query ($code: String!) { entitlement(code: $code) { code description redirectSettings { redirectUrl } } }
"""


async def test_ent1_entitlement_with_its_redirect_settings(api_client):
    body = await graphql(api_client, ENTITLEMENT_QUERY, {"code": "EEDITION"})

    assert body == {"data": {"entitlement": {
        "code": "EEDITION", "description": "E-edition replica",
        "redirectSettings": {"redirectUrl": "https://eedition.example.com/open"},
    }}}


async def test_ent1_entitlement_without_a_settings_record_has_null_redirect_settings(api_client):
    # PUZZLES has no settings record in the demo data
    assert next(e for e in ENTITLEMENTS if e[0] == "PUZZLES")[2] is None

    body = await graphql(api_client, ENTITLEMENT_QUERY, {"code": "PUZZLES"})

    assert "errors" not in body
    assert body["data"]["entitlement"]["redirectSettings"] is None


async def test_unknown_entitlement_is_null(api_client):
    body = await graphql(api_client, ENTITLEMENT_QUERY, {"code": "NOPE"})

    assert body == {"data": {"entitlement": None}}


async def test_entitlement_is_a_federation_entity_keyed_by_code(api_client):
    query = """
    query ($representations: [_Any!]!) {
      _entities(representations: $representations) { ... on Entitlement { code redirectSettings { redirectUrl } } }
    }
    """

    body = await graphql(api_client, query, {"representations": [
        {"__typename": "Entitlement", "code": "PREMIUM"}, {"__typename": "Entitlement", "code": "PUZZLES"},
        {"__typename": "Entitlement", "code": "NOPE"},
    ]})

    assert "errors" not in body
    assert body["data"]["_entities"] == [
        {"code": "PREMIUM", "redirectSettings": {"redirectUrl": "https://www.example.com/premium"}},
        {"code": "PUZZLES", "redirectSettings": None},
        None,
    ]


async def test_many_entitlements_cost_one_sql_statement(api_client, services):
    query = "{ " + " ".join(f'e{i}: entitlement(code: "{code}") {{ code redirectSettings {{ redirectUrl }} }}'
                            for i, (code, _, _) in enumerate(ENTITLEMENTS)) + " }"
    await graphql(api_client, "{ __typename }")
    before = services.db.statements

    body = await graphql(api_client, query)

    assert "errors" not in body
    assert services.db.statements - before == 1 + 1  # + the tenant's settings version (SET-3), once per request
