"""Observability: Prometheus metrics, structured logs, OpenTelemetry tracing."""
