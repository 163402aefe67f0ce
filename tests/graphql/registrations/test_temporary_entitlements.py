"""`temporaryEntitlements(crid)` through the public GraphQL API (ENT-3)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.conftest import graphql

TEMPORARY_ENTITLEMENTS_QUERY = """
query ($crid: String!) {
  temporaryEntitlements(crid: $crid) { id crid entitlementCode startsAt expiresAt reason active }
}
"""


async def test_ent3_temporary_entitlements_are_listed_by_crid_latest_expiry_first(staff_api_client, own_rows):
    # given: one current (complaint), one expired (purchase) and one not yet started
    registration = await own_rows.registration()
    now = datetime.now(timezone.utc)
    expired = await own_rows.temporary_entitlement(registration.crid, code="PREMIUM", starts=now - timedelta(days=9),
                                                   expires=now - timedelta(days=2))
    current = await own_rows.temporary_entitlement(registration.crid, code="EEDITION", reason="COMPLAINT",
                                                   starts=now - timedelta(hours=1), expires=now + timedelta(days=2))
    future = await own_rows.temporary_entitlement(registration.crid, code="PUZZLES", starts=now + timedelta(days=1),
                                                  expires=now + timedelta(days=5))

    # when
    body = await graphql(staff_api_client, TEMPORARY_ENTITLEMENTS_QUERY, {"crid": registration.crid})

    # then
    assert "errors" not in body
    listed = body["data"]["temporaryEntitlements"]
    assert [(e["id"], e["active"]) for e in listed] == [
        (str(future.id), False), (str(current.id), True), (str(expired.id), False),
    ]
    assert listed[1]["reason"] == "COMPLAINT"
    assert datetime.fromisoformat(listed[1]["expiresAt"]) == current.expires_at.replace(
        tzinfo=current.expires_at.tzinfo or timezone.utc)


async def test_ent3_unknown_crid_has_no_temporary_entitlements(staff_api_client):
    body = await graphql(staff_api_client, TEMPORARY_ENTITLEMENTS_QUERY, {"crid": "auth0|nobody"})

    assert body == {"data": {"temporaryEntitlements": []}}


async def test_ent3_temporary_entitlements_of_another_tenant_are_invisible(staff_api_client, own_rows):
    # TEN-1
    now = datetime.now(timezone.utc)
    registration = await own_rows.registration("SAXDEMO")
    await own_rows.temporary_entitlement(registration.crid, "SAXDEMO", starts=now, expires=now + timedelta(days=1))

    body = await graphql(staff_api_client, TEMPORARY_ENTITLEMENTS_QUERY, {"crid": registration.crid}, x_tenant="NCSDEMO")

    assert body == {"data": {"temporaryEntitlements": []}}
