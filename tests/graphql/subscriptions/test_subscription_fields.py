"""Fields of `CustomerSubscription` beyond the record's scalars (SUB-1, PAY-3, PM-4, RST-1, TIP-1, EZ-3,
SUB-4): registration count, masked payment method, billing options, availabilities, scheduled stops,
offer and subscriber."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from sandbox.demo import generate
from sandbox.faults import FaultRule
from tests.conftest import graphql

FIELDS_QUERY = """
query ($id: ID!) {
  subscription(id: $id) {
    id registrationCount productCode
    offer { id name }
    paymentMethod { type cardBrand cardLast4 cardExpiry bankName bankAccountMasked bankRoutingNumber }
    billingOptions { term length lengthUnit rate { amount currency } tax { amount } otherCosts { amount }
                     amount { amount currency } autoRenew }
    restartAvailability { available reasons { code message } }
    tipAvailability { oneTime { available reasons { code message } } recurring { available reasons { code } } }
    ebillAvailability { signUpAllowed manageAllowed reason { code message } }
    subscriber { firstName lastName email phones companyName postalCode address { city postalCode country } }
  }
}
"""

AVAILABILITY_QUERY = """
query ($id: ID!) {
  subscription(id: $id) {
    restartAvailability { available reasons { code } }
    tipAvailability { oneTime { available reasons { code } } recurring { available reasons { code } } }
    ebillAvailability { signUpAllowed manageAllowed reason { code } }
  }
}
"""

STOPS_QUERY = """
query ($id: ID!) { subscription(id: $id) { id scheduledStops { id startDate endDate reason } } }
"""

DEMO = generate(1)
LINK_COUNTS = Counter((link["tenant"], link["subscription_id"]) for link in DEMO.links)
PAYMENT_METHODS = {(m["tenant"], m["subscription_id"]): m for m in DEMO.payment_methods}


def _demo(paper: str, predicate=lambda s: True) -> dict:
    return next(s for s in DEMO.subscriptions_of(paper) if predicate(s))


def _codes(availability: dict) -> list[str]:
    return [reason["code"] for reason in availability["reasons"]]


async def test_sub1_registration_count_counts_owner_and_guest_links(staff_api_client):
    # given: a subscription with an owner and a guest (every 7th demo subscription)
    record = _demo("NCSDEMO", lambda s: LINK_COUNTS[("NCSDEMO", s["id"])] == 2)

    body = await graphql(staff_api_client, FIELDS_QUERY, {"id": record["id"]})

    assert "errors" not in body
    assert body["data"]["subscription"]["registrationCount"] == 2


@pytest.mark.parametrize("method_type", ["CREDIT_CARD", "BANK"])
async def test_pm4_payment_method_is_masked_and_never_shows_the_token(staff_api_client, method_type):
    # given
    method = next(m for m in DEMO.payment_methods if m["tenant"] == "NCSDEMO" and m["type"] == method_type)

    # when
    body = await graphql(staff_api_client, FIELDS_QUERY, {"id": method["subscription_id"]})

    # then
    shown = body["data"]["subscription"]["paymentMethod"]
    assert shown["type"] == method_type
    if method_type == "CREDIT_CARD":
        assert (shown["cardBrand"], shown["cardLast4"], shown["cardExpiry"]) == (
            method["card_brand"], method["card_last4"], method["card_expiry"])
        assert shown["bankName"] is None and shown["bankAccountMasked"] is None
    else:
        assert (shown["bankName"], shown["bankAccountMasked"], shown["bankRoutingNumber"]) == (
            method["bank_name"], method["bank_account_masked"], method["bank_routing_number"])
        assert shown["cardLast4"] is None
    assert method["gateway_token"] not in str(body) and method["gateway_customer_id"] not in str(body)


async def test_pm4_payment_method_type_has_no_token_field(staff_api_client):
    body = await graphql(staff_api_client, '{ __type(name: "PaymentMethod") { fields { name } } }')

    names = {f["name"] for f in body["data"]["__type"]["fields"]}
    assert not {n for n in names if "token" in n.lower() or "customer" in n.lower() or "cvv" in n.lower()}


async def test_subscription_without_payment_method_is_null(staff_api_client):
    record = _demo("NCSDEMO", lambda s: ("NCSDEMO", s["id"]) not in PAYMENT_METHODS)

    body = await graphql(staff_api_client, FIELDS_QUERY, {"id": record["id"]})

    assert body["data"]["subscription"]["paymentMethod"] is None


async def test_pay3_billing_options_come_from_the_circulation_system_as_money(staff_api_client):
    # given
    record = _demo("MTXDEMO")

    # when
    body = await graphql(staff_api_client, FIELDS_QUERY, {"id": record["id"]}, x_tenant="MTXDEMO")

    # then
    options = body["data"]["subscription"]["billingOptions"]
    assert [o["term"] for o in options] == [o["term"] for o in record["billingOptions"]]
    for shown, option in zip(options, record["billingOptions"]):
        assert (shown["length"], shown["lengthUnit"], shown["autoRenew"]) == (
            option["length"], option["lengthUnit"], option["autoRenew"])
        assert shown["amount"] == {"amount": option["amount"], "currency": "NOK"}
        assert shown["rate"]["amount"] == option["rate"] and shown["tax"]["amount"] == option["tax"]
        assert Decimal(shown["otherCosts"]["amount"]) == Decimal(option["otherCosts"])


async def test_offer_is_the_one_named_by_the_product_code(staff_api_client):
    record = _demo("NCSDEMO")
    offer = next(o for o in DEMO.offers if str(o["id"]) == record["productCode"])

    body = await graphql(staff_api_client, FIELDS_QUERY, {"id": record["id"]})

    subscription = body["data"]["subscription"]
    assert subscription["productCode"] == record["productCode"]
    assert subscription["offer"] == {"id": str(offer["id"]), "name": offer["name"]}


async def test_subscriber_contact_for_staff(staff_api_client):
    record = _demo("NCSDEMO", lambda s: s["subscriber"]["companyName"] and s["subscriber"]["phones"])

    body = await graphql(staff_api_client, FIELDS_QUERY, {"id": record["id"]})

    subscriber = body["data"]["subscription"]["subscriber"]
    expected = record["subscriber"]
    assert (subscriber["firstName"], subscriber["lastName"], subscriber["email"], subscriber["phones"],
            subscriber["companyName"]) == (expected["firstName"], expected["lastName"], expected["email"],
                                           expected["phones"], expected["companyName"])
    assert subscriber["postalCode"] == subscriber["address"]["postalCode"] == expected["address"]["postalCode"]


# -- availabilities (computed from the record, no I/O) ----------------------------------------------
async def test_rst1_stopped_regular_ncs_subscription_can_restart(staff_api_client):
    record = _demo("NCSDEMO", lambda s: s["status"] == "STOPPED" and s["kind"] == "REGULAR"
                   and not s["restartScheduled"])

    body = await graphql(staff_api_client, AVAILABILITY_QUERY, {"id": record["id"]})

    assert body["data"]["subscription"]["restartAvailability"] == {"available": True, "reasons": []}


async def test_rst1_restart_already_scheduled_is_not_available(staff_api_client):
    record = _demo("NCSDEMO", lambda s: s["restartScheduled"] and s["kind"] == "REGULAR")

    body = await graphql(staff_api_client, AVAILABILITY_QUERY, {"id": record["id"]})

    assert _codes(body["data"]["subscription"]["restartAvailability"]) == ["RESTART_SCHEDULED"]


async def test_rst1_active_subscription_is_not_stopped(staff_api_client):
    record = _demo("NCSDEMO", lambda s: s["status"] == "ACTIVE" and s["kind"] == "REGULAR")

    body = await graphql(staff_api_client, AVAILABILITY_QUERY, {"id": record["id"]})

    assert _codes(body["data"]["subscription"]["restartAvailability"]) == ["NOT_STOPPED"]


async def test_rst1_circpro_does_not_support_restarts(staff_api_client):
    record = _demo("CPRDEMO", lambda s: s["status"] == "STOPPED" and s["kind"] == "REGULAR"
                   and not s["restartScheduled"])

    body = await graphql(staff_api_client, AVAILABILITY_QUERY, {"id": record["id"]}, x_tenant="CPRDEMO")

    assert _codes(body["data"]["subscription"]["restartAvailability"]) == ["NOT_SUPPORTED_BY_CIRCULATION_SYSTEM"]


def _on_auto_pay(sandboxes, paper: str, record: dict) -> None:
    """Demo print subscriptions are never on auto-pay: put one on it in this test's own emulator."""
    sandboxes["circulation"].state.store.papers[paper].subscriptions[record["id"]].update(autoPay=True, ebill=False)


