"""Subscriber details and address through the API (ADR-1..5): who may change them (owner, FULL_CONTROL staff; a
guest and READ_ONLY staff get typed user errors), phones at 7/15 vs 6/16 digits, moves dated today at midnight
tenant time vs yesterday, the postal-code mask, the offer's delivery areas, NCS comp moves and Australian levels as
`Flow.AddressMove` / `MelissaDataIntegration` (SET-4, set through `updateSettings`) switch them, every circulation kind,
ADR-2 (a registration change never touches the circulation subscriber) and the events (NOT-1)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from datasources.models import Event
from sandbox.faults import FaultRule
from tests.conftest import bearer, graphql
from tests.graphql.servicing.support import servicing_world

KINDS = ["NCS", "MATRIX", "CIRCPRO", "SAXO"]
DETAILS = """
mutation ($input: UpdateSubscriberDetailsInput!) {
  updateSubscriberDetails(input: $input) {
    subscription { id subscriber { firstName lastName companyName phones } }
    userErrors { code field message }
  }
}
"""
MOVE = """
mutation ($input: MoveSubscriberInput!) {
  moveSubscriber(input: $input) {
    move { id effectiveDate status billingMethod rateCode
           address { houseNumber streetName city postalCode country levelDesignator levelNumber } }
    subscription { id subscriber { address { streetName postalCode } } }
    userErrors { code field message }
  }
}
"""
READ = """
query ($id: ID!) {
  subscription(id: $id) {
    subscriber { firstName lastName phones address { streetName postalCode levelDesignator levelNumber } }
    addressMoves { id effectiveDate status }
  }
}
"""
ADDRESS = {"houseNumber": "5", "streetName": "Elm St", "city": "Springfield", "postalCode": "10002", "country": "US"}
# 23:59:59 and 00:00 of 1-2 June 2026 in New York (EDT, UTC-4)
LAST_SECOND_OF_JUNE_1 = datetime(2026, 6, 2, 3, 59, 59, tzinfo=UTC)
MIDNIGHT_JUNE_2 = datetime(2026, 6, 2, 4, 0, tzinfo=UTC)


async def details(client, world, who: str = "owner", **fields) -> dict:
    variables = {"input": {"subscriptionId": world.subscription_id, **fields}}
    return (await graphql(client, DETAILS, variables, **world.headers[who]))["data"]["updateSubscriberDetails"]


async def move(client, world, effective: str | None = "2026-06-01", who: str = "owner", address: dict | None = None,
               **fields) -> dict:
    variables = {"input": {"subscriptionId": world.subscription_id, "address": address or ADDRESS, **fields}}
    if effective is not None:
        variables["input"]["effectiveDate"] = effective
    body = await graphql(client, MOVE, variables, **world.headers[who])
    assert "errors" not in body, body
    return body["data"]["moveSubscriber"]


def codes(payload: dict) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


def circulation_record(own_tenant, world) -> dict:
    return own_tenant.circulation().papers[world.tenant.code].subscriptions[world.subscription_id]


async def events(services, world, type_code: str) -> list[Event]:
    async with services.db.session() as session:
        return list((await session.execute(select(Event).where(
            Event.tenant_id == world.tenant.id, Event.type_code == type_code).order_by(Event.id))).scalars())


# -- ADR-1: who --------------------------------------------------------------------------------------
async def test_adr_1_owner_changes_names_company_and_phones(api_client, own_tenant, services, tokens):
    world = await servicing_world(own_tenant, services, tokens)
    payload = await details(api_client, world, firstName=" Ada ", lastName="Lovelace", companyName="Acme Media",
                            phones=["+1 (555) 010-0200", "555.0100", "+1 555 010 0200"])
    assert payload["userErrors"] == []
    # ADR-5: E.164 for an international number, digits otherwise, primary first, a repeat by digits kept once
    assert payload["subscription"]["subscriber"] == {"firstName": "Ada", "lastName": "Lovelace",
                                                     "companyName": "Acme Media", "phones": ["+15550100200", "5550100"]}
    assert circulation_record(own_tenant, world)["subscriber"]["phones"] == ["+15550100200", "5550100"]
    recorded = await events(services, world, "CHGSUBSCRIBER")
    assert [(e.crid, e.source, e.details) for e in recorded] == [
        (world.owner.crid, "CUSTOMER", {"changed": ["companyName", "firstName", "lastName", "phones"]})]


async def test_adr_1_full_control_staff_change_details_and_move(api_client, own_tenant, services, tokens):
    world = await servicing_world(own_tenant, services, tokens)
    changed = await details(api_client, world, who="staff", lastName="Staffset")
    moved = await move(api_client, world, who="staff")
    assert changed["userErrors"] == [] and moved["userErrors"] == []
    assert circulation_record(own_tenant, world)["subscriber"]["lastName"] == "Staffset"
    assert (await events(services, world, "ADDRESSMOVE"))[0].crid == world.owner.crid  # the owner, staff acting


async def test_adr_1_guest_reads_but_is_refused_with_a_user_error(api_client, own_tenant, services, tokens):
    world = await servicing_world(own_tenant, services, tokens)
    before = circulation_record(own_tenant, world)["subscriber"] | {}
    read = await graphql(api_client, READ, {"id": world.subscription_id}, **world.headers["guest"])
    changed = await details(api_client, world, who="guest", lastName="Guestset")
    moved = await move(api_client, world, who="guest")
    assert read["data"]["subscription"]["subscriber"]["lastName"] == "Person"
    assert changed == {"subscription": None, "userErrors": [{
        "code": "NOT_OWNER", "field": ["input", "subscriptionId"],
        "message": "A guest reads the subscriber's details but cannot change them"}]}
    assert codes(moved) == ["NOT_OWNER"] and moved["move"] is None
    assert circulation_record(own_tenant, world)["subscriber"] == before
    assert await events(services, world, "CHGSUBSCRIBER") == []


async def test_adr_1_read_only_staff_are_refused_with_a_user_error(api_client, own_tenant, services, tokens):
    world = await servicing_world(own_tenant, services, tokens)
    world.headers["read"] = bearer(tokens.staff(world.tenant.code, access="READ_ONLY", sub="auth0|reader"))
    changed = await details(api_client, world, who="read", lastName="Readset")
    moved = await move(api_client, world, who="read")
    assert codes(changed) == ["FULL_CONTROL_REQUIRED"] and codes(moved) == ["FULL_CONTROL_REQUIRED"]
    assert circulation_record(own_tenant, world)["subscriber"]["lastName"] == "Person"


async def test_adr_1_a_partner_and_a_stranger_are_forbidden(api_client, own_tenant, services, tokens):
    world = await servicing_world(own_tenant, services, tokens)
    stranger = bearer(tokens.customer("auth0|nobody", world.tenant.code))
    for headers in (world.headers["partner"], stranger):
        body = await graphql(api_client, DETAILS, {"input": {"subscriptionId": world.subscription_id,
                                                             "lastName": "X"}}, **headers)
        assert body["data"]["updateSubscriberDetails"] is None
        assert body["errors"][0]["extensions"]["code"] in ("FORBIDDEN", "UNAUTHENTICATED")


async def test_unknown_subscription_and_nothing_to_change(api_client, own_tenant, services, tokens):
    world = await servicing_world(own_tenant, services, tokens)
    nothing = await details(api_client, world, who="staff")
    world.subscription_id = "NO-SUCH"
    unknown = await details(api_client, world, who="staff", lastName="X")
    assert codes(nothing) == ["NOTHING_TO_CHANGE"] and codes(unknown) == ["NOT_FOUND"]


# -- ADR-5: phones -------------------------------------------------------------------------------------
@pytest.mark.parametrize("phone, expected", [
    ("555-0100", "5550100"),  # 7 digits
    ("+1 (555) 010-0200 9999", "+155501002009999"),  # 15 digits, E.164
    ("123456789012345", "123456789012345"),  # 15 digits
    ("+47 22.33.44.55", "+4722334455"),
])
async def test_adr_5_phones_of_7_to_15_digits_are_normalised(api_client, own_tenant, services, tokens, phone, expected):
    world = await servicing_world(own_tenant, services, tokens)
    payload = await details(api_client, world, phones=[phone])
    assert payload["userErrors"] == [] and payload["subscription"]["subscriber"]["phones"] == [expected]


@pytest.mark.parametrize("phone, message", [
    ("555-010", "A phone has 7 to 15 digits, not 6"),
    ("1234567890123456", "A phone has 7 to 15 digits, not 16"),
    ("555/0100", "A phone may hold digits, a leading + and the separators space - . ( ) only"),
    ("55+50100", "A phone may hold digits, a leading + and the separators space - . ( ) only"),
    ("+999 555 0100", "The phone's country code is unknown"),
])
async def test_adr_5_other_phones_are_refused_naming_the_entry(api_client, own_tenant, services, tokens, phone,
                                                                message):
    world = await servicing_world(own_tenant, services, tokens)
    payload = await details(api_client, world, phones=["5550100", phone])
    assert payload["userErrors"] == [{"code": "INVALID_PHONE", "field": ["input", "phones", "1"], "message": message}]
    assert circulation_record(own_tenant, world)["subscriber"]["phones"] == []


async def test_adr_1_blank_last_name_and_long_company_are_refused(api_client, own_tenant, services, tokens):
    world = await servicing_world(own_tenant, services, tokens)
    blank = await details(api_client, world, lastName="  ")
    long = await details(api_client, world, companyName="x" * 101)
    assert [(e["code"], e["field"]) for e in blank["userErrors"] + long["userErrors"]] == [
        ("INVALID", ["input", "lastName"]), ("INVALID", ["input", "companyName"])]


# -- ADR-3: moves --------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
async def test_adr_3_a_move_today_applies_at_once_on_every_kind(api_client, own_tenant, services, tokens, kind):
    world = await servicing_world(own_tenant, services, tokens, kind)
    payload = await move(api_client, world, "2026-06-01")
    read = await graphql(api_client, READ, {"id": world.subscription_id}, **world.headers["owner"])
    assert payload["userErrors"] == []
    assert payload["move"]["status"] == "APPLIED" and payload["move"]["effectiveDate"] == "2026-06-01"
    assert payload["subscription"]["subscriber"]["address"] == {"streetName": "Elm St", "postalCode": "10002"}
    assert read["data"]["subscription"]["addressMoves"] == [
        {"id": payload["move"]["id"], "effectiveDate": "2026-06-01", "status": "APPLIED"}]


async def test_adr_3_midnight_tenant_time_decides_today(api_client, own_tenant, services, tokens):
    world = await servicing_world(own_tenant, services, tokens)
    world.set_clock(LAST_SECOND_OF_JUNE_1)
    last_second = await move(api_client, world, "2026-06-01")
    world.set_clock(MIDNIGHT_JUNE_2)
    yesterday = await move(api_client, world, "2026-06-01", address={**ADDRESS, "streetName": "Oak St"})
    today = await move(api_client, world, "2026-06-02", address={**ADDRESS, "streetName": "Oak St"})
    assert last_second["userErrors"] == [] and last_second["move"]["status"] == "APPLIED"
    assert yesterday["userErrors"] == [{
        "code": "DATE_IN_PAST", "field": ["input", "effectiveDate"],
        "message": "A move is effective today (2026-06-02) or later, in the tenant's time zone"}]
    assert today["userErrors"] == [] and today["move"]["status"] == "APPLIED"
    assert circulation_record(own_tenant, world)["subscriber"]["address"]["streetName"] == "Oak St"


async def test_adr_3_without_an_effective_date_the_move_is_today_tenant_time(api_client, own_tenant, services, tokens):
    world = await servicing_world(own_tenant, services, tokens)
    world.set_clock(LAST_SECOND_OF_JUNE_1)  # already 2 June in UTC
    payload = await move(api_client, world, None)
    assert payload["userErrors"] == [] and payload["move"]["effectiveDate"] == "2026-06-01"
    assert payload["move"]["status"] == "APPLIED"


async def test_adr_3_a_future_move_is_scheduled_and_applies_on_its_day(api_client, own_tenant, services, tokens):
    world = await servicing_world(own_tenant, services, tokens)
    payload = await move(api_client, world, "2026-06-03")
    before = await graphql(api_client, READ, {"id": world.subscription_id}, **world.headers["owner"])
    world.set_clock(datetime(2026, 6, 3, 4, 0, tzinfo=UTC))  # 00:00 of 3 June in New York
    after = await graphql(api_client, READ, {"id": world.subscription_id}, **world.headers["owner"])
    assert payload["move"]["status"] == "SCHEDULED"
    assert before["data"]["subscription"]["subscriber"]["address"]["streetName"] == "Main St"
    assert after["data"]["subscription"]["subscriber"]["address"]["streetName"] == "Elm St"
    assert after["data"]["subscription"]["addressMoves"][0]["status"] == "APPLIED"


@pytest.mark.parametrize("mask, postal_code, ok", [
    ("99999", "10002", True), ("99999", "1000", False), ("99999", "1000A", False),
    ("A9A 9A9", "K1A 0B1", True), ("A9A 9A9", "K1A0B1", False),
])
async def test_adr_3_postal_code_must_match_the_tenant_mask(api_client, own_tenant, services, tokens, mask,
                                                            postal_code, ok):
    world = await servicing_world(own_tenant, services, tokens)
    await world.tenant.set("PostalCodeMask", mask)
    payload = await move(api_client, world, address={**ADDRESS, "postalCode": postal_code})
    if ok:
        assert payload["userErrors"] == []
    else:
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
            ("INVALID_POSTAL_CODE", ["input", "address", "postalCode"])]
        assert circulation_record(own_tenant, world)["subscriber"]["address"]["postalCode"] == "10001"


async def test_adr_3_a_print_offer_must_deliver_to_the_new_postal_code(api_client, own_tenant, services, tokens):
    world = await servicing_world(own_tenant, services, tokens)
    offer = await world.tenant.offer(digital=False, areas=["10001", "10002"])
    own_tenant.add_subscription(world.tenant, world.subscription_id, product=str(offer.id), digital=False,
                                deliverySchedule="7-Day")
    outside = await move(api_client, world, address={**ADDRESS, "postalCode": "20001"})
    inside = await move(api_client, world, address={**ADDRESS, "postalCode": "10002"})
    assert [(e["code"], e["field"]) for e in outside["userErrors"]] == [
        ("NOT_DELIVERABLE", ["input", "address", "postalCode"])]
    assert inside["userErrors"] == []


async def test_adr_3_a_digital_subscription_moves_anywhere_the_mask_allows(api_client, own_tenant, services, tokens):
    world = await servicing_world(own_tenant, services, tokens, digital=True)
    offer = await world.tenant.offer(digital=True)
    own_tenant.add_subscription(world.tenant, world.subscription_id, product=str(offer.id))
    payload = await move(api_client, world, address={**ADDRESS, "postalCode": "20001"})
    assert payload["userErrors"] == []


async def test_adr_3_a_full_address_is_required(api_client, own_tenant, services, tokens):
    world = await servicing_world(own_tenant, services, tokens)
    payload = await move(api_client, world, address={**ADDRESS, "city": " "})
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("INVALID", ["input", "address", "city"])]


# -- ADR-4, switched on by the SET-4 settings -------------------------------------------------------------
AU = {"houseNumber": "12", "streetName": "Harbour St", "city": "Sydney", "postalCode": "20000", "country": "au",
      "levelDesignator": "Level", "levelNumber": "3"}
UPDATE_SETTINGS = """
mutation ($input: UpdateSettingsInput!) {
  updateSettings(input: $input) { settings { key value } userErrors { code field message } }
}
"""


async def set_setting(client, world, key: str, value: str) -> None:
    """SET-4: the tenant's setting changed the way staff change it, through `updateSettings`."""
    body = await graphql(client, UPDATE_SETTINGS, {"input": {"settings": [{"key": key, "value": value}]}},
                         **world.headers["staff"])
    assert body["data"]["updateSettings"]["userErrors"] == [], body
    assert {"key": key, "value": value} in body["data"]["updateSettings"]["settings"]


