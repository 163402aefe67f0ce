"""Staff (MGR-1, MGR-2), customers' registration state (USR-8) and the Management API token (AUT-2), through
the public GraphQL API. Tenants of the tests' own (tests/graphql/own_tenant.py) keep demo data unchanged."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import sqlalchemy as sa

from datasources.models import Event as RegistrationEvent, Registration as RegistrationRow
from domain.mfa import current_code
from sandbox.demo import generate
from tests.conftest import bearer, graphql
from tests.graphql.own_tenant import own_tenant  # noqa: F401  (fixture)
from tests.support import without_cost

UPDATE_LEVEL = """
mutation ($input: UpdateHouseholdLevelInput!) {
  updateHouseholdLevel(input: $input) { householdLevel { id } userErrors { code field message } }
}
"""
LEVELS = "{ householdLevels { id } }"
SUBSCRIPTION = 'query ($id: ID!) { subscription(id: $id) { id } }'
SET_ACCESS = """
mutation ($input: SetManagerAccessLevelsInput!) {
  setManagerAccessLevels(input: $input) { managerAccess { sections { section level } } userErrors { code } }
}
"""
ENROLL = "mutation { enrollManagerMfa { secret otpauthUri userErrors { code message } } }"
VERIFY = """
mutation ($code: String!) { verifyManagerMfa(input: {code: $code}) { enabled userErrors { code field } } }
"""
DISABLE = """
mutation ($input: DisableManagerMfaInput!) { disableManagerMfa(input: $input) { disabled userErrors { code field } } }
"""
EVENTS_OF_TYPES = ("MGRMFAENROLL", "MGRMFAENABLE", "MGRMFADISABLE")
CREATE_USER = """
mutation ($input: CreateUserInput!) { createUser(input: $input) { registration { crid } userErrors { code } } }
"""
DEMO = generate(1)


def _codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def _events(services, tenant_id: int) -> list[tuple[str, dict]]:
    import sqlalchemy as sa

    from datasources.models import Event

    async with services.db.session() as session:
        rows = (await session.execute(sa.select(Event).where(Event.tenant_id == tenant_id).order_by(Event.id))).scalars()
        return [(row.type_code, row.details) for row in rows if row.type_code.startswith("MGR")]


# -- MGR-1 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("level, reads, changes", [
    ("NO_ACCESS", False, False), ("READ_ONLY", True, False), ("FULL_CONTROL", True, True)])
async def test_mgr1_access_level_decides_reading_and_changing(api_client, tokens, level, reads, changes):
    # given: staff with one level for household levels
    headers = bearer(tokens.staff("NCSDEMO", access={"household_levels": level}))

    # when: a read, and a change that would only be refused for its input (no level 99999)
    read = await graphql(api_client, LEVELS, **headers)
    change = await graphql(api_client, UPDATE_LEVEL, {"input": {"id": "99999", "description": "x"}}, **headers)

    # then
    assert (read["data"]["householdLevels"] is not None) is reads
    assert _codes(read) == ([] if reads else ["FORBIDDEN"])
    if changes:
        assert change["data"]["updateHouseholdLevel"]["userErrors"][0]["code"] == "NOT_FOUND"
    else:
        assert change["data"] == {"updateHouseholdLevel": None} and _codes(change) == ["FORBIDDEN"]


async def test_mgr1_levels_stored_by_papergraph_override_the_tokens_at_once(api_client, tokens, own_tenant):
    # given: an intern with no access at all, and an admin of the same tenant
    tenant = await own_tenant("NCS")
    intern = bearer(tokens.staff(tenant.code, access="NO_ACCESS", sub="auth0|intern-1"))
    admin = bearer(tokens.staff(tenant.code))
    before = await graphql(api_client, LEVELS, **intern)

    # when: the admin gives the intern read access to household levels
    answer = await graphql(api_client, SET_ACCESS, {"input": {"managerSubject": "auth0|intern-1", "levels": [
        {"section": "HOUSEHOLD_LEVELS", "level": "READ_ONLY"}]}}, **admin)
    after = await graphql(api_client, LEVELS, **intern)
    still_denied = await graphql(api_client, SUBSCRIPTION, {"id": "X-1"}, **intern)

    # then: the same token reads now; other sections are NO_ACCESS (the stored set is the whole truth)
    assert _codes(before) == ["FORBIDDEN"]
    assert answer["data"]["setManagerAccessLevels"]["userErrors"] == []
    assert after["data"] == {"householdLevels": []} and "errors" not in after
    assert _codes(still_denied) == ["FORBIDDEN"]


async def test_mgr1_access_levels_are_set_only_with_full_control_of_settings(api_client, tokens, own_tenant):
    tenant = await own_tenant("NCS")
    csr = bearer(tokens.staff(tenant.code, access={"settings": "READ_ONLY", "subscriptions": "FULL_CONTROL"}))

    body = await graphql(api_client, SET_ACCESS, {"input": {"managerSubject": "auth0|someone", "levels": [
        {"section": "SETTINGS", "level": "FULL_CONTROL"}]}}, **csr)

    assert body["data"] == {"setManagerAccessLevels": None} and _codes(body) == ["FORBIDDEN"]


# -- MGR-2 -------------------------------------------------------------------------------------------
async def test_mgr2_without_a_second_factor_every_change_is_refused_where_the_tenant_requires_one(
        api_client, tokens, own_tenant):
    # given: a tenant requiring MFA, a FULL_CONTROL manager signed in with and without a second factor
    tenant = await own_tenant("NCS", {"Security.RequireManagerMfa": "1"})
    without = bearer(tokens.staff(tenant.code, mfa=False))
    with_mfa = bearer(tokens.staff(tenant.code, mfa=True))
    change = {"input": {"id": "99999", "description": "x"}}

    # when
    refused = await graphql(api_client, UPDATE_LEVEL, change, **without)
    read = await graphql(api_client, LEVELS, **without)
    allowed = await graphql(api_client, UPDATE_LEVEL, change, **with_mfa)

    # then: the change is refused naming the reason, reading is not a change
    assert refused["data"] == {"updateHouseholdLevel": None}
    [error] = refused["errors"]
    assert (error["extensions"]["code"], error["extensions"]["reason"]) == ("FORBIDDEN", "MFA_REQUIRED")
    assert "errors" not in read
    assert allowed["data"]["updateHouseholdLevel"]["userErrors"][0]["code"] == "NOT_FOUND"


async def test_mgr2_without_the_tenant_setting_no_second_factor_is_needed(api_client, tokens, own_tenant):
    tenant = await own_tenant("NCS")

    body = await graphql(api_client, UPDATE_LEVEL, {"input": {"id": "99999", "description": "x"}},
                         **bearer(tokens.staff(tenant.code, mfa=False)))

    assert body["data"]["updateHouseholdLevel"]["userErrors"][0]["code"] == "NOT_FOUND"


@pytest.fixture
async def manager(app, own_tenant):
    """A manager of a tenant of the test's own, with a password login at the Auth0 emulator."""
    tenant = await own_tenant("NCS")
    store = app.state.sandboxes["auth0"].state.store
    user_id = f"auth0|manager-{uuid.uuid4().hex[:8]}"
    email = f"{user_id.split('|')[1]}@example.com"
    store.add_user({"user_id": user_id, "email": email, "password": "Manager-pass-1!", "email_verified": True,
                    "app_metadata": {"paperCode": tenant.code, "role": "staff",
                                     "access": {"settings": "FULL_CONTROL"}}})
    return {"tenant": tenant, "user_id": user_id, "email": email, "store": store}


