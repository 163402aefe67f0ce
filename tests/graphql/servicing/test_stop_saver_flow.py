"""The StopSaver state machine and its downgrade step through the API (STP-3, STP-4, STP-5; LNK-3 owners and staff;
NOT-1 events): steps walked in order, downgrade offers of the same group at a lower rate, applied by the
circulation system at the next renewal on every kind, the same event data whether the customer or staff acts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlmodel import select

from datasources.models import Event, Offer, OfferGroup, OfferTerm
from sandbox.faults import FaultRule
from tests.conftest import graphql
from tests.graphql.own_tenant import KIND_CURRENCY
from tests.graphql.servicing.support import servicing_world

KINDS = ["NCS", "MATRIX", "CIRCPRO", "SAXO"]
END = "2026-06-20"  # the current term's end: the next renewal
PREVIEW = """
query ($id: ID!) { stopSaver(subscriptionId: $id) { steps downgradeOffers { id name lowestCommercialPrice { amount } } } }
"""
FLOW = "stopSaver { id steps passedSteps currentStep outcome }"
START = f"""
mutation ($id: ID!) {{
  startStopSaver(input: {{subscriptionId: $id}}) {{ {FLOW} temporaryStopDates userErrors {{ code field }} }}
}}
"""
PASS = f"""
mutation ($id: ID!, $flow: ID!, $step: StopSaverStep!) {{
  passStopSaverStep(input: {{subscriptionId: $id, stopSaverId: $flow, step: $step}}) {{ {FLOW} userErrors {{ code field }} }}
}}
"""
DOWNGRADE = f"""
mutation ($id: ID!, $flow: ID!, $offer: ID!, $reason: String!) {{
  downgradeSubscription(input: {{subscriptionId: $id, stopSaverId: $flow, offerId: $offer, reason: $reason}}) {{
    downgrade {{ offerId term rate {{ amount currency }} effectiveDate reason }} {FLOW} userErrors {{ code field }}
  }}
}}
"""
CANCEL = """
mutation ($id: ID!, $flow: ID, $reason: String!) {
  cancelSubscription(input: {subscriptionId: $id, reason: $reason, stopSaverId: $flow}) {
    subscription { status } userErrors { code field }
  }
}
"""
SCHEDULE = """
mutation ($id: ID!, $flow: ID, $start: Date!) {
  scheduleTemporaryStop(input: {subscriptionId: $id, startDate: $start, stopSaverId: $flow}) {
    temporaryStop { id } userErrors { code field }
  }
}
"""
SUBSCRIPTION = """
query ($id: ID!) {
  subscription(id: $id) {
    productCode billingOptions { term rate { amount } } scheduledDowngrade { offerId rate { amount } effectiveDate }
  }
}
"""


@dataclass
class Offers:
    current: int
    cheaper: int
    cheapest: int
    pricier: int
    expired: int
    elsewhere: int


async def offer(tenant, group: OfferGroup, name: str, rate: str, *, valid_to: date | None = None,
                extra_terms: tuple[tuple[str, str], ...] = ()) -> int:
    row = await tenant.add(Offer(tenant_id=tenant.id, group_id=group.id, name=name, vendor="Own", category="PRINT",
                                 digital=False, activation_fee=Decimal("0.00"), valid_from=date(2026, 1, 1),
                                 valid_to=valid_to))
    for code, amount in (("1M", rate), *extra_terms):
        await tenant.add(OfferTerm(offer_id=row.id, code=code, length=1, length_unit="MONTH", rate=Decimal(amount),
                                   tax=Decimal("0.50"), commercial=True))
    return row.id


async def offers(tenant) -> Offers:
    group, other = await tenant.add(OfferGroup(tenant_id=tenant.id, name="Print", category="PRINT"),
                                    OfferGroup(tenant_id=tenant.id, name="Other", category="PRINT"))
    return Offers(
        current=await offer(tenant, group, "7-Day", "10.00"),
        cheaper=await offer(tenant, group, "Weekend", "7.50", extra_terms=(("12M", "80.00"),)),
        cheapest=await offer(tenant, group, "Sunday", "5.00"),
        pricier=await offer(tenant, group, "7-Day Plus", "15.00"),
        expired=await offer(tenant, group, "Old Sunday", "4.00", valid_to=date(2026, 5, 31)),
        elsewhere=await offer(tenant, other, "Other Sunday", "3.00"))


async def downgrade_world(own_tenant, services, tokens, kind: str = "NCS", *, digital: bool = False):
    tenant = await own_tenant(kind)
    found = await offers(tenant)
    world = await servicing_world(own_tenant, services, tokens, kind, tenant=tenant, digital=digital,
                                  product=str(found.current), terms=(("1M", "10.00"),), endDate=END,
                                  subscriber={"email": f"reader-{tenant.code.lower()}@example.com"})
    return world, found


async def start(client, world, who: str = "owner") -> dict:
    return (await graphql(client, START, {"id": world.subscription_id}, **world.headers[who]))["data"]["startStopSaver"]


async def pass_step(client, world, flow: str, step: str, who: str = "owner") -> dict:
    return (await graphql(client, PASS, {"id": world.subscription_id, "flow": flow, "step": step},
                          **world.headers[who]))["data"]["passStopSaverStep"]


async def downgrade(client, world, flow: str, offer_id: int, reason: str = "PRICE", who: str = "owner") -> dict:
    return (await graphql(client, DOWNGRADE, {"id": world.subscription_id, "flow": flow, "offer": str(offer_id),
                                              "reason": reason}, **world.headers[who]))["data"]["downgradeSubscription"]


async def cancel(client, world, flow: str | None, reason: str = "PRICE", who: str = "owner") -> dict:
    return (await graphql(client, CANCEL, {"id": world.subscription_id, "flow": flow, "reason": reason},
                          **world.headers[who]))["data"]["cancelSubscription"]


async def events(services, world, type_code: str) -> list[Event]:
    async with services.db.session() as session:
        return list((await session.execute(select(Event).where(
            Event.tenant_id == world.tenant.id, Event.type_code == type_code).order_by(Event.id))).scalars())


def codes(payload: dict) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


async def test_stp_4_downgrade_offers_are_the_same_group_at_a_lower_rate_valid_today(api_client, own_tenant,
                                                                                     services, tokens):
    world, found = await downgrade_world(own_tenant, services, tokens)
    flow = (await graphql(api_client, PREVIEW, {"id": world.subscription_id}, **world.headers["owner"])
            )["data"]["stopSaver"]
    # cheapest first; not the pricier one, not the expired one (valid to 31 May, today is 1 June), not another group
    assert [o["id"] for o in flow["downgradeOffers"]] == [str(found.cheapest), str(found.cheaper)]
    assert [o["lowestCommercialPrice"]["amount"] for o in flow["downgradeOffers"]] == ["5.00", "7.50"]


@pytest.mark.parametrize("kind", KINDS)
async def test_stp_4_owner_walks_temp_stop_then_downgrade_on_every_kind(api_client, own_tenant, services, tokens,
                                                                          kind):
    # given
    world, found = await downgrade_world(own_tenant, services, tokens, kind)
    store = own_tenant.circulation()
    # when
    started = await start(api_client, world)
    flow_id = started["stopSaver"]["id"]
    passed = await pass_step(api_client, world, flow_id, "TEMPORARY_STOP")
    done = await downgrade(api_client, world, flow_id, found.cheaper)
    # then: the state machine, step by step
    assert started["stopSaver"] == {"id": flow_id, "steps": ["TEMPORARY_STOP", "DOWNGRADE", "CANCEL"],
                                    "passedSteps": [], "currentStep": "TEMPORARY_STOP", "outcome": None}
    assert started["temporaryStopDates"][0] in ("2026-06-02", "2026-06-03")
    assert passed["stopSaver"]["currentStep"] == "DOWNGRADE" and passed["stopSaver"]["passedSteps"] == ["TEMPORARY_STOP"]
    assert done["userErrors"] == []
    assert done["downgrade"] == {"offerId": str(found.cheaper), "term": "1M",
                                 "rate": {"amount": "7.50", "currency": KIND_CURRENCY[kind]},
                                 "effectiveDate": END, "reason": "PRICE"}
    assert done["stopSaver"]["outcome"] == "DOWNGRADED" and done["stopSaver"]["currentStep"] is None
    # the circulation system holds it for the next renewal, the product unchanged until then
    record = store.papers[world.tenant.code].subscriptions[world.subscription_id]
    assert record["scheduledDowngrade"]["productCode"] == str(found.cheaper)
    assert record["scheduledDowngrade"]["effectiveDate"] == END
    assert record["productCode"] == str(found.current)


async def test_stp_4_the_event_carries_reason_parent_and_subscriber_email_whoever_acts(api_client, own_tenant,
                                                                                      services, tokens):
    # given: two subscriptions alike, one handled by its owner, one by staff
    by_owner, found = await downgrade_world(own_tenant, services, tokens)
    by_staff, found_staff = await downgrade_world(own_tenant, services, tokens)
    results = []
    for world, offer_ids, who in ((by_owner, found, "owner"), (by_staff, found_staff, "staff")):
        flow_id = (await start(api_client, world, who))["stopSaver"]["id"]
        await pass_step(api_client, world, flow_id, "TEMPORARY_STOP", who)
        assert (await downgrade(api_client, world, flow_id, offer_ids.cheaper, "MOVING", who))["userErrors"] == []
        [event] = await events(services, world, "DOWNGRADESUBSCRIPTION")
        results.append((world, flow_id, event))
    # then: the same data, only `source` says who acted
    for world, flow_id, event in results:
        assert (event.reason, event.parent_id, event.crid, event.details["subscriberEmail"]) == (
            "MOVING", int(flow_id), world.owner.crid, f"reader-{world.tenant.code.lower()}@example.com")
        assert event.details["effectiveDate"] == END and event.details["term"] == "1M"
    assert [e.source for _, _, e in results] == ["CUSTOMER", "STAFF"]
    assert {k for k in results[0][2].details if k != "circulationTransactionId"} == \
        {k for k in results[1][2].details if k != "circulationTransactionId"}


async def test_stp_4_cancel_at_the_cancel_step_is_recorded_under_the_flow(api_client, own_tenant, services, tokens):
    # given
    world, _ = await downgrade_world(own_tenant, services, tokens)
    flow_id = (await start(api_client, world, "staff"))["stopSaver"]["id"]
    # when: too early, then after passing both earlier steps
    early = await cancel(api_client, world, flow_id, who="staff")
    await pass_step(api_client, world, flow_id, "TEMPORARY_STOP", "staff")
    last = await pass_step(api_client, world, flow_id, "DOWNGRADE", "staff")
    done = await cancel(api_client, world, flow_id, "DELIVERY", who="staff")
    # then
    assert codes(early) == ["STEP_NOT_CURRENT"]
    assert last["stopSaver"]["currentStep"] == "CANCEL"
    assert done == {"subscription": {"status": "STOPPED"}, "userErrors": []}
    [event] = await events(services, world, "CANCELSUBSCRIPTION")
    assert (event.reason, event.parent_id, event.source, event.crid, event.details["subscriberEmail"]) == (
        "DELIVERY", int(flow_id), "STAFF", world.owner.crid, f"reader-{world.tenant.code.lower()}@example.com")
    passes = await events(services, world, "STOPSAVERSTEP")
    assert [(e.parent_id, e.details["step"]) for e in passes] == [(int(flow_id), "TEMPORARY_STOP"),
                                                                  (int(flow_id), "DOWNGRADE")]


async def test_stp_4_steps_in_order_and_nothing_after_the_end(api_client, own_tenant, services, tokens):
    world, found = await downgrade_world(own_tenant, services, tokens)
    flow_id = (await start(api_client, world))["stopSaver"]["id"]
    # the downgrade step is not shown yet; CANCEL cannot be passed over
    assert codes(await downgrade(api_client, world, flow_id, found.cheaper)) == ["STEP_NOT_CURRENT"]
    assert codes(await pass_step(api_client, world, flow_id, "DOWNGRADE")) == ["STEP_NOT_CURRENT"]
    await pass_step(api_client, world, flow_id, "TEMPORARY_STOP")
    await pass_step(api_client, world, flow_id, "DOWNGRADE")
    assert codes(await pass_step(api_client, world, flow_id, "CANCEL")) == ["LAST_STEP"]
    assert (await cancel(api_client, world, flow_id))["userErrors"] == []
    # ended: nothing more is done in it
    assert codes(await cancel(api_client, world, flow_id)) == ["STOP_SAVER_ENDED"]
    assert codes(await pass_step(api_client, world, flow_id, "CANCEL")) == ["STOP_SAVER_ENDED"]
    assert await events(services, world, "DOWNGRADESUBSCRIPTION") == []


async def test_stp_4_temporary_stop_ends_the_flow_at_its_step(api_client, own_tenant, services, tokens):
    world, found = await downgrade_world(own_tenant, services, tokens)
    flow_id = (await start(api_client, world))["stopSaver"]["id"]
    stop = (await graphql(api_client, SCHEDULE, {"id": world.subscription_id, "flow": flow_id, "start": "2026-06-10"},
                          **world.headers["owner"]))["data"]["scheduleTemporaryStop"]
    assert stop["userErrors"] == []
    [event] = await events(services, world, "TEMPSTOP")
    assert event.parent_id == int(flow_id)
    assert codes(await pass_step(api_client, world, flow_id, "TEMPORARY_STOP")) == ["STOP_SAVER_ENDED"]
    assert codes(await downgrade(api_client, world, flow_id, found.cheaper)) == ["STOP_SAVER_ENDED"]


async def test_stp_3_a_digital_flow_starts_at_the_downgrade_step(api_client, own_tenant, services, tokens):
    world, found = await downgrade_world(own_tenant, services, tokens, digital=True)
    started = await start(api_client, world)
    assert started["stopSaver"]["steps"] == ["DOWNGRADE", "CANCEL"]
    assert started["stopSaver"]["currentStep"] == "DOWNGRADE" and started["temporaryStopDates"] is None
    assert (await downgrade(api_client, world, started["stopSaver"]["id"], found.cheapest))["userErrors"] == []


async def test_stp_4_refusals_unknown_reason_not_a_downgrade_and_another_flow(api_client, own_tenant, services,
                                                                            tokens):
    # given: a flow at its downgrade step, and another subscription's flow
    world, found = await downgrade_world(own_tenant, services, tokens, digital=True)
    other, _ = await downgrade_world(own_tenant, services, tokens, digital=True)
    flow_id = (await start(api_client, world))["stopSaver"]["id"]
    other_flow = (await start(api_client, other))["stopSaver"]["id"]
    # then
    assert codes(await downgrade(api_client, world, flow_id, found.cheaper, reason="BORED")) == ["UNKNOWN_STOP_REASON"]
    for not_a_downgrade in (found.pricier, found.expired, found.elsewhere, found.current, 999999999):
        assert codes(await downgrade(api_client, world, flow_id, not_a_downgrade)) == ["NOT_A_DOWNGRADE"]
    assert codes(await downgrade(api_client, world, other_flow, found.cheaper)) == ["STOP_SAVER_NOT_FOUND"]
    assert codes(await downgrade(api_client, world, "not-a-number", found.cheaper)) == ["STOP_SAVER_NOT_FOUND"]
    assert await events(services, world, "DOWNGRADESUBSCRIPTION") == []
    assert own_tenant.circulation().papers[world.tenant.code].subscriptions[world.subscription_id][
        "scheduledDowngrade"] is None


async def test_lnk_3_guest_and_partner_are_refused(api_client, own_tenant, services, tokens):
    world, found = await downgrade_world(own_tenant, services, tokens)
    flow_id = (await start(api_client, world))["stopSaver"]["id"]
    for who in ("guest", "partner"):
        for answer in (await graphql(api_client, START, {"id": world.subscription_id}, **world.headers[who]),
                       await graphql(api_client, DOWNGRADE, {"id": world.subscription_id, "flow": flow_id,
                                                             "offer": str(found.cheaper), "reason": "PRICE"},
                                     **world.headers[who])):
            assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert len(await events(services, world, "STOPSAVER")) == 1


async def test_stp_4_applied_at_the_next_renewal_midnight_tenant_time(api_client, own_tenant, services, tokens):
    # given: a downgrade waiting for 20 June
    world, found = await downgrade_world(own_tenant, services, tokens, digital=True)
    flow_id = (await start(api_client, world))["stopSaver"]["id"]
    assert (await downgrade(api_client, world, flow_id, found.cheaper))["userErrors"] == []

    async def product() -> dict:
        return (await graphql(api_client, SUBSCRIPTION, {"id": world.subscription_id}, **world.headers["owner"])
                )["data"]["subscription"]

    # when: 23:59 on 19 June in New York, then 00:00 on 20 June
    world.set_clock(datetime(2026, 6, 20, 3, 59, tzinfo=UTC))
    before = await product()
    world.set_clock(datetime(2026, 6, 20, 4, 0, tzinfo=UTC))
    after = await product()
    # then
    assert before == {"productCode": str(found.current), "billingOptions": [{"term": "1M", "rate": {"amount": "10.00"}}],
                      "scheduledDowngrade": {"offerId": str(found.cheaper), "rate": {"amount": "7.50"},
                                             "effectiveDate": END}}
    assert after == {"productCode": str(found.cheaper), "billingOptions": [{"term": "1M", "rate": {"amount": "7.50"}}],
                     "scheduledDowngrade": None}


async def test_stp_4_a_lost_answer_is_asked_again_and_downgraded_once(api_client, own_tenant, services, tokens,
                                                                       sandboxes):
    world, found = await downgrade_world(own_tenant, services, tokens, digital=True)
    flow_id = (await start(api_client, world))["stopSaver"]["id"]
    sandboxes["circulation"].state.control.rules.append(
        FaultRule(method="POST", path="/downgrade$", status=503, after=True, times=1))
    done = await downgrade(api_client, world, flow_id, found.cheaper)
    assert done["userErrors"] == []
    ledger = [e for e in own_tenant.circulation().ledger
              if e["subscriptionId"] == world.subscription_id and e["operation"] == "DOWNGRADE"]
    assert len(ledger) == 1 and len(await events(services, world, "DOWNGRADESUBSCRIPTION")) == 1


async def test_stp_4_the_circulation_refusal_is_typed(api_client, own_tenant, services, tokens, sandboxes):
    # given: a downgrade is already waiting (scheduled outside this flow)
    world, found = await downgrade_world(own_tenant, services, tokens, digital=True)
    record = own_tenant.circulation().papers[world.tenant.code].subscriptions[world.subscription_id]
    record["scheduledDowngrade"] = {"productCode": str(found.cheapest), "term": "1M", "length": 1,
                                    "lengthUnit": "MONTH", "rate": Decimal("5.00"), "tax": Decimal("0.50"),
                                    "reason": "PRICE", "effectiveDate": END}
    flow_id = (await start(api_client, world))["stopSaver"]["id"]
    # when
    done = await downgrade(api_client, world, flow_id, found.cheaper)
    # then
    assert codes(done) == ["DOWNGRADE_ALREADY_SCHEDULED"]
    assert await events(services, world, "DOWNGRADESUBSCRIPTION") == []


async def test_stp_3_a_stopped_subscription_has_no_flow(api_client, own_tenant, services, tokens):
    world, _ = await downgrade_world(own_tenant, services, tokens)
    assert (await cancel(api_client, world, None))["userErrors"] == []
    assert codes(await start(api_client, world)) == ["SUBSCRIPTION_STOPPED"]


async def test_stp_4_a_retry_with_the_client_key_replays_the_flow_cancel_once(api_client, own_tenant, services, tokens):
    # given: a flow at its cancel step, cancelled with a client key whose answer the client lost
    world, _ = await downgrade_world(own_tenant, services, tokens, digital=True)
    flow_id = (await start(api_client, world))["stopSaver"]["id"]
    await pass_step(api_client, world, flow_id, "DOWNGRADE")
    document = """
    mutation ($id: ID!, $flow: ID) {
      cancelSubscription(input: {subscriptionId: $id, reason: "PRICE", stopSaverId: $flow, idempotencyKey: "ss-1"}) {
        subscription { status } userErrors { code }
      }
    }
    """
    variables = {"id": world.subscription_id, "flow": flow_id}
    # when
    first = (await graphql(api_client, document, variables, **world.headers["owner"]))["data"]["cancelSubscription"]
    retry = (await graphql(api_client, document, variables, **world.headers["owner"]))["data"]["cancelSubscription"]
    # then: the same answer, one cancellation, one event; without the key the ended flow refuses
    assert first == retry == {"subscription": {"status": "STOPPED"}, "userErrors": []}
    assert len(await events(services, world, "CANCELSUBSCRIPTION")) == 1
    assert codes(await cancel(api_client, world, flow_id)) == ["STOP_SAVER_ENDED"]
