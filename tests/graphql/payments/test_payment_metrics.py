"""The payment families at /metrics, read through the public API.

`papergraph_idempotent_replays_total{operation}`: a request answered from its key's first answer counts once,
under its mutation's name, and nothing else does. `papergraph_pending_payment_attempts{state}`: the ledger's
unfinished attempts, counted in the database at each scrape (on every backend: the count is SQL), left pending
with test_payment_faults.py's faults and finished by reconciliation."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import pytest
from sqlmodel import select

from datasources.models import Payment
from resolvers.reconciliation import reconcile
from tests.conftest import graphql
from tests.graphql.payments.support import (
    ADD_TIP, MAKE_PAYMENT, RESTART, SIGN_UP_AUTO_PAY, UPDATE_AUTO_PAY, another_subscription, codes, ledger_rows,
    paying, pending_attempts, replays,
)
from tests.graphql.payments.test_payment_faults import NOW, PAYMENTS, VOIDS, clear_faults, fault, make_payment, \
    payload_of
from tests.graphql.payments.test_payment_sessions import CARD, VISA, complete, start, tokenize

UNFINISHED = ("CREATED", "CHARGED", "PAID", "PENDING_APPLY")

# each mutation with a subscription it succeeds on and its input
MUTATIONS = {
    "makePayment": (MAKE_PAYMENT, {}, {"optionTerm": "1M", "optionAmount": "10.79", "paymentType": "CREDIT_CARD",
                                       "total": "10.79"}),
    "restartSubscription": (RESTART, {"status": "STOPPED"}, {"optionTerm": "1M", "optionAmount": "10.79",
                                                             "paymentType": "CREDIT_CARD", "total": "10.79"}),
    "signUpAutoPay": (SIGN_UP_AUTO_PAY, {"balance": "-20.45"}, {"term": "1M", "length": 1,
                                                                "paymentType": "CREDIT_CARD", "total": "20.45"}),
    "updateAutoPay": (UPDATE_AUTO_PAY, {"autoPay": True}, {"term": "12M", "length": 1, "tip": "4.00",
                                                           "paymentType": "CREDIT_CARD"}),
    "addTip": (ADD_TIP, {"digital": False}, {"amount": "10.10", "paymentType": "CREDIT_CARD", "total": "10.10"}),
}


async def send(client, setup, document: str, data: dict) -> dict:
    answer = await graphql(client, document, {"input": data}, **setup.headers)
    assert "errors" not in answer, answer
    return next(iter(answer["data"].values()))


@pytest.mark.sqlite_only("the counters are the process's; these payments run on both databases elsewhere")
@pytest.mark.parametrize("operation", list(MUTATIONS))
async def test_the_same_key_and_input_again_count_one_replay_of_that_mutation(api_client, own_tenant, sandboxes,
                                                                             tokens, operation):
    # given: a first request that succeeded
    document, subscription, fields = MUTATIONS[operation]
    setup = await paying(own_tenant, sandboxes, tokens, **subscription)
    data = setup.sub(**fields)
    first = await send(api_client, setup, document, data)
    assert first["userErrors"] == []
    before = await replays(api_client)

    # when: the client sends it again with its key
    again = await send(api_client, setup, document, data)

    # then: the first answer, one replay of this mutation, none of any other
    assert again == first
    after = await replays(api_client)
    assert after.get(operation, 0) == before.get(operation, 0) + 1
    assert {name: value for name, value in after.items() if name != operation} == \
        {name: value for name, value in before.items() if name != operation}


@pytest.mark.sqlite_only("the counters are the process's; these payments run on both databases elsewhere")
async def test_a_first_request_and_one_with_a_new_key_count_no_replay(api_client, own_tenant, sandboxes, tokens):
    # given
    document, subscription, fields = MUTATIONS["updateAutoPay"]
    setup = await paying(own_tenant, sandboxes, tokens, **subscription)
    before = await replays(api_client)

    # when: two updates, each with its own key
    answers = [await send(api_client, setup, document, setup.sub(**fields)) for _ in range(2)]

    # then
    assert [answer["userErrors"] for answer in answers] == [[], []]
    assert answers[0]["payment"]["id"] != answers[1]["payment"]["id"]
    assert await replays(api_client) == before


@pytest.mark.sqlite_only("the counters are the process's; these payments run on both databases elsewhere")
async def test_a_refusal_answered_again_for_its_key_counts_as_a_replay(api_client, own_tenant, sandboxes, tokens):
    # given: a first request refused (its total is a cent off), remembered for its key (PAY-4)
    document, subscription, fields = MUTATIONS["makePayment"]
    setup = await paying(own_tenant, sandboxes, tokens, **subscription)
    data = setup.sub(**{**fields, "total": "10.80"})
    first = await send(api_client, setup, document, data)
    before = await replays(api_client)

    # when
    again = await send(api_client, setup, document, data)

    # then
    assert [e["code"] for e in first["userErrors"]] == ["TOTAL_MISMATCH"] and again == first
    assert (await replays(api_client))["makePayment"] == before.get("makePayment", 0) + 1


async def test_concurrent_duplicates_waiting_for_the_first_answer_each_count_one_replay(api_client, own_tenant,
                                                                                       sandboxes, tokens):
    # given
    document, subscription, fields = MUTATIONS["makePayment"]
    setup = await paying(own_tenant, sandboxes, tokens, **subscription)
    data = setup.sub(**fields, idempotencyKey=uuid.uuid4().hex)
    before = await replays(api_client)

    # when: four identical requests at once: one runs, three wait for its answer
    answers = await asyncio.gather(*(send(api_client, setup, document, data) for _ in range(4)))

    # then
    assert all(answer == answers[0] for answer in answers) and answers[0]["userErrors"] == []
    assert (await replays(api_client))["makePayment"] == before.get("makePayment", 0) + 3


@pytest.mark.sqlite_only("the counters are the process's; these payments run on both databases elsewhere")
async def test_completing_a_session_again_counts_one_replay(api_client, own_tenant, sandboxes, tokens):
    # given: a session completed once
    setup = await paying(own_tenant, sandboxes, tokens, method=None)
    session = (await start(api_client, setup))["session"]
    posted = {**await tokenize(api_client, session, {"cardNumber": VISA, **CARD}), "sessionId": session["sessionId"]}
    first = await complete(api_client, setup, posted)
    before = await replays(api_client)

    # when
    again = await complete(api_client, setup, posted)

    # then: the method it attached, no new event, one replay
    assert first["userErrors"] == again["userErrors"] == []
    assert again["paymentMethod"] == first["paymentMethod"] and again["event"] is None
    assert (await replays(api_client))["completePaymentSession"] == before.get("completePaymentSession", 0) + 1


async def test_pending_attempts_are_the_ledgers_until_reconciliation_finishes_them(api_client, own_tenant,
                                                                                    sandboxes, services, tokens):
    # given: two payments whose application and give-back both fail, left PENDING_APPLY
    setup = await paying(own_tenant, sandboxes, tokens)
    other = await another_subscription(own_tenant, sandboxes, tokens, setup.tenant, setup.crid, setup.registration_id)
    before = await pending_attempts(api_client)
    fault(sandboxes, "circulation", path=PAYMENTS, status=503)
    fault(sandboxes, "navigapay", path=VOIDS, status=503)
    for subscription in (setup, other):
        assert codes(payload_of(await make_payment(api_client, subscription))) == ["PAYMENT_PENDING"]

    # when
    pending = await pending_attempts(api_client)

    # then: the scrape counted them in the ledger, every unfinished state, whoever wrote them
    assert [row.state for row in await ledger_rows(services, setup.tenant)] == ["PENDING_APPLY"] * 2
    assert pending["PENDING_APPLY"] == before["PENDING_APPLY"] + 2
    async with services.db.session() as session:
        states = Counter((await session.execute(select(Payment.state))).scalars())
    assert pending == {state: states[state] for state in UNFINISHED}

    # when: reconciliation (its own process, in production) finishes them
    clear_faults(sandboxes)
    await reconcile(services, stale_after=NOW)

    # then: the next scrape shows none left
    assert [row.state for row in await ledger_rows(services, setup.tenant)] == ["APPLIED"] * 2
    assert await pending_attempts(api_client) == {state: 0 for state in UNFINISHED}
