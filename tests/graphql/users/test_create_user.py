"""createUser through the public API (USR-1, USR-3, USR-4, USR-5, USR-9, AUT-4)."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import select

from datasources.auth0 import InvalidCredentials
from datasources.models import Registration
from sandbox.auth0 import SPA_CLIENT_ID
from tests.conftest import graphql

DEFAULT_CONNECTION = "Username-Password-Authentication"  # TEN-2's default `Auth0.App.Connection`

CREATE_USER = """
mutation ($input: CreateUserInput!) {
  createUser(input: $input) {
    registration { crid email firstName lastName state metadata events { edges { node { typeCode } } } }
    changePasswordUrl
    userErrors { code field message }
  }
}
"""


def unique_email() -> str:
    return f"new.{uuid.uuid4().hex[:10]}@example.com"


async def test_mg2_user_with_password_is_standard_and_records_createlogin(staff_api_client, own_tenant):
    # given
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    email = unique_email()
    # when
    answer = await graphql(staff_api_client, CREATE_USER, {"input": {
        "email": f"  {email} ", "password": "Secret-pass-1", "firstName": "Ada", "lastName": "Lovelace",
        "metadata": {"displayName": "Ada", "preferences": {"newsletter": "yes"}}}}, **tenant.headers)
    # then
    payload = answer["data"]["createUser"]
    assert payload["userErrors"] == []
    registration = payload["registration"]
    assert registration["email"] == email
    assert registration["crid"].startswith("mg2|")
    assert registration["state"] == "STANDARD"
    assert registration["firstName"] == "Ada" and registration["metadata"]["displayName"] == "Ada"
    assert [e["node"]["typeCode"] for e in registration["events"]["edges"]] == ["CREATELOGIN"]


async def test_mg2_password_is_stored_as_a_scrypt_hash(staff_api_client, own_tenant, services):
    # given
    from domain.passwords import verify_password
    from datasources.repositories.users import UserRepository

    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    # when
    answer = await graphql(staff_api_client, CREATE_USER, {"input": {"email": unique_email(), "password": "Secret-pass-1"}},
                           **tenant.headers)
    # then
    row = await UserRepository(services.db).by_crid(tenant.id, answer["data"]["createUser"]["registration"]["crid"])
    assert row.password_hash.startswith("scrypt$")
    assert verify_password("Secret-pass-1", row.password_hash)


async def test_mg2_passwordless_user_is_lite(staff_api_client, own_tenant):
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    answer = await graphql(staff_api_client, CREATE_USER, {"input": {"email": unique_email()}}, **tenant.headers)
    assert answer["data"]["createUser"]["registration"]["state"] == "LITE"


async def test_verify_email_leaves_the_user_unverified_with_a_verification_event(staff_api_client, own_tenant):
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    answer = await graphql(staff_api_client, CREATE_USER, {"input": {
        "email": unique_email(), "password": "Secret-pass-1", "verifyEmail": True}}, **tenant.headers)
    registration = answer["data"]["createUser"]["registration"]
    assert registration["state"] == "UNVERIFIED"
    assert sorted(e["node"]["typeCode"] for e in registration["events"]["edges"]) == ["CREATEPENDING", "VERIFYCODE"]


async def test_usr3_existing_unverified_registration_with_that_email_is_an_error(staff_api_client, own_tenant):
    # given
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    email = unique_email()
    await graphql(staff_api_client, CREATE_USER, {"input": {"email": email, "password": "Secret-pass-1",
                                                      "verifyEmail": True}}, **tenant.headers)
    # when
    answer = await graphql(staff_api_client, CREATE_USER, {"input": {"email": email.upper()}}, **tenant.headers)
    # then
    errors = answer["data"]["createUser"]["userErrors"]
    assert [(e["code"], e["field"]) for e in errors] == [("UNVERIFIED_REGISTRATION_EXISTS", ["input", "email"])]
    assert answer["data"]["createUser"]["registration"] is None


async def test_existing_verified_registration_with_that_email_is_an_error(staff_api_client, own_tenant):
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    email = unique_email()
    await graphql(staff_api_client, CREATE_USER, {"input": {"email": email}}, **tenant.headers)
    answer = await graphql(staff_api_client, CREATE_USER, {"input": {"email": email}}, **tenant.headers)
    assert [e["code"] for e in answer["data"]["createUser"]["userErrors"]] == ["EMAIL_ALREADY_REGISTERED"]


@pytest.mark.parametrize("email", ["a\u200bb@example.com", "ab@exa\u00a0mple.com", "ab\u00ad@example.com",
                                   "\ufeffab@example.com", "ab@example.com\u0007", "   "])
async def test_usr4_email_with_invisible_characters_is_refused(staff_api_client, own_tenant, email):
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    answer = await graphql(staff_api_client, CREATE_USER, {"input": {"email": email}}, **tenant.headers)
    errors = answer["data"]["createUser"]["userErrors"]
    assert [(e["code"], e["field"]) for e in errors] == [("INVALID_EMAIL", ["input", "email"])]


@pytest.mark.parametrize("password,accepted", [
    ("Abcdef1!", True),  # exactly 8, a digit, a special character
    ("Abcde1!", False),  # 7 characters
    ("Abcdefg!", False),  # no digit
    ("Abcdefg1", False),  # no special character
])
async def test_usr5_password_policy(staff_api_client, own_tenant, password, accepted):
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    answer = await graphql(staff_api_client, CREATE_USER, {"input": {"email": unique_email(), "password": password}},
                           **tenant.headers)
    errors = answer["data"]["createUser"]["userErrors"]
    assert [e["code"] for e in errors] == ([] if accepted else ["PASSWORD_TOO_WEAK"])


@pytest.mark.parametrize("metadata,field", [
    ({"NotCamel": "x"}, ["input", "metadata", "NotCamel"]),
    ({"k" * 101: "x"}, ["input", "metadata", "k" * 101]),
    ({"deep": {"value": "v" * 101}}, ["input", "metadata", "deep", "value"]),
    ({"firstName": "Ada"}, ["input", "metadata", "firstName"]),
    (["not", "an", "object"], ["input", "metadata"]),
])
async def test_usr3_metadata_rules(staff_api_client, own_tenant, metadata, field):
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    answer = await graphql(staff_api_client, CREATE_USER, {"input": {"email": unique_email(), "metadata": metadata}},
                           **tenant.headers)
    errors = answer["data"]["createUser"]["userErrors"]
    assert [(e["code"], e["field"]) for e in errors] == [("INVALID", field)]


async def test_usr3_metadata_at_the_100_character_limits_is_accepted(staff_api_client, own_tenant):
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    answer = await graphql(staff_api_client, CREATE_USER, {"input": {
        "email": unique_email(), "metadata": {"k" * 100: "v" * 100, "nested": {"inner": "v" * 100}}}},
        **tenant.headers)
    assert answer["data"]["createUser"]["userErrors"] == []


async def test_auth0_user_is_created_in_auth0_with_its_user_id_as_crid(staff_api_client, own_tenant, services):
    # given
    tenant = await own_tenant()  # Flow.UserProvider defaults to Auth0
    email = unique_email()
    # when
    answer = await graphql(staff_api_client, CREATE_USER, {"input": {"email": email, "password": "Secret-pass-1",
                                                               "firstName": "Grace"}}, **tenant.headers)
    # then
    registration = answer["data"]["createUser"]["registration"]
    assert registration["crid"].startswith("auth0|") and registration["state"] == "STANDARD"
    user = await services.auth0.get_user(registration["crid"])
    assert user["email"] == email and user["given_name"] == "Grace"
    assert user["app_metadata"]["paperCode"] == tenant.code


async def test_auth0_passwordless_user_gets_a_change_password_link(staff_api_client, own_tenant, sandboxes):
    # given
    tenant = await own_tenant()
    auth0 = sandboxes["auth0"].state.store
    # when
    answer = await graphql(staff_api_client, CREATE_USER, {"input": {"email": unique_email()}}, **tenant.headers)
    # then: the link is Auth0's password-change ticket page where browsers reach it (not the internal host the
    # embedded emulator is called on, issue 17 #7), and the ticket is the new user's
    created = answer["data"]["createUser"]
    url = created["changePasswordUrl"]
    prefix = f"{auth0.public_url}lo/reset?ticket="
    assert url.startswith(prefix) and not url.startswith(auth0.issuer)
    ticket = url[len(prefix):].rstrip("#")
    assert auth0.tickets[ticket]["user_id"] == created["registration"]["crid"]


async def test_auth0_existing_identity_is_refused_and_nothing_is_recorded(staff_api_client, own_tenant, services):
    # given: the e-mail is taken in Auth0 (not in papergraph)
    tenant = await own_tenant()
    email = unique_email()
    await services.auth0.create_user(email=email, password="Secret-pass-1",
                                     connection="Username-Password-Authentication")
    # when
    answer = await graphql(staff_api_client, CREATE_USER, {"input": {"email": email}}, **tenant.headers)
    # then
    assert [e["code"] for e in answer["data"]["createUser"]["userErrors"]] == ["EMAIL_ALREADY_REGISTERED"]


async def test_ignore_provider_creates_the_registration_without_auth0(staff_api_client, own_tenant, services):
    tenant = await own_tenant()
    email = unique_email()
    answer = await graphql(staff_api_client, CREATE_USER, {"input": {
        "email": email, "ignoreProvider": True, "customerRegistrationId": f"custom|{uuid.uuid4().hex}"}},
        **tenant.headers)
    registration = answer["data"]["createUser"]["registration"]
    assert registration["crid"].startswith("custom|")
    assert await services.auth0.users_by_email(email) == []


async def test_aut4_a_users_identity_is_made_in_the_tenants_own_connection_and_signs_in_there(
        staff_api_client, own_tenant, sandboxes, services, settings):
    # given: a tenant whose `Auth0.App.Connection` is not the default one; Auth0 has that connection
    connection = "Own-Paper-Customers"
    sandboxes["auth0"].state.store.connections.add(connection)
    tenant = await own_tenant(settings={"Auth0.App.Connection": connection})
    email = unique_email()
    # when
    answer = await graphql(staff_api_client, CREATE_USER, {"input": {"email": email, "password": "Secret-pass-1"}},
                           **tenant.headers)
    # then: the identity is the connection's, and a password-realm sign-in against it (AUT-4) succeeds
    crid = answer["data"]["createUser"]["registration"]["crid"]
    user = await services.auth0.get_user(crid)
    assert [identity["connection"] for identity in user["identities"]] == [connection]
    signed_in = await services.auth0.password_grant(email, "Secret-pass-1", SPA_CLIENT_ID,
                                                    audience=settings.auth0_audience, realm=connection)
    assert signed_in["access_token"]
    with pytest.raises(InvalidCredentials):  # the default connection does not know this user
        await services.auth0.password_grant(email, "Secret-pass-1", SPA_CLIENT_ID, audience=settings.auth0_audience,
                                            realm=DEFAULT_CONNECTION)


async def test_aut4_an_unknown_connection_is_refused_and_nothing_is_recorded(staff_api_client, own_tenant, services):
    # given: a connection Auth0 does not have
    tenant = await own_tenant(settings={"Auth0.App.Connection": "No-Such-Connection"})
    # when
    answer = await graphql(staff_api_client, CREATE_USER, {"input": {"email": unique_email(),
                                                                      "password": "Secret-pass-1"}}, **tenant.headers)
    # then: a fault of the configuration, not a user created under the default connection instead
    assert answer["data"] == {"createUser": None}
    assert [e["extensions"]["code"] for e in answer["errors"]] == ["UPSTREAM_REJECTED"]
    async with services.db.session() as session:
        assert (await session.execute(select(Registration).where(Registration.tenant_id == tenant.id))).all() == []