async def _password_login(app, email: str) -> "httpx.Response":  # noqa: F821
    import httpx

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app.state.sandboxes["auth0"]),
                                 base_url="http://auth0.sandbox") as client:
        return await client.post("/oauth/token", json={
            "grant_type": "password", "client_id": "papergraph-spa", "username": email,
            "password": "Manager-pass-1!", "audience": "https://api.papergraph.dev"})


async def test_mgr2_enrol_verify_then_sign_in_needs_the_code_and_disable_removes_it(
        app, api_client, tokens, services, manager):
    # given: the manager signed in without a second factor
    tenant = manager["tenant"]
    headers = bearer(tokens.staff(tenant.code, mfa=False, sub=manager["user_id"]))

    # when: enrol, try a wrong code, then the authenticator's current code
    enrolled = (await graphql(api_client, ENROLL, **headers))["data"]["enrollManagerMfa"]
    wrong = (await graphql(api_client, VERIFY, {"code": "000000" if current_code(enrolled["secret"]) != "000000"
                                                 else "111111"}, **headers))["data"]["verifyManagerMfa"]
    verified = (await graphql(api_client, VERIFY, {"code": current_code(enrolled["secret"])}, **headers))
    login = await _password_login(app, manager["email"])

    # then: enabled here and at the identity provider, whose password login now asks for the code
    assert enrolled["userErrors"] == [] and enrolled["otpauthUri"].startswith("otpauth://totp/")
    assert f"secret={enrolled['secret']}" in enrolled["otpauthUri"]
    assert wrong == {"enabled": False, "userErrors": [{"code": "INVALID_CODE", "field": ["input", "code"]}]}
    assert verified["data"]["verifyManagerMfa"] == {"enabled": True, "userErrors": []}
    assert (login.status_code, login.json()["error"]) == (403, "mfa_required")
    assert manager["store"].otp(manager["user_id"]) == current_code(enrolled["secret"])

    # when: disabling with a wrong code, then with the current one
    refused = await graphql(api_client, DISABLE, {"input": {"code": "12345"}}, **headers)
    disabled = await graphql(api_client, DISABLE, {"input": {"code": current_code(enrolled["secret"])}}, **headers)
    login_after = await _password_login(app, manager["email"])

    # then: gone at the identity provider too, and each change recorded an event
    assert refused["data"]["disableManagerMfa"]["userErrors"] == [{"code": "INVALID_CODE", "field": ["input", "code"]}]
    assert disabled["data"]["disableManagerMfa"] == {"disabled": True, "userErrors": []}
    assert login_after.status_code == 200
    events = await _events(services, tenant.id)
    assert [type_code for type_code, _ in events] == list(EVENTS_OF_TYPES)
    assert {details["managerSubject"] for _, details in events} == {manager["user_id"]}


