"""requestAccess through the public API (ENT-1, ENT-2, ENT-4): the access level, the redirect when
configured, the SS_Access_* code, and an access-log row for every request — refused and failed ones
included. Who may call it is in tests/auth/test_matrix.py."""

from __future__ import annotations

import pytest

from sandbox.faults import FaultRule
from tests.conftest import bearer, graphql
from tests.graphql.access.support import INCLUDED, NOT_INCLUDED, access_log, paper

REQUEST_ACCESS = """
mutation ($input: RequestAccessInput!) {
  requestAccess(input: $input) { accessLevel redirectUrl code message userErrors { code field message } }
}
"""
REDIRECT = "https://e-edition.example.com/open"
AGENT = "PapergraphTest/1.0 (ENT-2)"


async def request_access(client, own, code: str, crid: str | None = None, platform: str = "WEB",
                         user_agent: str = AGENT, **headers) -> dict:
    variables = {"input": {"entitlementCode": code, "platform": platform, "customerRegistrationId": crid}}
    answer = await graphql(client, REQUEST_ACCESS, variables, user_agent=user_agent, **own.headers, **headers)
    assert "errors" not in answer, answer
    return answer["data"]["requestAccess"]


def answered(payload: dict) -> tuple:
    return payload["accessLevel"], payload["code"], payload["message"], payload["redirectUrl"]


# -- ENT-1, ENT-4: codes and the redirect --------------------------------------------------------------
async def test_ent1_access_with_a_redirect_configured_is_ss_access_01_with_the_url(staff_api_client, own_tenant):
    own = await paper(own_tenant, redirect_url=REDIRECT)

    payload = await request_access(staff_api_client, own, INCLUDED, own.subscriber.crid)

    assert answered(payload) == ("PREMIUM", "SS_Access_01", "Access Success", REDIRECT)
    assert payload["userErrors"] == []


async def test_ent1_access_without_redirect_settings_is_ss_access_04_and_no_redirect(staff_api_client, own_tenant):
    own = await paper(own_tenant)

    payload = await request_access(staff_api_client, own, INCLUDED, own.subscriber.crid)

    assert answered(payload) == ("PREMIUM", "SS_Access_04",
                                 "Unable to perform redirection because configuration is missing", None)


@pytest.mark.parametrize("redirect_url", ["", "   "], ids=["empty", "spaces"])
async def test_ent1_a_blank_redirect_url_counts_as_missing(staff_api_client, own_tenant, redirect_url):
    own = await paper(own_tenant, redirect_url=redirect_url)

    payload = await request_access(staff_api_client, own, INCLUDED, own.subscriber.crid)

    assert answered(payload)[1:] == ("SS_Access_04", "Unable to perform redirection because configuration is missing",
                                     None)


@pytest.mark.parametrize("redirect_url", [None, REDIRECT])
async def test_ent2_upgrade_is_ss_access_02_without_a_redirect(staff_api_client, own_tenant, redirect_url):
    # given: an active subscription whose offer does not include PUZZLES
    own = await paper(own_tenant, redirect_url=redirect_url)
    # when
    payload = await request_access(staff_api_client, own, NOT_INCLUDED, own.subscriber.crid)
    # then
    assert answered(payload) == ("UPGRADE", "SS_Access_02", "Access No Authorized", None)


@pytest.mark.parametrize("redirect_url", [None, REDIRECT])
async def test_ent2_purchase_is_ss_access_02_without_a_redirect(staff_api_client, own_tenant, redirect_url):
    own = await paper(own_tenant, redirect_url=redirect_url)

    payload = await request_access(staff_api_client, own, INCLUDED, own.stranger.crid)

    assert answered(payload) == ("PURCHASE", "SS_Access_02", "Access No Authorized", None)


@pytest.mark.parametrize("status, level", [("IN_GRACE", "PREMIUM"), ("PAUSED", "PREMIUM"), ("STOPPED", "PURCHASE")])
async def test_ent2_status_of_the_subscription_decides(staff_api_client, own_tenant, status, level):
    own = await paper(own_tenant, redirect_url=REDIRECT, status=status)

    payload = await request_access(staff_api_client, own, INCLUDED, own.subscriber.crid)

    assert payload["accessLevel"] == level
    assert payload["code"] == ("SS_Access_01" if level == "PREMIUM" else "SS_Access_02")


async def test_ent4_circulation_failure_is_ss_access_03_and_is_logged(staff_api_client, own_tenant, sandboxes,
                                                                      services):
    # given: the circulation system answers 503 to every subscription read
    own = await paper(own_tenant, redirect_url=REDIRECT)
    sandboxes["circulation"].state.control.rules.append(FaultRule(path="/subscriptions", status=503))
    # when
    payload = await request_access(staff_api_client, own, INCLUDED, own.subscriber.crid)
    # then
    assert answered(payload) == (None, "SS_Access_03", "Get Access Level has failed", None)
    assert payload["userErrors"] == []
    assert await access_log(services, own.tenant) == [{"entitlement": INCLUDED, "crid": own.subscriber.crid,
                                                       "platform": "WEB", "userAgent": AGENT,
                                                       "accessLevel": "FAILED"}]


async def test_ent4_circulation_timeout_is_ss_access_03(staff_api_client, own_tenant, sandboxes):
    own = await paper(own_tenant)
    sandboxes["circulation"].state.control.rules.append(FaultRule(path="/subscriptions", timeout=True))

    payload = await request_access(staff_api_client, own, INCLUDED, own.subscriber.crid)

    assert answered(payload) == (None, "SS_Access_03", "Get Access Level has failed", None)


