"""Prometheus metrics, served at `/metrics` (app.py) in the text exposition format.

The families are module-level, as prometheus_client intends: a counter belongs to the process Prometheus
scrapes, not to one app object, and every layer (HTTP, loaders, datasources, payments) records into it
with a plain function call. Tests read them with `sample(...)` and compare before and after.

| family | labels | recorded by |
| --- | --- | --- |
| `papergraph_graphql_requests_total` | operation, outcome | server/observe.py, once per operation |
| `papergraph_graphql_request_duration_seconds` | operation | server/observe.py (histogram) |
| `papergraph_graphql_errors_total` | code | server/observe.py, per error of an operation |
| `papergraph_http_requests_total` | route, status | server/observe.py, every HTTP request |
| `papergraph_requests_in_flight` | | server/observe.py |
| `papergraph_upstream_calls_total` | datasource, status | datasources/base.py, per attempt: the HTTP status, or `timeout`, `connection_error`, `circuit_open`, `budget_spent` |
| `papergraph_upstream_call_duration_seconds` | datasource | datasources/base.py (histogram, per attempt) |
| `papergraph_dataloader_batch_size` | loader | resolvers/dataloaders/batching.py (histogram of keys per batch) |
| `papergraph_circuit_breaker_state` | datasource | datasources/base.py: 0 closed, 1 half-open, 2 open |
| `papergraph_circuit_breaker_opened_total` | datasource | datasources/base.py |
| `papergraph_idempotent_replays_total` | operation | datasources/repositories/idempotency.py, each time a claim answers REPLAY (every mutation keyed by `idempotencyKey`: purchaseSubscription, makePayment, restartSubscription, signUpAutoPay, updateAutoPay, addTip); resolvers/mutations/complete_payment_session.py for a session completed before |
| `papergraph_pending_payment_attempts` | state | server/probes.py's scrape hook: the ledger's unfinished attempts per state (CREATED, CHARGED, PAID, PENDING_APPLY), counted at each scrape; NaN while the database does not answer |
| `papergraph_database_up` | | server/probes.py's scrape hook: 1 when the database answered the scrape's count, 0 when it could not be reached or timed out |
| `papergraph_rate_limited_total` | limit | server/throttle.py, per refusal THROTTLED: `cost_budget`, `per_address`, `per_identity` |
| `papergraph_rate_limit_store_errors_total` | store | server/throttle.py, each time the bucket store (`redis`) failed and the request passed unlimited (fail open) |

How the two payment families are fed:

- `record_idempotent_replay(operation)` when a request is answered by replaying the first answer of its
  idempotency key. `IdempotencyRepository.claim` and `.wait` call it whenever they answer REPLAY, so a new keyed
  mutation counts its replays by going through them.
- `set_pending_payment_attempts({"CREATED": 0, "CHARGED": 1, "PENDING_APPLY": 2, ...})` with the number of
  unfinished ledger attempts per state. Its caller is the scrape hook the app's lifespan registers
  (`server.probes.database_hook`, in `services.scrape_hooks`): `/metrics` awaits every hook
  (each bounded by `SCRAPE_HOOK_TIMEOUT`) before rendering, so the gauge is read from the ledger itself,
  whichever worker answers the scrape and whichever process (a request, `papergraph reconcile`) moved the
  attempts. Counting transitions per process instead would miss the other processes' moves.

Several workers: prometheus_client keeps each process's values apart, so with `PAPERGRAPH_WORKERS` > 1
`papergraph run` points `PROMETHEUS_MULTIPROC_DIR` at a fresh directory (unless it is set), and `/metrics`
then aggregates every worker's files (`render()`): counters and histograms are summed, the in-flight gauge is
summed over live workers, the breaker state is the worst worker's, and pending attempts are the most recent
value. Set it yourself when running uvicorn or gunicorn directly with several workers; the directory must be
empty when the server starts.
"""

from __future__ import annotations

import functools
import os
from typing import Mapping

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess

SCRAPE_HOOK_TIMEOUT = 2.0  # seconds a scrape waits for each hook (e.g. counting pending payment attempts)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000)
BREAKER_STATE_VALUES = {"closed": 0, "half_open": 1, "open": 2}

GRAPHQL_REQUESTS = Counter("papergraph_graphql_requests_total",
                           "GraphQL operations served, by operation name and outcome (success, partial, error).",
                           ["operation", "outcome"])
