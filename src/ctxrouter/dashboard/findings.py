"""What the dashboard shows beside its charts: the alerts firing and the top tier
recommendations, as plain dicts (the page renders whatever fields they carry)."""

from __future__ import annotations

import time
from typing import Any

from ctxrouter.alerts import collect_inputs, evaluate, load_rules
from ctxrouter.analytics.profile import ProfileSettings, collect, recommend
from ctxrouter.catalog.catalog import Catalog
from ctxrouter.config import Settings
from ctxrouter.dashboard.data import Window
from ctxrouter.telemetry.store import Store

MONTH_S = 30 * 86_400.0


def active_alerts(store: Store, settings: Settings) -> list[dict[str, Any]]:
    """The alerts firing at the newest event's time (so a simulated month judges its end)."""
    rules = load_rules(settings.alerts_rules_file)
    found = evaluate(rules.enabled, collect_inputs(store, rules.enabled))
    return [
        {"title": a.message, "severity": a.severity, "rule": a.rule_id, "subject": a.subject}
        for a in found
    ]


def top_recommendations(
    store: Store, catalog: Catalog, *, window: Window | None = None, limit: int = 5
) -> list[dict[str, Any]]:
    """The tier recommendations of ``ctxrouter profile`` over the window (default: 30 days)."""
    newest = store.query("SELECT MAX(ts) FROM events")[0][0]
    until = (window.until if window and window.until else None) or (
        float(newest) + 1.0 if newest is not None else time.time()
    )
    since = (window.since if window and window.since else None) or until - MONTH_S
    recs = recommend(collect(store, since=since, until=until, catalog=catalog), ProfileSettings())
    return [
        {
            "title": f"{r.agent}: {r.current} -> {r.proposed} ({r.kind})",
            "message": r.reason,
            "severity": "info",
            "apply": f"ctxrouter profile --apply --dir <your agents folder>  # {r.agent}",
        }
        for r in recs[:limit]
    ]
