"""RestDataSource against the circulation emulator's fault injection: the circuit breaker, counted at the
emulator, and the request's time budget (datasources/budget.py)."""

from __future__ import annotations

import httpx
import pytest

from datasources.base import CircuitOpen, UpstreamRejected, UpstreamTimeout, UpstreamUnavailable
from datasources.breaker import BreakerState
from datasources.budget import outside_request_budget, request_budget
from datasources.circulation import CirculationDataSource
from sandbox.circulation import create_app, load_demo
from sandbox.demo import generate
from sandbox.faults import FaultRule

pytestmark = pytest.mark.sqlite_only

NCS = "NCSDEMO"
SUBSCRIPTION = "NCS-0000001"
DATA = generate(1)


@pytest.fixture
def emulator():
    app = create_app()
    load_demo(app.state.store, DATA, paper_codes=[NCS])
    return app


@pytest.fixture
async def circulation(emulator):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(emulator), base_url="http://circulation") as client:
        datasource = CirculationDataSource(client, timeout=2.0, read_retries=2, backoff_base=0.001,
                                           breaker_failures=5, breaker_cooldown=30.0)
        clock = [0.0]
        datasource.breaker.clock = lambda: clock[0]
        datasource.clock = clock
        yield datasource


def calls_seen(emulator) -> int:
    return emulator.state.control.count(path_contains="/subscriptions/")


async def test_after_n_failures_the_upstream_sees_no_more_calls_until_the_cooldown(circulation, emulator):
    # given: the upstream answers 503 to every read
    emulator.state.control.rules.append(FaultRule(method="GET", path="/subscriptions/", status=503))

    # when: two reads of three attempts each (one try, two retries)
    for _ in range(2):
        with pytest.raises(UpstreamUnavailable):
            await circulation.get_subscription(NCS, SUBSCRIPTION)
    seen_when_opened = calls_seen(emulator)
    refusals = []
    for _ in range(10):
        with pytest.raises(CircuitOpen) as refused:
            await circulation.get_subscription(NCS, SUBSCRIPTION)
        refusals.append(refused.value.code)

    # then: the fifth failure opened it, the sixth attempt was never sent, and nothing since
    assert seen_when_opened == 5
    assert calls_seen(emulator) == 5
    assert circulation.breaker.state is BreakerState.OPEN
    assert set(refusals) == {"UPSTREAM_UNAVAILABLE"}


async def test_a_probe_after_the_cooldown_closes_the_breaker(circulation, emulator):
    # given: open after five failures, then the upstream recovers
    emulator.state.control.rules.append(FaultRule(method="GET", path="/subscriptions/", status=503, times=5))
    with pytest.raises(UpstreamUnavailable):
        await circulation.get_subscription(NCS, SUBSCRIPTION)
    with pytest.raises(CircuitOpen):
        await circulation.get_subscription(NCS, SUBSCRIPTION)
    assert circulation.breaker.state is BreakerState.OPEN

    # when: the cool-down passes
    circulation.clock[0] += 30
    record = await circulation.get_subscription(NCS, SUBSCRIPTION)

    # then: one probe call reached the upstream, and the breaker is closed
    assert record["id"] == SUBSCRIPTION
    assert calls_seen(emulator) == 5 + 1
    assert circulation.breaker.state is BreakerState.CLOSED


async def test_a_failed_probe_keeps_the_upstream_spared_for_another_cooldown(circulation, emulator):
    emulator.state.control.rules.append(FaultRule(method="GET", path="/subscriptions/", status=503))
    with pytest.raises(UpstreamUnavailable):
        await circulation.get_subscription(NCS, SUBSCRIPTION)
    with pytest.raises(UpstreamUnavailable):
        await circulation.get_subscription(NCS, SUBSCRIPTION)
    circulation.clock[0] += 30

    with pytest.raises(UpstreamUnavailable):  # the probe: one attempt, no retries past the reopened breaker
        await circulation.get_subscription(NCS, SUBSCRIPTION)
    with pytest.raises(CircuitOpen):
        await circulation.get_subscription(NCS, SUBSCRIPTION)

    assert calls_seen(emulator) == 5 + 1
    assert circulation.breaker.state is BreakerState.OPEN


