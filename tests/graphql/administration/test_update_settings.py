"""`settings` and `updateSettings` through the public API (SET-1, SET-2, SET-3, MGR-2, NOT-1). Who may call
them is in tests/auth/test_matrix.py; a FULL_CONTROL manager without a second factor where the tenant requires
one is refused here."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import select

from app import create_app
from datasources.models import Event
from tests.conftest import Tokens, bearer, graphql


SETTINGS = "{ settings { key value isDefault } }"
UPDATE = """
mutation ($input: UpdateSettingsInput!) {
  updateSettings(input: $input) { settings { key value isDefault } userErrors { code field message } }
}
"""
FEE = "Billing.CreditCard.ProcessingFee.Percentage"


def as_map(entries: list[dict]) -> dict[str, tuple[str, bool]]:
    return {e["key"]: (e["value"], e["isDefault"]) for e in entries}


async def update(client, tenant, *pairs: tuple[str, str], **headers) -> dict:
    answer = await graphql(client, UPDATE, {"input": {"settings": [{"key": k, "value": v} for k, v in pairs]}},
                           **{**tenant.headers, **headers})
    assert "errors" not in answer, answer
    return answer["data"]["updateSettings"]


async def settings_events(services, tenant) -> list[Event]:
    async with services.db.session() as session:
        return list((await session.execute(select(Event).where(
            Event.tenant_id == tenant.id, Event.type_code == "UPDATESETTINGS"))).scalars())


async def test_set1_settings_lists_every_known_setting_with_its_value_in_force(staff_api_client, own_tenant):
    tenant = await own_tenant("NCS", {FEE: "3.5"})

    answer = await graphql(staff_api_client, SETTINGS, **tenant.headers)

    values = as_map(answer["data"]["settings"])
    assert values[FEE] == ("3.5", False)
    assert values["Subscription.MaxLinks"] == ("10", True)


async def test_set3_a_change_is_recorded_with_old_new_and_who_and_read_back(staff_api_client, own_tenant, services):
    # given
    tenant = await own_tenant("NCS", {FEE: "3.5"})
    # when
    payload = await update(staff_api_client, tenant, (FEE, "10.5"), ("Purchase.GenerateCRN", "1"))
    # then
    assert payload["userErrors"] == []
    assert as_map(payload["settings"])[FEE] == ("10.5", False)
    read = await graphql(staff_api_client, SETTINGS, **tenant.headers)
    assert as_map(read["data"]["settings"])["Purchase.GenerateCRN"] == ("1", False)
    [event] = await settings_events(services, tenant)
    assert event.details["by"] == f"auth0|staff-{tenant.code.lower()}"
    assert event.details["changes"] == [
        {"key": FEE, "old": "3.5", "oldIsDefault": False, "new": "10.5"},
        {"key": "Purchase.GenerateCRN", "old": "0", "oldIsDefault": True, "new": "1"}]


@pytest.mark.parametrize("pairs, field, message", [
    ([("No.Such.Setting", "1")], ["input", "settings", "0", "key"], "Unknown setting 'No.Such.Setting'"),
    ([("Purchase.GenerateCRN", "2")], ["input", "settings", "0", "value"], "Purchase.GenerateCRN is a flag: 0 or 1"),
    ([(FEE, "100.01")], ["input", "settings", "0", "value"], f"{FEE} must be between 0 and 100"),
    ([(FEE, "-0.01")], ["input", "settings", "0", "value"], f"{FEE} must be between 0 and 100"),
    ([(FEE, "abc")], ["input", "settings", "0", "value"], f"{FEE} must be a number"),
    ([("DTI.ActivationFeeAmount", "-1")], ["input", "settings", "0", "value"],
     "DTI.ActivationFeeAmount must be 0 or more"),
    ([("Subscription.DefaultOwnersLimit", "0")], ["input", "settings", "0", "value"],
     "Subscription.DefaultOwnersLimit must be between 1 and Subscription.MaxLinks (10)"),
    ([("Subscription.DefaultGuestsLimit", "11")], ["input", "settings", "0", "value"],
     "Subscription.DefaultGuestsLimit must be between 0 and Subscription.MaxLinks (10)"),
    ([(FEE, "1"), (FEE, "2")], ["input", "settings", "1", "key"], f"The setting {FEE} is given more than once"),
    ([], ["input", "settings"], "Give at least one setting"),
], ids=["unknown-key", "flag-2", "percent-100.01", "percent-negative", "not-a-number", "amount-negative",
        "owners-0", "guests-over-max", "twice", "none"])
async def test_set2_out_of_range_values_and_unknown_keys_are_refused_and_nothing_changes(
        staff_api_client, own_tenant, services, pairs, field, message):
    tenant = await own_tenant("NCS")

    payload = await update(staff_api_client, tenant, *pairs)

    assert payload["settings"] is None
    assert [(e["code"], e["field"], e["message"]) for e in payload["userErrors"]] == [("INVALID", field, message)]
    assert await settings_events(services, tenant) == []


@pytest.mark.parametrize("pairs", [[(FEE, "0")], [(FEE, "100")], [("Subscription.DefaultOwnersLimit", "1")],
                                   [("Subscription.DefaultGuestsLimit", "10")], [("DTI.ActivationFeeAmount", "0")]],
                         ids=["percent-0", "percent-100", "owners-1", "guests-max", "amount-0"])
async def test_set2_the_bounds_themselves_are_accepted(staff_api_client, own_tenant, pairs):
    tenant = await own_tenant("NCS")
    assert (await update(staff_api_client, tenant, *pairs))["userErrors"] == []


async def test_set3_a_change_applies_from_the_next_request_in_another_process(staff_api_client, own_tenant,
                                                                             settings):
    """Another process is another app over the same database with its own tenant cache (warmed first) and its
    own Auth0 emulator; without the settings version check it kept the old value for 30 seconds."""
    # given: a second papergraph over the same database, which has read the tenant once
    tenant = await own_tenant("NCS", {FEE: "3.5"})
    other = create_app(settings)
    async with other.router.lifespan_context(other):
        signer = Tokens(other.state.sandboxes["auth0"].state.store, settings.auth0_audience)
        headers = {**bearer(signer.staff(tenant.code)), **tenant.headers}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url="http://other.test") as client:
            before = await graphql(client, SETTINGS, **headers)
            # when: the first process changes the fee
            await update(staff_api_client, tenant, (FEE, "7"))
            after = await graphql(client, SETTINGS, **headers)
    # then: the second one reads the new value on its next request
    assert as_map(before["data"]["settings"])[FEE] == ("3.5", False)
    assert as_map(after["data"]["settings"])[FEE] == ("7", False)


async def test_mgr2_set1_a_change_without_a_second_factor_is_refused_where_required(api_client, tokens, own_tenant,
                                                                                   services):
    tenant = await own_tenant("NCS", {"Security.RequireManagerMfa": "1"})

    answer = await graphql(api_client, UPDATE, {"input": {"settings": [{"key": FEE, "value": "1"}]}},
                           **bearer(tokens.staff(tenant.code, mfa=False)))

    assert answer["data"] == {"updateSettings": None}
    assert [e["extensions"]["code"] for e in answer["errors"]] == ["FORBIDDEN"]
    assert await settings_events(services, tenant) == []
