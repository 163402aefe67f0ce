"""Prometheus metrics at /metrics (telemetry/metrics.py): what each layer records, counted before and after."""

from __future__ import annotations

from functools import cached_property

import aiodataloader
import httpx
import pytest

from bench.scenarios import DASHBOARD
from resolvers.dataloaders.batching import DataLoader
from resolvers.loaders import Loaders
from sandbox.demo import generate
from sandbox.faults import FaultRule
from server.observe import OperationNames
from telemetry import metrics
from telemetry.metrics import sample
from tests.conftest import bearer, graphql

pytestmark = pytest.mark.sqlite_only(
    "the counters are the process's; the operations counted run on both databases elsewhere")

DEMO = generate(1)
CRID = next(link["crid"] for link in DEMO.links if link["tenant"] == "NCSDEMO" and link["role"] == "OWNER")


async def test_metrics_are_served_without_authentication_in_the_text_format(api_client):
    response = await api_client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    for family in ("papergraph_graphql_requests_total", "papergraph_graphql_request_duration_seconds",
                   "papergraph_upstream_calls_total", "papergraph_dataloader_batch_size",
                   "papergraph_circuit_breaker_state", "papergraph_idempotent_replays_total",
                   "papergraph_pending_payment_attempts", "papergraph_requests_in_flight"):
        assert f"# TYPE {family.removesuffix('_total')}" in response.text


async def test_a_dashboard_records_its_operation_loader_batches_and_upstream_calls(staff_api_client):
    # given
    before = {
        "requests": sample("papergraph_graphql_requests_total", operation="SubscriberDashboard", outcome="success"),
        "latencies": sample("papergraph_graphql_request_duration_seconds_count", operation="SubscriberDashboard"),
        "batches": sample("papergraph_dataloader_batch_size_count", loader="subscriptions_by_id"),
        "calls": sample("papergraph_upstream_calls_total", datasource="circulation", status="200"),
    }

    # when
    body = await graphql(staff_api_client, DASHBOARD, {"crid": CRID})

    # then: one operation; one batch of the owner's subscriptions, read in one call with the billing options' call
    assert "errors" not in body
    assert sample("papergraph_graphql_requests_total", operation="SubscriberDashboard",
                  outcome="success") == before["requests"] + 1
    assert sample("papergraph_graphql_request_duration_seconds_count",
                  operation="SubscriberDashboard") == before["latencies"] + 1
    assert sample("papergraph_dataloader_batch_size_count", loader="subscriptions_by_id") == before["batches"] + 1
    assert sample("papergraph_upstream_calls_total", datasource="circulation", status="200") == before["calls"] + 2


async def test_an_upstream_outage_is_a_partial_outcome_with_its_error_code(staff_api_client, sandboxes):
    # given
    sandboxes["circulation"].state.control.rules.append(FaultRule(path="/billing-options", status=503))
    partial = sample("papergraph_graphql_requests_total", operation="SubscriberDashboard", outcome="partial")
    coded = sample("papergraph_graphql_errors_total", code="UPSTREAM_UNAVAILABLE")
    failed_calls = sample("papergraph_upstream_calls_total", datasource="circulation", status="503")

    # when
    body = await graphql(staff_api_client, DASHBOARD, {"crid": CRID})

    # then: the owner's subscriptions each lose their billing options (one error each); 1 try + 1 retry
    errors = len(body["errors"])
    assert sample("papergraph_graphql_requests_total", operation="SubscriberDashboard",
                  outcome="partial") == partial + 1
    assert sample("papergraph_graphql_errors_total", code="UPSTREAM_UNAVAILABLE") == coded + errors
    assert sample("papergraph_upstream_calls_total", datasource="circulation", status="503") == failed_calls + 2


async def test_requests_refused_before_any_operation_are_counted_as_rejected(api_client):
    rejected = sample("papergraph_graphql_requests_total", operation="-", outcome="rejected")
    unauthorized = sample("papergraph_http_requests_total", route="/graphql", status="401")

    response = await api_client.post("/graphql", json={"query": "{ __typename }"}, headers=bearer("not-a-token"))

    assert response.status_code == 401
    assert sample("papergraph_graphql_requests_total", operation="-", outcome="rejected") == rejected + 1
    assert sample("papergraph_http_requests_total", route="/graphql", status="401") == unauthorized + 1


