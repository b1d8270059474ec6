"""What the dashboard shows, read from a :class:`~ctxrouter.telemetry.store.Store` for a window
and a category: the totals and the per-model / per-agent figures come from
:func:`~ctxrouter.analytics.metrics.compute_metrics_page` (``compute_metrics`` for several
groupings from one set of queries); the shapes it does not group by (cost per
time bucket and model, success per agent and tier) from ``store.query``, in SQL that SQLite and
PostgreSQL both accept.

Everything here is plain data; :mod:`ctxrouter.dashboard.render` turns it into a page.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ctxrouter.analytics.metrics import GroupMetrics, compute_metrics_page
from ctxrouter.analytics.metrics_sql import floor_sql
from ctxrouter.policy.tier import TIERS
from ctxrouter.telemetry.store import Store, where_clause

NO_AGENT = "(no agent)"
NO_TIER = "(no tier)"
MAX_AGENTS = 40  # rows of the per-agent charts; the busiest agents are kept
# Time buckets for the cost chart: the smallest that keeps the chart within MAX_BUCKETS bars.
BUCKETS_S = (300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400, 7 * 86_400)
MAX_BUCKETS = 120


@dataclass(frozen=True, slots=True)
class Window:
    """Which events the page covers: ``since`` inclusive, ``until`` exclusive (epoch seconds,
    ``None``: unbounded), one category or all. ``since_text`` is what the user typed."""

    since: float | None = None
    until: float | None = None
    category: str | None = None
    since_text: str | None = None


@dataclass(frozen=True, slots=True)
class CostSeries:
    """Cost per time bucket and model: ``starts`` are the buckets' starts (epoch seconds, UTC);
    ``by_model[model][i]`` the model's priced cost in bucket ``i``."""

    bucket_s: int
    starts: list[float]
    by_model: dict[str, list[float]]


@dataclass(frozen=True, slots=True)
class SuccessMatrix:
    """Success rate (accepted / answered) per agent (rows) and tier (columns); ``None`` where
    the agent answered nothing on that tier."""

    agents: list[str]
    tiers: list[str]
    rate: list[list[float | None]]
    answered: list[list[int]]
    agents_total: int  # agents in the window; ``agents`` keeps the busiest MAX_AGENTS


@dataclass(slots=True)
class DashboardData:
    window: Window
    generated_at: float
    first_ts: float | None  # the window's first and last event
    last_ts: float | None
    categories: list[str]  # every category in the store, for the filter
    totals: GroupMetrics
    cost: CostSeries
    models: list[GroupMetrics]  # latency percentiles, cost per model
    agents: list[GroupMetrics]  # escalation and fallback rates, busiest first
    agents_total: int
    success: SuccessMatrix
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.totals.calls == 0


def _where(window: Window, extra: str = "") -> tuple[str, list[Any]]:
    """The window's conditions. The same events as the metrics' ``EventFilter``, spelled for
    these queries: its ``category || ''`` (a planner hint for the metrics queries) would cost
    them a string per row."""
    return where_clause(
        {"category": window.category},
        since=window.since,
        until=window.until,
        extra=[extra] if extra else [],
    )


def tier_order(tiers: set[str]) -> list[str]:
    """Known tiers weakest first, then any others alphabetically."""
    known = [t.value for t in TIERS if t.value in tiers]
    return known + sorted(tiers - set(known))


def model_order(models: set[str]) -> list[str]:
    """Models by the tier their id names (haiku < sonnet < opus), then by id."""

    def rank(model: str) -> tuple[int, str]:
        for i, tier in enumerate(TIERS):
            if tier.value in model:
                return i, model
        return len(TIERS), model

    return sorted(models, key=rank)


def pick_bucket(span_s: float) -> int:
    """The smallest bucket that shows ``span_s`` in at most MAX_BUCKETS bars."""
    for bucket in BUCKETS_S:
        if span_s / bucket <= MAX_BUCKETS:
            return bucket
    return BUCKETS_S[-1]


