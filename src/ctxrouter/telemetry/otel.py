"""OpenTelemetry export of every attempt, following the GenAI semantic conventions.

Off by default; on with ``telemetry.otel = true`` in the config (or
``CTXROUTER_TELEMETRY__OTEL=true``). ctxrouter only uses the OpenTelemetry *API*: where the
spans and metrics go (OTLP, console, ...) is the application's SDK setup, as OpenTelemetry
intends. Each attempt becomes a ``chat <model>`` client span (start = the attempt's time,
end = start + latency) with:

- ``gen_ai.operation.name`` = ``chat``, ``gen_ai.provider.name`` = ``anthropic``,
  ``gen_ai.request.model`` (the model asked), ``gen_ai.response.model`` (when answered);
- ``gen_ai.usage.input_tokens`` (input + cache reads + cache writes, as the conventions say the
  cached tokens are included), ``gen_ai.usage.output_tokens``,
  ``gen_ai.usage.cache_read.input_tokens``, ``gen_ai.usage.cache_creation.input_tokens``;
- ``error.type`` on failures; and ctxrouter's own ``ctxrouter.*`` attributes (agent, tier,
  run id, outcome, cost, escalated_from, fallback_from).

Metrics: ``gen_ai.client.token.usage`` (histogram, ``{token}``, by ``gen_ai.token.type``) and
``gen_ai.client.operation.duration`` (histogram, seconds).
"""

from __future__ import annotations

from typing import Any

from ctxrouter.telemetry.event import Event, Outcome

INSTRUMENTATION = "ctxrouter"


class OtelSink:
    """An event sink (``Executor(sink=...)``) that emits spans and metrics per attempt."""

    def __init__(self, tracer_provider: Any = None, meter_provider: Any = None) -> None:
        from opentelemetry import metrics, trace

        self._trace = trace
        self.tracer = trace.get_tracer(INSTRUMENTATION, tracer_provider=tracer_provider)
        meter = metrics.get_meter(INSTRUMENTATION, meter_provider=meter_provider)
        self.tokens = meter.create_histogram(
            "gen_ai.client.token.usage", unit="{token}", description="Tokens used per call"
        )
        self.duration = meter.create_histogram(
            "gen_ai.client.operation.duration", unit="s", description="Duration of a call"
        )

    def __call__(self, event: Event) -> None:
        start_ns = int(event.ts * 1e9)
        latency_s = (event.latency_ms or 0.0) / 1000.0
        cached = event.cache_read_tokens
        written = event.cache_creation_5m_tokens + event.cache_creation_1h_tokens
        common: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "anthropic",
            "gen_ai.request.model": event.model,
        }
        attributes: dict[str, Any] = {
            **common,
            "ctxrouter.run_id": event.run_id,
            "ctxrouter.attempt": event.attempt,
            "ctxrouter.outcome": event.outcome.value,
        }
        optional = {
            "ctxrouter.agent": event.agent,
            "ctxrouter.category": event.category,
            "ctxrouter.tier": event.tier,
            "ctxrouter.pipeline": event.pipeline,
            "ctxrouter.step": event.step,
            "ctxrouter.escalated_from": event.escalated_from,
            "ctxrouter.fallback_from": event.fallback_from,
            "ctxrouter.cost_usd": event.cost_usd,
            "ctxrouter.confidence": event.confidence,
        }
        attributes.update({k: v for k, v in optional.items() if v is not None})
        if event.outcome is Outcome.ERROR:
            attributes["error.type"] = event.error_type or "error"
            if event.status_code is not None:
                attributes["http.response.status_code"] = event.status_code
        else:
            attributes.update(
                {
                    "gen_ai.response.model": event.model,
                    "gen_ai.usage.input_tokens": event.input_tokens + cached + written,
                    "gen_ai.usage.output_tokens": event.output_tokens,
                    "gen_ai.usage.cache_read.input_tokens": cached,
                    "gen_ai.usage.cache_creation.input_tokens": written,
                }
            )
            if event.request_id:
                attributes["gen_ai.response.id"] = event.request_id
        span = self.tracer.start_span(
            f"chat {event.model}",
            kind=self._trace.SpanKind.CLIENT,
            attributes=attributes,
            start_time=start_ns,
        )
        if event.outcome is Outcome.ERROR:
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, event.error_type))
        span.end(end_time=start_ns + int(latency_s * 1e9))
        metric_attrs = {**common}
        if event.outcome is Outcome.ERROR:
            metric_attrs["error.type"] = event.error_type or "error"
        self.duration.record(latency_s, metric_attrs)
        if event.outcome is not Outcome.ERROR:
            self.tokens.record(
                event.input_tokens + cached + written,
                {**metric_attrs, "gen_ai.token.type": "input"},
            )
            self.tokens.record(event.output_tokens, {**metric_attrs, "gen_ai.token.type": "output"})


def fan_out(*sinks: Any) -> Any:
    """One sink that calls each of ``sinks`` in order."""

    def sink(event: Event) -> None:
        for each in sinks:
            each(event)

    return sink
