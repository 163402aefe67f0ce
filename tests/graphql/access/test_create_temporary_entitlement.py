"""createTemporaryEntitlement through the public API (ENT-3, NOT-1): listed by CRID afterwards, PREMIUM
while in force, refused when it could never be. Who may call it is in tests/auth/test_matrix.py. Only how
instants are stored depends on the backend; the rest runs on SQLite only."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from datasources.models import Event, TemporaryEntitlement
from tests.conftest import graphql
from tests.graphql.access.support import INCLUDED, NOT_INCLUDED, paper

CREATE = """
mutation ($input: CreateTemporaryEntitlementInput!) {
  createTemporaryEntitlement(input: $input) {
    temporaryEntitlement { id crid entitlementCode startsAt expiresAt reason active }
    userErrors { code field message }
  }
}
"""
LISTED = """
query ($crid: String!) {
  temporaryEntitlements(crid: $crid) { id entitlementCode reason active }
  registration(crid: $crid) { temporaryEntitlements { id } }
}
"""
ACCESS = """
query ($code: String!, $crid: String!) { accessLevel(entitlementCode: $code, crid: $crid) { accessLevel temporary } }
"""
REQUEST_ACCESS = """
mutation ($code: String!, $crid: String!) {
  requestAccess(input: {entitlementCode: $code, platform: "WEB", customerRegistrationId: $crid}) { accessLevel code }
}
"""


def at(**delta) -> str:
    return (datetime.now(timezone.utc) + timedelta(**delta)).isoformat()


async def create(client, own, **fields) -> dict:
    answer = await graphql(client, CREATE, {"input": {"entitlementCode": NOT_INCLUDED, "expiresAt": at(days=2),
                                                      **fields}}, **own.headers)
    assert "errors" not in answer, answer
    return answer["data"]["createTemporaryEntitlement"]


async def access(client, own, code: str, crid: str) -> dict:
    return (await graphql(client, ACCESS, {"code": code, "crid": crid}, **own.headers))["data"]["accessLevel"]


async def stored(services, own) -> tuple[list[TemporaryEntitlement], list[Event]]:
    async with services.db.session() as session:
        rows = (await session.execute(select(TemporaryEntitlement).where(
            TemporaryEntitlement.tenant_id == own.tenant.id))).scalars().all()
        events = (await session.execute(select(Event).where(
            Event.tenant_id == own.tenant.id, Event.type_code == "TEMPENTITLEMENT"))).scalars().all()
    return list(rows), list(events)


def errors(payload: dict) -> list[tuple[str, list[str]]]:
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


async def test_ent3_created_entitlement_is_listed_by_crid_and_recorded(staff_api_client, own_tenant, services):
    # given: a stranger with no subscription
    own = await paper(own_tenant)
    crid = own.stranger.crid
    # when
    payload = await create(staff_api_client, own, customerRegistrationId=crid, reason="COMPLAINT")
    # then
    created = payload["temporaryEntitlement"]
    assert payload["userErrors"] == []
    assert (created["crid"], created["entitlementCode"], created["reason"], created["active"]) == (
        crid, NOT_INCLUDED, "COMPLAINT", True)
    listed = (await graphql(staff_api_client, LISTED, {"crid": crid}, **own.headers))["data"]
    assert listed["temporaryEntitlements"] == [{"id": created["id"], "entitlementCode": NOT_INCLUDED,
                                                "reason": "COMPLAINT", "active": True}]
    assert listed["registration"]["temporaryEntitlements"] == [{"id": created["id"]}]
    [_], [event] = await stored(services, own)
    assert (event.crid, event.reason, event.details["entitlementCode"], event.details["temporaryEntitlementId"]) == (
        crid, "COMPLAINT", NOT_INCLUDED, int(created["id"]))


async def test_ent3_grants_premium_while_in_force(staff_api_client, own_tenant):
    # given: the subscriber's offer does not include PUZZLES (UPGRADE); the stranger has nothing (PURCHASE)
    own = await paper(own_tenant)
    assert (await access(staff_api_client, own, NOT_INCLUDED, own.subscriber.crid))["accessLevel"] == "UPGRADE"
    # when
    for crid in (own.subscriber.crid, own.stranger.crid):
        await create(staff_api_client, own, customerRegistrationId=crid)
    # then
    for crid in (own.subscriber.crid, own.stranger.crid):
        assert await access(staff_api_client, own, NOT_INCLUDED, crid) == {"accessLevel": "PREMIUM", "temporary": True}
        requested = await graphql(staff_api_client, REQUEST_ACCESS, {"code": NOT_INCLUDED, "crid": crid}, **own.headers)
        assert requested["data"]["requestAccess"] == {"accessLevel": "PREMIUM", "code": "SS_Access_04"}
    # and only for that entitlement
    assert (await access(staff_api_client, own, INCLUDED, own.stranger.crid))["accessLevel"] == "PURCHASE"


async def test_ent3_not_yet_started_grants_nothing_yet(staff_api_client, own_tenant):
    own = await paper(own_tenant)

    payload = await create(staff_api_client, own, customerRegistrationId=own.stranger.crid, startsAt=at(hours=1),
                           expiresAt=at(days=1))

    assert payload["userErrors"] == [] and payload["temporaryEntitlement"]["active"] is False
    assert await access(staff_api_client, own, NOT_INCLUDED, own.stranger.crid) == {"accessLevel": "PURCHASE",
                                                                                    "temporary": False}


async def test_ent3_times_with_an_offset_or_without_a_zone_are_read_as_instants(staff_api_client, own_tenant):
    # given: 14:00+02:00 is 12:00 UTC; a time without a zone is UTC (how each backend stores instants differs)
    own = await paper(own_tenant)
    year = datetime.now(timezone.utc).year + 1
    # when
    with_offset = await create(staff_api_client, own, customerRegistrationId=own.stranger.crid,
                               startsAt=f"{year}-06-01T14:00:00+02:00", expiresAt=f"{year}-06-02T14:00:00+02:00")
    naive = await create(staff_api_client, own, customerRegistrationId=own.stranger.crid,
                         startsAt=f"{year}-06-01T12:00:00", expiresAt=f"{year}-06-02T12:00:00")
    # then
    expected = datetime(year, 6, 1, 12, tzinfo=timezone.utc)
    for payload in (with_offset, naive):
        assert datetime.fromisoformat(payload["temporaryEntitlement"]["startsAt"]) == expected


IN_TWO_DAYS = at(days=2)


@pytest.mark.parametrize("fields, message", [
    ({"expiresAt": at(minutes=-1)}, "expiresAt must be in the future"),
    ({"startsAt": at(days=-3), "expiresAt": at(seconds=-1)}, "expiresAt must be in the future"),
    ({"startsAt": at(days=3), "expiresAt": at(days=2)}, "expiresAt must be later than startsAt"),
    ({"startsAt": IN_TWO_DAYS, "expiresAt": IN_TWO_DAYS}, "expiresAt must be later than startsAt"),
], ids=["past", "started-and-past", "before-start", "same-as-start"])
async def test_ent3_an_entitlement_that_could_never_be_in_force_is_refused(staff_api_client, own_tenant, services,
                                                                           fields, message):
    own = await paper(own_tenant)

    payload = await create(staff_api_client, own, customerRegistrationId=own.stranger.crid, **fields)

    assert [(e["code"], e["field"], e["message"]) for e in payload["userErrors"]] == [
        ("INVALID", ["input", "expiresAt"], message)]
    assert await stored(services, own) == ([], [])


async def test_ent3_reason_is_one_of_purchase_complaint_manual(staff_api_client, own_tenant, services):
    own = await paper(own_tenant)

    manual = await create(staff_api_client, own, customerRegistrationId=own.stranger.crid, reason=" manual ")
    other = await create(staff_api_client, own, customerRegistrationId=own.stranger.crid, reason="GOODWILL")

    assert manual["temporaryEntitlement"]["reason"] == "MANUAL"
    assert [(e["code"], e["field"], e["message"]) for e in other["userErrors"]] == [
        ("INVALID", ["input", "reason"], "The reason must be one of PURCHASE, COMPLAINT, MANUAL")]
    rows, events = await stored(services, own)
    assert (len(rows), len(events)) == (1, 1)


async def test_ent3_unknown_entitlement_or_crid_is_refused_and_nothing_is_recorded(staff_api_client, own_tenant,
                                                                                   services):
    # given
    own, other = await paper(own_tenant), await paper(own_tenant)
    # when
    unknown_code = await create(staff_api_client, own, customerRegistrationId=own.stranger.crid,
                                entitlementCode="NOPE")
    unknown_crid = await create(staff_api_client, own, customerRegistrationId="auth0|nobody")
    other_tenants_crid = await create(staff_api_client, own, customerRegistrationId=other.stranger.crid)
    # then
    assert errors(unknown_code) == [("ENTITLEMENT_NOT_FOUND", ["input", "entitlementCode"])]
    assert errors(unknown_crid) == [("REGISTRATION_NOT_FOUND", ["input", "customerRegistrationId"])]
    assert errors(other_tenants_crid) == [("REGISTRATION_NOT_FOUND", ["input", "customerRegistrationId"])]
    assert await stored(services, own) == ([], [])
    assert await stored(services, other) == ([], [])
