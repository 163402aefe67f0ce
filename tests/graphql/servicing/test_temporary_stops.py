"""Temporary stops through the API (STP-1, STP-2; LNK-3 owners and staff; NOT-1 events): every circulation kind,
dates at midnight tenant time, overlap by one day, digital refused, guest refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from datasources.models import Event
from sandbox.faults import FaultRule
from tests.conftest import graphql
from tests.graphql.servicing.support import servicing_world

SCHEDULE = """
mutation ($input: ScheduleTemporaryStopInput!) {
  scheduleTemporaryStop(input: $input) {
    temporaryStop { id startDate restartDate reason } userErrors { code field message }
  }
}
"""
CHANGE_RESTART = """
mutation ($input: ChangeTemporaryStopRestartInput!) {
  changeTemporaryStopRestart(input: $input) { temporaryStop { id startDate restartDate } userErrors { code field } }
}
"""
CANCEL = """
mutation ($input: CancelTemporaryStopInput!) {
  cancelTemporaryStop(input: $input) { temporaryStop { id } userErrors { code field } }
}
"""
STOPS = """
query ($id: ID!) {
  subscription(id: $id) { id temporaryStops { id startDate restartDate reason } }
  temporaryStopDates(subscriptionId: $id)
}
"""
STOPS_ONLY = "query ($id: ID!) { subscription(id: $id) { temporaryStops { id startDate restartDate } } }"
KINDS = ["NCS", "MATRIX", "CIRCPRO", "SAXO"]


async def schedule(client, world, start: str, restart: str | None = None, who: str = "owner") -> dict:
    variables = {"input": {"subscriptionId": world.subscription_id, "startDate": start, "restartDate": restart}}
    return await graphql(client, SCHEDULE, variables, **world.headers[who])


def codes(payload: dict) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


async def events(services, world, type_code: str) -> list[Event]:
    async with services.db.session() as session:
        return list((await session.execute(select(Event).where(
            Event.tenant_id == world.tenant.id, Event.type_code == type_code).order_by(Event.id))).scalars())


@pytest.mark.parametrize("kind", KINDS)
async def test_stp_1_owner_schedules_lists_and_cancels_on_every_kind(api_client, own_tenant, services, tokens, kind):
    # given
    world = await servicing_world(own_tenant, services, tokens, kind)
    offered = (await graphql(api_client, STOPS, {"id": world.subscription_id}, **world.headers["owner"])
               )["data"]["temporaryStopDates"]
    # when
    scheduled = (await schedule(api_client, world, offered[0], offered[6]))["data"]["scheduleTemporaryStop"]
    listed = await graphql(api_client, STOPS, {"id": world.subscription_id}, **world.headers["owner"])
    cancelled = (await graphql(api_client, CANCEL, {"input": {
        "subscriptionId": world.subscription_id, "stopId": scheduled["temporaryStop"]["id"]}},
        **world.headers["owner"]))["data"]["cancelTemporaryStop"]
    after = await graphql(api_client, STOPS_ONLY, {"id": world.subscription_id}, **world.headers["owner"])
    # then
    assert scheduled["userErrors"] == []
    assert scheduled["temporaryStop"] | {"id": None} == {"id": None, "startDate": offered[0],
                                                          "restartDate": offered[6], "reason": "VACATION"}
    assert listed["data"]["subscription"]["temporaryStops"] == [scheduled["temporaryStop"]]
    assert cancelled == {"temporaryStop": {"id": scheduled["temporaryStop"]["id"]}, "userErrors": []}
    assert after["data"]["subscription"]["temporaryStops"] == []


@pytest.mark.parametrize("kind", KINDS)
async def test_stp_2_restart_is_set_on_every_kind_not_saxo_only(api_client, own_tenant, services, tokens, kind):
    # given: an open-ended stop
    world = await servicing_world(own_tenant, services, tokens, kind)
    offered = (await graphql(api_client, STOPS, {"id": world.subscription_id}, **world.headers["owner"])
               )["data"]["temporaryStopDates"]
    stop = (await schedule(api_client, world, offered[0]))["data"]["scheduleTemporaryStop"]["temporaryStop"]
    # when
    changed = (await graphql(api_client, CHANGE_RESTART, {"input": {
        "subscriptionId": world.subscription_id, "stopId": stop["id"], "restartDate": offered[3]}},
        **world.headers["owner"]))["data"]["changeTemporaryStopRestart"]
    # then
    assert stop["restartDate"] is None
    assert changed == {"temporaryStop": {"id": stop["id"], "startDate": offered[0], "restartDate": offered[3]},
                       "userErrors": []}
    [event] = await events(services, world, "TEMPSTOPRESTART")
    assert (event.crid, event.details["restartDate"], event.details["restartDateBefore"]) == (
        world.owner.crid, offered[3], None)


async def test_stp_1_start_at_midnight_tenant_time(api_client, own_tenant, services, tokens):
    """23:59 on 1 June in New York: 2 June is the first offered date and 1 June is today (not offered); at 00:00
    on 2 June, 1 June is in the past and 2 June is today."""
    world = await servicing_world(own_tenant, services, tokens)
    world.set_clock(datetime(2026, 6, 2, 3, 59, tzinfo=UTC))  # 23:59 EDT on 1 June
    today_before = (await schedule(api_client, world, "2026-06-01"))["data"]["scheduleTemporaryStop"]
    world.set_clock(datetime(2026, 6, 2, 4, 0, tzinfo=UTC))  # 00:00 EDT on 2 June
    yesterday_after = (await schedule(api_client, world, "2026-06-01"))["data"]["scheduleTemporaryStop"]
    today_after = (await schedule(api_client, world, "2026-06-02"))["data"]["scheduleTemporaryStop"]
    first_offered = (await schedule(api_client, world, "2026-06-03", "2026-06-05"))["data"]["scheduleTemporaryStop"]
    assert codes(today_before) == ["DATE_NOT_OFFERED"]
    assert codes(yesterday_after) == ["DATE_IN_PAST"] and yesterday_after["userErrors"][0]["field"] == [
        "input", "startDate"]
    assert codes(today_after) == ["DATE_NOT_OFFERED"]
    assert first_offered["userErrors"] == []


async def test_stp_1_overlap_by_one_day_is_refused(api_client, own_tenant, services, tokens):
    # given: stopped 10..14 June, delivered again on 15 June
    world = await servicing_world(own_tenant, services, tokens)
    first = (await schedule(api_client, world, "2026-06-10", "2026-06-15"))["data"]["scheduleTemporaryStop"]
    # when
    overlapping = (await schedule(api_client, world, "2026-06-14", "2026-06-20"))["data"]["scheduleTemporaryStop"]
    back_to_back = (await schedule(api_client, world, "2026-06-15", "2026-06-20"))["data"]["scheduleTemporaryStop"]
    # then
    assert first["userErrors"] == []
    assert codes(overlapping) == ["OVERLAPPING_STOP"] and overlapping["temporaryStop"] is None
    assert back_to_back["userErrors"] == []
    assert len(await events(services, world, "TEMPSTOP")) == 2


async def test_stp_1_restart_not_after_start_and_outside_offered_dates(api_client, own_tenant, services, tokens):
    world = await servicing_world(own_tenant, services, tokens)
    same_day = (await schedule(api_client, world, "2026-06-10", "2026-06-10"))["data"]["scheduleTemporaryStop"]
    too_far = (await schedule(api_client, world, "2026-09-01"))["data"]["scheduleTemporaryStop"]  # window ends 30 Aug
    last = (await schedule(api_client, world, "2026-08-30"))["data"]["scheduleTemporaryStop"]
    assert codes(same_day) == ["RESTART_NOT_AFTER_START"] and same_day["userErrors"][0]["field"] == [
        "input", "restartDate"]
    assert codes(too_far) == ["DATE_NOT_OFFERED"]
    assert last["userErrors"] == []


async def test_stp_1_digital_subscription_is_refused(api_client, own_tenant, services, tokens):
    world = await servicing_world(own_tenant, services, tokens, digital=True)
    refused = (await schedule(api_client, world, "2026-06-10"))["data"]["scheduleTemporaryStop"]
    assert codes(refused) == ["DIGITAL_SUBSCRIPTION"]
    assert await events(services, world, "TEMPSTOP") == []


async def test_lnk_3_guest_is_refused_and_nothing_is_scheduled(api_client, own_tenant, services, tokens):
    world = await servicing_world(own_tenant, services, tokens)
    answer = await schedule(api_client, world, "2026-06-10", who="guest")
    stops = await graphql(api_client, STOPS_ONLY, {"id": world.subscription_id}, **world.headers["guest"])
    assert answer["data"]["scheduleTemporaryStop"] is None
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert stops["data"]["subscription"]["temporaryStops"] == []  # a guest may read (LNK-3)


async def test_stp_1_staff_schedules_and_the_event_names_the_owner(api_client, own_tenant, services, tokens):
    # given
    world = await servicing_world(own_tenant, services, tokens)
    # when
    payload = (await schedule(api_client, world, "2026-06-10", "2026-06-12", who="staff")
               )["data"]["scheduleTemporaryStop"]
    # then: NOT-1
    assert payload["userErrors"] == []
    [event] = await events(services, world, "TEMPSTOP")
    assert (event.crid, event.source, event.subscription_id, event.details["temporaryStopId"],
            event.details["startDate"], event.details["restartDate"]) == (
        world.owner.crid, "STAFF", world.subscription_id, payload["temporaryStop"]["id"], "2026-06-10", "2026-06-12")


async def test_stp_1_partner_is_not_staff(api_client, own_tenant, services, tokens):
    world = await servicing_world(own_tenant, services, tokens)
    answer = await schedule(api_client, world, "2026-06-10", who="partner")
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_stp_2_restart_today_at_midnight_accepted_yesterday_refused(api_client, own_tenant, services, tokens):
    # given: a stop from 2 June, and the clock at 00:00 on 5 June in New York
    world = await servicing_world(own_tenant, services, tokens)
    stop = (await schedule(api_client, world, "2026-06-02"))["data"]["scheduleTemporaryStop"]["temporaryStop"]
    world.set_clock(datetime(2026, 6, 5, 4, 0, tzinfo=UTC))

    async def change(restart: str) -> dict:
        return (await graphql(api_client, CHANGE_RESTART, {"input": {
            "subscriptionId": world.subscription_id, "stopId": stop["id"], "restartDate": restart}},
            **world.headers["owner"]))["data"]["changeTemporaryStopRestart"]

    # when
    yesterday = await change("2026-06-04")
    today = await change("2026-06-05")
    # then
    assert codes(yesterday) == ["DATE_IN_PAST"]
    assert today["userErrors"] == [] and today["temporaryStop"]["restartDate"] == "2026-06-05"


async def test_stp_2_restart_must_not_overlap_the_next_stop(api_client, own_tenant, services, tokens):
    world = await servicing_world(own_tenant, services, tokens)
    first = (await schedule(api_client, world, "2026-06-10", "2026-06-15"))["data"]["scheduleTemporaryStop"]
    assert (await schedule(api_client, world, "2026-06-20"))["data"]["scheduleTemporaryStop"]["userErrors"] == []
    moved = (await graphql(api_client, CHANGE_RESTART, {"input": {
        "subscriptionId": world.subscription_id, "stopId": first["temporaryStop"]["id"], "restartDate": "2026-06-21"}},
        **world.headers["owner"]))["data"]["changeTemporaryStopRestart"]
    assert codes(moved) == ["OVERLAPPING_STOP"]


async def test_cancel_refuses_a_started_stop_and_an_unknown_one(api_client, own_tenant, services, tokens):
    world = await servicing_world(own_tenant, services, tokens)
    stop = (await schedule(api_client, world, "2026-06-02"))["data"]["scheduleTemporaryStop"]["temporaryStop"]
    world.set_clock(datetime(2026, 6, 2, 4, 0, tzinfo=UTC))  # 00:00 on 2 June: the stop has started

    async def cancel(stop_id: str) -> dict:
        return (await graphql(api_client, CANCEL, {"input": {"subscriptionId": world.subscription_id,
                                                             "stopId": stop_id}}, **world.headers["owner"])
                )["data"]["cancelTemporaryStop"]

    assert codes(await cancel(stop["id"])) == ["STOP_ALREADY_STARTED"]
    assert codes(await cancel("TS-NONE")) == ["STOP_NOT_FOUND"]
    assert await events(services, world, "TEMPSTOPCANCEL") == []


async def test_stp_1_a_lost_answer_is_asked_again_and_scheduled_once(api_client, own_tenant, services, tokens,
                                                                      sandboxes):
    # given: the circulation system schedules the stop but its answer is lost once
    world = await servicing_world(own_tenant, services, tokens)
    sandboxes["circulation"].state.control.rules.append(
        FaultRule(method="POST", path="/temporary-stops$", status=503, after=True, times=1))
    # when
    payload = (await schedule(api_client, world, "2026-06-10", "2026-06-12"))["data"]["scheduleTemporaryStop"]
    stops = await graphql(api_client, STOPS_ONLY, {"id": world.subscription_id}, **world.headers["owner"])
    # then: the retry with the same key replays the stop; one stop, one event
    assert payload["userErrors"] == []
    assert len(stops["data"]["subscription"]["temporaryStops"]) == 1
    assert len(await events(services, world, "TEMPSTOP")) == 1