def sent_moves(own_tenant, world) -> list[dict]:
    """The moves that reached the circulation emulator, as it keeps them."""
    return circulation_record(own_tenant, world).get("moves") or []


@pytest.mark.parametrize("kind", ["NCS", "SAXO"])
@pytest.mark.parametrize("integration", ["GlobalOnPremise", "GlobalCheckAPI"])
async def test_adr_4_set_4_with_melissa_global_the_australian_level_is_stored_and_sent(
        api_client, own_tenant, services, tokens, kind, integration):
    world = await servicing_world(own_tenant, services, tokens, kind)
    await set_setting(api_client, world, "MelissaDataIntegration", integration)
    payload = await move(api_client, world, address=AU)
    read = await graphql(api_client, READ, {"id": world.subscription_id}, **world.headers["owner"])
    assert payload["userErrors"] == []
    assert payload["move"]["address"] | {} == {**AU, "country": "AU"}
    assert [m["address"] for m in sent_moves(own_tenant, world)] == [{**AU, "country": "AU"}]
    assert read["data"]["subscription"]["subscriber"]["address"] == {
        "streetName": "Harbour St", "postalCode": "20000", "levelDesignator": "Level", "levelNumber": "3"}


async def test_adr_4_set_4_with_melissa_empty_a_level_is_refused_and_nothing_is_sent(
        api_client, own_tenant, services, tokens):
    """Decision: without a Global* MelissaDataIntegration there is no standardization that yields a level, so a
    level is refused (LEVEL_NOT_ENABLED) rather than silently dropped; the same address without it moves."""
    world = await servicing_world(own_tenant, services, tokens, "NCS")
    await set_setting(api_client, world, "MelissaDataIntegration", "GlobalCheckAPI")
    await set_setting(api_client, world, "MelissaDataIntegration", "")  # back to the default: the boundary
    before = circulation_record(own_tenant, world)["subscriber"]["address"] | {}
    refused = await move(api_client, world, address=AU)
    assert refused == {"move": None, "subscription": None, "userErrors": [{
        "code": "LEVEL_NOT_ENABLED", "field": ["input", "address", "levelDesignator"],
        "message": "A level designator and number are accepted only when MelissaDataIntegration is "
                   "GlobalOnPremise or GlobalCheckAPI"}]}
    assert sent_moves(own_tenant, world) == []
    assert circulation_record(own_tenant, world)["subscriber"]["address"] == before
    assert await events(services, world, "ADDRESSMOVE") == []
    plain = await move(api_client, world, address={**AU, "levelDesignator": None, "levelNumber": None})
    assert plain["userErrors"] == []
    assert [m["address"] for m in sent_moves(own_tenant, world)] == [{
        k: v for k, v in {**AU, "country": "AU"}.items() if not k.startswith("level")}]


