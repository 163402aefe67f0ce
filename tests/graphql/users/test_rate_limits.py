"""Rate limits of the mutations an attacker repeats (issue 14, item 9; server/throttle.py): per client address
and per target identity, checked before anything runs, so a refused attempt records nothing; and a self-service
`createUser` that does not tell whether an e-mail is registered."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from settings import Settings
from tests.conftest import bearer, graphql
from tests.graphql.users.support import create_user, events, unique_email

PER_ADDRESS = 3
PER_IDENTITY = 2
START = """
mutation StartForgotPassword($email: String!) {
  startForgotPassword(input: {email: $email}) { accepted userErrors { code field } }
}
"""
SEND_CODE = "mutation ($email: String!) { sendVerificationCode(input: {email: $email}) { accepted } }"
VERIFY = 'mutation ($email: String!) { verifyEmail(input: {email: $email, code: "000000"}) { userErrors { code } } }'
FINISH = 'mutation ($email: String!) { finishForgotPassword(input: {token: $email, password: "x"}) { userErrors { code } } }'
SIGN_UP = "mutation ($email: String!) { createUser(input: {email: $email, password: \"Secret-pass-1!\"}) { accepted } }"
CREATE_USER = """
mutation CreateUser($input: CreateUserInput!) {
  createUser(input: $input) { accepted registration { crid } changePasswordUrl userErrors { code field message } }
}
"""
VERIFY_MFA = 'mutation { verifyManagerMfa(input: {code: "000000"}) { enabled userErrors { code } } }'
GRAPHQL_RESPONSE = {"accept": "application/graphql-response+json"}


@pytest.fixture
def settings(database_url) -> Settings:
    return Settings(environment="test", database_url=database_url, upstreams="embedded", seed_demo_data=False,
                    upstream_timeout=2.0, upstream_read_retries=1, rate_limit_per_address=PER_ADDRESS,
                    rate_limit_per_identity=PER_IDENTITY, trusted_proxies=1)


async def post(client: httpx.AsyncClient, query: str, variables: dict, **headers) -> httpx.Response:
    response = await client.post("/graphql", json={"query": query, "variables": variables},
                                 headers={**GRAPHQL_RESPONSE, **{k.replace("_", "-"): v for k, v in headers.items()}})
    assert response.status_code < 500, response.text
    return response


def throttled(response: httpx.Response) -> dict | None:
    """The THROTTLED error of a refused answer (None when it was not refused)."""
    errors = [e for e in response.json().get("errors", []) if e["extensions"]["code"] == "THROTTLED"]
    if not errors:
        return None
    [error] = errors
    return error


async def test_twenty_forgot_password_requests_at_once_record_only_the_identity_limit(api_client, staff_api_client,
                                                                                       own_tenant, services):
    """The attack: 20 startForgotPassword for one registered e-mail within 0.2 s recorded 20 reset requests."""
    # given
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    user = await create_user(staff_api_client, tenant, password="Old-pass-12!")

    # when: from twenty addresses behind the trusted proxy, so only the identity limit applies
    responses = await asyncio.gather(*(
        post(api_client, START, {"email": user["email"]}, x_tenant=tenant.code, x_forwarded_for=f"203.0.113.{i}")
        for i in range(20)))

    # then
    accepted = [r for r in responses if throttled(r) is None]
    refused = [throttled(r) for r in responses if throttled(r) is not None]
    assert len(accepted) == PER_IDENTITY
    assert all(r.json()["data"]["startForgotPassword"]["accepted"] for r in accepted)
    assert len(refused) == 20 - PER_IDENTITY
    assert {e["extensions"]["setting"] for e in refused} == {"PAPERGRAPH_RATE_LIMIT_PER_IDENTITY"}
    assert len(await events(services, tenant, user["crid"], "PWDREQ")) == PER_IDENTITY


async def test_the_per_address_limit_accepts_its_value_and_refuses_one_past_it_with_a_retry_hint(api_client):
    # given: three requests from one address, each for another e-mail
    for _ in range(PER_ADDRESS):
        answer = await post(api_client, START, {"email": unique_email()})
        assert answer.json()["data"]["startForgotPassword"]["accepted"] is True

    # when
    response = await post(api_client, START, {"email": unique_email()})

    # then: refused before it ran, with 429 and Retry-After
    assert response.status_code == 429
    assert "data" not in response.json()
    error = throttled(response)
    assert error["extensions"]["setting"] == "PAPERGRAPH_RATE_LIMIT_PER_ADDRESS"
    assert error["message"] == ("Too many startForgotPassword requests from this address: at most 3 a minute "
                                "(PAPERGRAPH_RATE_LIMIT_PER_ADDRESS)")
    assert 0 < error["extensions"]["retryAfter"] <= 60
    assert 1 <= int(response.headers["retry-after"]) <= 60


@pytest.mark.parametrize("mutation", [SEND_CODE, VERIFY, FINISH, SIGN_UP], ids=[
    "sendVerificationCode", "verifyEmail", "finishForgotPassword", "createUser"])
async def test_each_sensitive_mutation_is_limited_per_address(api_client, mutation):
    # given
    for _ in range(PER_ADDRESS):
        assert throttled(await post(api_client, mutation, {"email": unique_email()})) is None

    # when
    response = await post(api_client, mutation, {"email": unique_email()})

    # then
    assert throttled(response)["extensions"]["setting"] == "PAPERGRAPH_RATE_LIMIT_PER_ADDRESS"


async def test_aliases_count_one_attempt_each(api_client):
    # given
    aliased = "mutation { " + " ".join(
        f'a{i}: sendVerificationCode(input: {{email: "{unique_email()}"}}) {{ accepted }}'
        for i in range(PER_ADDRESS + 1)) + " }"

    # when
    response = await api_client.post("/graphql", json={"query": aliased}, headers=GRAPHQL_RESPONSE)

    # then
    assert response.status_code == 429
    assert throttled(response) is not None


async def test_the_identity_limit_counts_an_e_mail_whatever_its_case_and_address(api_client):
    # given
    email = unique_email()
    for i, spelled in enumerate([email, email.upper()]):
        assert throttled(await post(api_client, SEND_CODE, {"email": spelled}, x_forwarded_for=f"198.51.100.{i}")) is None

    # when
    response = await post(api_client, SEND_CODE, {"email": f" {email} "}, x_forwarded_for="198.51.100.99")

    # then
    assert throttled(response)["extensions"]["setting"] == "PAPERGRAPH_RATE_LIMIT_PER_IDENTITY"


async def test_x_forwarded_for_is_ignored_without_a_trusted_proxy(settings):
    # given: the same requests as above to an app that trusts no proxy
    from app import create_app

    application = create_app(settings.model_copy(update={"trusted_proxies": 0}))
    async with application.router.lifespan_context(application):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application),
                                     base_url="http://papergraph.test") as client:
            # when
            responses = [await post(client, SEND_CODE, {"email": unique_email()}, x_forwarded_for=f"192.0.2.{i}")
                         for i in range(PER_ADDRESS + 1)]

    # then: one client, the connection's peer
    assert [throttled(r) is None for r in responses] == [True] * PER_ADDRESS + [False]


async def test_staff_are_not_limited_per_address(staff_api_client, own_tenant):
    # given
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})

    # when
    answers = [await graphql(staff_api_client, CREATE_USER, {"input": {"email": unique_email()}}, **tenant.headers)
               for _ in range(PER_ADDRESS + 2)]

    # then
    assert all(a["data"]["createUser"]["userErrors"] == [] and a["data"]["createUser"]["registration"] for a in answers)


async def test_manager_mfa_codes_are_limited_per_staff_member(api_client, tokens):
    # given
    headers = bearer(tokens.staff(sub="auth0|mfa-guesser"))
    for _ in range(PER_IDENTITY):
        assert throttled(await post(api_client, VERIFY_MFA, {}, **headers)) is None

    # when
    response = await post(api_client, VERIFY_MFA, {}, **headers)

    # then
    assert throttled(response)["extensions"]["setting"] == "PAPERGRAPH_RATE_LIMIT_PER_IDENTITY"


async def test_a_self_service_sign_up_answers_the_same_whether_or_not_the_e_mail_is_registered(
        api_client, staff_api_client, own_tenant):
    """The enumeration: createUser answered EMAIL_ALREADY_REGISTERED to anyone, while startForgotPassword is
    careful not to tell."""
    # given
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    registered = await create_user(staff_api_client, tenant, password="Old-pass-12!")
    unverified = unique_email()
    await graphql(staff_api_client, CREATE_USER, {"input": {"email": unverified, "verifyEmail": True}},
                  **tenant.headers)

    # when
    answers = [await graphql(api_client, CREATE_USER, {"input": {"email": email, "password": "Secret-pass-1!"}},
                             x_tenant=tenant.code, x_forwarded_for=f"192.0.2.{i}")
               for i, email in enumerate([registered["email"], unverified, unique_email()])]

    # then
    assert [a["data"]["createUser"] for a in answers] == [
        {"accepted": True, "registration": None, "changePasswordUrl": None, "userErrors": []}] * 3


async def test_staff_still_get_a_clear_answer_for_a_registered_e_mail(staff_api_client, own_tenant):
    # given
    tenant = await own_tenant(settings={"Flow.UserProvider": "MG2"})
    registered = await create_user(staff_api_client, tenant)

    # when
    answer = await graphql(staff_api_client, CREATE_USER, {"input": {"email": registered["email"]}}, **tenant.headers)

    # then
    payload = answer["data"]["createUser"]
    assert payload["accepted"] is False
    assert [e["code"] for e in payload["userErrors"]] == ["EMAIL_ALREADY_REGISTERED"]
