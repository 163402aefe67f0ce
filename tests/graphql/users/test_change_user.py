"""updateUser, changeEmail, changePassword and changeCustomerRegistrationId (USR-3..USR-6, USR-9)."""

from __future__ import annotations

import uuid

import pytest

from datasources.repositories.users import UserRepository
from domain.crypto import encrypt_crid
from domain.passwords import verify_password
from tests.conftest import graphql
from tests.graphql.users.support import auth0_password_is
from tests.graphql.users.support import create_user, events, unique_email

UPDATE_USER = """
mutation ($input: UpdateUserInput!) {
  updateUser(input: $input) { registration { crid firstName lastName metadata state } userErrors { code field message } }
}
"""
CHANGE_EMAIL = """
mutation ($input: ChangeEmailInput!) {
  changeEmail(input: $input) { registration { crid email } userErrors { code field message } }
}
"""
CHANGE_PASSWORD = """
mutation ($input: ChangePasswordInput!) {
  changePassword(input: $input) { registration { crid state } userErrors { code field message } }
}
"""
CHANGE_CRID = """
mutation ($input: ChangeCustomerRegistrationIdInput!) {
  changeCustomerRegistrationId(input: $input) { registration { crid encryptedCrid } userErrors { code field message } }
}
"""


async def test_update_user_changes_only_given_fields_and_records_updateuser(staff_api_client, own_tenant, services):
    # given
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    user = await create_user(staff_api_client, tenant, firstName="Ada", lastName="Lovelace")
    # when
    answer = await graphql(staff_api_client, UPDATE_USER, {"input": {
        "customerRegistrationId": user["crid"], "firstName": "Augusta", "metadata": {"displayName": "AAL"}}},
        **tenant.headers)
    # then
    registration = answer["data"]["updateUser"]["registration"]
    assert (registration["firstName"], registration["lastName"]) == ("Augusta", "Lovelace")
    assert registration["metadata"] == {"displayName": "AAL"}
    assert [e.type_code for e in await events(services, tenant, user["crid"])] == ["CREATELOGIN", "UPDATEUSER"]


async def test_update_user_on_auth0_updates_the_auth0_profile(staff_api_client, own_tenant, services):
    tenant = await own_tenant()
    user = await create_user(staff_api_client, tenant, password="Secret-pass-1")
    await graphql(staff_api_client, UPDATE_USER, {"input": {"customerRegistrationId": user["crid"], "lastName": "Hopper",
                                                      "metadata": {"displayName": "GH"}}}, **tenant.headers)
    auth0_user = await services.auth0.get_user(user["crid"])
    assert auth0_user["family_name"] == "Hopper" and auth0_user["user_metadata"]["displayName"] == "GH"


async def test_update_user_unknown_crid_and_bad_metadata(staff_api_client, own_tenant):
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    user = await create_user(staff_api_client, tenant)
    unknown = await graphql(staff_api_client, UPDATE_USER, {"input": {"customerRegistrationId": "mg2|nobody",
                                                                "firstName": "X"}}, **tenant.headers)
    bad = await graphql(staff_api_client, UPDATE_USER, {"input": {"customerRegistrationId": user["crid"],
                                                            "metadata": {"note": "n" * 101}}}, **tenant.headers)
    assert [e["code"] for e in unknown["data"]["updateUser"]["userErrors"]] == ["NOT_FOUND"]
    assert [(e["code"], e["field"]) for e in bad["data"]["updateUser"]["userErrors"]] == [
        ("INVALID", ["input", "metadata", "note"])]


async def test_change_email_records_chgemail_with_old_and_new(staff_api_client, own_tenant, services):
    # given
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    user = await create_user(staff_api_client, tenant)
    new = unique_email()
    # when
    answer = await graphql(staff_api_client, CHANGE_EMAIL, {"input": {"customerRegistrationId": user["crid"],
                                                                "email": f" {new}\t"}}, **tenant.headers)
    # then
    assert answer["data"]["changeEmail"]["registration"]["email"] == new
    [event] = await events(services, tenant, user["crid"], "CHGEMAIL")
    assert event.details == {"oldEmail": user["email"], "newEmail": new}


async def test_change_email_on_auth0_changes_it_upstream(staff_api_client, own_tenant, services):
    tenant = await own_tenant()
    user = await create_user(staff_api_client, tenant, password="Secret-pass-1")
    new = unique_email()
    await graphql(staff_api_client, CHANGE_EMAIL, {"input": {"customerRegistrationId": user["crid"], "email": new}},
                  **tenant.headers)
    assert (await services.auth0.get_user(user["crid"]))["email"] == new


async def test_change_email_refuses_invisible_characters_and_taken_addresses(staff_api_client, own_tenant, services):
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    user, other = await create_user(staff_api_client, tenant), await create_user(staff_api_client, tenant)
    invisible = await graphql(staff_api_client, CHANGE_EMAIL, {"input": {"customerRegistrationId": user["crid"],
                                                                   "email": "a\u200b@example.com"}}, **tenant.headers)
    taken = await graphql(staff_api_client, CHANGE_EMAIL, {"input": {"customerRegistrationId": user["crid"],
                                                               "email": other["email"].upper()}}, **tenant.headers)
    assert [e["code"] for e in invisible["data"]["changeEmail"]["userErrors"]] == ["INVALID_EMAIL"]
    assert [e["code"] for e in taken["data"]["changeEmail"]["userErrors"]] == ["EMAIL_ALREADY_REGISTERED"]
    assert await events(services, tenant, user["crid"], "CHGEMAIL") == []