def cost_series(store: Store, window: Window, first: float, last: float) -> CostSeries:
    bucket = pick_bucket(last - first)
    where, params = _where(window, "cost_usd IS NOT NULL")
    b = floor_sql(f"ts / {bucket:.1f}")  # floor(ts / bucket), alike on both databases
    rows = store.query(
        f"SELECT b, model, SUM(cost_usd) FROM (SELECT {b} AS b, model,"
        f" cost_usd FROM events{where}) AS priced GROUP BY b, model",
        params,
    )
    lo, hi = int(first // bucket), int(last // bucket)
    starts = [float(i * bucket) for i in range(lo, hi + 1)]
    by_model: dict[str, list[float]] = {}
    for b, model, cost in rows:
        series = by_model.setdefault(str(model), [0.0] * len(starts))
        i = int(b) - lo
        if 0 <= i < len(series):
            series[i] += float(cost or 0.0)
    return CostSeries(
        bucket_s=bucket,
        starts=starts,
        by_model={m: by_model[m] for m in model_order(set(by_model))},
    )


def success_matrix(store: Store, window: Window) -> SuccessMatrix:
    where, params = _where(window)
    rows = store.query(
        "SELECT agent, tier,"
        " SUM(CASE WHEN outcome = 'success' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN outcome <> 'error' THEN 1 ELSE 0 END),"
        f" COUNT(*) FROM events{where} GROUP BY agent, tier",
        params,
    )
    calls: dict[str, int] = defaultdict(int)
    cells: dict[tuple[str, str], tuple[int, int]] = {}
    for agent, tier, success, answered, n in rows:
        a, t = agent or NO_AGENT, tier or NO_TIER
        calls[a] += int(n)
        s0, a0 = cells.get((a, t), (0, 0))
        cells[a, t] = (s0 + int(success or 0), a0 + int(answered or 0))
    agents = sorted(calls, key=lambda a: (-calls[a], a))[:MAX_AGENTS]
    tiers = tier_order({t for _, t in cells})
    rate: list[list[float | None]] = []
    answered_grid: list[list[int]] = []
    for a in agents:
        rate.append([])
        answered_grid.append([])
        for t in tiers:
            ok, answered = cells.get((a, t), (0, 0))
            rate[-1].append(ok / answered if answered else None)
            answered_grid[-1].append(answered)
    return SuccessMatrix(agents, tiers, rate, answered_grid, agents_total=len(calls))


def categories(store: Store) -> list[str]:
    rows = store.query(
        "SELECT DISTINCT category FROM events WHERE category IS NOT NULL ORDER BY category"
    )
    return [str(c) for (c,) in rows]


def build(store: Store, window: Window, *, now: float | None = None) -> DashboardData:
    """The page's data for ``window``."""
    where, params = _where(window)
    ((first, last, _count),) = store.query(
        f"SELECT MIN(ts), MAX(ts), COUNT(*) FROM events{where}", params
    )
    reports = compute_metrics_page(
        store, ("model", "agent"), since=window.since, until=window.until, category=window.category
    )
    by_model, by_agent = reports["model"], reports["agent"]
    agents = sorted(by_agent.groups, key=lambda g: (-g.runs, -g.calls, g.key))
    if first is None or last is None:
        cost = CostSeries(bucket_s=BUCKETS_S[0], starts=[], by_model={})
    else:
        cost = cost_series(store, window, float(first), float(last))
    order = model_order({g.key for g in by_model.groups})
    models = sorted(by_model.groups, key=lambda g: order.index(g.key))
    data = DashboardData(
        window=window,
        generated_at=time.time() if now is None else now,
        first_ts=None if first is None else float(first),
        last_ts=None if last is None else float(last),
        categories=categories(store),
        totals=by_model.totals,
        cost=cost,
        models=models,
        agents=agents[:MAX_AGENTS],
        agents_total=len(agents),
        success=success_matrix(store, window),
    )
    if len(agents) > MAX_AGENTS:
        data.notes.append(f"per-agent charts show the {MAX_AGENTS} busiest of {len(agents)}")
    return data
