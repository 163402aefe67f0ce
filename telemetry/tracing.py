"""OpenTelemetry tracing: off by default, switched on by the standard OTEL_* variables.

`tracer_provider_from_environment()` builds a provider only when `OTEL_TRACES_EXPORTER` names an exporter
(`otlp`, `console`) or `OTEL_EXPORTER_OTLP_ENDPOINT`/`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set, and never
with `OTEL_SDK_DISABLED=true`. The rest is the SDK's own reading of the environment: `OTEL_SERVICE_NAME`
(default `papergraph`) and `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`/`_ARG`, the OTLP exporter's
endpoint, headers, timeout and compression, `OTEL_BSP_*` for batching, and `OTEL_PROPAGATORS` (W3C trace
context by default: an incoming `traceparent` continues the caller's trace, and upstream calls carry ours).
OTLP goes over HTTP/protobuf (`opentelemetry-exporter-otlp-proto-http`); gRPC would need its exporter.

Spans, each a child of the one above:

- `POST /graphql` (server, server/observe.py): method, route, status, request id;
- `query SubscriberDashboard` (the operation, server/observe.py): operation name and type, error codes;
  never the document, whose inline arguments may hold anything;
- `Registration.linkedSubscriptions` (a resolver): only fields with a resolver of their own, wrapped when the
  schema is built (`trace_resolvers`); plain attribute fields, most of a response, get no span and keep the
  execution fast path. Arguments are recorded by name only (`graphql.field.args`), except the values of
  `TRACED_ARGUMENT_VALUES` — ids, paging and filters — so passwords, e-mails, names, addresses, card data,
  tokens and codes never reach a span;
- `circulation GET` (client, datasources/base.py): upstream, method, path without its query string, status,
  attempts.
"""

from __future__ import annotations

import contextlib
import inspect
import os
from contextvars import ContextVar
from typing import Any, Callable, Iterator, Mapping

from graphql import GraphQLObjectType, GraphQLSchema
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from strawberry.schema.schema_converter import GraphQLCoreConverter

TRACER_NAME = "papergraph"
# arguments whose values may be recorded: identifiers, paging and catalog filters. Everything else is
# recorded by name only.
TRACED_ARGUMENT_VALUES = frozenset({"id", "ids", "first", "after", "last", "before", "offerId", "termId",
                                    "paymentType", "role", "onlyActive", "trialAvailable", "category", "vendor",
                                    "section", "representations"})
MAX_ATTRIBUTE_LENGTH = 64

_field_spans: ContextVar[dict[Any, trace.Span] | None] = ContextVar("papergraph_field_spans", default=None)


def tracing_enabled(environ: Mapping[str, str]) -> bool:
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporters = _exporters(environ)
    if exporters:
        return exporters != ["none"]
    return bool(environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def tracer_provider_from_environment(environ: Mapping[str, str] = os.environ, *,
                                     version: str = "") -> TracerProvider | None:
    """A provider exporting as the OTEL_* variables say, or None when they do not ask for traces."""
    if not tracing_enabled(environ):
        return None
    attributes = {SERVICE_VERSION: version} if version else {}
    if not environ.get("OTEL_SERVICE_NAME"):
        attributes[SERVICE_NAME] = "papergraph"
    provider = TracerProvider(resource=Resource.create(attributes))
    for name in _exporters(environ) or ["otlp"]:
        if name == "otlp":
            protocol = (environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
                        or "http/protobuf")
            if protocol != "http/protobuf":
                raise ValueError(f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol}: papergraph exports OTLP over http/protobuf")
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        elif name == "console":
            provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
        elif name != "none":
            raise ValueError(f"OTEL_TRACES_EXPORTER={name}: papergraph knows otlp, console and none")
    return provider


def _exporters(environ: Mapping[str, str]) -> list[str]:
    return [name.strip().lower() for name in environ.get("OTEL_TRACES_EXPORTER", "").split(",") if name.strip()]


def argument_attributes(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """Argument names, and the values of the allowed ones (scalars only, shortened)."""
    attributes: dict[str, Any] = {"graphql.field.args": sorted(arguments)}
    for name, value in arguments.items():
        if name in TRACED_ARGUMENT_VALUES and isinstance(value, (str, int, float, bool)):
            attributes[f"graphql.field.arg.{name}"] = value[:MAX_ATTRIBUTE_LENGTH] if isinstance(value, str) else value
        elif name in TRACED_ARGUMENT_VALUES and hasattr(value, "value"):  # an enum
            attributes[f"graphql.field.arg.{name}"] = str(value.value)[:MAX_ATTRIBUTE_LENGTH]
    return attributes


def trace_resolvers(schema: GraphQLSchema, tracer: trace.Tracer) -> None:
    """Give every field with a resolver of its own a span (see the module docstring); call once per schema."""
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for field_name, field in type_.fields.items():
            definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if field.resolve is None or getattr(definition, "base_resolver", None) is None:
                continue
            field.resolve = _traced(field.resolve, tracer, f"{type_.name}.{field_name}")


@contextlib.contextmanager
def field_spans() -> Iterator[None]:
    """Around one operation: its resolver spans by path, so a field's span is the child of its parent field's
    (a parent resolver has returned, and its span is no longer current, when its children resolve)."""
    token = _field_spans.set({})
    try:
        yield
    finally:
        _field_spans.reset(token)


def _start_field_span(info: Any, span_name: str, tracer: trace.Tracer, arguments: Mapping[str, Any]) -> trace.Span:
    spans = _field_spans.get()
    parent = None
    if spans is not None:
        path = info.path.prev
        while path is not None and parent is None:
            parent = spans.get(path)
            path = path.prev
    context = trace.set_span_in_context(parent) if parent is not None else None
    span = tracer.start_span(span_name, context=context, attributes=argument_attributes(arguments))
    if spans is not None:
        spans[info.path] = span
    return span


def _traced(resolve: Callable[..., Any], tracer: trace.Tracer, span_name: str) -> Callable[..., Any]:
    def traced_resolve(source: Any, info: Any, **arguments: Any) -> Any:
        span = _start_field_span(info, span_name, tracer, arguments)
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            result = resolve(source, info, **arguments)
        except BaseException as error:
            _failed(span, error)
            span.end()
            raise
        finally:
            otel_context.detach(token)
        if not inspect.isawaitable(result):
            span.end()
            return result

        async def awaited() -> Any:
            # the resolver's body runs when awaited, in graphql-core's task: make its span current there too
            inner = otel_context.attach(trace.set_span_in_context(span))
            try:
                return await result
            except BaseException as error:
                _failed(span, error)
                raise
            finally:
                otel_context.detach(inner)
                span.end()

        return awaited()

    return traced_resolve


def _failed(span: trace.Span, error: BaseException) -> None:
    """The error's type and code, never its message (which may quote the input)."""
    span.set_attribute("error.type", type(error).__name__)
    code = getattr(error, "code", None)
    if isinstance(code, str):
        span.set_attribute("graphql.error.code", code)
    span.set_status(trace.StatusCode.ERROR)
