"""The SQL of the metrics queries: its expressions, the filter of a window, the queries, and the
SQLite indexes they are written for.

The SQL runs unchanged on SQLite and PostgreSQL 15. SQLite uses an index on an expression only
when a query spells the expression the same way, so the indexes of :data:`SQLITE_INDEXES` and
the queries are built from the same constants (``DAY_SQL``, ``BUCKET_SQL``). Their text is
frozen: a shipped store migration creates these indexes (``tests/analytics/test_metrics.py``
checks that the planner uses them).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from ctxrouter.analytics.percentiles import DECADE_PARTS, DECADES, OVERFLOW_BUCKET, PER_DECADE

Query = tuple[str, list[object]]

# -- expressions -------------------------------------------------------------------------
# CAST(x AS INTEGER) truncates in SQLite and rounds in PostgreSQL; FLOOR may be missing from
# SQLite (math functions are a compile option). This floor is exact on both: the CAST, less
# one where it landed above x.


def floor_sql(x: str) -> str:
    """``floor(x)``, computed alike by SQLite and PostgreSQL."""
    return f"(CAST({x} AS INTEGER) - CASE WHEN CAST({x} AS INTEGER) > {x} THEN 1 ELSE 0 END)"


def day_sql(ts: str = "ts") -> str:
    """The UTC day of ``ts``: days since 1970-01-01."""
    return floor_sql(f"{ts} / 86400")


def _decade_sql(k: int) -> str:
    d: int = 10**k
    base = 1 + PER_DECADE * k
    arms = [
        f"{base + off} + {floor_sql(f'latency_ms * {m} / {d}')}" for _up, m, off in DECADE_PARTS
    ]
    (upper1, _, _), (upper2, _, _), _ = DECADE_PARTS
    return (
        f"CASE WHEN latency_ms < {upper1 * d} THEN {arms[0]}"
        f" WHEN latency_ms < {upper2 * d} THEN {arms[1]} ELSE {arms[2]} END"
    )


def _bucket_sql() -> str:
    """The SQL twin of :func:`~ctxrouter.analytics.percentiles.latency_bucket`."""
    d = [_decade_sql(k) for k in range(DECADES)]
    return (
        "CASE WHEN outcome = 'error' OR latency_ms IS NULL THEN NULL"
        " WHEN latency_ms < 1 THEN 0"
        f" WHEN latency_ms < 1000 THEN (CASE WHEN latency_ms < 10 THEN {d[0]}"
        f" WHEN latency_ms < 100 THEN {d[1]} ELSE {d[2]} END)"
        f" WHEN latency_ms < 1000000 THEN (CASE WHEN latency_ms < 10000 THEN {d[3]}"
        f" WHEN latency_ms < 100000 THEN {d[4]} ELSE {d[5]} END)"
        f" WHEN latency_ms < 10000000 THEN {d[6]} ELSE {OVERFLOW_BUCKET} END"
    )


DAY_SQL: Final = day_sql()
BUCKET_SQL: Final = _bucket_sql()  # NULL for errors and attempts without a latency

# The indexes the queries are written for (SQLite), as the statements of a migration; the
# SQLite store's migrations own them. Without them the results are the same, only slower: the
# grouped queries then sort the events, and the run flags read the table. The run index
# replaces the shipped ``events_run (run_id)``, which it covers. PostgreSQL needs none of them
# (it aggregates by hashing).
_SUM_COLUMNS = (
    "attempt, cost_usd, input_tokens, output_tokens, cache_creation_5m_tokens,"
    " cache_creation_1h_tokens, cache_read_tokens, ts, latency_ms"
)
SQLITE_INDEXES: Final[tuple[str, ...]] = (
    f"CREATE INDEX IF NOT EXISTS events_metrics_cells ON events (agent, category, tier, model,"
    f" outcome, {BUCKET_SQL}, {_SUM_COLUMNS})",
    f"CREATE INDEX IF NOT EXISTS events_metrics_days ON events ({DAY_SQL}, outcome,"
    f" {BUCKET_SQL}, {_SUM_COLUMNS}, agent, category, model)",
    "CREATE INDEX IF NOT EXISTS events_rerouted ON events (run_id, escalated_from, fallback_from)"
    " WHERE escalated_from IS NOT NULL OR fallback_from IS NOT NULL",
    "DROP INDEX IF EXISTS events_run",
    "CREATE INDEX IF NOT EXISTS events_run_attempt ON events"
    " (run_id, attempt, ts, agent, category, tier, model)",
)

# calls, cost, unpriced, tokens (in, out, cache writes, cache reads), first attempts (runs)
_SUMS = (
    "COUNT(*), SUM(cost_usd), COUNT(*) FILTER (WHERE cost_usd IS NULL), SUM(input_tokens),"
    " SUM(output_tokens), SUM(cache_creation_5m_tokens + cache_creation_1h_tokens),"
    " SUM(cache_read_tokens), COUNT(*) FILTER (WHERE attempt = 1)"
)
_CELL = "agent, category, tier, model"


# -- the window and filters --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events count: ``since <= ts < until`` (epoch seconds; ``None``: unbounded), and
    one category, agent or model (``None``: any)."""

    since: float | None
    until: float | None
    category: str | None = None
    agent: str | None = None
    model: str | None = None

    def where(self, prefix: str = "", *, days: bool = False) -> tuple[list[str], list[object]]:
        """Conditions (on columns of table alias ``prefix``) and their parameters."""
        clauses: list[str] = []
        params: list[object] = []
        if self.since is not None:
            clauses.append(f"{prefix}ts >= ?")
            params.append(self.since)
            if days:  # lets the day index seek; the ts condition is the exact one
                clauses.append(f"{day_sql(prefix + 'ts')} >= ?")
                params.append(math.floor(self.since / 86400))
        if self.until is not None:
            clauses.append(f"{prefix}ts < ?")
            params.append(self.until)
            if days:
                clauses.append(f"{day_sql(prefix + 'ts')} <= ?")
                params.append(math.floor(self.until / 86400))
        if self.agent is not None:  # the cells index leads with agent: a seek
            clauses.append(f"{prefix}agent = ?")
            params.append(self.agent)
        # `|| ''` keeps SQLite from an index on (model, ts) that reads the table, or from
        # sorting because category is fixed; a filter on the covering scan is faster.
        for column in ("category", "model"):
            value = getattr(self, column)
            if value is not None:
                clauses.append(f"{prefix}{column} || '' = ?")
                params.append(value)
        return clauses, params


