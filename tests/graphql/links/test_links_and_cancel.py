"""linkSubscription, unlinkSubscription, transferSubscriptionLink (LNK-1, LNK-2) and cancelSubscription (SUB-4)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from datasources.models import Event, SubscriptionLink
from sandbox.faults import FaultRule
from tests.conftest import graphql
from tests.support import tenant_today
from tests.graphql.own_tenant import own_registration

LINK = """
mutation ($input: LinkSubscriptionInput!) {
  linkSubscription(input: $input) { link { id role crid subscriptionId } userErrors { code field message } }
}
"""
UNLINK = """
mutation ($id: ID!) { unlinkSubscription(input: {linkId: $id}) { removedLinkId userErrors { code field } } }
"""
TRANSFER = """
mutation ($id: ID!, $crid: String!) {
  transferSubscriptionLink(input: {linkId: $id, customerRegistrationId: $crid}) {
    link { id role crid } userErrors { code field }
  }
}
"""
LINKS = "query ($s: ID!) { subscriptionLinks(subscriptionId: $s) { edges { node { crid role } } } }"
CANCEL = """
mutation ($id: ID!, $reason: String!) {
  cancelSubscription(input: {subscriptionId: $id, reason: $reason}) {
    subscription { id status } userErrors { code field message }
  }
}
"""


async def link_events(services, tenant) -> list[Event]:
    async with services.db.session() as session:
        return list((await session.execute(select(Event).where(
            Event.tenant_id == tenant.id, Event.type_code == "UPDATELINK").order_by(Event.id))).scalars())


async def link(staff_api_client, tenant, subscription_id: str, crid: str, role: str) -> dict:
    answer = await graphql(staff_api_client, LINK, {"input": {"subscriptionId": subscription_id, "customerRegistrationId": crid,
                                                        "role": role}}, **tenant.headers)
    return answer["data"]["linkSubscription"]


async def test_lnk1_link_records_updatelink(staff_api_client, own_tenant, services):
    # given
    tenant = await own_tenant()
    own_tenant.add_subscription(tenant, f"{tenant.code}-1", product="1")
    registration = await own_registration(tenant)
    # when
    payload = await link(staff_api_client, tenant, f"{tenant.code}-1", registration.crid, "OWNER")
    # then
    assert payload["userErrors"] == []
    assert payload["link"]["role"] == "OWNER" and payload["link"]["crid"] == registration.crid
    [event] = await link_events(services, tenant)
    assert (event.crid, event.subscription_id, event.details["action"]) == (registration.crid, f"{tenant.code}-1",
                                                                            "LINK")


async def test_lnk2_default_limits_one_owner_five_guests(staff_api_client, own_tenant):
    # given: defaults DefaultOwnersLimit 1, DefaultGuestsLimit 5, MaxLinks 10
    tenant = await own_tenant()
    own_tenant.add_subscription(tenant, f"{tenant.code}-1", product="1")
    people = [await own_registration(tenant) for _ in range(8)]
    # when
    owner = await link(staff_api_client, tenant, f"{tenant.code}-1", people[0].crid, "OWNER")
    second_owner = await link(staff_api_client, tenant, f"{tenant.code}-1", people[1].crid, "OWNER")
    guests = [await link(staff_api_client, tenant, f"{tenant.code}-1", p.crid, "GUEST") for p in people[2:8]]
    # then
    assert owner["userErrors"] == []
    assert [e["code"] for e in second_owner["userErrors"]] == ["LINK_LIMIT_REACHED"]
    assert [g["userErrors"] for g in guests[:5]] == [[]] * 5  # the fifth guest is at the limit
    assert [(e["code"], e["message"]) for e in guests[5]["userErrors"]] == [
        ("LINK_LIMIT_REACHED", "The subscription already has the maximum of 5 guest(s)")]


async def test_lnk2_max_links_caps_all_links(staff_api_client, own_tenant):
    tenant = await own_tenant(settings={"Subscription.MaxLinks": "2", "Subscription.DefaultGuestsLimit": "5"})
    own_tenant.add_subscription(tenant, f"{tenant.code}-1", product="1")
    people = [await own_registration(tenant) for _ in range(3)]
    answers = [await link(staff_api_client, tenant, f"{tenant.code}-1", p.crid, "GUEST") for p in people]
    assert [a["userErrors"] for a in answers[:2]] == [[], []]
    assert [e["message"] for e in answers[2]["userErrors"]] == ["The subscription already has the maximum of 2 links"]


async def test_lnk1_link_refusals(staff_api_client, own_tenant):
    tenant = await own_tenant()
    own_tenant.add_subscription(tenant, f"{tenant.code}-1", product="1")
    registration = await own_registration(tenant)
    await link(staff_api_client, tenant, f"{tenant.code}-1", registration.crid, "GUEST")
    again = await link(staff_api_client, tenant, f"{tenant.code}-1", registration.crid, "GUEST")
    unknown_subscription = await link(staff_api_client, tenant, "NOPE-1", registration.crid, "GUEST")
    unknown_crid = await link(staff_api_client, tenant, f"{tenant.code}-1", "test|nobody", "GUEST")
    assert [e["code"] for e in again["userErrors"]] == ["ALREADY_LINKED"]
    assert [e["code"] for e in unknown_subscription["userErrors"]] == ["SUBSCRIPTION_NOT_FOUND"]
    assert [e["code"] for e in unknown_crid["userErrors"]] == ["REGISTRATION_NOT_FOUND"]


async def test_lnk1_unlink_removes_the_link_and_records_updatelink(staff_api_client, own_tenant, services):
    tenant = await own_tenant()
    own_tenant.add_subscription(tenant, f"{tenant.code}-1", product="1")
    registration = await own_registration(tenant)
    created = await link(staff_api_client, tenant, f"{tenant.code}-1", registration.crid, "GUEST")
    answer = await graphql(staff_api_client, UNLINK, {"id": created["link"]["id"]}, **tenant.headers)
    again = await graphql(staff_api_client, UNLINK, {"id": created["link"]["id"]}, **tenant.headers)
    assert answer["data"]["unlinkSubscription"] == {"removedLinkId": created["link"]["id"], "userErrors": []}
    assert [e["code"] for e in again["data"]["unlinkSubscription"]["userErrors"]] == ["NOT_FOUND"]
    links = await graphql(staff_api_client, LINKS, {"s": f"{tenant.code}-1"}, **tenant.headers)
    assert links["data"]["subscriptionLinks"]["edges"] == []
    assert [e.details["action"] for e in await link_events(services, tenant)] == ["LINK", "UNLINK"]


async def test_lnk1_transfer_moves_the_link_to_another_crid(staff_api_client, own_tenant, services):
    # given
    tenant = await own_tenant()
    own_tenant.add_subscription(tenant, f"{tenant.code}-1", product="1")
    old, new, guest = (await own_registration(tenant), await own_registration(tenant), await own_registration(tenant))
    created = await link(staff_api_client, tenant, f"{tenant.code}-1", old.crid, "OWNER")
    guest_link = await link(staff_api_client, tenant, f"{tenant.code}-1", guest.crid, "GUEST")
    # when
    answer = await graphql(staff_api_client, TRANSFER, {"id": created["link"]["id"], "crid": new.crid}, **tenant.headers)
    onto_linked = await graphql(staff_api_client, TRANSFER, {"id": guest_link["link"]["id"], "crid": new.crid},
                                **tenant.headers)
    unknown = await graphql(staff_api_client, TRANSFER, {"id": created["link"]["id"], "crid": "test|nobody"},
                            **tenant.headers)
    # then
    assert answer["data"]["transferSubscriptionLink"]["link"] == {"id": created["link"]["id"], "role": "OWNER",
                                                                  "crid": new.crid}
    assert [e["code"] for e in onto_linked["data"]["transferSubscriptionLink"]["userErrors"]] == ["ALREADY_LINKED"]
    assert [e["code"] for e in unknown["data"]["transferSubscriptionLink"]["userErrors"]] == ["REGISTRATION_NOT_FOUND"]
    transfer = (await link_events(services, tenant))[-1]
    assert transfer.details["action"] == "TRANSFER"
    assert (transfer.details["fromCrid"], transfer.details["toCrid"]) == (old.crid, new.crid)


async def test_sub4_in_grace_subscription_with_past_end_date_can_be_cancelled(staff_api_client, own_tenant, services):
    # given
    tenant = await own_tenant()
    past = (tenant_today(tenant.time_zone) - timedelta(days=40)).isoformat()
    own_tenant.add_subscription(tenant, f"{tenant.code}-G", product="1", status="IN_GRACE", endDate=past)
    # when
    answer = await graphql(staff_api_client, CANCEL, {"id": f"{tenant.code}-G", "reason": "MOVING"}, **tenant.headers)
    # then
    assert answer["data"]["cancelSubscription"] == {"subscription": {"id": f"{tenant.code}-G", "status": "STOPPED"},
                                                    "userErrors": []}
    async with services.db.session() as session:
        [event] = (await session.execute(select(Event).where(Event.tenant_id == tenant.id))).scalars()
    assert (event.type_code, event.reason, event.details["statusBefore"]) == ("CANCELSUBSCRIPTION", "MOVING",
                                                                              "IN_GRACE")


@pytest.mark.parametrize("status", ["ACTIVE", "PAUSED"])
async def test_sub4_active_subscriptions_can_be_cancelled(staff_api_client, own_tenant, status):
    tenant = await own_tenant()
    own_tenant.add_subscription(tenant, f"{tenant.code}-A", product="1", status=status)
    answer = await graphql(staff_api_client, CANCEL, {"id": f"{tenant.code}-A", "reason": "PRICE"}, **tenant.headers)
    assert answer["data"]["cancelSubscription"]["subscription"]["status"] == "STOPPED"


async def test_cancel_refusals(staff_api_client, own_tenant):
    tenant = await own_tenant()
    own_tenant.add_subscription(tenant, f"{tenant.code}-S", product="1", status="STOPPED")
    stopped = await graphql(staff_api_client, CANCEL, {"id": f"{tenant.code}-S", "reason": "PRICE"}, **tenant.headers)
    unknown = await graphql(staff_api_client, CANCEL, {"id": "NOPE-1", "reason": "PRICE"}, **tenant.headers)
    blank = await graphql(staff_api_client, CANCEL, {"id": f"{tenant.code}-S", "reason": " "}, **tenant.headers)
    assert [e["code"] for e in stopped["data"]["cancelSubscription"]["userErrors"]] == ["ALREADY_STOPPED"]
    assert [e["code"] for e in unknown["data"]["cancelSubscription"]["userErrors"]] == ["NOT_FOUND"]
    assert [e["code"] for e in blank["data"]["cancelSubscription"]["userErrors"]] == ["INVALID"]


async def test_lnk2_concurrent_links_cannot_take_the_last_slot_twice(staff_api_client, own_tenant, services):
    # given: MaxLinks 3, two links already; five registrations asking for the last slot at once
    tenant = await own_tenant(settings={"Subscription.MaxLinks": "3"})
    own_tenant.add_subscription(tenant, f"{tenant.code}-1", product="1")
    first, second, *racers = [await own_registration(tenant) for _ in range(7)]
    await link(staff_api_client, tenant, f"{tenant.code}-1", first.crid, "OWNER")
    await link(staff_api_client, tenant, f"{tenant.code}-1", second.crid, "GUEST")
    # when
    answers = await asyncio.gather(*(link(staff_api_client, tenant, f"{tenant.code}-1", r.crid, "GUEST")
                                     for r in racers))
    # then: one took it, the others were refused, and only the links made were recorded
    codes = sorted(tuple(e["code"] for e in a["userErrors"]) for a in answers)
    assert codes == [()] + [("LINK_LIMIT_REACHED",)] * 4
    links = await graphql(staff_api_client, LINKS, {"s": f"{tenant.code}-1"}, **tenant.headers)
    assert len(links["data"]["subscriptionLinks"]["edges"]) == 3
    assert len(await link_events(services, tenant)) == 3


# -- cancelSubscription when the circulation system's answer is lost (SUB-4, NOT-1) -----------------------
CANCEL_WITH_KEY = """
mutation ($id: ID!, $key: String, $reason: String! = "MOVING") {
  cancelSubscription(input: {subscriptionId: $id, reason: $reason, idempotencyKey: $key}) {
    subscription { id status } userErrors { code field message }
  }
}
"""


async def cancel_events(services, tenant) -> list[Event]:
    async with services.db.session() as session:
        return list((await session.execute(select(Event).where(
            Event.tenant_id == tenant.id, Event.type_code == "CANCELSUBSCRIPTION").order_by(Event.id))).scalars())


def cancellations(sandboxes, tenant) -> list[dict]:
    return [entry for entry in sandboxes["circulation"].state.store.ledger
            if entry["paperCode"] == tenant.code and entry["operation"] == "CANCEL"]


def lose_cancel_answers(sandboxes, **fault) -> None:
    """The circulation system cancels, then its answer is lost."""
    sandboxes["circulation"].state.control.rules.append(FaultRule(method="POST", path="/cancel$", after=True, **fault))


@pytest.mark.parametrize("fault", [{"timeout": True}, {"status": 503}, {"drop": True}], ids=["timeout", "503", "drop"])
async def test_sub4_not1_a_cancellation_whose_answer_is_lost_is_asked_for_again_and_recorded_once(
        staff_api_client, own_tenant, sandboxes, services, fault):
    # given: the first answer to the cancellation is lost after the circulation system made it
    tenant = await own_tenant()
    own_tenant.add_subscription(tenant, f"{tenant.code}-A", product="1")
    lose_cancel_answers(sandboxes, times=1, **fault)
    # when
    answer = await graphql(staff_api_client, CANCEL, {"id": f"{tenant.code}-A", "reason": "MOVING"}, **tenant.headers)
    # then: one cancellation in the circulation system, answered and recorded
    assert answer["data"]["cancelSubscription"] == {"subscription": {"id": f"{tenant.code}-A", "status": "STOPPED"},
                                                    "userErrors": []}
    [cancellation] = cancellations(sandboxes, tenant)
    [event] = await cancel_events(services, tenant)
    assert (event.details["circulationTransactionId"], event.details["statusBefore"]) == (
        cancellation["transactionId"], "ACTIVE")


async def test_sub4_not1_a_client_retry_with_its_key_gets_the_cancellation_that_was_made(
        staff_api_client, own_tenant, sandboxes, services):
    # given: every answer of the circulation system to the first request is lost
    tenant = await own_tenant()
    own_tenant.add_subscription(tenant, f"{tenant.code}-A", product="1")
    lose_cancel_answers(sandboxes, status=503)
    first = await graphql(staff_api_client, CANCEL_WITH_KEY, {"id": f"{tenant.code}-A", "key": "cancel-1"},
                          **tenant.headers)
    sandboxes["circulation"].state.control.rules.clear()
    # when: the client retries with its key, then without one
    retry = await graphql(staff_api_client, CANCEL_WITH_KEY, {"id": f"{tenant.code}-A", "key": "cancel-1"},
                          **tenant.headers)
    again = await graphql(staff_api_client, CANCEL_WITH_KEY, {"id": f"{tenant.code}-A", "key": "cancel-1"},
                          **tenant.headers)
    keyless = await graphql(staff_api_client, CANCEL_WITH_KEY, {"id": f"{tenant.code}-A"}, **tenant.headers)
    # then: the first failed without recording; the retry answers the one cancellation and records it once
    assert first["data"] == {"cancelSubscription": None}
    assert [e["extensions"]["code"] for e in first["errors"]] == ["UPSTREAM_UNAVAILABLE"]
    for payload in (retry, again):
        assert payload["data"]["cancelSubscription"] == {
            "subscription": {"id": f"{tenant.code}-A", "status": "STOPPED"}, "userErrors": []}
    assert [e["code"] for e in keyless["data"]["cancelSubscription"]["userErrors"]] == ["ALREADY_STOPPED"]
    [cancellation] = cancellations(sandboxes, tenant)
    [event] = await cancel_events(services, tenant)
    assert event.details == {"circulationTransactionId": cancellation["transactionId"], "statusBefore": None,
                             "subscriberEmail": "existing@example.com"}  # STP-4, MSG-4


async def test_sub4_a_key_is_bound_to_its_subscription_and_reason(staff_api_client, own_tenant, sandboxes):
    # given
    tenant = await own_tenant()
    for suffix in ("A", "B"):
        own_tenant.add_subscription(tenant, f"{tenant.code}-{suffix}", product="1")
    await graphql(staff_api_client, CANCEL_WITH_KEY, {"id": f"{tenant.code}-A", "key": "k"}, **tenant.headers)
    # when
    other_subscription = await graphql(staff_api_client, CANCEL_WITH_KEY, {"id": f"{tenant.code}-B", "key": "k"},
                                       **tenant.headers)
    other_reason = await graphql(staff_api_client, CANCEL_WITH_KEY, {"id": f"{tenant.code}-A", "key": "k",
                                                                     "reason": "PRICE"}, **tenant.headers)
    blank = await graphql(staff_api_client, CANCEL_WITH_KEY, {"id": f"{tenant.code}-B", "key": " "}, **tenant.headers)
    # then
    for answer in (other_subscription, other_reason):
        assert [(e["code"], e["field"]) for e in answer["data"]["cancelSubscription"]["userErrors"]] == [
            ("IDEMPOTENCY_KEY_REUSED", ["input", "idempotencyKey"])]
    assert [(e["code"], e["field"]) for e in blank["data"]["cancelSubscription"]["userErrors"]] == [
        ("INVALID", ["input", "idempotencyKey"])]
    assert len(cancellations(sandboxes, tenant)) == 1


async def test_sub4_a_key_does_not_cancel_what_someone_else_stopped(staff_api_client, own_tenant, sandboxes, services):
    tenant = await own_tenant()
    own_tenant.add_subscription(tenant, f"{tenant.code}-S", product="1", status="STOPPED")

    answer = await graphql(staff_api_client, CANCEL_WITH_KEY, {"id": f"{tenant.code}-S", "key": "fresh"},
                           **tenant.headers)

    assert [e["code"] for e in answer["data"]["cancelSubscription"]["userErrors"]] == ["ALREADY_STOPPED"]
    assert cancellations(sandboxes, tenant) == [] and await cancel_events(services, tenant) == []


async def test_lnk2_the_tenants_owner_and_guest_limits_are_inclusive(staff_api_client, own_tenant):
    # given: two owners and one guest allowed
    tenant = await own_tenant(settings={"Subscription.DefaultOwnersLimit": "2", "Subscription.DefaultGuestsLimit": "1"})
    own_tenant.add_subscription(tenant, f"{tenant.code}-1", product="1")
    people = [await own_registration(tenant) for _ in range(5)]
    # when
    owners = [await link(staff_api_client, tenant, f"{tenant.code}-1", p.crid, "OWNER") for p in people[:3]]
    guests = [await link(staff_api_client, tenant, f"{tenant.code}-1", p.crid, "GUEST") for p in people[3:]]
    # then
    assert [o["userErrors"] for o in owners[:2]] == [[], []] and guests[0]["userErrors"] == []
    assert [(e["code"], e["message"]) for e in owners[2]["userErrors"]] == [
        ("LINK_LIMIT_REACHED", "The subscription already has the maximum of 2 owner(s)")]
    assert [(e["code"], e["message"]) for e in guests[1]["userErrors"]] == [
        ("LINK_LIMIT_REACHED", "The subscription already has the maximum of 1 guest(s)")]


async def test_lnk1_transfer_of_a_link_removed_meanwhile_is_not_found(staff_api_client, own_tenant, services,
                                                                      monkeypatch):
    # given: the link is unlinked between the transfer reading it and moving it
    from datasources.repositories.administration import AdministrationRepository

    tenant = await own_tenant()
    own_tenant.add_subscription(tenant, f"{tenant.code}-1", product="1")
    old, new = await own_registration(tenant), await own_registration(tenant)
    created = await link(staff_api_client, tenant, f"{tenant.code}-1", old.crid, "OWNER")
    read = AdministrationRepository.link

    async def read_then_lose(self, tenant_id, link_id):
        found = await read(self, tenant_id, link_id)
        async with services.db.session() as session:
            await session.execute(sa.delete(SubscriptionLink).where(SubscriptionLink.id == link_id))
            await session.commit()
        return found

    monkeypatch.setattr(AdministrationRepository, "link", read_then_lose)
    # when
    answer = await graphql(staff_api_client, TRANSFER, {"id": created["link"]["id"], "crid": new.crid},
                           **tenant.headers)
    # then
    assert [e["code"] for e in answer["data"]["transferSubscriptionLink"]["userErrors"]] == ["NOT_FOUND"]
    assert [e.details["action"] for e in await link_events(services, tenant)] == ["LINK"]