async def test_tip1_print_active_on_auto_pay_may_tip_both_ways(staff_api_client, sandboxes):
    record = _demo("NCSDEMO", lambda s: s["status"] == "ACTIVE" and not s["digital"])
    _on_auto_pay(sandboxes, "NCSDEMO", record)

    body = await graphql(staff_api_client, AVAILABILITY_QUERY, {"id": record["id"]})

    tips = body["data"]["subscription"]["tipAvailability"]
    assert tips["oneTime"] == {"available": True, "reasons": []}
    assert tips["recurring"] == {"available": True, "reasons": []}


async def test_tip1_digital_without_auto_pay(staff_api_client):
    record = _demo("NCSDEMO", lambda s: s["status"] == "ACTIVE" and s["digital"] and not s["autoPay"])

    body = await graphql(staff_api_client, AVAILABILITY_QUERY, {"id": record["id"]})

    tips = body["data"]["subscription"]["tipAvailability"]
    assert _codes(tips["oneTime"]) == ["DIGITAL"]
    assert _codes(tips["recurring"]) == ["NOT_ON_AUTO_PAY"]


async def test_tip1_matrix_has_no_tips(staff_api_client, sandboxes):
    record = _demo("MTXDEMO", lambda s: s["status"] == "ACTIVE" and not s["digital"])
    _on_auto_pay(sandboxes, "MTXDEMO", record)

    body = await graphql(staff_api_client, AVAILABILITY_QUERY, {"id": record["id"]}, x_tenant="MTXDEMO")

    tips = body["data"]["subscription"]["tipAvailability"]
    assert _codes(tips["oneTime"]) == _codes(tips["recurring"]) == ["NOT_SUPPORTED_BY_CIRCULATION_SYSTEM"]