async def test_4xx_answers_do_not_open_the_breaker(circulation, emulator):
    emulator.state.control.rules.append(FaultRule(method="GET", path="/subscriptions/search", status=400))

    for _ in range(8):
        with pytest.raises(UpstreamRejected):
            await circulation.search_subscriptions(NCS, lastName="Hansen")

    assert circulation.breaker.state is BreakerState.CLOSED


async def test_timeouts_and_dropped_connections_count_as_failures(emulator):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(emulator), base_url="http://circulation") as client:
        datasource = CirculationDataSource(client, timeout=0.05, read_retries=0, breaker_failures=2)
        emulator.state.control.rules.append(FaultRule(method="GET", path="/subscriptions/", timeout=True, times=1))
        emulator.state.control.rules.append(FaultRule(method="GET", path="/subscriptions/", drop=True, times=1))

        with pytest.raises(UpstreamTimeout):
            await datasource.get_subscription(NCS, SUBSCRIPTION)
        with pytest.raises(UpstreamUnavailable):
            await datasource.get_subscription(NCS, SUBSCRIPTION)

        assert datasource.breaker.state is BreakerState.OPEN


async def test_a_spent_budget_fails_fast_without_calling_the_upstream(circulation, emulator):
    # given: a request whose budget is already spent
    with request_budget(0):
        # when
        with pytest.raises(UpstreamTimeout) as caught:
            await circulation.get_subscription(NCS, SUBSCRIPTION)

    # then
    assert caught.value.code == "UPSTREAM_TIMEOUT"
    assert calls_seen(emulator) == 0


async def test_a_call_cut_short_by_its_budget_does_not_count_against_the_upstream(circulation, emulator):
    # given: a hanging upstream, and a request budget far shorter than the datasource's own timeout
    emulator.state.control.rules.append(FaultRule(method="GET", path="/subscriptions/", timeout=True))

    # when: six calls run out of their requests' budgets
    for _ in range(6):
        with request_budget(0.02), pytest.raises(UpstreamTimeout):
            await circulation.get_subscription(NCS, SUBSCRIPTION)

    # then: each was one attempt (no retry past the budget), and the breaker blames nobody
    assert calls_seen(emulator) == 6
    assert circulation.breaker.state is BreakerState.CLOSED


async def test_compensations_run_outside_the_request_budget(circulation, emulator):
    with request_budget(0), outside_request_budget():
        record = await circulation.get_subscription(NCS, SUBSCRIPTION)

    assert record["id"] == SUBSCRIPTION


# -- whether a failed call may have reached the upstream (UpstreamError.sent; PAY-4 relies on it) ------------
async def test_a_call_refused_by_the_open_breaker_was_not_sent(circulation, emulator):
    for _ in range(circulation.breaker.failure_threshold):
        circulation.breaker.failed()
    with pytest.raises(CircuitOpen) as refused:
        await circulation.get_subscription(NCS, SUBSCRIPTION)
    assert refused.value.sent is False and calls_seen(emulator) == 0


async def test_a_refused_connection_was_not_sent():
    async with httpx.AsyncClient(base_url="http://127.0.0.1:9") as client:
        datasource = CirculationDataSource(client, timeout=2.0, read_retries=1, backoff_base=0.001)
        with pytest.raises(UpstreamUnavailable) as refused:
            await datasource.get_subscription(NCS, SUBSCRIPTION)
    assert refused.value.sent is False


async def test_a_dropped_connection_may_have_been_sent_even_when_the_retry_is_refused_unsent(circulation, emulator):
    # given: the first attempt reaches the upstream and loses its answer; its failure opens the breaker
    circulation.breaker.failure_threshold = 1
    emulator.state.control.rules.append(FaultRule(method="GET", path="/subscriptions/", drop=True))
    # when: the retry is refused by the breaker
    with pytest.raises(CircuitOpen) as refused:
        await circulation.get_subscription(NCS, SUBSCRIPTION)
    # then: the call as a whole may have been sent
    assert refused.value.sent is True and calls_seen(emulator) == 1