@pytest.mark.parametrize("address, field", [
    ({**AU, "levelNumber": None}, "levelNumber"),
    ({**AU, "country": "US"}, "levelDesignator"),
])
async def test_adr_4_level_needs_both_parts_and_an_au_address(api_client, own_tenant, services, tokens, address,
                                                              field):
    world = await servicing_world(own_tenant, services, tokens, "SAXO")
    await set_setting(api_client, world, "MelissaDataIntegration", "GlobalOnPremise")
    payload = await move(api_client, world, address=address)
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("INVALID", ["input", "address", field])]
    assert sent_moves(own_tenant, world) == []


async def test_adr_4_set_4_real_time_ncs_comp_move_carries_billing_method_and_rate_code(
        api_client, own_tenant, services, tokens):
    world = await servicing_world(own_tenant, services, tokens, "NCS")
    own_tenant.add_subscription(world.tenant, world.subscription_id, product="1", kind="COMPLIMENTARY")
    await set_setting(api_client, world, "Flow.AddressMove", "RealTime")
    missing = await move(api_client, world)
    carried = await move(api_client, world, billingMethod="COMP", rateCode="CMP7")
    assert [(e["code"], e["field"]) for e in missing["userErrors"]] == [
        ("MOVE_BILLING_REQUIRED", ["input", "billingMethod"])]
    assert carried["userErrors"] == [] and (carried["move"]["billingMethod"], carried["move"]["rateCode"]) == (
        "COMP", "CMP7")
    assert [(m["billingMethod"], m["rateCode"]) for m in sent_moves(own_tenant, world)] == [("COMP", "CMP7")]
    assert circulation_record(own_tenant, world)["rateCode"] == "CMP7"