@pytest.mark.parametrize(("predicate", "expected"), [
    (lambda s: s["status"] == "ACTIVE" and not s["autoPay"] and not s["ebill"], (True, False, None)),
    (lambda s: s["ebill"], (False, True, "ALREADY_ON_EBILL")),
    (lambda s: s["autoPay"], (False, False, "ON_AUTO_PAY")),
    (lambda s: s["status"] == "STOPPED", (False, False, "STOPPED")),
], ids=["may-sign-up", "on-ebill", "on-auto-pay", "stopped"])
async def test_ez3_ebill_availability(staff_api_client, predicate, expected):
    record = _demo("NCSDEMO", predicate)

    body = await graphql(staff_api_client, AVAILABILITY_QUERY, {"id": record["id"]})

    ebill = body["data"]["subscription"]["ebillAvailability"]
    assert (ebill["signUpAllowed"], ebill["manageAllowed"], ebill["reason"] and ebill["reason"]["code"]) == expected


# -- scheduled stops (SUB-4) ---------------------------------------------------------------------------
async def test_sub4_scheduled_stops_are_read_live(staff_api_client, sandboxes):
    # given: a stop in the demo data, then one added in the circulation system after the first read
    record = _demo("NCSDEMO", lambda s: s["scheduledStops"])
    first = await graphql(staff_api_client, STOPS_QUERY, {"id": record["id"]})
    paper = sandboxes["circulation"].state.store.papers["NCSDEMO"]
    paper.subscriptions[record["id"]]["scheduledStops"].append(
        {"id": "NEW-1", "startDate": "2030-01-01", "endDate": None, "reason": "COMPLAINT"})

    # when: a new request
    second = await graphql(staff_api_client, STOPS_QUERY, {"id": record["id"]})

    # then
    assert first["data"]["subscription"]["scheduledStops"] == [
        {"id": stop["id"], "startDate": stop["startDate"], "endDate": stop["endDate"], "reason": stop["reason"]}
        for stop in record["scheduledStops"]]
    assert second["data"]["subscription"]["scheduledStops"][-1] == {
        "id": "NEW-1", "startDate": "2030-01-01", "endDate": None, "reason": "COMPLAINT"}


