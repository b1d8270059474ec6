"""Where each attempt's Event goes, built one way for the runtime and the gateway: a
:class:`~ctxrouter.telemetry.recorder.Recorder` that writes batches to the store off the hot
path, and OpenTelemetry spans and metrics as well when ``telemetry.otel`` is on."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ctxrouter.telemetry.event import Event
from ctxrouter.telemetry.recorder import Recorder
from ctxrouter.telemetry.store import Store

if TYPE_CHECKING:
    from ctxrouter.config import Settings

EventSink = Callable[[Event], None]


def event_sink(store: Store, settings: Settings) -> tuple[Recorder, EventSink]:
    """The recorder over ``store`` (close it to flush) and the sink to hand the engine."""
    recorder = Recorder(store, flush_interval=settings.runtime.flush_interval_s)
    if not settings.telemetry.otel:
        return recorder, recorder.record
    from ctxrouter.telemetry.otel import OtelSink, fan_out

    sink: EventSink = fan_out(recorder.record, OtelSink())
    return recorder, sink


__all__ = ["EventSink", "event_sink"]
