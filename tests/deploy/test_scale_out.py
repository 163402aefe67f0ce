"""Scale-out behind a real load balancer (issue 19, item 13): HAProxy (Debian's package) in front of two papergraph
processes on one PostgreSQL database, health-checked on /ready, the emulators in processes of their own
(bench/scaleout.py, also `python -m bench scaleout`). Requests spread over both; one process killed with SIGKILL in
the middle of payments, its traffic moves to the other, and after reconciliation (PAY-4) the three ledgers agree:
no payment lost, none doubled.

HAProxy comes from Debian (`make test` installs it as root when missing); without it the test is skipped locally,
and fails under CI. Needs PostgreSQL, like the soak."""

from __future__ import annotations

import os

import pytest

from bench import scaleout
from tests.conftest import BACKENDS
from tests.support import require_redis

pytestmark = pytest.mark.sqlite_only("it makes its own PostgreSQL database, once: the SQLite parameter only names the run")


def require(condition: bool, problem: str) -> None:
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(problem, pytrace=False)
        pytest.skip(problem)


@pytest.fixture
def deployment(tmp_path_factory):
    require(scaleout.find_haproxy() is not None,
            "haproxy is not installed: `apt-get install -y haproxy` (make test does it as root)")
    require("postgresql" in BACKENDS, "PostgreSQL is not reachable")
    database = f"papergraph_scaleout_{os.getpid()}"
    started = scaleout.start(database=database, work=tmp_path_factory.mktemp("scaleout"), redis_url=require_redis())
    try:
        yield started
    finally:
        scaleout.stop(started, database)


def test_requests_spread_over_both_processes_and_one_killed_mid_payments_loses_and_doubles_none_pay_4(deployment):
    # (one test, so that pytest-xdist never starts the deployment twice)
    # given: both processes up behind HAProxy (a health check that timed out on a busy machine is waited out)
    deployment.wait_status({"a": "UP", "b": "UP"})

    # when: twenty queries through HAProxy
    served = scaleout.spread(deployment, 20)

    # then: each process served its share of them (round robin), by its own counter
    assert served == {"a": 10, "b": 10}

    # when: costed queries from one client address, alternating between the processes
    left = scaleout.shared_budget(deployment, 10)

    # then: one budget in Redis for both: every answer shows less left than the one before (two budgets in
    # process memory would each show only their own half of the spending)
    assert all(later < earlier for earlier, later in zip(left, left[1:])), left

    # when: 24 payments from 4 clients through HAProxy, process a killed with SIGKILL after the 8th started;
    # then reconciliation finishes what it left
    report = scaleout.failover(deployment, payments=24, clients=4, kill_after=8)

    # then: HAProxy took a out on its health check and b served the rest
    assert report["killed"]["at_payment"] == 9
    assert report["haproxy"] == {"a": "DOWN", "b": "UP"}
    assert report["served_by_b"] > 0
    # and every payment has one final state agreeing with NavigaPay's sales and the circulation system's
    # applications: each captured sale applied exactly once for its amount, nothing charged twice or kept unapplied
    assert report["problems"] == [], report
    assert report["mismatches"] == []
    assert report["ledgers"]["sales"].get("captured", 0) == report["ledgers"]["applications"].get("PAYMENT", 0) > 0
    assert report["ledgers"]["payments_by_state"].get("APPLIED", 0) == report["ledgers"]["sales"]["captured"]
    # and a request cut by the kill (no answer, or a 5xx) was sent again with its key, as a client must
    unanswered = sum(count for outcome, count in report["makePayment_outcomes"].items()
                     if outcome.startswith(("http:", "transport:")))
    assert unanswered <= report["idempotency"].get("retries with the same key", 0), report