# -- ENT-2: the access log ---------------------------------------------------------------------------
async def test_ent2_every_request_writes_an_access_log_row(staff_api_client, own_tenant, services):
    # given
    own = await paper(own_tenant, redirect_url=REDIRECT)
    # when
    await request_access(staff_api_client, own, INCLUDED, own.subscriber.crid, platform=" IOS ")
    await request_access(staff_api_client, own, NOT_INCLUDED, own.subscriber.crid, platform="ANDROID",
                         user_agent="Other/2")
    await request_access(staff_api_client, own, INCLUDED, own.stranger.crid)
    # then
    assert await access_log(services, own.tenant) == [
        {"entitlement": INCLUDED, "crid": own.subscriber.crid, "platform": "IOS", "userAgent": AGENT,
         "accessLevel": "PREMIUM"},
        {"entitlement": NOT_INCLUDED, "crid": own.subscriber.crid, "platform": "ANDROID", "userAgent": "Other/2",
         "accessLevel": "UPGRADE"},
        {"entitlement": INCLUDED, "crid": own.stranger.crid, "platform": "WEB", "userAgent": AGENT,
         "accessLevel": "PURCHASE"},
    ]


async def test_ent2_a_user_agent_is_logged_up_to_512_characters(staff_api_client, own_tenant, services):
    own = await paper(own_tenant)

    await request_access(staff_api_client, own, INCLUDED, own.subscriber.crid, user_agent="a" * 600)

    [row] = await access_log(services, own.tenant)
    assert row["userAgent"] == "a" * 512


@pytest.mark.parametrize("code, crid_of, error", [
    ("NOPE", "subscriber", ("ENTITLEMENT_NOT_FOUND", ["input", "entitlementCode"])),
    (INCLUDED, None, ("REGISTRATION_NOT_FOUND", ["input", "customerRegistrationId"])),
], ids=["unknown-entitlement", "unknown-crid"])
async def test_ent2_refused_requests_are_logged_too(staff_api_client, own_tenant, services, code, crid_of, error):
    # given
    own = await paper(own_tenant)
    crid = own.subscriber.crid if crid_of else "auth0|nobody"
    # when
    payload = await request_access(staff_api_client, own, code, crid)
    # then
    assert (payload["accessLevel"], payload["code"]) == (None, None)
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [error]
    assert await access_log(services, own.tenant) == [{"entitlement": code, "crid": crid, "platform": "WEB",
                                                       "userAgent": AGENT, "accessLevel": "REFUSED"}]


@pytest.mark.parametrize("code, platform, crid, field, logged", [
    ("", "WEB", "c", "entitlementCode", {"entitlement": "", "crid": "c", "platform": "WEB"}),
    ("E" * 65, "WEB", "c", "entitlementCode", {"entitlement": "E" * 64, "crid": "c", "platform": "WEB"}),
    (INCLUDED, "  ", "c", "platform", {"entitlement": INCLUDED, "crid": "c", "platform": None}),
    (INCLUDED, "P" * 65, "c", "platform", {"entitlement": INCLUDED, "crid": "c", "platform": "P" * 64}),
    (INCLUDED, "WEB", None, "customerRegistrationId", {"entitlement": INCLUDED, "crid": None, "platform": "WEB"}),
    (INCLUDED, "WEB", " ", "customerRegistrationId", {"entitlement": INCLUDED, "crid": None, "platform": "WEB"}),
], ids=["blank-code", "code-65", "blank-platform", "platform-65", "no-crid", "blank-crid"])
async def test_ent2_invalid_requests_are_refused_and_logged_as_given(staff_api_client, own_tenant, services,
                                                                     code, platform, crid, field, logged):
    # given
    own = await paper(own_tenant)
    # when
    payload = await request_access(staff_api_client, own, code, crid, platform=platform)
    # then
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("INVALID", ["input", field])]
    assert await access_log(services, own.tenant) == [{**logged, "userAgent": AGENT, "accessLevel": "REFUSED"}]


async def test_ent2_limits_are_inclusive(staff_api_client, own_tenant):
    own = await paper(own_tenant)

    payload = await request_access(staff_api_client, own, INCLUDED, own.subscriber.crid, platform="P" * 64)

    assert payload["userErrors"] == [] and payload["accessLevel"] == "PREMIUM"


# -- who asks ------------------------------------------------------------------------------------------
async def test_a_signed_in_customer_is_always_themselves_whatever_the_crid_says(api_client, tokens, own_tenant,
                                                                                services):
    # given: the stranger signed in, naming the subscriber's CRID
    own = await paper(own_tenant, redirect_url=REDIRECT)
    stranger = bearer(tokens.customer(own.stranger.crid, own.tenant.code))
    # when
    payload = await request_access(api_client, own, INCLUDED, own.subscriber.crid, **stranger)
    # then: the stranger's own access, and the log says who asked
    assert answered(payload) == ("PURCHASE", "SS_Access_02", "Access No Authorized", None)
    [row] = await access_log(services, own.tenant)
    assert row["crid"] == own.stranger.crid


async def test_a_signed_in_customer_needs_no_crid(api_client, tokens, own_tenant):
    own = await paper(own_tenant, redirect_url=REDIRECT)
    subscriber = bearer(tokens.customer(own.subscriber.crid, own.tenant.code))

    payload = await request_access(api_client, own, INCLUDED, None, **subscriber)

    assert answered(payload) == ("PREMIUM", "SS_Access_01", "Access Success", REDIRECT)


async def test_ten1_a_registration_of_another_tenant_is_not_found(staff_api_client, own_tenant, services):
    # given: the subscriber exists in another tenant only
    own, other = await paper(own_tenant), await paper(own_tenant)
    # when
    payload = await request_access(staff_api_client, other, INCLUDED, own.subscriber.crid)
    # then
    assert [e["code"] for e in payload["userErrors"]] == ["REGISTRATION_NOT_FOUND"]
    assert await access_log(services, own.tenant) == []