async def test_adr_4_set_4_without_real_time_an_ncs_comp_move_goes_without_billing_method_and_rate_code(
        api_client, own_tenant, services, tokens):
    """Decision (the source documents send them only with Flow.AddressMove RealTime): with the setting empty the
    move goes to NCS without them and the subscription keeps its own; giving them is refused
    (MOVE_BILLING_NOT_ENABLED) rather than dropped."""
    world = await servicing_world(own_tenant, services, tokens, "NCS")
    own_tenant.add_subscription(world.tenant, world.subscription_id, product="1", kind="COMPLIMENTARY")
    await set_setting(api_client, world, "Flow.AddressMove", "RealTime")
    await set_setting(api_client, world, "Flow.AddressMove", "")  # back to the default: the boundary
    own = circulation_record(own_tenant, world).get("rateCode")
    refused = await move(api_client, world, billingMethod="COMP", rateCode="CMP7")
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("MOVE_BILLING_NOT_ENABLED", ["input", "billingMethod"])]
    assert sent_moves(own_tenant, world) == []
    plain = await move(api_client, world)
    assert plain["userErrors"] == [] and plain["move"]["status"] == "APPLIED"
    assert (plain["move"]["billingMethod"], plain["move"]["rateCode"]) == (None, None)
    assert [(m["billingMethod"], m["rateCode"]) for m in sent_moves(own_tenant, world)] == [(None, None)]
    assert circulation_record(own_tenant, world).get("rateCode") == own != "CMP7"


