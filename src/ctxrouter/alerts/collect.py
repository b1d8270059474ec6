"""Gathering what the alert rules read, from a store (the I/O edge of alerting).

:func:`collect` asks :func:`~ctxrouter.analytics.metrics.compute_metrics` for every report the
rules need (:func:`~ctxrouter.alerts.evaluate.needs`) at one moment ``now``. By default ``now`` is
just after the newest recorded event, so that a simulated month is judged at its own end and a
live fleet at its latest call; pass ``now`` to judge another moment (``alerts check --now``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from ctxrouter.alerts.evaluate import ROUTE_FLAGS, AlertInputs, Need, needs
from ctxrouter.alerts.rules import Rule
from ctxrouter.analytics.metrics import MetricsReport, compute_metrics
from ctxrouter.telemetry.store import Store

# Windows end before ``now`` (exclusive): a default ``now`` this far after the newest event
# keeps that event inside the latest window.
AFTER_NEWEST_S = 0.001


def newest_event_time(store: Store) -> float | None:
    """The time of the newest recorded event, or ``None`` for an empty store."""
    rows = store.query("SELECT MAX(ts) FROM events")
    newest = rows[0][0] if rows else None
    return float(newest) if newest is not None else None


def default_now(store: Store) -> float:
    """Just after the newest event; the wall clock when nothing was recorded yet."""
    newest = newest_event_time(store)
    return newest + AFTER_NEWEST_S if newest is not None else time.time()


def collect_inputs(store: Store, rules: Iterable[Rule], *, now: float | None = None) -> AlertInputs:
    """The reports ``rules`` read, at ``now`` (default: :func:`default_now`)."""
    at = default_now(store) if now is None else now
    reports: dict[Need, MetricsReport] = {}
    flags: dict[Need, dict[str, int]] = {}
    for need in needs(rules):
        since, until = need.bounds(at)
        if need.what == ROUTE_FLAGS:
            flags[need] = route_flags(store, since, until)
        else:
            reports[need] = compute_metrics(store, by=need.by, since=since, until=until)
    return AlertInputs(now=at, reports=reports, route_flags=flags)


def route_flags(store: Store, since: float, until: float) -> dict[str, int]:
    """Requests per agent whose model the gateway kept outside the agent's policy."""
    rows = store.query(
        "SELECT COALESCE(agent, ''), COUNT(*) FROM events"
        " WHERE route_flag IS NOT NULL AND ts >= ? AND ts < ? GROUP BY agent",
        (since, until),
    )
    return {str(agent): int(count) for agent, count in rows}
