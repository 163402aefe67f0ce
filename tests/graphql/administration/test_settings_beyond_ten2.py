"""SET-4 through the public API: the settings beyond TEN-2 are read and written with `settings`/`updateSettings`
(validated, SET-2), and act where papergraph has the feature: `Auth0.App.LogOutFromIDP` on signOut (SSN-4),
`Flow.Auth0.IntegrationType` on new Auth0 users. `Flow.AddressMove` and `MelissaDataIntegration` act on moves
(ADR-4, tests/graphql/servicing/test_subscriber_address.py); `Config.System.RestrictCreateUser` is tested on
purchases (tests/graphql/purchases/test_purchase_checks.py)."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import bearer, graphql
from tests.graphql.own_tenant import own_registration

SETTINGS = "{ settings { key value isDefault } }"
UPDATE = """
mutation ($input: UpdateSettingsInput!) {
  updateSettings(input: $input) { settings { key value isDefault } userErrors { code field message } }
}
"""
SIGN_OUT = "mutation { signOut { signedOut identityProviderLogoutUrl userErrors { code } } }"
CREATE_USER = """
mutation ($input: CreateUserInput!) { createUser(input: $input) { registration { crid } userErrors { code } } }
"""
SET4_DEFAULTS = {
    "Auth0.App.LogOutFromIDP": ("0", True),
    "Flow.Auth0.IntegrationType": ("", True),
    "Flow.AddressMove": ("", True),
    "MelissaDataIntegration": ("", True),
    "Config.System.RestrictCreateUser": ("0", True),
}


def as_map(entries: list[dict]) -> dict[str, tuple[str, bool]]:
    return {e["key"]: (e["value"], e["isDefault"]) for e in entries}


async def update(client, tenant, key: str, value: str) -> dict:
    answer = await graphql(client, UPDATE, {"input": {"settings": [{"key": key, "value": value}]}}, **tenant.headers)
    return answer["data"]["updateSettings"]


async def test_set4_settings_lists_the_settings_beyond_ten2_with_their_defaults(staff_api_client, own_tenant):
    tenant = await own_tenant()

    answer = await graphql(staff_api_client, SETTINGS, **tenant.headers)

    values = as_map(answer["data"]["settings"])
    assert {key: values[key] for key in SET4_DEFAULTS} == SET4_DEFAULTS


@pytest.mark.parametrize("key, value", [
    ("Auth0.App.LogOutFromIDP", "1"), ("Auth0.App.LogOutFromIDP", "0"),
    ("Config.System.RestrictCreateUser", "1"),
    ("Flow.Auth0.IntegrationType", "Custom"), ("Flow.Auth0.IntegrationType", ""),
    ("Flow.AddressMove", "RealTime"),
    ("MelissaDataIntegration", "GlobalOnPremise"), ("MelissaDataIntegration", "GlobalCheckAPI"),
])
async def test_set4_a_valid_value_is_stored_and_read_back(staff_api_client, own_tenant, key, value):
    tenant = await own_tenant()

    payload = await update(staff_api_client, tenant, key, value)

    assert payload["userErrors"] == []
    read = await graphql(staff_api_client, SETTINGS, **tenant.headers)
    assert as_map(read["data"]["settings"])[key] == (value, False)


@pytest.mark.parametrize("key, value, message", [
    ("Auth0.App.LogOutFromIDP", "2", "Auth0.App.LogOutFromIDP is a flag: 0 or 1"),
    ("Config.System.RestrictCreateUser", "true", "Config.System.RestrictCreateUser is a flag: 0 or 1"),
    ("Flow.Auth0.IntegrationType", "custom", "Flow.Auth0.IntegrationType must be one of '', 'Custom'"),
    ("Flow.AddressMove", "Batch", "Flow.AddressMove must be one of '', 'RealTime'"),
    ("MelissaDataIntegration", "GlobalCheckApi",
     "MelissaDataIntegration must be one of '', 'GlobalOnPremise', 'GlobalCheckAPI'"),
])
async def test_set4_an_unknown_value_is_refused_and_nothing_changes(staff_api_client, own_tenant, key, value, message):
    tenant = await own_tenant()

    payload = await update(staff_api_client, tenant, key, value)

    assert payload["settings"] is None
    assert [(e["code"], e["field"], e["message"]) for e in payload["userErrors"]] == [
        ("INVALID", ["input", "settings", "0", "value"], message)]
    read = await graphql(staff_api_client, SETTINGS, **tenant.headers)
    assert as_map(read["data"]["settings"])[key] == SET4_DEFAULTS[key]


# -- Auth0.App.LogOutFromIDP (SSN-4) -------------------------------------------------------------------
async def test_set4_ssn4_log_out_from_idp_makes_sign_out_name_the_federated_logout(
        api_client, own_tenant, tokens, sandboxes, settings):
    # given: an Auth0 tenant whose customers come from its own IdP
    tenant = await own_tenant(settings={"Auth0.App.LogOutFromIDP": "1"})
    customer = await own_registration(tenant)
    # when
    answer = await graphql(api_client, SIGN_OUT, **{**tenant.headers, **bearer(tokens.customer(customer.crid,
                                                                                              tenant.code))})
    # then: the URL is Auth0's logout as browsers reach it, federated, back to the front end
    payload = answer["data"]["signOut"]
    assert payload["signedOut"] is True
    url = urlsplit(payload["identityProviderLogoutUrl"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == settings.public_base_url + "/sandbox/auth0/v2/logout"
    query = parse_qs(url.query, keep_blank_values=True)
    assert query == {"federated": [""], "returnTo": [settings.frontend_base_url]}
    # and the browser's visit ends the federated session at Auth0 and comes back
    visit = await api_client.get(payload["identityProviderLogoutUrl"].removeprefix(settings.public_base_url))
    assert visit.status_code == 302 and visit.headers["location"] == settings.frontend_base_url
    assert sandboxes["auth0"].state.store.logouts[-1] == {"client_id": None, "federated": True,
                                                          "returnTo": settings.frontend_base_url}


@pytest.mark.parametrize("tenant_settings", [{}, {"Auth0.App.LogOutFromIDP": "0"},
                                             {"Auth0.App.LogOutFromIDP": "1", "Flow.UserProvider": "MG2"}],
                         ids=["default", "zero", "mg2-is-its-own-idp"])
async def test_set4_ssn4_without_the_setting_sign_out_names_no_idp_logout(api_client, own_tenant, tokens,
                                                                          tenant_settings):
    tenant = await own_tenant(settings=tenant_settings)
    customer = await own_registration(tenant)

    answer = await graphql(api_client, SIGN_OUT, **{**tenant.headers, **bearer(tokens.customer(customer.crid,
                                                                                              tenant.code))})

    assert answer["data"]["signOut"] == {"signedOut": True, "identityProviderLogoutUrl": None, "userErrors": []}


# -- Flow.Auth0.IntegrationType ------------------------------------------------------------------------
@pytest.mark.parametrize("integration, prefix", [("Custom", "auth0|nav"), ("", "auth0|")],
                         ids=["custom", "standard"])
async def test_set4_a_custom_integration_gives_new_users_internal_ids_prefixed_nav(
        staff_api_client, own_tenant, services, integration, prefix):
    # given: an Auth0 tenant
    tenant = await own_tenant(settings={"Flow.Auth0.IntegrationType": integration})
    email = f"new.{uuid.uuid4().hex[:10]}@example.com"
    # when
    answer = await graphql(staff_api_client, CREATE_USER, {"input": {"email": email, "password": "Secret-pass-1"}},
                           **tenant.headers)
    # then: the CRID is Auth0's user id for it
    crid = answer["data"]["createUser"]["registration"]["crid"]
    assert crid.startswith(prefix)
    assert crid.startswith("auth0|nav") is (integration == "Custom")
    assert (await services.auth0.get_user(crid))["email"] == email