async def test_sub4_scheduled_stops_single_calls_are_bounded_by_upstream_concurrency(staff_api_client, services, monkeypatch):
    # given: no batch endpoint upstream, a bound of 3 and 12 subscriptions
    monkeypatch.setattr(services.settings, "upstream_concurrency", 3)
    circulation = services.circulation
    original = circulation.get_scheduled_stops
    in_flight = peak = 0

    async def counting(paper_code, subscription_id):
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            return await original(paper_code, subscription_id)
        finally:
            in_flight -= 1

    monkeypatch.setattr(circulation, "get_scheduled_stops", counting)
    ids = [s["id"] for s in DEMO.subscriptions_of("NCSDEMO")][:12]
    query = "{ " + " ".join(f's{i}: subscription(id: "{sid}") {{ scheduledStops {{ id }} }}'
                             for i, sid in enumerate(ids)) + " }"
    control = services.sandboxes["circulation"].state.control
    control.rules.append(FaultRule(path="/scheduled-stops", latency_ms=20))  # in-process calls must overlap
    control.requests.clear()

    # when
    body = await graphql(staff_api_client, query)

    # then: one batch for the subscriptions, one call per id for their stops, never more than 3 at once
    assert "errors" not in body
    assert control.count(path_contains="/scheduled-stops") == 12
    assert control.count(path_contains="/scheduled-stops") + 1 == len(control.requests)
    assert peak == 3


# -- failures ----------------------------------------------------------------------------------------
async def test_billing_options_outage_fails_only_that_field(staff_api_client, sandboxes):
    # given: the billing-options endpoint answers 503
    sandboxes["circulation"].state.control.rules.append(FaultRule(path="/billing-options", status=503))
    record = _demo("NCSDEMO")

    # when
    body = await graphql(staff_api_client, FIELDS_QUERY, {"id": record["id"]})

    # then: the subscription and its other fields resolve; one coded error on billingOptions
    subscription = body["data"]["subscription"]
    assert subscription["id"] == record["id"] and subscription["offer"] is not None
    assert subscription["billingOptions"] is None
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["subscription", "billingOptions"], "UPSTREAM_UNAVAILABLE")]


async def test_scheduled_stops_failure_is_coded_per_subscription(staff_api_client, sandboxes):
    # given: the stops of one subscription fail; the other's do not
    ids = [s["id"] for s in DEMO.subscriptions_of("NCSDEMO")][:2]
    sandboxes["circulation"].state.control.rules.append(FaultRule(path=f"{ids[0]}/scheduled-stops", status=503))
    query = f'{{ a: subscription(id: "{ids[0]}") {{ id scheduledStops {{ id }} }} ' \
            f'b: subscription(id: "{ids[1]}") {{ id scheduledStops {{ id }} }} }}'

    # when
    body = await graphql(staff_api_client, query)

    # then
    assert body["data"]["a"] == {"id": ids[0], "scheduledStops": None}
    assert body["data"]["b"]["scheduledStops"] is not None
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["a", "scheduledStops"], "UPSTREAM_UNAVAILABLE")]
