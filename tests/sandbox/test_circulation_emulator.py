"""Contract tests of the circulation emulator, in-process through httpx's ASGI transport."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Callable

import httpx
import pytest

from sandbox.circulation import create_app, load_demo
from sandbox.faults import DroppedConnection
from tests.sandbox.circulation_support import ANCHOR, DATA, api, app, client, pick  # noqa: F401 (fixtures)

NCS, MATRIX, CIRCPRO, SAXO = "NCSDEMO", "MTXDEMO", "CPRDEMO", "SAXDEMO"


def payable(r: dict[str, Any]) -> bool:
    return r["status"] == "ACTIVE" and bool(r["billingOptions"])


def restartable(status: str = "STOPPED") -> Callable[[dict[str, Any]], bool]:
    return lambda r: r["status"] == status and r["kind"] != "TRIAL" and not r["restartScheduled"]


def payment_body(record: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    option = record["billingOptions"][0]
    return {"optionTerm": option["term"], "amount": str(option["amount"]), "tip": "0.00", "donation": "0.00",
            "paymentType": "CREDIT_CARD", "gatewayTransactionId": "gw-1", "activationFee": "0.00", **overrides}


def restart_body(record: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    option = record["billingOptions"][0]
    return {"restartDate": ANCHOR.isoformat(), "optionTerm": option["term"], "amount": str(option["amount"]),
            "tip": "0.00", "donation": "0.00", "paymentType": "CREDIT_CARD", "gatewayTransactionId": "gw-r",
            "applyCredit": False, "reasonCode": "payment", "sourceCode": "MG2", **overrides}


# reads ---------------------------------------------------------------------------------------------
async def test_get_subscription_returns_the_record_with_money_as_exact_strings(client, pick):
    # given
    record = pick(NCS, lambda r: r["balance"] < 0)
    # when
    response = await client.get(api(NCS, f"/subscriptions/{record['id']}"))
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == record["id"] and body["paperCode"] == NCS
    assert body["balance"] == str(record["balance"]) and "." in body["balance"]
    assert "billingOptions" not in body and "scheduledStops" not in body


async def test_unknown_paper_is_404_unknown_paper(client):
    response = await client.get(api("NOPAPER", "/subscriptions/NCS-0000001"))
    assert response.status_code == 404
    assert response.json()["code"] == "UNKNOWN_PAPER"


async def test_ten_1_a_subscription_of_another_paper_is_not_found(client):
    # given an NCS subscription asked for under the Matrix paper
    response = await client.get(api(MATRIX, "/subscriptions/NCS-0000001"))
    # then
    assert response.status_code == 404
    assert response.json()["code"] == "SUBSCRIPTION_NOT_FOUND"
    batch = await client.get(api(MATRIX, "/subscriptions"), params={"ids": "NCS-0000001,MTX-0000001"})
    assert [s["id"] for s in batch.json()["subscriptions"]] == ["MTX-0000001"]


async def test_batch_read_omits_unknown_ids_and_keeps_request_order(client):
    response = await client.get(api(NCS, "/subscriptions"), params={"ids": "NCS-0000003,unknown,NCS-0000001"})
    assert response.status_code == 200
    assert [s["id"] for s in response.json()["subscriptions"]] == ["NCS-0000003", "NCS-0000001"]


async def test_batch_read_refuses_more_than_500_ids(client):
    ids = ",".join(f"NCS-{i:07d}" for i in range(1, 502))
    response = await client.get(api(NCS, "/subscriptions"), params={"ids": ids})
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_REQUEST"


async def test_sub_2_search_matches_case_insensitively_with_all_criteria(client, pick):
    # given
    record = pick(NCS, lambda r: r["subscriber"]["phones"])
    subscriber = record["subscriber"]
    # when
    response = await client.get(api(NCS, "/subscriptions/search"), params={
        "lastName": subscriber["lastName"].upper(), "email": subscriber["email"].upper(),
        "phone": subscriber["phones"][0].replace("+", "").replace("1555", "1-555-"),
    })
    # then
    body = response.json()
    assert response.status_code == 200
    assert record["id"] in [s["id"] for s in body["subscriptions"]]
    assert body["total"] == len(body["subscriptions"])


async def test_sub_2_search_pages_with_limit_and_offset(client):
    first = (await client.get(api(NCS, "/subscriptions/search"), params={"postalCode": "10001", "limit": 3})).json()
    second = (await client.get(api(NCS, "/subscriptions/search"),
                               params={"postalCode": "10001", "limit": 3, "offset": 3})).json()
    assert first["total"] == second["total"] > 6
    assert len(first["subscriptions"]) == len(second["subscriptions"]) == 3
    assert not {s["id"] for s in first["subscriptions"]} & {s["id"] for s in second["subscriptions"]}


async def test_sub_2_search_without_criteria_is_a_validation_error(client):
    response = await client.get(api(NCS, "/subscriptions/search"), params={"lastName": "  ", "limit": 5})
    assert response.status_code == 400
    assert response.json()["message"] == "Please enter a value in at least one of the input fields."


async def test_sub_2_search_without_match_is_an_empty_result(client):
    response = await client.get(api(NCS, "/subscriptions/search"), params={"companyName": "Nobody Ltd"})
    assert response.status_code == 200
    assert response.json() == {"total": 0, "subscriptions": []}


async def test_not_2_expiring_lists_running_subscriptions_ending_in_range(client, app):
    # given
    start, end = ANCHOR, ANCHOR + timedelta(days=14)
    expected = {r["id"] for r in app.state.store.papers[NCS].subscriptions.values()
                if r["status"] not in ("STOPPED", "PERMANENTLY_STOPPED")
                and start <= date.fromisoformat(r["endDate"]) <= end}
    # when
    response = await client.get(api(NCS, "/subscriptions/expiring"),
                                params={"from": start.isoformat(), "to": end.isoformat()})
    # then
    assert response.status_code == 200
    assert {s["id"] for s in response.json()["subscriptions"]} == expected and expected


@pytest.mark.parametrize("params", [{"from": "2026-03-10"}, {"from": "2026-13-01", "to": "2026-03-10"},
                                    {"from": "2026-03-10", "to": "2026-03-01"}])
async def test_expiring_validates_its_dates(client, params):
    response = await client.get(api(NCS, "/subscriptions/expiring"), params=params)
    assert response.status_code == 400


async def test_pay_3_billing_options_batch_and_single_agree(client):
    batch = await client.get(api(NCS, "/billing-options"), params={"subscriptionIds": "NCS-0000001,NCS-0000002,nope"})
    single = await client.get(api(NCS, "/subscriptions/NCS-0000002/billing-options"))
    options = batch.json()["billingOptions"]
    assert set(options) == {"NCS-0000001", "NCS-0000002"}
    assert options["NCS-0000002"] == single.json()["billingOptions"]
    assert set(options["NCS-0000001"][0]) == {"term", "length", "lengthUnit", "rate", "tax", "otherCosts", "amount",
                                              "autoRenew"}


async def test_sub_4_scheduled_stops_are_read_per_subscription(client, pick):
    record = pick(NCS, lambda r: r["scheduledStops"])
    response = await client.get(api(NCS, f"/subscriptions/{record['id']}/scheduled-stops"))
    assert response.status_code == 200
    assert response.json()["scheduledStops"] == record["scheduledStops"]


# one-time payment ----------------------------------------------------------------------------------
async def test_payment_credits_the_option_amount_and_is_in_the_ledger(client, pick):
    # given
    record = pick(NCS, payable)
    before, option_amount = record["balance"], record["billingOptions"][0]["amount"]
    # when
    response = await client.post(api(NCS, f"/subscriptions/{record['id']}/payments"),
                                 json=payment_body(record, activationFee="5.00", tip="2.00"))
    # then
    assert response.status_code == 200
    body = response.json()
    # PAY-2: the activation fee is charged but not credited
    assert Decimal(body["subscription"]["balance"]) == before + option_amount
    transactions = (await client.get(api(NCS, f"/subscriptions/{record['id']}/transactions"))).json()["transactions"]
    assert [t["transactionId"] for t in transactions] == [body["transactionId"]]
    assert transactions[0]["amount"] == str(option_amount) and transactions[0]["activationFee"] == "5.00"
    ledger = (await client.get("/_sandbox/ledger", params={"paperCode": NCS})).json()["entries"]
    assert [e["operation"] for e in ledger] == ["PAYMENT"]


async def test_pay_3_amount_must_equal_the_chosen_option(client, pick):
    record = pick(NCS, payable)
    response = await client.post(api(NCS, f"/subscriptions/{record['id']}/payments"),
                                 json=payment_body(record, amount="1.00"))
    assert response.status_code == 422
    assert response.json()["code"] == "INVALID_OPTION"


async def test_pm_1_matrix_refuses_bank_payments(client, pick):
    record = pick(MATRIX, payable)
    response = await client.post(api(MATRIX, f"/subscriptions/{record['id']}/payments"),
                                 json=payment_body(record, paymentType="BANK"))
    assert response.status_code == 422
    assert response.json()["code"] == "PAYMENT_TYPE_NOT_ALLOWED"


@pytest.mark.parametrize("paper", [MATRIX, CIRCPRO])
async def test_pm_2_tips_and_donations_are_refused_outside_ncs_and_saxo(client, pick, paper):
    record = pick(paper, payable)
    response = await client.post(api(paper, f"/subscriptions/{record['id']}/payments"),
                                 json=payment_body(record, donation="1.00"))
    assert response.status_code == 422
    assert response.json()["code"] == "TIP_NOT_SUPPORTED"


async def test_pm_2_saxo_accepts_a_tip_and_a_bank_payment(client, pick):
    record = pick(SAXO, payable)
    response = await client.post(api(SAXO, f"/subscriptions/{record['id']}/payments"),
                                 json=payment_body(record, tip="3.00", paymentType="BANK"))
    assert response.status_code == 200


async def test_pay_2_activation_fee_is_refused_outside_ncs(client, pick):
    record = pick(SAXO, payable)
    response = await client.post(api(SAXO, f"/subscriptions/{record['id']}/payments"),
                                 json=payment_body(record, activationFee="5.00"))
    assert response.status_code == 422
    assert response.json()["code"] == "ACTIVATION_FEE_NOT_SUPPORTED"


async def test_payment_idempotency_key_replays_the_answer_without_a_second_application(client, pick, app):
    # given
    record = pick(NCS, payable)
    path, body = api(NCS, f"/subscriptions/{record['id']}/payments"), payment_body(record)
    # when
    first = await client.post(path, json=body, headers={"Idempotency-Key": "k-1"})
    second = await client.post(path, json=dict(reversed(body.items())), headers={"Idempotency-Key": "k-1"})
    # then
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert len(app.state.store.ledger) == 1


async def test_payment_idempotency_key_reused_with_another_body_is_409(client, pick, app):
    record = pick(NCS, payable)
    path = api(NCS, f"/subscriptions/{record['id']}/payments")
    await client.post(path, json=payment_body(record), headers={"Idempotency-Key": "k-2"})
    response = await client.post(path, json=payment_body(record, tip="1.00"), headers={"Idempotency-Key": "k-2"})
    assert response.status_code == 409
    assert response.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert len(app.state.store.ledger) == 1


async def test_payment_refused_on_a_stopped_subscription(client, pick):
    record = pick(NCS, lambda r: r["status"] == "STOPPED")
    response = await client.post(api(NCS, f"/subscriptions/{record['id']}/payments"), json=payment_body(record))
    assert response.status_code == 422
    assert response.json()["code"] == "SUBSCRIPTION_STOPPED"


@pytest.mark.parametrize(("change", "field"), [
    ({"amount": "12.345"}, "amount"), ({"amount": "abc"}, "amount"), ({"amount": True}, "amount"),
    ({"tip": "-1.00"}, "tip"), ({"paymentType": "CASH"}, "paymentType"), ({"optionTerm": 7}, "optionTerm"),
    ({"gatewayTransactionId": 7}, "gatewayTransactionId"), ({"surprise": True}, "surprise"),
])
async def test_payment_body_is_validated_strictly(client, pick, change, field):
    # given a body with one bad field
    record = pick(NCS, payable)
    body = payment_body(record, **change)
    # when
    response = await client.post(api(NCS, f"/subscriptions/{record['id']}/payments"), json=body)
    # then
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_REQUEST"
    assert response.json()["message"].startswith(field)


async def test_payment_missing_field_is_named(client, pick):
    record = pick(NCS, payable)
    body = payment_body(record)
    del body["gatewayTransactionId"]
    response = await client.post(api(NCS, f"/subscriptions/{record['id']}/payments"), json=body)
    assert response.status_code == 400
    assert response.json()["message"] == "gatewayTransactionId: required"


async def test_mny_1_a_json_number_amount_is_read_exactly(client, pick):
    record = pick(NCS, payable)
    amount = record["billingOptions"][0]["amount"]
    content = ('{"optionTerm": "%s", "amount": %s, "paymentType": "CREDIT_CARD", "gatewayTransactionId": "g"}'
               % (record["billingOptions"][0]["term"], amount))
    response = await client.post(api(NCS, f"/subscriptions/{record['id']}/payments"), content=content,
                                 headers={"content-type": "application/json"})
    assert response.status_code == 200


# restart -------------------------------------------------------------------------------------------
async def test_rst_2_restart_makes_the_subscription_active_and_collects_a_debt(client, pick):
    # given (RST-3: a debt is always added; no stopped demo record has one, so give it one)
    record = pick(NCS, restartable())
    record["balance"] = Decimal("-12.45")
    debt, option = -record["balance"], record["billingOptions"][0]["amount"]
    # when
    response = await client.post(api(NCS, f"/subscriptions/{record['id']}/restart"), json=restart_body(record))
    # then
    assert response.status_code == 200
    body = response.json()
    assert Decimal(body["charged"]) == option + debt
    assert body["subscription"]["status"] == "ACTIVE"
    assert body["subscription"]["balance"] == "0.00"


async def test_rst_3_credit_is_subtracted_only_when_asked(client, pick):
    record = pick(NCS, restartable())
    record["balance"] = Decimal("4.10")  # less than any option, so a payment is still due
    credit, option = record["balance"], record["billingOptions"][0]["amount"]
    response = await client.post(api(NCS, f"/subscriptions/{record['id']}/restart"),
                                 json=restart_body(record, applyCredit=True))
    assert response.status_code == 200
    assert Decimal(response.json()["charged"]) == option - credit
    assert response.json()["subscription"]["balance"] == "0.00"


async def test_rst_3_credit_kept_when_not_applied(client, pick):
    record = pick(NCS, restartable())
    credit, option = record["balance"], record["billingOptions"][0]["amount"]
    response = await client.post(api(NCS, f"/subscriptions/{record['id']}/restart"), json=restart_body(record))
    assert Decimal(response.json()["charged"]) == option
    assert Decimal(response.json()["subscription"]["balance"]) == credit


async def test_rst_4_credit_covering_the_restart_needs_no_payment_and_the_rest_stays(client, app, pick):
    # given a credit larger than the option amount
    record = pick(NCS, restartable())
    record["balance"] = Decimal("500.00")
    option = record["billingOptions"][0]["amount"]
    # when
    response = await client.post(api(NCS, f"/subscriptions/{record['id']}/restart"), json=restart_body(
        record, applyCredit=True, paymentType=None, gatewayTransactionId=None, tip="1.00"))
    # then
    assert response.status_code == 200
    assert response.json()["charged"] == "0.00"
    assert Decimal(response.json()["subscription"]["balance"]) == Decimal("500.00") - option - Decimal("1.00")


async def test_rst_4_a_payment_sent_when_nothing_is_due_is_refused(client, pick):
    record = pick(NCS, restartable())
    record["balance"] = Decimal("500.00")
    response = await client.post(api(NCS, f"/subscriptions/{record['id']}/restart"),
                                 json=restart_body(record, applyCredit=True))
    assert response.status_code == 422
    assert response.json()["code"] == "NO_PAYMENT_DUE"


async def test_rst_3_restart_without_payment_when_something_is_due_is_refused(client, pick):
    record = pick(NCS, restartable())
    record["balance"] = Decimal("0.00")
    response = await client.post(api(NCS, f"/subscriptions/{record['id']}/restart"),
                                 json=restart_body(record, paymentType=None, gatewayTransactionId=None))
    assert response.status_code == 422
    assert response.json()["code"] == "PAYMENT_REQUIRED"


async def test_rst_3_a_permanently_stopped_subscription_has_no_usable_credit(client, pick):
    record = pick(NCS, restartable("PERMANENTLY_STOPPED"))
    record["balance"] = Decimal("30.00")
    option = record["billingOptions"][0]["amount"]
    response = await client.post(api(NCS, f"/subscriptions/{record['id']}/restart"),
                                 json=restart_body(record, applyCredit=True))
    assert response.status_code == 200
    assert Decimal(response.json()["charged"]) == option


@pytest.mark.parametrize("predicate", [
    lambda r: r["status"] == "ACTIVE",
    lambda r: r["status"] == "STOPPED" and r["kind"] == "TRIAL",
    lambda r: r["status"] == "STOPPED" and r["restartScheduled"],
], ids=["not-stopped", "trial", "restart-scheduled"])
async def test_rst_1_restart_not_available(client, pick, predicate):
    record = pick(NCS, predicate)
    response = await client.post(api(NCS, f"/subscriptions/{record['id']}/restart"), json=restart_body(record))
    assert response.status_code == 422
    assert response.json()["code"] == "RESTART_NOT_AVAILABLE"


async def test_rst_1_pm_1_circpro_has_no_restart(client, pick):
    record = pick(CIRCPRO, restartable())
    response = await client.post(api(CIRCPRO, f"/subscriptions/{record['id']}/restart"), json=restart_body(record))
    assert response.status_code == 422
    assert response.json()["code"] == "RESTART_NOT_AVAILABLE"


async def test_rst_2_a_date_before_today_is_refused(client, pick):
    record = pick(MATRIX, restartable())
    response = await client.post(api(MATRIX, f"/subscriptions/{record['id']}/restart"),
                                 json=restart_body(record, restartDate=(ANCHOR - timedelta(days=1)).isoformat()))
    assert response.status_code == 422
    assert response.json()["code"] == "INVALID_RESTART_DATE"


async def test_rst_2_a_future_date_is_refused_for_ncs(client, pick):
    record = pick(NCS, restartable())
    response = await client.post(api(NCS, f"/subscriptions/{record['id']}/restart"),
                                 json=restart_body(record, restartDate=(ANCHOR + timedelta(days=5)).isoformat()))
    assert response.status_code == 422
    assert response.json()["code"] == "INVALID_RESTART_DATE"


async def test_rst_2_matrix_future_restart_is_active_at_once(client, pick):
    record = pick(MATRIX, restartable())
    response = await client.post(api(MATRIX, f"/subscriptions/{record['id']}/restart"),
                                 json=restart_body(record, restartDate=(ANCHOR + timedelta(days=5)).isoformat()))
    assert response.status_code == 200
    assert response.json()["subscription"]["status"] == "ACTIVE"
    assert date.fromisoformat(response.json()["subscription"]["endDate"]) > ANCHOR + timedelta(days=5)


async def test_rst_2_restart_date_defaults_to_today(client, pick):
    record = pick(SAXO, restartable())
    body = restart_body(record)
    del body["restartDate"]
    response = await client.post(api(SAXO, f"/subscriptions/{record['id']}/restart"), json=body)
    assert response.status_code == 200


async def test_restart_payment_type_and_gateway_id_go_together(client, pick):
    record = pick(NCS, restartable())
    response = await client.post(api(NCS, f"/subscriptions/{record['id']}/restart"),
                                 json=restart_body(record, gatewayTransactionId=None))
    assert response.status_code == 400
    assert response.json()["message"].startswith("gatewayTransactionId")


# auto-pay ------------------------------------------------------------------------------------------
def auto_pay_body(record: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    option = record["billingOptions"][0]
    return {"paymentType": "CREDIT_CARD", "term": option["term"], "length": option["length"],
            "paymentToken": "prof_1", "tip": "0.00", "donation": "0.00", **overrides}


async def test_ez_sign_up_sets_auto_pay_and_clears_ebill(client, pick):
    # given
    record = pick(NCS, lambda r: r["ebill"] and payable(r))
    path = api(NCS, f"/subscriptions/{record['id']}/autopay")
    # when
    response = await client.post(path, json=auto_pay_body(record))
    # then
    assert response.status_code == 200
    assert response.json()["subscription"]["autoPay"] is True
    assert response.json()["subscription"]["ebill"] is False
    again = await client.post(path, json=auto_pay_body(record))
    assert again.status_code == 409 and again.json()["code"] == "ALREADY_ON_AUTO_PAY"


async def test_ez_update_requires_auto_pay(client, pick):
    record = pick(NCS, lambda r: not r["autoPay"] and payable(r))
    response = await client.put(api(NCS, f"/subscriptions/{record['id']}/autopay"), json=auto_pay_body(record))
    assert response.status_code == 409
    assert response.json()["code"] == "NOT_ON_AUTO_PAY"


async def test_ez_2_update_changes_the_plan(client, pick):
    record = pick(CIRCPRO, lambda r: r["autoPay"])
    option = record["billingOptions"][-1]
    response = await client.put(api(CIRCPRO, f"/subscriptions/{record['id']}/autopay"),
                                json=auto_pay_body(record, paymentType="BANK", term=option["term"],
                                                   length=option["length"]))
    assert response.status_code == 200
    assert response.json()["subscription"]["autoPayPlan"]["term"] == option["term"]


async def test_pm_1_matrix_auto_pay_is_credit_card_only(client, pick):
    record = pick(MATRIX, lambda r: not r["autoPay"] and payable(r))
    response = await client.post(api(MATRIX, f"/subscriptions/{record['id']}/autopay"),
                                 json=auto_pay_body(record, paymentType="BANK"))
    assert response.status_code == 422
    assert response.json()["code"] == "PAYMENT_TYPE_NOT_ALLOWED"


async def test_ez_2_auto_pay_term_must_be_a_billing_option(client, pick):
    record = pick(NCS, lambda r: not r["autoPay"] and payable(r))
    response = await client.post(api(NCS, f"/subscriptions/{record['id']}/autopay"),
                                 json=auto_pay_body(record, length=99))
    assert response.status_code == 422
    assert response.json()["code"] == "INVALID_OPTION"


# tips ----------------------------------------------------------------------------------------------
def tip_body(**overrides: Any) -> dict[str, Any]:
    return {"amount": "5.00", "recurring": False, "paymentType": "CREDIT_CARD", "gatewayTransactionId": "gw-t",
            **overrides}


async def test_tip_1_one_time_tip_on_an_active_print_subscription(client, pick, app):
    record = pick(NCS, lambda r: r["status"] == "IN_GRACE" and not r["digital"])
    response = await client.post(api(NCS, f"/subscriptions/{record['id']}/tips"), json=tip_body())
    assert response.status_code == 200
    assert app.state.store.ledger[-1]["operation"] == "TIP"


async def test_tip_1_one_time_tip_refused_for_digital(client, pick):
    record = pick(NCS, lambda r: r["status"] == "ACTIVE" and r["digital"])
    response = await client.post(api(NCS, f"/subscriptions/{record['id']}/tips"), json=tip_body())
    assert response.status_code == 422
    assert response.json()["code"] == "TIP_NOT_ALLOWED"


async def test_tip_1_recurring_tip_needs_auto_pay(client, pick):
    without = pick(NCS, lambda r: r["status"] == "ACTIVE" and not r["autoPay"])
    with_auto_pay = pick(NCS, lambda r: r["autoPay"])
    refused = await client.post(api(NCS, f"/subscriptions/{without['id']}/tips"),
                                json=tip_body(recurring=True, gatewayTransactionId=None))
    accepted = await client.post(api(NCS, f"/subscriptions/{with_auto_pay['id']}/tips"),
                                 json=tip_body(recurring=True, gatewayTransactionId=None))
    assert refused.status_code == 422 and refused.json()["code"] == "TIP_NOT_ALLOWED"
    assert accepted.status_code == 200
    assert accepted.json()["subscription"]["autoPayPlan"]["tip"] == "5.00"


@pytest.mark.parametrize("paper", [SAXO, MATRIX, CIRCPRO])
async def test_pm_1_tips_are_ncs_only(client, pick, paper):
    record = pick(paper, lambda r: r["status"] == "ACTIVE" and not r["digital"])
    response = await client.post(api(paper, f"/subscriptions/{record['id']}/tips"), json=tip_body())
    assert response.status_code == 422
    assert response.json()["code"] == "FLOW_NOT_SUPPORTED"


async def test_tip_amount_must_be_positive(client, pick):
    record = pick(NCS, lambda r: r["status"] == "ACTIVE" and not r["digital"])
    response = await client.post(api(NCS, f"/subscriptions/{record['id']}/tips"), json=tip_body(amount="0"))
    assert response.status_code == 400
    assert response.json()["message"].startswith("amount")


# cancel --------------------------------------------------------------------------------------------
async def test_sub_4_in_grace_with_a_past_end_date_can_be_cancelled(client, pick):
    record = pick(NCS, lambda r: r["status"] == "IN_GRACE" and date.fromisoformat(r["endDate"]) < ANCHOR)
    path = api(NCS, f"/subscriptions/{record['id']}/cancel")
    response = await client.post(path, json={"reason": "moving"})
    assert response.status_code == 200
    assert response.json()["subscription"]["status"] == "STOPPED"
    again = await client.post(path, json={"reason": "moving"})
    assert again.status_code == 409 and again.json()["code"] == "ALREADY_STOPPED"


@pytest.mark.parametrize("paper", [NCS, MATRIX, CIRCPRO, SAXO])
async def test_buy_7_a_cancel_records_the_stop_date_the_purchase_check_reads(client, pick, paper):
    # given: a subscription still running (an in-grace one's end date is already past: not the day it stopped)
    record = pick(paper, lambda r: r["status"] in ("ACTIVE", "IN_GRACE") and not r.get("stopDate"))
    # when
    response = await client.post(api(paper, f"/subscriptions/{record['id']}/cancel"), json={"reason": "moving"})
    # then: the paper's today (the clock is noon UTC of the anchor date: the anchor date in every paper's zone)
    assert response.status_code == 200
    assert response.json()["subscription"]["stopDate"] == ANCHOR.isoformat()
    searched = await client.get(api(paper, "/subscriptions/search"), params={"accountNumber": record["accountNumber"]})
    assert {r["id"]: r.get("stopDate") for r in searched.json()["subscriptions"]}[record["id"]] == ANCHOR.isoformat()


async def test_cancel_requires_a_reason(client):
    response = await client.post(api(NCS, "/subscriptions/NCS-0000001/cancel"), json={})
    assert response.status_code == 400
    assert response.json()["message"] == "reason: required"


# create and update ---------------------------------------------------------------------------------
def start_body(**overrides: Any) -> dict[str, Any]:
    return {
        "productCode": "11", "term": "1M", "digital": True, "name": "Kitchen copy", "customerReferenceNumber": "",
        "subscriber": {"firstName": "Nia", "lastName": "Stone", "email": "nia@example.com", "phones": ["+15550001"],
                       "companyName": None, "address": {"houseNumber": "4", "streetName": "Elm Ave",
                                                        "city": "Springfield", "postalCode": "10001",
                                                        "country": "US"}},
        **overrides,
    }


async def test_create_starts_a_new_active_subscription(client):
    # when
    response = await client.post(api(NCS, "/subscriptions"), json=start_body())
    # then
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "ACTIVE" and body["balance"] == "0.00" and body["name"] == "Kitchen copy"
    read = await client.get(api(NCS, f"/subscriptions/{body['id']}"))
    assert read.json()["accountNumber"] == body["accountNumber"]
    options = (await client.get(api(NCS, f"/subscriptions/{body['id']}/billing-options"))).json()["billingOptions"]
    assert {o["term"] for o in options} == {"1M", "12M"}


async def test_create_refuses_an_unknown_product_and_term(client):
    product = await client.post(api(NCS, "/subscriptions"), json=start_body(productCode="999"))
    term = await client.post(api(NCS, "/subscriptions"), json=start_body(term="52W"))
    assert product.status_code == 422 and product.json()["code"] == "UNKNOWN_PRODUCT"
    assert term.status_code == 422 and term.json()["code"] == "INVALID_OPTION"


async def test_create_names_a_missing_nested_field(client):
    body = start_body()
    del body["subscriber"]["address"]["city"]
    response = await client.post(api(NCS, "/subscriptions"), json=body)
    assert response.status_code == 400
    assert response.json()["message"] == "subscriber.address.city: required"


async def test_update_changes_the_given_fields_only(client, pick):
    record = pick(NCS, lambda r: r["status"] == "ACTIVE" and not r["autoPay"])
    response = await client.patch(api(NCS, f"/subscriptions/{record['id']}"), json={
        "householdLevelId": 3, "name": "Cabin", "ebill": True, "subscriber": {"phones": ["+15551234"]}})
    body = response.json()
    assert response.status_code == 200
    assert (body["householdLevelId"], body["name"], body["ebill"]) == (3, "Cabin", True)
    assert body["subscriber"]["phones"] == ["+15551234"]
    assert body["customerReferenceNumber"] == record["customerReferenceNumber"]


async def test_ez_3_ebill_is_refused_on_auto_pay(client, pick):
    record = pick(NCS, lambda r: r["autoPay"])
    response = await client.patch(api(NCS, f"/subscriptions/{record['id']}"), json={"ebill": True})
    assert response.status_code == 422
    assert response.json()["code"] == "EBILL_NOT_AVAILABLE"


async def test_update_refuses_unknown_fields(client):
    response = await client.patch(api(NCS, "/subscriptions/NCS-0000001"), json={"status": "ACTIVE"})
    assert response.status_code == 400
    assert response.json()["message"] == "status: unknown field"


# auth, faults, admin -------------------------------------------------------------------------------
async def test_api_key_is_required_when_configured():
    app = create_app(api_key="s3cret")
    load_demo(app.state.store, DATA, paper_codes=[NCS])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://circulation") as client:
        missing = await client.get(api(NCS, "/subscriptions/NCS-0000001"))
        wrong = await client.get(api(NCS, "/subscriptions/NCS-0000001"), headers={"Authorization": "Bearer nope"})
        right = await client.get(api(NCS, "/subscriptions/NCS-0000001"), headers={"Authorization": "Bearer s3cret"})
    assert (missing.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
    assert set(app.state.store.papers) == {NCS}


async def test_fault_header_answers_the_injected_status(client):
    response = await client.get(api(NCS, "/subscriptions/NCS-0000001"), headers={"X-Sandbox-Fault": "status=503"})
    assert response.status_code == 503


async def test_fault_rule_applies_times_then_stops(client, app):
    await client.post("/_sandbox/faults", json={"rules": [
        {"method": "POST", "path": "/payments$", "status": 500, "times": 1}]})
    record = next(r for r in app.state.store.papers[NCS].subscriptions.values() if payable(r))
    path = api(NCS, f"/subscriptions/{record['id']}/payments")
    first = await client.post(path, json=payment_body(record))
    second = await client.post(path, json=payment_body(record))
    assert (first.status_code, second.status_code) == (500, 200)
    assert len(app.state.store.ledger) == 1


async def test_after_fault_makes_the_change_and_replaces_the_answer(client, app):
    # given: an active subscription, and a 503 that strikes after the emulator handled the request
    record = next(r for r in app.state.store.papers[NCS].subscriptions.values() if r["status"] == "ACTIVE")
    path = api(NCS, f"/subscriptions/{record['id']}/cancel")
    # when
    lost = await client.post(path, json={"reason": "MOVING"}, headers={
        "X-Sandbox-Fault": "after;status=503", "Idempotency-Key": "k-1"})
    again = await client.post(path, json={"reason": "MOVING"}, headers={"Idempotency-Key": "k-1"})
    plain_after = await client.get(api(NCS, f"/subscriptions/{record['id']}"), headers={"X-Sandbox-Fault": "after"})
    # then: the cancel happened once; asking again with the key gets its answer back
    assert lost.status_code == 503
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["subscription"]["status"] == "STOPPED"
    assert [e["operation"] for e in app.state.store.ledger] == ["CANCEL"]
    assert plain_after.status_code == 200 and plain_after.json()["id"] == record["id"]


async def test_drop_fault_breaks_the_connection(client):
    with pytest.raises(DroppedConnection):
        await client.get(api(NCS, "/subscriptions/NCS-0000001"), headers={"X-Sandbox-Fault": "drop"})


async def test_sandbox_load_is_additive_and_reset_clears():
    # given an empty emulator
    app = create_app()
    papers = [{"code": t["code"], "kind": t["circulation_kind"], "currency": t["currency"], "timeZone": t["time_zone"]}
              for t in DATA.tenants]
    records = list(DATA.subscriptions_of(NCS))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://circulation") as client:
        # when loaded in two chunks
        first = await client.post("/_sandbox/load", json={"papers": papers, "subscriptions": records[:100]})
        second = await client.post("/_sandbox/load", json={"papers": [], "subscriptions": records[100:]})
        read = await client.get(api(NCS, f"/subscriptions/{records[-1]['id']}"))
        bad = await client.post("/_sandbox/load", json={"subscriptions": [{"id": "X", "paperCode": "NOPE"}]})
        reset = await client.post("/_sandbox/reset")
        gone = await client.get(api(NCS, f"/subscriptions/{records[-1]['id']}"))
    # then
    assert first.json()["loaded"] == 100 and second.json()["subscriptions"] == len(records)
    assert read.status_code == 200 and read.json()["balance"] == records[-1]["balance"]
    assert bad.status_code == 400
    assert reset.status_code == 200 and gone.json()["code"] == "UNKNOWN_PAPER"


# processing fees and balance payments (FEE-1..3, EZ-1) ----------------------------------------------
async def test_fee1_processing_fees_are_recorded_and_part_of_what_was_charged(client, pick):
    record = pick(NCS, payable)
    before, option_amount = record["balance"], record["billingOptions"][0]["amount"]

    response = await client.post(api(NCS, f"/subscriptions/{record['id']}/payments"),
                                 json=payment_body(record, processingFee="0.38", processingFeeTax="0.03"))

    assert response.status_code == 200
    [entry] = (await client.get("/_sandbox/ledger", params={"paperCode": NCS})).json()["entries"]
    assert (entry["processingFee"], entry["processingFeeTax"]) == ("0.38", "0.03")
    assert Decimal(entry["charged"]) == option_amount + Decimal("0.41")
    # the fees are charged, not credited
    assert Decimal(response.json()["subscription"]["balance"]) == before + option_amount


async def test_fee3_a_processing_fee_with_a_bank_payment_is_refused(client, pick):
    record = pick(NCS, payable)

    response = await client.post(api(NCS, f"/subscriptions/{record['id']}/payments"),
                                 json=payment_body(record, paymentType="BANK", processingFee="0.38"))

    assert (response.status_code, response.json()["code"]) == (422, "PROCESSING_FEE_NOT_ALLOWED")


async def test_ez1_a_payment_without_option_pays_the_outstanding_balance(client, pick):
    record = pick(NCS, lambda r: payable(r) and r["balance"] < 0)
    debt = -record["balance"]

    response = await client.post(api(NCS, f"/subscriptions/{record['id']}/payments"),
                                 json=payment_body(record, optionTerm=None, amount=str(debt)))

    assert response.status_code == 200
    assert Decimal(response.json()["subscription"]["balance"]) == Decimal("0.00")


async def test_ez1_a_balance_payment_may_not_exceed_the_debt(client, pick):
    record = pick(NCS, lambda r: payable(r) and r["balance"] < 0)

    response = await client.post(api(NCS, f"/subscriptions/{record['id']}/payments"),
                                 json=payment_body(record, optionTerm=None, amount=str(-record["balance"] + 1)))

    assert (response.status_code, response.json()["code"]) == (422, "INVALID_AMOUNT")


async def test_rst3_restart_charged_includes_the_processing_fees(client, pick):
    record = pick(NCS, restartable())
    due = record["billingOptions"][0]["amount"] - min(record["balance"], Decimal(0))

    response = await client.post(api(NCS, f"/subscriptions/{record['id']}/restart"),
                                 json=restart_body(record, processingFee="0.10", processingFeeTax="0.01"))

    assert response.status_code == 200, response.text
    assert Decimal(response.json()["charged"]) == due + Decimal("0.11")
