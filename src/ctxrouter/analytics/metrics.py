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
  1 ms; 10^7 ms and more reads 10^7).

How it stays fast (1,000,000 events on SQLite, the whole dashboard page under a second): at
most three read-only queries through ``store.query`` (SQL that SQLite and PostgreSQL 15 both
accept, with a floor both compute alike: SQLite may lack FLOOR, and its CAST truncates where
PostgreSQL's rounds), with no sort over the events when the indexes of :data:`SQLITE_INDEXES`
exist:

1. per cell (agent, category, tier, model) x outcome x latency bucket: counts and sums, read
   in the order of an index over exactly those expressions (for model, agent, category, tier);
2. the same per UTC day x outcome x latency bucket (for totals, days and weeks);
3. run flags (escalated, fallback) and feedback, joined to each run's first attempt.

Everything else — rolling cells up into models, agents, categories and tiers, days into
weeks, histograms into percentiles — is plain Python over a few thousand rows.
:func:`compute_metrics_page` computes several groupings from one set of queries.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, Literal, get_args

from ctxrouter.telemetry.store import Store

GroupBy = Literal["model", "agent", "category", "tier", "day", "week", "session"]
GROUP_BYS: Final[tuple[GroupBy, ...]] = get_args(GroupBy)
DASHBOARD: Final[tuple[GroupBy | None, ...]] = (None, "model", "agent", "category", "day", "week")
PERCENTILES: Final = (0.50, 0.95, 0.99)
LATENCY_RESOLUTION: Final = 0.05  # a bucket is at most this fraction of its lower bound wide


@dataclass(slots=True)
class GroupMetrics:
    key: str  # the group's value ("claude-haiku-5-5", "2026-11-03", ...); "total" for totals
    calls: int = 0
    answered: int = 0
    success: int = 0
    rejected: int = 0
    errors: int = 0
    runs: int = 0
    escalated_runs: int = 0
    fallback_runs: int = 0
    corrected_runs: int = 0
    ratings: int = 0
    rating_mean: float | None = None
    cost_usd: float = 0.0
    unpriced: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_tokens: int = 0  # 5m + 1h
    cache_read_tokens: int = 0
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    latency_p99_ms: float | None = None

    @property
    def success_rate(self) -> float | None:
        return self.success / self.answered if self.answered else None

    @property
    def escalation_rate(self) -> float | None:
        return self.escalated_runs / self.runs if self.runs else None

    @property
    def fallback_rate(self) -> float | None:
        return self.fallback_runs / self.runs if self.runs else None

    @property
    def correction_rate(self) -> float | None:
        return self.corrected_runs / self.runs if self.runs else None

    @property
    def priced(self) -> int:
        """Answered attempts with a price."""
        return self.answered - self.unpriced

    @property
    def cost_per_call_usd(self) -> float | None:
        """Mean cost of a priced answer (unpriced answers are left out, not counted as $0)."""
        return self.cost_usd / self.priced if self.priced > 0 else None

    def to_dict(self) -> dict[str, Any]:
        """Every field, then the derived rates; JSON-ready."""
        data: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in _DERIVED:
            data[name] = getattr(self, name)
        return data


_DERIVED = (
    "success_rate",
    "escalation_rate",
    "fallback_rate",
    "correction_rate",
    "cost_per_call_usd",
)


@dataclass(slots=True)
class MetricsReport:
    since: float | None
    until: float | None
    by: GroupBy | None
    totals: GroupMetrics
    groups: list[GroupMetrics] = field(default_factory=list)
    filters: dict[str, str] = field(default_factory=dict)  # agent / model / category given

    def to_dict(self) -> dict[str, Any]:
        return {
            "window": {
                "since": self.since,
                "until": self.until,
                "since_utc": _iso(self.since),
                "until_utc": _iso(self.until),
            },
            "by": self.by,
            "filters": dict(self.filters),
            "latency_resolution": LATENCY_RESOLUTION,
            "totals": self.totals.to_dict(),
            "groups": [g.to_dict() for g in self.groups],
        }


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


# -- SQL expressions ---------------------------------------------------------------------
# CAST(x AS INTEGER) truncates in SQLite and rounds in PostgreSQL; FLOOR may be missing from
# SQLite (math functions are a compile option). This floor is exact on both: the CAST, less
# one where it landed above x.


def _floor(x: str) -> str:
    return f"(CAST({x} AS INTEGER) - CASE WHEN CAST({x} AS INTEGER) > {x} THEN 1 ELSE 0 END)"


def day_sql(ts: str = "ts") -> str:
    """The UTC day of ``ts``: days since 1970-01-01."""
    return _floor(f"{ts} / 86400")


# A decade [D, 10D) of milliseconds is cut into 70 buckets: [D, 2D) in 20 of D/20, [2D, 5D)
# in 30 of D/10, [5D, 10D) in 20 of D/4 — each at most 5% of its lower bound wide. Bucket 0
# is [0, 1) ms; decades run from 1 ms to 10^7 ms; OVERFLOW_BUCKET holds 10^7 ms and more.
# (upper end / D, multiplier m, offset): bucket = 1 + 70k + offset + floor(ms * m / D)
_PARTS: Final = ((2, 20, -20), (5, 10, 0), (10, 4, 30))
_PER_DECADE: Final = 70
_DECADES: Final = 7
OVERFLOW_BUCKET: Final = 1 + _PER_DECADE * _DECADES


def _decade_sql(k: int) -> str:
    d: int = 10**k
    base = 1 + _PER_DECADE * k
    arms = [f"{base + off} + {_floor(f'latency_ms * {m} / {d}')}" for _upper, m, off in _PARTS]
    (upper1, _, _), (upper2, _, _), _ = _PARTS
    return (
        f"CASE WHEN latency_ms < {upper1 * d} THEN {arms[0]}"
        f" WHEN latency_ms < {upper2 * d} THEN {arms[1]} ELSE {arms[2]} END"
    )


def _bucket_sql() -> str:
    d = [_decade_sql(k) for k in range(_DECADES)]
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


def latency_bucket(ms: float) -> int:
    """The bucket of ``ms`` as :data:`BUCKET_SQL` computes it (same float operations)."""
    if ms < 1:
        return 0
    for k in range(_DECADES):
        d: int = 10**k
        if ms < 10 * d:
            for upper, m, off in _PARTS:
                if ms < upper * d:
                    return 1 + _PER_DECADE * k + off + math.floor(ms * m / d)
    return OVERFLOW_BUCKET


def bucket_bounds(bucket: int) -> tuple[float, float]:
    """``[low, high)`` in milliseconds of a bucket; the overflow bucket is ``(1e7, 1e7)``."""
    if bucket <= 0:
        return 0.0, 1.0
    if bucket >= OVERFLOW_BUCKET:
        top = float(10**_DECADES)
        return top, top
    k, j = divmod(bucket - 1, _PER_DECADE)
    d: int = 10**k
    for upper, m, off in _PARTS:
        if j < upper * m + off:
            low = (j - off) * d / m
            return low, low + d / m
    raise AssertionError(bucket)  # unreachable: the last part ends at 70


def percentiles(
    histogram: dict[int, int], points: Sequence[float] = PERCENTILES
) -> list[float | None]:
    """Percentiles (fractions in ``points``) of a ``{bucket: count}`` histogram; ``None`` for
    an empty one. The value of rank ``p * n`` is read inside the bucket holding it, with the
    bucket's ``c`` values taken as spread evenly: the k-th at ``low + (k - 0.5) / c`` of the
    width. It lies in the same bucket as the exact nearest-rank percentile."""
    total = sum(histogram.values())
    if total <= 0:
        return [None for _ in points]
    ordered = sorted((b, n) for b, n in histogram.items() if n > 0)
    out: list[float | None] = []
    for p in points:
        rank = p * total
        below = 0
        for bucket, n in ordered:
            if below + n >= rank:
                low, high = bucket_bounds(bucket)
                share = min(max((rank - below - 0.5) / n, 0.0), 1.0)
                out.append(low + (high - low) * share)
                break
            below += n
        else:  # p > 1: the top of the last bucket
            out.append(bucket_bounds(ordered[-1][0])[1])
    return out


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


@dataclass(frozen=True, slots=True)
class _Filters:
    since: float | None
    until: float | None
    category: str | None
    agent: str | None
    model: str | None

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


def _where(clauses: Iterable[str]) -> str:
    listed = list(clauses)
    return " WHERE " + " AND ".join(listed) if listed else ""


# -- accumulation ------------------------------------------------------------------------
# A running group: the sums as a list (fast to add to), and its latency histogram.
_CALLS, _SUCCESS, _REJECTED, _ERRORS, _RUNS = range(5)
_COST, _UNPRICED, _IN, _OUT, _CACHE_W, _CACHE_R = range(5, 11)
_ESCALATED, _FALLBACK, _CORRECTED, _RATINGS, _RATING_SUM = range(11, 16)
_WIDTH = 16


@dataclass(slots=True)
class _Acc:
    sums: list[float] = field(default_factory=lambda: [0] * _WIDTH)
    hist: dict[int, int] = field(default_factory=dict)

    def add(self, other: _Acc) -> None:
        self.sums = [a + b for a, b in zip(self.sums, other.sums, strict=True)]
        hist = self.hist
        for bucket, n in other.hist.items():
            hist[bucket] = hist.get(bucket, 0) + n

    def metrics(self, key: str) -> GroupMetrics:
        s = self.sums
        ratings = int(s[_RATINGS])
        p50, p95, p99 = percentiles(self.hist)
        return GroupMetrics(
            key=key,
            calls=int(s[_CALLS]),
            answered=int(s[_SUCCESS] + s[_REJECTED]),
            success=int(s[_SUCCESS]),
            rejected=int(s[_REJECTED]),
            errors=int(s[_ERRORS]),
            runs=int(s[_RUNS]),
            escalated_runs=int(s[_ESCALATED]),
            fallback_runs=int(s[_FALLBACK]),
            corrected_runs=int(s[_CORRECTED]),
            ratings=ratings,
            rating_mean=s[_RATING_SUM] / ratings if ratings else None,
            cost_usd=float(s[_COST]),
            unpriced=int(s[_UNPRICED]),
            input_tokens=int(s[_IN]),
            output_tokens=int(s[_OUT]),
            cache_creation_tokens=int(s[_CACHE_W]),
            cache_read_tokens=int(s[_CACHE_R]),
            latency_p50_ms=p50,
            latency_p95_ms=p95,
            latency_p99_ms=p99,
        )


_OUTCOME_SLOT = {"success": _SUCCESS, "rejected": _REJECTED, "error": _ERRORS}
_ANSWERED = frozenset(("success", "rejected"))


def _accumulate(rows: Iterable[Sequence[Any]], width: int) -> dict[tuple[Any, ...], _Acc]:
    """Rows of ``key columns (width) + outcome, bucket + _SUMS`` into one _Acc per key."""
    accs: dict[tuple[Any, ...], _Acc] = {}
    slot_of = _OUTCOME_SLOT.get
    answered = _ANSWERED
    for row in rows:
        key = tuple(row[:width])
        outcome, bucket, n, cost, unpriced, inp, out, cache_w, cache_r, runs = row[width:]
        acc = accs.get(key)
        if acc is None:
            acc = accs[key] = _Acc()
        s = acc.sums
        s[_CALLS] += n
        s[slot_of(outcome, _ERRORS)] += n
        s[_RUNS] += runs
        if cost is not None:
            s[_COST] += cost
        if outcome in answered:
            s[_UNPRICED] += unpriced
        s[_IN] += inp or 0
        s[_OUT] += out or 0
        if cache_w:
            s[_CACHE_W] += cache_w
        if cache_r:
            s[_CACHE_R] += cache_r
        if bucket is not None:
            hist = acc.hist
            hist[bucket] = hist.get(bucket, 0) + n
    return accs


def _add_flags(
    accs: dict[tuple[Any, ...], _Acc],
    rows: Iterable[Sequence[Any]],
    key: Callable[..., Any],
    width: int = 5,
) -> None:
    """Flag rows (``width`` key columns: day, agent, category, tier, model; then escalated,
    fallback, corrected, ratings, rating sum) into the _Acc of ``key(row)``."""
    for row in rows:
        k = key(row)
        acc = accs.get(k)
        if acc is None:
            acc = accs[k] = _Acc()
        s = acc.sums
        for slot, value in zip(
            (_ESCALATED, _FALLBACK, _CORRECTED, _RATINGS, _RATING_SUM), row[width:], strict=True
        ):
            s[slot] += int(value or 0)


# -- queries -----------------------------------------------------------------------------


_Query = tuple[str, list[object]]


def _cell_query(f: _Filters) -> _Query:
    """Counts and sums per cell (agent, category, tier, model) x outcome x latency bucket."""
    clauses, params = f.where()
    sql = (
        f"SELECT {_CELL}, outcome, {BUCKET_SQL}, {_SUMS} FROM events{_where(clauses)}"
        f" GROUP BY {_CELL}, outcome, {BUCKET_SQL}"
    )
    return sql, params


def _day_query(f: _Filters) -> _Query:
    """Counts and sums per UTC day x outcome x latency bucket."""
    clauses, params = f.where(days=True)
    sql = (
        f"SELECT {DAY_SQL}, outcome, {BUCKET_SQL}, {_SUMS} FROM events{_where(clauses)}"
        f" GROUP BY {DAY_SQL}, outcome, {BUCKET_SQL}"
    )
    return sql, params


def _session_query(f: _Filters) -> _Query:
    """Counts and sums per session x outcome x latency bucket."""
    clauses, params = f.where()
    sql = (
        f"SELECT session_id, outcome, {BUCKET_SQL}, {_SUMS} FROM events{_where(clauses)}"
        f" GROUP BY session_id, outcome, {BUCKET_SQL}"
    )
    return sql, params


_FLAG_KEYS: Final = f"{day_sql('e.ts')}, e.agent, e.category, e.tier, e.model"


def _flag_query(f: _Filters, keys: str = _FLAG_KEYS) -> _Query:
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


# -- grouping ----------------------------------------------------------------------------

_CELL_AT: Final[dict[GroupBy, int]] = {"agent": 0, "category": 1, "tier": 2, "model": 3}


def day_key(day: int) -> str:
    """ISO date of a day number (days since 1970-01-01, UTC)."""
    return (date(1970, 1, 1) + timedelta(days=day)).isoformat()


def week_key(day: int) -> str:
    """ISO week (``2026-W45``; weeks start on Monday) of a day number."""
    year, week, _ = (date(1970, 1, 1) + timedelta(days=day)).isocalendar()
    return f"{year}-W{week:02d}"


def _roll(
    accs: dict[tuple[Any, ...], _Acc], key: Callable[[tuple[Any, ...]], str]
) -> dict[str, _Acc]:
    out: dict[str, _Acc] = {}
    for k, acc in accs.items():
        name = key(k)
        target = out.get(name)
        if target is None:
            out[name] = target = _Acc()
        target.add(acc)
    return out


def _total(accs: dict[tuple[Any, ...], _Acc]) -> GroupMetrics:
    total = _Acc()
    for acc in accs.values():
        total.add(acc)
    return total.metrics("total")


def _groups(by: GroupBy, accs: dict[tuple[Any, ...], _Acc]) -> list[GroupMetrics]:
    """The groups of ``by``: days and weeks in time order, others by calls (most first)."""
    if by in ("day", "week"):
        name = day_key if by == "day" else week_key
        rolled = _roll(accs, lambda k: name(int(k[0])))
        return [rolled[k].metrics(k) for k in sorted(rolled)]  # ISO keys sort by time
    if by == "session":
        sessions = [acc.metrics(k[0] or "") for k, acc in accs.items()]
        sessions.sort(key=lambda g: (-g.cost_usd, -g.calls, g.key))
        return sessions
    at = _CELL_AT[by]
    rolled = _roll(accs, lambda k: k[at] or "")
    groups = [acc.metrics(k) for k, acc in rolled.items()]
    groups.sort(key=lambda g: (-g.calls, g.key))
    return groups


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
    f = _Filters(since, until, category, agent, model)
    filters = {k: v for k, v in (("category", category), ("agent", agent), ("model", model)) if v}
    by_cell = [b for b in wanted if b in _CELL_AT]
    by_day = [b for b in wanted if b is None or b in ("day", "week")]
    if "session" in wanted and not by_cell:
        by_day.append(None)  # the totals come from the day query: one is needed anyway
    flags = store.query(*_flag_query(f))
    groups: dict[GroupBy, list[GroupMetrics]] = {}
    totals: GroupMetrics | None = None
    if by_cell or not by_day:
        cells = _accumulate(store.query(*_cell_query(f)), 4)
        _add_flags(cells, flags, lambda r: (r[1], r[2], r[3], r[4]))
        groups.update((b, _groups(b, cells)) for b in by_cell)
        totals = _total(cells)
    if by_day:
        days = _accumulate(store.query(*_day_query(f)), 1)
        _add_flags(days, flags, lambda r: (r[0],))
        groups.update((b, _groups(b, days)) for b in by_day if b is not None)
        totals = _total(days)
    if "session" in wanted:
        sessions = _accumulate(store.query(*_session_query(f)), 1)
        session_flags = store.query(*_flag_query(f, keys="e.session_id"))
        _add_flags(sessions, session_flags, lambda r: (r[0],), width=1)
        groups["session"] = _groups("session", sessions)
    assert totals is not None
    return {
        b: MetricsReport(
            since=since,
            until=until,
            by=b,
            totals=replace(totals),
            groups=groups.get(b, []) if b is not None else [],
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