@pytest.mark.parametrize("flow", ["", "RealTime"])
@pytest.mark.parametrize("kind", ["MATRIX", "CIRCPRO", "SAXO"])
async def test_adr_4_other_kinds_refuse_comp_move_fields_whatever_the_flow(api_client, own_tenant, services, tokens,
                                                                            kind, flow):
    world = await servicing_world(own_tenant, services, tokens, kind)
    own_tenant.add_subscription(world.tenant, world.subscription_id, product="1", kind="COMPLIMENTARY")
    await set_setting(api_client, world, "Flow.AddressMove", flow)
    refused = await move(api_client, world, billingMethod="COMP", rateCode="CMP7")
    plain = await move(api_client, world)
    assert codes(refused) == ["MOVE_BILLING_NOT_SUPPORTED"] and plain["userErrors"] == []
    assert [(m["billingMethod"], m["rateCode"]) for m in sent_moves(own_tenant, world)] == [(None, None)]


async def test_adr_4_set_4_real_time_a_billable_ncs_move_refuses_comp_move_fields(
        api_client, own_tenant, services, tokens):
    world = await servicing_world(own_tenant, services, tokens, "NCS")
    await set_setting(api_client, world, "Flow.AddressMove", "RealTime")
    refused = await move(api_client, world, billingMethod="COMP", rateCode="CMP7")
    plain = await move(api_client, world)
    assert codes(refused) == ["MOVE_BILLING_NOT_SUPPORTED"] and plain["userErrors"] == []