async def test_change_password_makes_a_lite_mg2_user_standard(staff_api_client, own_tenant, services):
    # given
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    user = await create_user(staff_api_client, tenant)
    assert user["state"] == "LITE"
    # when
    answer = await graphql(staff_api_client, CHANGE_PASSWORD, {"input": {"customerRegistrationId": user["crid"],
                                                                   "password": "New-pass-12"}}, **tenant.headers)
    # then
    assert answer["data"]["changePassword"]["registration"]["state"] == "STANDARD"
    row = await UserRepository(services.db).by_crid(tenant.id, user["crid"])
    assert verify_password("New-pass-12", row.password_hash)
    assert len(await events(services, tenant, user["crid"], "CHGPASSWORD")) == 1


async def test_change_password_on_auth0_lets_the_user_sign_in_with_it(staff_api_client, own_tenant, services, sandboxes):
    tenant = await own_tenant()
    user = await create_user(staff_api_client, tenant, password="Secret-pass-1")
    await graphql(staff_api_client, CHANGE_PASSWORD, {"input": {"customerRegistrationId": user["crid"],
                                                          "password": "New-pass-12"}}, **tenant.headers)
    assert auth0_password_is(sandboxes, user["crid"], "New-pass-12")


@pytest.mark.parametrize("password", ["Short1!", "NoDigits!!", "NoSpecial12"])
async def test_change_password_usr5(staff_api_client, own_tenant, password):
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    user = await create_user(staff_api_client, tenant)
    answer = await graphql(staff_api_client, CHANGE_PASSWORD, {"input": {"customerRegistrationId": user["crid"],
                                                                   "password": password}}, **tenant.headers)
    assert [(e["code"], e["field"]) for e in answer["data"]["changePassword"]["userErrors"]] == [
        ("PASSWORD_TOO_WEAK", ["input", "password"])]


async def test_change_crid_with_crid_alone_computes_the_encrypted_crid(staff_api_client, own_tenant, services):
    # given
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    user = await create_user(staff_api_client, tenant)
    new_crid = f"mg2|{uuid.uuid4().hex}"
    # when
    answer = await graphql(staff_api_client, CHANGE_CRID, {"input": {
        "currentCustomerRegistrationId": user["crid"], "customerRegistrationId": new_crid}}, **tenant.headers)
    # then
    registration = answer["data"]["changeCustomerRegistrationId"]["registration"]
    assert registration == {"crid": new_crid, "encryptedCrid": encrypt_crid(services.settings.secret_key, new_crid)}
    [event] = await events(services, tenant, new_crid, "CHGCRID")
    assert event.details == {"oldCrid": user["crid"], "newCrid": new_crid}


async def test_change_crid_with_both_values_accepts_the_matching_encrypted_crid(staff_api_client, own_tenant, services):
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    user = await create_user(staff_api_client, tenant)
    new_crid = f"mg2|{uuid.uuid4().hex}"
    answer = await graphql(staff_api_client, CHANGE_CRID, {"input": {
        "currentCustomerRegistrationId": user["crid"], "customerRegistrationId": new_crid,
        "encryptedCustomerRegistrationId": encrypt_crid(services.settings.secret_key, new_crid)}}, **tenant.headers)
    assert answer["data"]["changeCustomerRegistrationId"]["userErrors"] == []


@pytest.mark.parametrize("new_crid,encrypted,message", [
    ("", None, "Customer Registration ID cannot be blank"),
    ("   ", None, "Customer Registration ID cannot be blank"),
    (None, None, "Customer Registration ID cannot be blank"),
    (None, "some-encrypted-crid", "The CRID must be given with the encrypted CRID"),
    ("mg2|other", "not-its-encrypted-crid", "The encrypted CRID does not belong to the CRID"),
])
async def test_usr6_crid_validation_messages(staff_api_client, own_tenant, services, new_crid, encrypted, message):
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    user = await create_user(staff_api_client, tenant)
    answer = await graphql(staff_api_client, CHANGE_CRID, {"input": {
        "currentCustomerRegistrationId": user["crid"], "customerRegistrationId": new_crid,
        "encryptedCustomerRegistrationId": encrypted}}, **tenant.headers)
    errors = answer["data"]["changeCustomerRegistrationId"]["userErrors"]
    assert [(e["code"], e["message"]) for e in errors] == [("INVALID", message)]
    assert await events(services, tenant, type_code="CHGCRID") == []


async def test_usr6_both_crids_must_resolve(staff_api_client, own_tenant):
    # given: an Auth0 tenant, a user, and another registration
    tenant = await own_tenant()
    user = await create_user(staff_api_client, tenant, password="Secret-pass-1")
    other = await create_user(staff_api_client, tenant, password="Secret-pass-1")
    # when
    unknown_current = await graphql(staff_api_client, CHANGE_CRID, {"input": {
        "currentCustomerRegistrationId": "auth0|nobody", "customerRegistrationId": "auth0|x"}}, **tenant.headers)
    unknown_new = await graphql(staff_api_client, CHANGE_CRID, {"input": {
        "currentCustomerRegistrationId": user["crid"], "customerRegistrationId": "auth0|not-in-auth0"}},
        **tenant.headers)
    taken = await graphql(staff_api_client, CHANGE_CRID, {"input": {
        "currentCustomerRegistrationId": user["crid"], "customerRegistrationId": other["crid"]}}, **tenant.headers)
    # then
    def codes(answer):
        return [e["code"] for e in answer["data"]["changeCustomerRegistrationId"]["userErrors"]]

    assert codes(unknown_current) == ["NOT_FOUND"]
    assert codes(unknown_new) == ["NEW_CRID_NOT_FOUND"]
    assert codes(taken) == ["CRID_ALREADY_REGISTERED"]