async def test_mgr2_enrolling_twice_with_a_factor_enabled_is_refused(api_client, tokens, manager):
    headers = bearer(tokens.staff(manager["tenant"].code, mfa=False, sub=manager["user_id"]))
    secret = (await graphql(api_client, ENROLL, **headers))["data"]["enrollManagerMfa"]["secret"]
    await graphql(api_client, VERIFY, {"code": current_code(secret)}, **headers)

    again = await graphql(api_client, ENROLL, **headers)

    assert again["data"]["enrollManagerMfa"]["secret"] is None
    assert [e["code"] for e in again["data"]["enrollManagerMfa"]["userErrors"]] == ["MFA_ALREADY_ENABLED"]


async def test_mgr2_only_full_control_of_settings_disables_another_managers_factor(api_client, tokens, manager):
    # given: the manager's factor is enabled
    tenant = manager["tenant"]
    own = bearer(tokens.staff(tenant.code, mfa=False, sub=manager["user_id"]))
    secret = (await graphql(api_client, ENROLL, **own))["data"]["enrollManagerMfa"]["secret"]
    await graphql(api_client, VERIFY, {"code": current_code(secret)}, **own)
    variables = {"input": {"managerSubject": manager["user_id"]}}

    # when: a colleague without full control of settings, then an admin, remove it (no code needed)
    colleague = await graphql(api_client, DISABLE, variables, **bearer(tokens.staff(
        tenant.code, access={"settings": "READ_ONLY"}, sub="auth0|colleague")))
    admin = await graphql(api_client, DISABLE, variables, **bearer(tokens.staff(tenant.code, sub="auth0|admin")))

    # then
    assert colleague["data"] == {"disableManagerMfa": None} and _codes(colleague) == ["FORBIDDEN"]
    assert admin["data"]["disableManagerMfa"] == {"disabled": True, "userErrors": []}
    assert manager["store"].authentication_methods(manager["user_id"]) == []


async def test_mgr2_second_factor_mutations_are_for_staff_only(api_client, tokens):
    customer = await graphql(api_client, ENROLL, **bearer(tokens.customer("auth0|someone")))
    anonymous = await graphql(api_client, ENROLL)

    assert _codes(customer) == ["FORBIDDEN"] and _codes(anonymous) == ["UNAUTHENTICATED"]


# -- USR-8 -------------------------------------------------------------------------------------------
SIGN_UP = """
mutation ($input: CreateUserInput!) {
  createUser(input: $input) { accepted registration { crid state } userErrors { code field } }
}
"""