# -- ADR-2 -------------------------------------------------------------------------------------------------
async def test_adr_2_a_new_registration_linked_as_owner_and_renamed_never_changes_the_subscriber(
        api_client, own_tenant, services, tokens):
    world = await servicing_world(own_tenant, services, tokens)
    await world.tenant.set("Subscription.DefaultOwnersLimit", "2")  # room for a second owner
    staff = world.headers["staff"]
    before = circulation_record(own_tenant, world)["subscriber"] | {}
    ledger_before = len(own_tenant.circulation().ledger)
    created = await graphql(api_client, """mutation ($input: CreateUserInput!) {
        createUser(input: $input) { registration { crid } userErrors { code } } }""",
                            {"input": {"email": f"new.owner.{world.tenant.code.lower()}@example.com",
                                       "firstName": "New", "lastName": "Owner"}}, **staff)
    crid = created["data"]["createUser"]["registration"]["crid"]
    linked = await graphql(api_client, """mutation ($input: LinkSubscriptionInput!) {
        linkSubscription(input: $input) { userErrors { code } } }""",
                           {"input": {"subscriptionId": world.subscription_id, "customerRegistrationId": crid,
                                      "role": "OWNER"}}, **staff)
    renamed = await graphql(api_client, """mutation ($input: UpdateUserInput!) {
        updateUser(input: $input) { registration { firstName lastName } userErrors { code } } }""",
                            {"input": {"customerRegistrationId": crid, "firstName": "Renamed", "lastName": "Owner"}},
                            **staff)
    assert linked["data"]["linkSubscription"]["userErrors"] == [], linked
    assert renamed["data"]["updateUser"] == {"registration": {"firstName": "Renamed", "lastName": "Owner"},
                                             "userErrors": []}, renamed
    assert circulation_record(own_tenant, world)["subscriber"] == before
    assert len(own_tenant.circulation().ledger) == ledger_before  # no UPDATEOCCUPANT-like call of any kind


# -- upstream ------------------------------------------------------------------------------------------------
async def test_a_lost_move_answer_is_retried_with_the_same_key_and_applies_once(
        api_client, own_tenant, services, tokens, sandboxes):
    world = await servicing_world(own_tenant, services, tokens)
    sandboxes["circulation"].state.control.rules.append(
        FaultRule(method="POST", path="/moves$", status=503, after=True, times=1))
    payload = await move(api_client, world, "2026-06-03")
    assert payload["userErrors"] == [] and payload["move"]["status"] == "SCHEDULED"
    assert len(circulation_record(own_tenant, world)["moves"]) == 1
    assert len(await events(services, world, "ADDRESSMOVE")) == 1