async def test_an_anonymous_operation_and_a_batch_are_labelled_as_such(api_client):
    anonymous = sample("papergraph_graphql_requests_total", operation="anonymous", outcome="success")
    batches = sample("papergraph_graphql_request_duration_seconds_count", operation="batch")

    await api_client.post("/graphql", json={"query": "{ __typename }"})
    await api_client.post("/graphql", json=[{"query": "query A { __typename }"}, {"query": "query B { __typename }"}])

    assert sample("papergraph_graphql_requests_total", operation="anonymous", outcome="success") == anonymous + 1
    assert sample("papergraph_graphql_requests_total", operation="A", outcome="success") >= 1
    assert sample("papergraph_graphql_request_duration_seconds_count", operation="batch") == batches + 1


def test_operation_name_labels_are_bounded_and_well_formed():
    names = OperationNames(limit=2)

    labels = [names.label(name) for name in ("A", "B", "C", "A", None, "bad name; drop table", "x" * 100)]

    assert labels == ["A", "B", "other", "A", "anonymous", "other", "other"]


async def test_every_loader_records_its_batch_size(services):
    # given: every loader a request may use (each a cached_property of Loaders)
    tenant = await services.db.tenant_by_code("NCSDEMO")
    loaders = Loaders(services, tenant)
    built = {name: getattr(loaders, name) for klass in type(loaders).__mro__ for name, attribute in vars(klass).items()
             if isinstance(attribute, cached_property)}
    dataloaders = {name: value for name, value in built.items() if isinstance(value, aiodataloader.DataLoader)}

    # then
    assert len(dataloaders) > 15
    assert [name for name, value in dataloaders.items() if not isinstance(value, DataLoader)] == []


async def test_scrape_hooks_are_awaited_before_each_scrape(api_client, services):
    # given: a hook of the test's own, after the lifespan's count of the ledger (whose own test, with real pending
    # attempts, is in tests/graphql/payments/test_payment_faults.py)
    async def pretend_pending_payment_attempts() -> None:
        metrics.set_pending_payment_attempts({"CHARGED": 1, "PENDING_APPLY": 3})

    services.scrape_hooks.append(pretend_pending_payment_attempts)

    # when
    response = await api_client.get("/metrics")

    # then
    assert 'papergraph_pending_payment_attempts{state="PENDING_APPLY"} 3.0' in response.text
    assert sample("papergraph_pending_payment_attempts", state="CHARGED") == 1


async def test_a_failing_scrape_hook_does_not_hide_the_other_metrics(api_client, services):
    async def broken() -> None:
        raise RuntimeError("ledger unreachable")

    services.scrape_hooks.append(broken)

    response = await api_client.get("/metrics")

    assert response.status_code == 200 and "papergraph_upstream_calls_total" in response.text


@pytest.mark.parametrize(("networks", "status"), [("10.0.0.0/8", 403), ("10.0.0.0/8, 127.0.0.1", 200)])
async def test_metrics_may_be_restricted_to_the_scrapers_networks(client_with_settings, networks, status):
    client = await client_with_settings(metrics_allowed_networks=networks)

    response = await client.get("/metrics")

    assert response.status_code == status


async def test_metrics_can_be_switched_off(client_with_settings):
    client = await client_with_settings(metrics=False)

    assert (await client.get("/metrics")).status_code == 404


@pytest.fixture
async def client_with_settings(settings):
    """An anonymous client of an app built with the test settings and the given ones (ASGITransport's client
    address is 127.0.0.1)."""
    import contextlib

    from app import create_app

    async with contextlib.AsyncExitStack() as stack:
        async def build(**overrides) -> httpx.AsyncClient:
            application = create_app(settings.model_copy(update=overrides))
            await stack.enter_async_context(application.router.lifespan_context(application))
            return await stack.enter_async_context(httpx.AsyncClient(
                transport=httpx.ASGITransport(app=application), base_url="http://papergraph.test"))

        yield build
