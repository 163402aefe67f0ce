"""Exactly once (PAY-4, PM-5): idempotency keys of the payment mutations, on every database backend (the
unique key and the window's lock are the database's)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.conftest import graphql
from tests.graphql.payments.test_payment_sessions import CARD, VISA, complete, method_rows, start, tokenize
from tests.graphql.payments.support import (
    MAKE_PAYMENT, another_subscription, assert_ledgers_agree, circulation_entries, codes, events, gateway_entries,
    ledger_rows, pay, paying,
)

PAYMENT = {"optionTerm": "1M", "optionAmount": "10.79", "paymentType": "CREDIT_CARD", "total": "10.79"}


async def send(client, setup, key: str, **overrides) -> dict:
    data = {**setup.sub(**PAYMENT), "idempotencyKey": key, **overrides}
    answer = await graphql(client, MAKE_PAYMENT, {"input": data}, **setup.headers)
    assert "errors" not in answer, answer
    return answer["data"]["makePayment"]


async def test_pay4_the_same_key_and_input_answer_the_first_result_and_charge_once(api_client, own_tenant, sandboxes,
                                                                                  services, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens)
    first = await send(api_client, setup, "key-1")
    # when
    again = await send(api_client, setup, "key-1")
    # then
    assert again == first and first["payment"]["state"] == "APPLIED"
    assert len(gateway_entries(sandboxes, setup.tenant)) == 1
    assert len(circulation_entries(sandboxes, setup.tenant)) == 1
    assert len(await ledger_rows(services, setup.tenant)) == 1


async def test_pay4_a_failure_is_remembered_for_the_key_too(api_client, own_tenant, sandboxes, tokens):
    # given: a first attempt refused (its total is a cent off)
    setup = await paying(own_tenant, sandboxes, tokens)
    first = await send(api_client, setup, "key-2", total="10.80")
    # when
    again = await send(api_client, setup, "key-2", total="10.80")
    # then
    assert codes(first) == codes(again) == ["TOTAL_MISMATCH"]
    assert gateway_entries(sandboxes, setup.tenant) == []


async def test_pay4_the_same_key_with_other_input_is_refused_and_charges_nothing(api_client, own_tenant, sandboxes,
                                                                                tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens)
    await send(api_client, setup, "key-3")
    # when
    other = await send(api_client, setup, "key-3", optionTerm="12M", optionAmount="106.92", total="106.92")
    # then
    assert [(e["code"], e["field"]) for e in other["userErrors"]] == [
        ("IDEMPOTENCY_KEY_REUSED", ["input", "idempotencyKey"])]
    assert len(gateway_entries(sandboxes, setup.tenant)) == 1


async def test_pay4_concurrent_requests_with_one_key_execute_once(api_client, own_tenant, sandboxes, services,
                                                                  tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens)
    # when: ten identical requests at once
    answers = await asyncio.gather(*(send(api_client, setup, "key-concurrent") for _ in range(10)))
    # then: one sale, one application, and every answer is the first one's
    assert all(answer == answers[0] for answer in answers)
    assert answers[0]["userErrors"] == [] and answers[0]["payment"]["state"] == "APPLIED"
    assert len(gateway_entries(sandboxes, setup.tenant)) == 1
    assert len(circulation_entries(sandboxes, setup.tenant)) == 1
    await assert_ledgers_agree(services, sandboxes, setup.tenant)


async def test_pm5_concurrent_payments_with_different_keys_take_the_window_once(api_client, own_tenant, sandboxes,
                                                                               services, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens)
    # when
    answers = await asyncio.gather(*(send(api_client, setup, f"key-{n}") for n in range(5)))
    # then
    outcomes = sorted(tuple(codes(answer)) for answer in answers)
    assert outcomes == [()] + [("PAYMENT_WINDOW",)] * 4
    assert len(gateway_entries(sandboxes, setup.tenant)) == 1
    await assert_ledgers_agree(services, sandboxes, setup.tenant)


async def test_pay4_keys_are_passed_on_to_navigapay_and_the_circulation_system(api_client, own_tenant, sandboxes,
                                                                              tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens)
    # when
    await send(api_client, setup, "passed-on")
    # then
    code = setup.tenant.code
    assert f"pay:{code}:passed-on" in sandboxes["navigapay"].state.store.idempotency
    assert (code, f"pay-payment:{code}:passed-on") in sandboxes["circulation"].state.store.idempotency


async def test_pay4_a_key_of_255_characters_is_accepted_and_256_refused(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens)
    # when
    too_long = await send(api_client, setup, "k" * 256)
    longest = await send(api_client, setup, "k" * 255)
    # then
    assert [(e["code"], e["field"]) for e in too_long["userErrors"]] == [("INVALID", ["input", "idempotencyKey"])]
    assert longest["userErrors"] == [] and longest["payment"]["state"] == "APPLIED"


async def test_pm5_a_second_payment_within_24_hours_is_refused(api_client, own_tenant, sandboxes, tokens):
    # given: a payment applied now
    setup = await paying(own_tenant, sandboxes, tokens)
    await pay(api_client, setup, **PAYMENT)
    # when: another, with another key
    second = await pay(api_client, setup, **PAYMENT)
    # then
    assert [(e["code"], e["field"]) for e in second["userErrors"]] == [("PAYMENT_WINDOW", ["input", "subscriptionId"])]
    assert len(gateway_entries(sandboxes, setup.tenant)) == 1


async def test_pm5_a_declined_payment_does_not_take_the_window(api_client, own_tenant, sandboxes, tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens)
    profiles = sandboxes["navigapay"].state.store.profiles
    profiles[setup.profile_id]["_outcome"] = ("CARD_DECLINED", "Declined.")
    assert codes(await pay(api_client, setup, **PAYMENT)) == ["PAYMENT_DECLINED"]
    profiles[setup.profile_id]["_outcome"] = None
    # when
    again = await pay(api_client, setup, **PAYMENT)
    # then
    assert again["userErrors"] == [] and again["payment"]["state"] == "APPLIED"


async def test_pm5_the_window_is_per_subscription(api_client, own_tenant, sandboxes, tokens):
    # given: the subscriber paid one subscription
    setup = await paying(own_tenant, sandboxes, tokens)
    await pay(api_client, setup, **PAYMENT)
    other = await another_subscription(own_tenant, sandboxes, tokens, setup.tenant, setup.crid, setup.registration_id)
    # when: they pay another of theirs
    answer = await pay(api_client, other, **PAYMENT)
    # then
    assert answer["userErrors"] == []


async def test_pay4_a_key_of_another_operation_is_refused(staff_api_client, own_tenant, sandboxes, tokens):
    # given: a key used by another mutation of the same tenant (a purchase's is bound the same way)
    setup = await paying(own_tenant, sandboxes, tokens)
    key = uuid.uuid4().hex
    restart = ("mutation ($input: RestartSubscriptionInput!) { restartSubscription(input: $input) "
               "{ userErrors { code } } }")
    await graphql(staff_api_client, restart, {"input": {**setup.sub(**PAYMENT), "idempotencyKey": key}},
                  **setup.tenant.headers)
    # when
    answer = await send(staff_api_client, setup, key)
    # then
    assert codes(answer) == ["IDEMPOTENCY_KEY_REUSED"]


async def test_gw1_two_completions_of_one_session_at_once_attach_it_once(api_client, own_tenant, sandboxes, services,
                                                                        tokens):
    # given
    setup = await paying(own_tenant, sandboxes, tokens, method=None)
    session = (await start(api_client, setup))["session"]
    posted = {**await tokenize(api_client, session, {"cardNumber": VISA, **CARD}), "sessionId": session["sessionId"]}
    # when
    answers = await asyncio.gather(complete(api_client, setup, posted), complete(api_client, setup, posted))
    # then
    assert [a["userErrors"] for a in answers] == [[], []]
    assert {a["paymentMethod"]["cardLast4"] for a in answers} == {"4242"}
    assert len(await method_rows(services, setup)) == 1
    assert [e.type_code for e in await events(services, setup.tenant)].count("CHANGEPAYMENTMETHOD") == 1