GRAPHQL_DURATION = Histogram("papergraph_graphql_request_duration_seconds",
                             "Time to answer a GraphQL request, by operation name.", ["operation"],
                             buckets=LATENCY_BUCKETS)
GRAPHQL_ERRORS = Counter("papergraph_graphql_errors_total", "GraphQL errors answered, by extensions.code.", ["code"])
HTTP_REQUESTS = Counter("papergraph_http_requests_total", "HTTP requests answered, by route and status.",
                        ["route", "status"])
IN_FLIGHT = Gauge("papergraph_requests_in_flight", "HTTP requests being served.", multiprocess_mode="livesum")
UPSTREAM_CALLS = Counter("papergraph_upstream_calls_total",
                         "Upstream call attempts by datasource and status (HTTP status, timeout, connection_error, "
                         "circuit_open, budget_spent).", ["datasource", "status"])
UPSTREAM_DURATION = Histogram("papergraph_upstream_call_duration_seconds", "Duration of upstream call attempts.",
                              ["datasource"], buckets=LATENCY_BUCKETS)
DATALOADER_BATCH_SIZE = Histogram("papergraph_dataloader_batch_size", "Keys per dataloader batch.", ["loader"],
                                  buckets=BATCH_BUCKETS)
BREAKER_STATE = Gauge("papergraph_circuit_breaker_state", "Circuit breaker per upstream: 0 closed, 1 half-open, "
                      "2 open.", ["datasource"], multiprocess_mode="max")
BREAKER_OPENED = Counter("papergraph_circuit_breaker_opened_total", "Times an upstream's circuit breaker opened.",
                         ["datasource"])
IDEMPOTENT_REPLAYS = Counter("papergraph_idempotent_replays_total",
                             "Requests answered by replaying the first answer of their idempotency key.",
                             ["operation"])
PENDING_PAYMENT_ATTEMPTS = Gauge("papergraph_pending_payment_attempts",
                                 "Unfinished payment attempts in the ledger, by state (NaN while the database "
                                 "does not answer).", ["state"], multiprocess_mode="mostrecent")
DATABASE_UP = Gauge("papergraph_database_up", "1 when the database answered the last scrape's query, 0 when it "
                    "could not be reached or did not answer in time.", multiprocess_mode="mostrecent")

RATE_LIMITED = Counter("papergraph_rate_limited_total", "Requests refused THROTTLED, by limit (cost_budget, "
                       "per_address, per_identity).", ["limit"])
RATE_LIMIT_STORE_ERRORS = Counter("papergraph_rate_limit_store_errors_total",
                                  "Times the rate-limit store failed and the request passed unlimited (fail open).",
                                  ["store"])


@functools.lru_cache(maxsize=4096)
def child(metric, *labels: str):
    """`metric.labels(*labels)`, remembered: prometheus_client validates and locks on every `labels()` call, and
    the request path asks for the same few children on every request (label values are bounded)."""
    return metric.labels(*labels)


def record_idempotent_replay(operation: str) -> None:
    """A request was answered from the first answer of its idempotency key (`operation`: the mutation's name)."""
    IDEMPOTENT_REPLAYS.labels(operation).inc()


def set_pending_payment_attempts(counts: Mapping[str, int]) -> None:
    """The number of unfinished payment attempts per ledger state; states not given keep their last value."""
    for state, count in counts.items():
        PENDING_PAYMENT_ATTEMPTS.labels(state).set(count)


def forget_pending_payment_attempts() -> None:
    """The counts are unknown (the database does not answer): NaN for every state seen, rather than the last
    count, which would claim a state nobody can read."""
    for labels in list(PENDING_PAYMENT_ATTEMPTS._metrics):
        PENDING_PAYMENT_ATTEMPTS.labels(*labels).set(float("nan"))


def set_database_up(up: bool) -> None:
    DATABASE_UP.set(1 if up else 0)


def set_breaker_state(datasource: str, state: str, *, opened: bool = False) -> None:
    BREAKER_STATE.labels(datasource).set(BREAKER_STATE_VALUES[state])
    if opened:
        BREAKER_OPENED.labels(datasource).inc()


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def render() -> tuple[bytes, str]:
    """The exposition text and its content type: this process's values, or every worker's in multiprocess mode."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def sample(name: str, **labels: str) -> float:
    """The current value of one sample of this process (0 when never recorded): for tests and /ready."""
    return REGISTRY.get_sample_value(name, labels) or 0.0
