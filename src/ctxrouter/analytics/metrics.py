"""Fleet metrics from the event store: cost, tokens, latency percentiles, success, escalation,
fallback and correction rates, ratings — in total and grouped by model, agent, category, tier,
day or week, over a time window.

CONTRACT (other modules build on these names; the implementation fills them in):

    compute_metrics(store, *, by=None, since=None, until=None, category=None) -> MetricsReport

(also ``agent=`` and ``model=`` filters; :func:`compute_metrics_page` for several groupings.)

Definitions (per group):
- ``calls``: attempts (events); ``answered``: attempts that returned an answer (success or
  rejected); ``errors``: failed attempts;
- ``success_rate``: accepted answers / answered (None when nothing was answered);
- ``runs``: distinct run ids; ``escalation_rate``: runs with an escalated attempt / runs;
  ``fallback_rate``: runs with a fallback attempt / runs;
- ``correction_rate``: runs with a correction / runs; ``rating_mean``: mean of ratings;
- ``cost_usd``: sum of priced attempts; ``unpriced``: answered attempts without a price;
- latency percentiles over answered attempts, in milliseconds.

Details the definitions leave open, as implemented:

- **Window.** An attempt is in the window when ``since <= ts < until`` (its start, epoch
  seconds). ``agent``, ``model`` and ``category`` filters narrow the attempts the same way.
- **Runs are counted where they started**: a run belongs to the window, the filters and the
  group of its first attempt (``attempt = 1``). So ``runs`` adds up across groups, and
  "escalation rate by model" reads "of the runs that started on this model, how many
  escalated". A run's flags look at every attempt of the run, whenever and wherever it was
  made: escalated (some ``escalated_from``), fallback (some ``fallback_from``), corrected (a
  feedback with a non-empty correction, at any time). ``ratings`` and ``rating_mean`` are
  over the ratings given to the group's runs. Attempts of a run whose first attempt was never
  recorded count as calls, not as a run.
- **Cost.** ``cost_usd`` sums the priced attempts; an unpriced one is never counted as $0:
  it is counted in ``unpriced``, and ``cost_per_call_usd`` is the mean over priced answers
  only (``None`` when none is priced).
- **Days and weeks** are UTC: days as ISO dates (``2026-11-03``), weeks as ISO weeks starting
  on Monday (``2026-W45``). Groups of missing agents, categories, tiers or sessions have the key
  ``""``.
- **Sessions** (``session_id``: a Claude Code session, a gateway client's) come costliest
  first; they are read by a query of their own (a fourth), only when asked for.
- **Latency percentiles** are read from a histogram of answered attempts with buckets at most
  5% as wide as their lower bound (``[0, 1)`` ms, then 70 buckets a decade up to 10^7 ms),
  inside the bucket that holds the rank (its values taken as evenly spread). The result lies
  in the same bucket as the exact nearest-rank percentile: within 5% of it (within 1 ms under
  1 ms; 10^7 ms and more reads 10^7). The definition is :mod:`ctxrouter.analytics.percentiles`.

How it stays fast (1,000,000 events on SQLite, the whole dashboard page under a second): at
most three read-only queries through ``store.query`` (SQL that SQLite and PostgreSQL 15 both
accept, with a floor both compute alike: SQLite may lack FLOOR, and its CAST truncates where
PostgreSQL's rounds), with no sort over the events when the indexes of :data:`SQLITE_INDEXES`
exist (the SQL: :mod:`ctxrouter.analytics.metrics_sql`):

1. per cell (agent, category, tier, model) x outcome x latency bucket: counts and sums, read
   in the order of an index over exactly those expressions (for model, agent, category, tier);
2. the same per UTC day x outcome x latency bucket (for totals, days and weeks);
3. run flags (escalated, fallback) and feedback, joined to each run's first attempt.

Everything else — rolling cells up into models, agents, categories and tiers, days into
weeks, histograms into percentiles — is plain Python over a few thousand rows
(:mod:`ctxrouter.analytics.rollup`). The result types are in :mod:`ctxrouter.analytics.report`.
:func:`compute_metrics_page` computes several groupings from one set of queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Final

from ctxrouter.analytics.metrics_sql import (
    BUCKET_SQL,
    DAY_SQL,
    SQLITE_INDEXES,
    EventFilter,
    cell_query,
    day_query,
    day_sql,
    flag_query,
    session_query,
)
from ctxrouter.analytics.percentiles import (
    LATENCY_RESOLUTION,
    OVERFLOW_BUCKET,
    PERCENTILES,
    bucket_bounds,
    latency_bucket,
    percentiles,
)
from ctxrouter.analytics.report import GROUP_BYS, GroupBy, GroupMetrics, MetricsReport
from ctxrouter.analytics.rollup import (
    CELL_AT,
    accumulate,
    add_flags,
    day_key,
    groups,
    total,
    week_key,
)
from ctxrouter.telemetry.store import Store

DASHBOARD: Final[tuple[GroupBy | None, ...]] = (None, "model", "agent", "category", "day", "week")


def compute_metrics_page(
    store: Store,
    by: Iterable[GroupBy | None] = DASHBOARD,
    *,
    since: float | None = None,
    until: float | None = None,
    category: str | None = None,
    agent: str | None = None,
    model: str | None = None,
) -> dict[GroupBy | None, MetricsReport]:
    """One report per grouping in ``by`` (``None``: totals only), from one set of queries:
    what a dashboard shows, for the price of its most expensive grouping."""
    wanted = list(dict.fromkeys(by))
    for b in wanted:
        if b is not None and b not in GROUP_BYS:
            raise ValueError(f"cannot group by {b!r}; expected one of {', '.join(GROUP_BYS)}")
    f = EventFilter(since, until, category, agent, model)
    filters = {k: v for k, v in (("category", category), ("agent", agent), ("model", model)) if v}
    by_cell = [b for b in wanted if b in CELL_AT]
    by_day = [b for b in wanted if b is None or b in ("day", "week")]
    if "session" in wanted and not by_cell:
        by_day.append(None)  # the totals come from the day query: one is needed anyway
    flags = store.query(*flag_query(f))
    found: dict[GroupBy, list[GroupMetrics]] = {}
    totals: GroupMetrics | None = None
    if by_cell or not by_day:
        cells = accumulate(store.query(*cell_query(f)), 4)
        add_flags(cells, flags, lambda r: (r[1], r[2], r[3], r[4]))
        found.update((b, groups(b, cells)) for b in by_cell)
        totals = total(cells)
    if by_day:
        days = accumulate(store.query(*day_query(f)), 1)
        add_flags(days, flags, lambda r: (r[0],))
        found.update((b, groups(b, days)) for b in by_day if b is not None)
        totals = total(days)
    if "session" in wanted:
        sessions = accumulate(store.query(*session_query(f)), 1)
        session_flags = store.query(*flag_query(f, keys="e.session_id"))
        add_flags(sessions, session_flags, lambda r: (r[0],), width=1)
        found["session"] = groups("session", sessions)
    assert totals is not None
    return {
        b: MetricsReport(
            since=since,
            until=until,
            by=b,
            totals=replace(totals),
            groups=found.get(b, []) if b is not None else [],
            filters=dict(filters),
        )
        for b in wanted
    }


def compute_metrics(
    store: Store,
    *,
    by: GroupBy | None = None,
    since: float | None = None,
    until: float | None = None,
    category: str | None = None,
    agent: str | None = None,
    model: str | None = None,
) -> MetricsReport:
    """The metrics of the attempts in ``[since, until)`` (and of the given category, agent,
    model), in total and, with ``by``, per group. See the module docstring for definitions."""
    return compute_metrics_page(
        store, (by,), since=since, until=until, category=category, agent=agent, model=model
    )[by]


__all__ = [
    "BUCKET_SQL",
    "DASHBOARD",
    "DAY_SQL",
    "GROUP_BYS",
    "LATENCY_RESOLUTION",
    "OVERFLOW_BUCKET",
    "PERCENTILES",
    "SQLITE_INDEXES",
    "GroupBy",
    "GroupMetrics",
    "MetricsReport",
    "bucket_bounds",
    "compute_metrics",
    "compute_metrics_page",
    "day_key",
    "day_sql",
    "latency_bucket",
    "percentiles",
    "week_key",
]
