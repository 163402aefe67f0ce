"""OpenTelemetry tracing (telemetry/tracing.py): off by default; request → operation → resolver → upstream call
spans; no argument value holding personal or payment data ever recorded. Spans go to an in-memory exporter."""

from __future__ import annotations

import contextlib
import uuid

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from bench.scenarios import DASHBOARD
from sandbox.demo import generate
from sandbox.faults import FaultRule
from telemetry.tracing import tracer_provider_from_environment, tracing_enabled
from tests.conftest import Tokens, staff_signing

pytestmark = pytest.mark.sqlite_only(
    "the spans are the process's tracer's; the flows traced run on both databases elsewhere")

DEMO = generate(1)
CRID = next(link["crid"] for link in DEMO.links if link["tenant"] == "NCSDEMO" and link["role"] == "OWNER")
CREATE_USER = """
mutation SignUp($input: CreateUserInput!) {
  createUser(input: $input) { registration { crid } userErrors { code } }
}
"""


@pytest.fixture
async def traced(settings):
    """A staff client of an app whose spans go to the returned exporter."""
    from app import create_app

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    application = create_app(settings, tracer_provider=provider)
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(application.router.lifespan_context(application))
        tokens = Tokens(application.state.sandboxes["auth0"].state.store, settings.auth0_audience)
        client = await stack.enter_async_context(httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application), base_url="http://papergraph.test",
            event_hooks={"request": [staff_signing(tokens, settings.default_tenant)]}))
        yield client, exporter


def _chain(span, by_id) -> list[str]:
    names = [span.name]
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        names.append(span.name)
    return list(reversed(names))


async def test_a_dashboard_is_traced_from_request_to_upstream_call(traced):
    # given
    client, exporter = traced

    # when: the caller's trace context comes with the request
    caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    response = await client.post("/graphql", json={"query": DASHBOARD, "variables": {"crid": CRID}},
                                  headers={"traceparent": f"00-{caller_trace}-00f067aa0ba902b7-01"})

    # then: request → operation → resolver → upstream call, all in the caller's trace
    assert "errors" not in response.json()
    spans = exporter.get_finished_spans()
    by_id = {span.context.span_id: span for span in spans}
    upstream = next(span for span in spans if span.name == "circulation GET")
    assert _chain(upstream, by_id) == ["POST /graphql", "query SubscriberDashboard", "Query.registration",
                                       "Registration.linkedSubscriptions", "circulation GET"]
    assert {format(span.context.trace_id, "032x") for span in spans} == {caller_trace}
    request = next(span for span in spans if span.name == "POST /graphql")
    assert request.kind is SpanKind.SERVER and request.attributes["http.response.status_code"] == 200
    assert upstream.kind is SpanKind.CLIENT and upstream.attributes["peer.service"] == "circulation"
    operation = next(span for span in spans if span.name == "query SubscriberDashboard")
    assert operation.attributes["graphql.operation.name"] == "SubscriberDashboard"


async def test_plain_fields_get_no_span(traced):
    client, exporter = traced

    await client.post("/graphql", json={"query": DASHBOARD, "variables": {"crid": CRID}})

    names = {span.name for span in exporter.get_finished_spans()}
    assert "CustomerSubscription.billingOptions" in names
    assert not {"CustomerSubscription.id", "CustomerSubscription.status", "Registration.email"} & names


async def test_personal_and_payment_arguments_are_recorded_by_name_only(traced):
    # given
    client, exporter = traced
    email = f"traced.{uuid.uuid4().hex[:8]}@example.com"
    secrets = [email, "Traced-pass-1!", "Grace", "Hopper", "4111111111111111", "737"]

    # when: a sign-up carrying personal data and card-like values, and a read by id
    await client.post("/graphql", json={"query": CREATE_USER, "variables": {"input": {
        "email": email, "password": "Traced-pass-1!", "firstName": "Grace", "lastName": "Hopper",
        "metadata": {"cardNumber": "4111111111111111", "cvv": "737"}}}})
    await client.post("/graphql", json={"query": 'query { subscription(id: "NCS-0000001") { id } }'})

    # then
    spans = exporter.get_finished_spans()
    create_user = next(span for span in spans if span.name == "Mutation.createUser")
    assert create_user.attributes["graphql.field.args"] == ("input",)
    recorded = " ".join(str(value) for span in spans for value in span.attributes.values())
    for secret in secrets:
        assert secret not in recorded, secret
    subscription = next(span for span in spans if span.name == "Query.subscription")
    assert subscription.attributes["graphql.field.arg.id"] == "NCS-0000001"


async def test_failed_upstream_calls_and_errors_mark_their_spans_with_codes_only(traced, settings):
    # given: the circulation system answers 503
    client, exporter = traced
    sandboxes = client._transport.app.state.sandboxes
    sandboxes["circulation"].state.control.rules.append(FaultRule(status=503))

    # when
    await client.post("/graphql", json={"query": 'query One { subscription(id: "NCS-0000001") { id } }'})
    await client.post("/graphql", json={"query": "query Broken { nope }"})

    # then
    spans = exporter.get_finished_spans()
    upstream = [span for span in spans if span.name == "circulation GET"]
    assert upstream and {span.attributes["error.type"] for span in upstream} == {"UPSTREAM_UNAVAILABLE"}
    assert {span.status.status_code for span in upstream} == {StatusCode.ERROR}
    resolver = next(span for span in spans if span.name == "Query.subscription")
    assert resolver.attributes["graphql.error.code"] == "UPSTREAM_UNAVAILABLE"
    assert next(span for span in spans if span.name == "query One").attributes["graphql.error.codes"] == (
        "UPSTREAM_UNAVAILABLE",)
    assert next(span for span in spans if span.name.endswith("Broken")).attributes["graphql.error.codes"] == (
        "GRAPHQL_VALIDATION_FAILED",)
    assert not any(span.events for span in spans)  # no exception events: their messages may quote the input


@pytest.mark.parametrize(("environ", "enabled"), [
    ({}, False),
    ({"OTEL_SERVICE_NAME": "papergraph-eu"}, False),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, True),
    ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, True),
    ({"OTEL_TRACES_EXPORTER": "console"}, True),
    ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, False),
    ({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, False),
])
def test_tracing_is_off_unless_the_otel_variables_ask_for_it(environ, enabled):
    assert tracing_enabled(environ) is enabled


def test_an_otlp_endpoint_builds_a_provider_named_papergraph():
    provider = tracer_provider_from_environment({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"},
                                                version="1.2.3")
    try:
        assert provider.resource.attributes["service.name"] == "papergraph"
        assert provider.resource.attributes["service.version"] == "1.2.3"
    finally:
        provider.shutdown()


def test_an_unsupported_protocol_is_refused_at_start_up():
    with pytest.raises(ValueError, match="http/protobuf"):
        tracer_provider_from_environment({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317",
                                          "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})