def _refused_authentication(response) -> None:
    """USR-8: the whole request is refused, 401 with the Bearer challenge, before any field resolves."""
    assert response.status_code == 401, response.text
    assert "invalid_token" in response.headers["www-authenticate"]
    [error] = response.json()["errors"]
    assert (error["extensions"]["code"], error["extensions"]["reason"]) == ("UNAUTHENTICATED",
                                                                            "REGISTRATION_NOT_VERIFIED")
    assert "data" not in response.json()


@pytest.mark.parametrize("index, state", [(3, "LITE"), (4, "UNVERIFIED")])
@pytest.mark.parametrize("query", ['query ($crid: String!) { registration(crid: $crid) { state } }',
                                   "query { me { crid email } }"])
async def test_usr8_lite_and_unverified_registrations_cannot_act_as_customers(api_client, tokens, index, state,
                                                                               query):
    # given: CPRDEMO keeps its users itself (MG2); registration 3 has no password, 4 is unverified
    registration = [r for r in DEMO.registrations if r["tenant"] == "CPRDEMO"][index]
    headers = bearer(tokens.customer(registration["crid"], "CPRDEMO"))

    # when: even `me`, which anyone may ask (issue 14: it answered an unverified sign-up)
    response = await api_client.post("/graphql", json={"query": query, "variables": {"crid": registration["crid"]}},
                                     headers=headers)

    # then
    _refused_authentication(response)


async def test_usr8_an_unverified_auth0_sign_up_is_refused_until_it_verifies(api_client, tokens, services):
    # given: a self-service sign-up on NCSDEMO, whose users live in Auth0 (USR-1 reports STANDARD there)
    email = f"sign.up.{uuid.uuid4().hex[:8]}@example.com"
    created = await graphql(api_client, SIGN_UP, {"input": {"email": email, "password": "Sign-up-pass-1!",
                                                            "firstName": "Sid", "lastName": "Signup"}})
    payload = created["data"]["createUser"]
    assert payload["userErrors"] == [] and payload["accepted"] is True
    async with services.db.session() as session:  # a self-service answer names no registration (issue 14 #9)
        crid = (await session.execute(sa.select(RegistrationRow.crid).where(RegistrationRow.email == email))).scalar_one()
    headers = bearer(tokens.customer(crid, "NCSDEMO"))

    # when: it signs in before verifying its e-mail and asks who it is
    refused = await api_client.post("/graphql", json={"query": "query { me { crid email } }"}, headers=headers)

    # then
    _refused_authentication(refused)

    # and once verified (what verifyEmail records), the same token acts as the customer
    async with services.db.session() as session:
        await session.execute(sa.update(RegistrationRow).where(RegistrationRow.crid == crid).values(email_verified=True))
        await session.commit()
    body = await graphql(api_client, "query { me { crid email } }", **headers)
    async with services.db.session() as session:  # the demo tenant's registrations stay as they were
        await session.execute(sa.delete(RegistrationEvent).where(RegistrationEvent.crid == crid))
        await session.execute(sa.delete(RegistrationRow).where(RegistrationRow.crid == crid))
        await session.commit()
    assert body == {"data": {"me": {"crid": crid, "email": email}}}


async def test_usr8_a_standard_registration_acts_as_itself(api_client, tokens):
    registration = [r for r in DEMO.registrations if r["tenant"] == "CPRDEMO"][0]

    body = await graphql(api_client, 'query ($crid: String!) { registration(crid: $crid) { state } }',
                         {"crid": registration["crid"]}, **bearer(tokens.customer(registration["crid"], "CPRDEMO")))

    assert without_cost(body) == {"data": {"registration": {"state": "STANDARD"}}}


# -- AUT-2 -------------------------------------------------------------------------------------------
async def test_aut2_fifty_concurrent_requests_fetch_one_management_token(app, api_client, tokens, own_tenant):
    # given: a tenant on Auth0, and no Management API token yet
    tenant = await own_tenant("NCS")
    control = app.state.sandboxes["auth0"].state.control
    control.requests.clear()
    headers = bearer(tokens.staff(tenant.code))

    # when: fifty users created at once, each through the Management API
    bodies = await asyncio.gather(*(graphql(api_client, CREATE_USER, {"input": {
        "email": f"fifty.{i}.{uuid.uuid4().hex[:6]}@example.com", "password": "Fifty-pass-1!"}}, **headers)
        for i in range(50)))

    # then
    assert all(body["data"]["createUser"]["userErrors"] == [] for body in bodies)
    assert control.count("POST", "/oauth/token") == 1
    assert control.count("POST", "/api/v2/users") == 50
