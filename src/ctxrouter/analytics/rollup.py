"""Rows of the metrics queries rolled up into groups: plain Python over a few thousand rows.

The queries of :mod:`ctxrouter.analytics.metrics_sql` count per cell (agent, category, tier,
model), per day or per session, each split by outcome and latency bucket. Here those rows become
a :class:`Tally` per key (sums and a latency histogram), the tallies roll up into the groups
asked for (cells into models, agents, categories and tiers; days into weeks), and each group
becomes a :class:`~ctxrouter.analytics.report.GroupMetrics`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final

from ctxrouter.analytics.percentiles import Histogram, merge, percentiles
from ctxrouter.analytics.report import GroupBy, GroupMetrics

Key = tuple[Any, ...]

# A running group: the sums as a list (fast to add to), and its latency histogram.
_CALLS, _SUCCESS, _REJECTED, _ERRORS, _RUNS = range(5)
_COST, _UNPRICED, _IN, _OUT, _CACHE_W, _CACHE_R = range(5, 11)
_ESCALATED, _FALLBACK, _CORRECTED, _RATINGS, _RATING_SUM = range(11, 16)
_WIDTH = 16
_FLAGS = (_ESCALATED, _FALLBACK, _CORRECTED, _RATINGS, _RATING_SUM)


@dataclass(slots=True)
class Tally:
    sums: list[float] = field(default_factory=lambda: [0] * _WIDTH)
    hist: Histogram = field(default_factory=dict)

    def add(self, other: Tally) -> None:
        self.sums = [a + b for a, b in zip(self.sums, other.sums, strict=True)]
        merge(self.hist, other.hist)

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


def accumulate(rows: Iterable[Sequence[Any]], width: int) -> dict[Key, Tally]:
    """Rows of ``key columns (width) + outcome, bucket + sums`` into one Tally per key."""
    tallies: dict[Key, Tally] = {}
    slot_of = _OUTCOME_SLOT.get
    answered = _ANSWERED
    for row in rows:
        key = tuple(row[:width])
        outcome, bucket, n, cost, unpriced, inp, out, cache_w, cache_r, runs = row[width:]
        tally = tallies.get(key)
        if tally is None:
            tally = tallies[key] = Tally()
        s = tally.sums
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
            hist = tally.hist
            hist[bucket] = hist.get(bucket, 0) + n
    return tallies


def add_flags(
    tallies: dict[Key, Tally],
    rows: Iterable[Sequence[Any]],
    key: Callable[..., Any],
    width: int = 5,
) -> None:
    """Flag rows (``width`` key columns: day, agent, category, tier, model; then escalated,
    fallback, corrected, ratings, rating sum) into the Tally of ``key(row)``."""
    for row in rows:
        k = key(row)
        tally = tallies.get(k)
        if tally is None:
            tally = tallies[k] = Tally()
        s = tally.sums
        for slot, value in zip(_FLAGS, row[width:], strict=True):
            s[slot] += int(value or 0)


# -- grouping ----------------------------------------------------------------------------

CELL_AT: Final[dict[GroupBy, int]] = {"agent": 0, "category": 1, "tier": 2, "model": 3}


def day_key(day: int) -> str:
    """ISO date of a day number (days since 1970-01-01, UTC)."""
    return (date(1970, 1, 1) + timedelta(days=day)).isoformat()


def week_key(day: int) -> str:
    """ISO week (``2026-W45``; weeks start on Monday) of a day number."""
    year, week, _ = (date(1970, 1, 1) + timedelta(days=day)).isocalendar()
    return f"{year}-W{week:02d}"


def _roll(tallies: dict[Key, Tally], key: Callable[[Key], str]) -> dict[str, Tally]:
    out: dict[str, Tally] = {}
    for k, tally in tallies.items():
        name = key(k)
        target = out.get(name)
        if target is None:
            out[name] = target = Tally()
        target.add(tally)
    return out


def total(tallies: dict[Key, Tally]) -> GroupMetrics:
    """The totals of every tally."""
    whole = Tally()
    for tally in tallies.values():
        whole.add(tally)
    return whole.metrics("total")


def groups(by: GroupBy, tallies: dict[Key, Tally]) -> list[GroupMetrics]:
    """The groups of ``by``: days and weeks in time order, sessions costliest first, others
    by calls (most first)."""
    if by in ("day", "week"):
        name = day_key if by == "day" else week_key
        rolled = _roll(tallies, lambda k: name(int(k[0])))
        return [rolled[k].metrics(k) for k in sorted(rolled)]  # ISO keys sort by time
    if by == "session":
        sessions = [tally.metrics(k[0] or "") for k, tally in tallies.items()]
        sessions.sort(key=lambda g: (-g.cost_usd, -g.calls, g.key))
        return sessions
    at = CELL_AT[by]
    rolled = _roll(tallies, lambda k: k[at] or "")
    found = [tally.metrics(k) for k, tally in rolled.items()]
    found.sort(key=lambda g: (-g.calls, g.key))
    return found
