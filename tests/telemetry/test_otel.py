"""OpenTelemetry export, checked with the real OpenTelemetry SDK's in-memory exporters."""

from __future__ import annotations

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from ctxrouter.telemetry.event import Event, Outcome
from ctxrouter.telemetry.otel import OtelSink

T0 = 1_790_000_000.0


def event(outcome: Outcome = Outcome.SUCCESS, **fields: object) -> Event:
    base: dict[str, object] = {
        "event_id": "e1", "ts": T0, "run_id": "r1", "agent": "python-pro",
        "model": "claude-haiku-5-5", "tier": "haiku", "outcome": outcome,
        "input_tokens": 100, "output_tokens": 20, "cache_read_tokens": 50,
        "cache_creation_5m_tokens": 10, "cache_creation_1h_tokens": 5, "latency_ms": 1500.0,
        "cost_usd": 0.001,
    }  # fmt: skip
    base.update(fields)
    return Event(**base)  # type: ignore[arg-type]


def providers() -> tuple[OtelSink, InMemorySpanExporter, InMemoryMetricReader]:
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    sink = OtelSink(tracer_provider, MeterProvider(metric_readers=[reader]))
    return sink, spans, reader


def test_an_answered_call_is_a_genai_client_span() -> None:
    sink, spans, _ = providers()
    sink(event())
    [span] = spans.get_finished_spans()
    assert span.name == "chat claude-haiku-5-5" and span.kind is SpanKind.CLIENT
    attrs = dict(span.attributes or {})
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.request.model"] == attrs["gen_ai.response.model"] == "claude-haiku-5-5"
    assert attrs["gen_ai.usage.input_tokens"] == 100 + 50 + 15  # cached tokens included
    assert attrs["gen_ai.usage.output_tokens"] == 20
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 50
    assert attrs["gen_ai.usage.cache_creation.input_tokens"] == 15
    assert attrs["ctxrouter.agent"] == "python-pro"
    assert span.start_time == int(T0 * 1e9)
    assert span.end_time is not None and span.end_time - span.start_time == 1_500_000_000


def test_a_failed_call_has_error_type_and_status() -> None:
    sink, spans, _ = providers()
    sink(event(Outcome.ERROR, error_type="overloaded", status_code=529, input_tokens=0))
    [span] = spans.get_finished_spans()
    attrs = dict(span.attributes or {})
    assert attrs["error.type"] == "overloaded" and attrs["http.response.status_code"] == 529
    assert "gen_ai.usage.input_tokens" not in attrs
    assert span.status.status_code is StatusCode.ERROR


def test_metrics_follow_the_conventions() -> None:
    sink, _, reader = providers()
    sink(event())
    sink(event(Outcome.ERROR, error_type="timeout"))
    data = reader.get_metrics_data()
    assert data is not None
    metrics = {
        m.name: m for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics
    }
    usage = metrics["gen_ai.client.token.usage"]
    by_type = {dict(p.attributes or {})["gen_ai.token.type"]: p.sum for p in usage.data.data_points}  # type: ignore[union-attr]
    assert by_type == {"input": 165, "output": 20}
    duration = metrics["gen_ai.client.operation.duration"]
    assert duration.unit == "s"
    assert sum(p.count for p in duration.data.data_points) == 2  # type: ignore[union-attr]