def where_sql(clauses: Iterable[str]) -> str:
    """`` WHERE a AND b`` of the clauses; empty for none."""
    listed = list(clauses)
    return " WHERE " + " AND ".join(listed) if listed else ""


# -- the queries -------------------------------------------------------------------------


def _grouped(keys: str, f: EventFilter, *, days: bool = False) -> Query:
    """Counts and sums per ``keys`` x outcome x latency bucket."""
    clauses, params = f.where(days=days)
    sql = (
        f"SELECT {keys}, outcome, {BUCKET_SQL}, {_SUMS} FROM events{where_sql(clauses)}"
        f" GROUP BY {keys}, outcome, {BUCKET_SQL}"
    )
    return sql, params


def cell_query(f: EventFilter) -> Query:
    """Counts and sums per cell (agent, category, tier, model) x outcome x latency bucket."""
    return _grouped(_CELL, f)


def day_query(f: EventFilter) -> Query:
    """Counts and sums per UTC day x outcome x latency bucket."""
    return _grouped(DAY_SQL, f, days=True)


def session_query(f: EventFilter) -> Query:
    """Counts and sums per session x outcome x latency bucket."""
    return _grouped("session_id", f)


FLAG_KEYS: Final = f"{day_sql('e.ts')}, e.agent, e.category, e.tier, e.model"


def flag_query(f: EventFilter, keys: str = FLAG_KEYS) -> Query:
    """Per first-attempt cell and day (or ``keys``): escalated and fallback runs, corrected
    runs, ratings. CROSS JOIN fixes the join order in SQLite (the few flagged rows drive the
    lookups); for PostgreSQL it is a plain join."""
    clauses, params = f.where("e.")
    first = " AND ".join(["e.run_id = x.run_id", "e.attempt = 1", *clauses])
    sql = (
        f"SELECT {keys},"
        " COUNT(DISTINCT CASE WHEN x.escalated_from IS NOT NULL THEN x.run_id END),"
        " COUNT(DISTINCT CASE WHEN x.fallback_from IS NOT NULL THEN x.run_id END), 0, 0, 0"
        " FROM events AS x CROSS JOIN events AS e"
        " WHERE (x.escalated_from IS NOT NULL OR x.fallback_from IS NOT NULL)"
        f" AND {first} GROUP BY {keys}"
        f" UNION ALL SELECT {keys}, 0, 0,"
        " COUNT(DISTINCT CASE WHEN x.correction IS NOT NULL AND x.correction <> ''"
        " THEN x.run_id END), COUNT(x.rating), SUM(x.rating)"
        f" FROM feedback AS x CROSS JOIN events AS e WHERE {first} GROUP BY {keys}"
    )
    return sql, [*params, *params]
