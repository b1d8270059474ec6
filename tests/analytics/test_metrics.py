"""compute_metrics over hand-made events with known answers, on a real SQLite file and (when a
server is reachable) a real PostgreSQL schema: the same SQL must give the same numbers."""

from __future__ import annotations

import json
import math
import os
import random
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ctxrouter.analytics import metrics_sql
from ctxrouter.analytics.metrics import (
    BUCKET_SQL,
    DASHBOARD,
    DAY_SQL,
    OVERFLOW_BUCKET,
    GroupMetrics,
    MetricsReport,
    bucket_bounds,
    compute_metrics,
    compute_metrics_page,
    day_key,
    latency_bucket,
    week_key,
)
from ctxrouter.analytics.percentiles import percentiles_of
from ctxrouter.telemetry import Event, Feedback, Outcome, SQLiteStore, Store
from ctxrouter.telemetry.migrations import M002
from ctxrouter.telemetry.schema import render

POSTGRES_URL = os.environ.get(
    "CTXROUTER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REQUIRE_SERVICES = os.environ.get("CTXROUTER_REQUIRE_SERVICES") == "1"

MONDAY = datetime(2026, 11, 2, tzinfo=UTC).timestamp()  # ISO week 2026-W45 starts
DAY = 86_400.0
HAIKU, SONNET, OPUS = "claude-haiku-5-5", "claude-sonnet-5-5", "claude-opus-5-5"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.services)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh store: an SQLite file, or a new schema on the PostgreSQL test server."""
    if request.param == "sqlite":
        with SQLiteStore(tmp_path / "metrics.db") as lite:
            yield lite
        return
    try:
        import psycopg
        from psycopg import sql

        from ctxrouter.telemetry.postgres import PostgresStore

        psycopg.connect(POSTGRES_URL, connect_timeout=3).close()
    except Exception as exc:  # no driver, no server: skip (CI requires it)
        reason = f"PostgreSQL is not usable at {POSTGRES_URL}: {exc}"
        if REQUIRE_SERVICES:
            pytest.fail(reason)
        pytest.skip(reason)
    schema = f"ctxrouter_test_{uuid.uuid4().hex[:12]}"
    try:
        with PostgresStore(POSTGRES_URL, schema=schema) as pg:
            yield pg
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def ev(run: str, ts: float, model: str, outcome: Outcome, **kw: Any) -> Event:
    values: dict[str, Any] = {
        "event_id": uuid.uuid4().hex,
        "ts": ts,
        "run_id": run,
        "agent": "python-pro",
        "category": "Code Generation",
        "model": model,
        "tier": model.split("-")[1],
        "outcome": outcome,
    }
    values.update(kw)
    return Event(**values)


OK, REJ, ERR = Outcome.SUCCESS, Outcome.REJECTED, Outcome.ERROR
REVIEWER = {"agent": "code-reviewer", "category": "Code Review & Quality"}


def fleet() -> list[Event]:
    """Seven runs over two ISO weeks, with known answers (see the tests)."""
    return [
        # r1: one accepted answer on haiku (feedback: a rating of 5 and an empty correction)
        ev("r1", MONDAY + 3600, HAIKU, OK, **REVIEWER, input_tokens=1000, output_tokens=100,
           cache_creation_5m_tokens=10, cache_creation_1h_tokens=5, cache_read_tokens=200,
           cost_usd=0.01, latency_ms=1000.0),
        # r2: rejected on haiku, escalated to sonnet (feedback: a correction, ratings 2 and 4)
        ev("r2", MONDAY + 7200, HAIKU, REJ, input_tokens=2000, output_tokens=200, cost_usd=0.02,
           latency_ms=2000.0, error_type="rejected"),
        ev("r2", MONDAY + 7210, SONNET, OK, attempt=2, escalated_from="haiku",
           input_tokens=2000, output_tokens=400, cost_usd=0.10, latency_ms=4000.0),
        # r3: overloaded on sonnet, fell back to haiku, answer unpriced (feedback: a correction)
        ev("r3", MONDAY + 10_800, SONNET, ERR, error_type="overloaded", status_code=529,
           latency_ms=100.0),
        ev("r3", MONDAY + 10_801, HAIKU, OK, attempt=2, fallback_from=SONNET,
           input_tokens=500, output_tokens=50, latency_ms=3000.0),
        # r4: no agent, no category, no tier; half a second before Tuesday
        ev("r4", MONDAY + DAY - 0.5, OPUS, OK, agent=None, category=None, tier=None,
           input_tokens=10, output_tokens=10, cost_usd=0.5, latency_ms=8000.0),
        # r5: Tuesday 00:00:00 exactly
        ev("r5", MONDAY + DAY, HAIKU, OK, input_tokens=100, output_tokens=20, cost_usd=0.03,
           latency_ms=500.0),
        # r6: Sunday 23:59:59, the last second of week 45
        ev("r6", MONDAY + 7 * DAY - 1, SONNET, OK, **REVIEWER, input_tokens=300,
           output_tokens=30, cache_read_tokens=1000, cost_usd=0.2, latency_ms=6000.0),
        # r7: the next Monday 00:00:00, week 46: rejected, nothing stronger to try
        ev("r7", MONDAY + 7 * DAY, HAIKU, REJ, **REVIEWER, input_tokens=50, output_tokens=5,
           cost_usd=0.04, latency_ms=1500.0),
    ]  # fmt: skip


FEEDBACK = [
    Feedback("f1", MONDAY + 9000, "r2", "python-pro", correction="use the v2 API", rating=2),
    Feedback("f2", MONDAY + 9100, "r2", "python-pro", rating=4),
    Feedback("f3", MONDAY + 9200, "r1", "code-reviewer", correction="", rating=5),
    Feedback("f4", MONDAY + 20 * DAY, "r3", "python-pro", correction="fix the import"),
    Feedback("f5", MONDAY, "ghost", None, correction="a run never recorded", rating=1),
]


@pytest.fixture
def filled(store: Store) -> Store:
    store.write_events(fleet())
    for feedback in FEEDBACK:
        store.add_feedback(feedback)
    return store


def by_key(groups: list[GroupMetrics]) -> dict[str, GroupMetrics]:
    return {g.key: g for g in groups}


def same(a: GroupMetrics, b: GroupMetrics) -> bool:
    """Equal, but for the last bits of float sums added in another order."""
    da, db = a.to_dict(), b.to_dict()
    return da.keys() == db.keys() and all(
        da[k] == pytest.approx(db[k], rel=1e-12) if isinstance(da[k], float) else da[k] == db[k]
        for k in da
    )


def same_report(a: MetricsReport, b: MetricsReport) -> bool:
    return (
        (a.since, a.until, a.by, a.filters) == (b.since, b.until, b.by, b.filters)
        and same(a.totals, b.totals)
        and len(a.groups) == len(b.groups)
        and all(same(x, y) for x, y in zip(a.groups, b.groups, strict=True))
    )


def test_totals_every_field(filled: Store) -> None:
    t = compute_metrics(filled).totals
    events = fleet()
    assert t.key == "total"
    assert (t.calls, t.answered, t.success, t.rejected, t.errors) == (9, 8, 6, 2, 1)
    assert (t.runs, t.escalated_runs, t.fallback_runs, t.corrected_runs) == (7, 1, 1, 2)
    assert t.ratings == 3  # the ghost run's feedback has no run to belong to
    assert t.rating_mean == pytest.approx((2 + 4 + 5) / 3)
    assert t.cost_usd == pytest.approx(0.01 + 0.02 + 0.10 + 0.5 + 0.03 + 0.2 + 0.04)
    assert t.unpriced == 1  # r3's fallback answer; r3's error is not an unpriced answer
    assert t.input_tokens == sum(e.input_tokens for e in events) == 5960
    assert t.output_tokens == sum(e.output_tokens for e in events) == 815
    assert t.cache_creation_tokens == 15
    assert t.cache_read_tokens == 1200
    assert t.success_rate == pytest.approx(6 / 8)
    assert t.escalation_rate == pytest.approx(1 / 7)
    assert t.fallback_rate == pytest.approx(1 / 7)
    assert t.correction_rate == pytest.approx(2 / 7)
    assert t.cost_per_call_usd == pytest.approx(t.cost_usd / 7)  # over the 7 priced answers
    # answered latencies: 500 1000 1500 2000 3000 4000 6000 8000 (the error's 100 is not one)
    assert t.latency_p50_ms == pytest.approx(2050)  # rank 4 (2000), mid-bucket [2000, 2100)
    # rank 7.6 and 7.92 -> 8000, in [8000, 8250): 0.1 and 0.42 of the way (k - 0.5 of 1)
    assert t.latency_p95_ms == pytest.approx(8025)
    assert t.latency_p99_ms == pytest.approx(8105)


def test_by_model_counts_runs_where_they_started(filled: Store) -> None:
    report = compute_metrics(filled, by="model")
    assert [g.key for g in report.groups] == [HAIKU, SONNET, OPUS]  # most calls first
    groups = by_key(report.groups)
    haiku, sonnet, opus = groups[HAIKU], groups[SONNET], groups[OPUS]
    # haiku: r1, r2's first try, r3's fallback, r5, r7; runs started there: r1 r2 r5 r7
    assert (haiku.calls, haiku.answered, haiku.success, haiku.rejected) == (5, 5, 3, 2)
    assert (haiku.runs, haiku.escalated_runs, haiku.fallback_runs) == (4, 1, 0)
    assert (haiku.corrected_runs, haiku.ratings) == (1, 3)
    assert haiku.escalation_rate == pytest.approx(1 / 4)
    assert haiku.cost_usd == pytest.approx(0.10) and haiku.unpriced == 1
    assert haiku.cost_per_call_usd == pytest.approx(0.10 / 4)
    # sonnet: r2's escalation, r3's error, r6; runs started there: r3 r6
    assert (sonnet.calls, sonnet.answered, sonnet.errors, sonnet.runs) == (3, 2, 1, 2)
    assert (sonnet.escalated_runs, sonnet.fallback_runs, sonnet.corrected_runs) == (0, 1, 1)
    assert sonnet.fallback_rate == pytest.approx(1 / 2)
    assert sonnet.ratings == 0 and sonnet.rating_mean is None
    assert (opus.calls, opus.runs, opus.cost_usd) == (1, 1, 0.5)
    assert opus.latency_p50_ms == pytest.approx(8000)  # rank 0.5 of one value: its bucket's low
    assert same(report.totals, compute_metrics(filled).totals)


def test_by_agent_category_and_tier_missing_values_group_under_empty_key(filled: Store) -> None:
    agents = by_key(compute_metrics(filled, by="agent").groups)
    assert set(agents) == {"python-pro", "code-reviewer", ""}
    pro = agents["python-pro"]
    assert (pro.calls, pro.runs, pro.escalated_runs, pro.fallback_runs) == (5, 3, 1, 1)
    assert (pro.corrected_runs, pro.ratings, pro.rating_mean) == (2, 2, 3.0)
    assert (agents["code-reviewer"].calls, agents["code-reviewer"].runs) == (3, 3)
    assert agents[""].calls == 1 and agents[""].cost_usd == pytest.approx(0.5)
    categories = by_key(compute_metrics(filled, by="category").groups)
    assert {k: g.calls for k, g in categories.items()} == {
        "Code Generation": 5,
        "Code Review & Quality": 3,
        "": 1,
    }
    tiers = by_key(compute_metrics(filled, by="tier").groups)
    assert {k: (g.calls, g.runs) for k, g in tiers.items()} == {
        "haiku": (5, 4),
        "sonnet": (3, 2),
        "": (1, 1),
    }


def test_days_and_weeks_at_utc_boundaries(filled: Store) -> None:
    days = compute_metrics(filled, by="day").groups
    assert [(g.key, g.calls) for g in days] == [
        ("2026-11-02", 6),  # r4 at 23:59:59.5 is still Monday
        ("2026-11-03", 1),  # r5 at 00:00:00 is Tuesday
        ("2026-11-08", 1),  # r6, Sunday 23:59:59
        ("2026-11-09", 1),  # r7, Monday 00:00:00
    ]
    monday = days[0]
    assert (monday.runs, monday.escalated_runs, monday.fallback_runs) == (4, 1, 1)
    assert monday.corrected_runs == 2  # r3's correction came 20 days later: it still counts
    weeks = compute_metrics(filled, by="week").groups
    assert [(g.key, g.calls, g.runs) for g in weeks] == [("2026-W45", 8, 6), ("2026-W46", 1, 1)]
    assert weeks[1].rejected == 1 and weeks[1].success_rate == 0.0


def test_week_keys_follow_iso_years() -> None:
    assert week_key(math.floor(datetime(2027, 1, 1, tzinfo=UTC).timestamp() / DAY)) == ("2026-W53")
    assert week_key(math.floor(datetime(2024, 12, 30, tzinfo=UTC).timestamp() / DAY)) == (
        "2025-W01"
    )
    assert day_key(0) == "1970-01-01"


@pytest.mark.parametrize(
    ("window", "calls", "runs"),
    [
        ({"since": MONDAY + DAY}, 3, 3),  # since is inclusive: r5 at exactly that time
        ({"until": MONDAY + DAY}, 6, 4),  # until is exclusive
        ({"since": MONDAY + 7200, "until": MONDAY + 7205}, 1, 1),  # r2's first try alone
        ({"since": MONDAY + 7205, "until": MONDAY + 7300}, 1, 0),  # r2's escalation: no start
        ({"since": MONDAY + 30 * DAY}, 0, 0),
    ],
)
def test_window(filled: Store, window: dict[str, float], calls: int, runs: int) -> None:
    report = compute_metrics(filled, **window)  # type: ignore[arg-type]
    assert (report.totals.calls, report.totals.runs) == (calls, runs)
    assert (report.since, report.until) == (window.get("since"), window.get("until"))
    days = compute_metrics(filled, by="day", **window)  # type: ignore[arg-type]
    assert sum(g.calls for g in days.groups) == calls


def test_a_run_outside_the_window_keeps_its_flags_out(filled: Store) -> None:
    # r2's escalated attempt is in the window, its first attempt is not: no run, no flag
    report = compute_metrics(filled, since=MONDAY + 7205, until=MONDAY + 7300)
    assert (report.totals.escalated_runs, report.totals.escalation_rate) == (0, None)
    assert report.totals.success == 1


@pytest.mark.parametrize(
    ("filters", "calls", "runs", "escalated"),
    [
        ({"agent": "python-pro"}, 5, 3, 1),
        ({"agent": "nobody"}, 0, 0, 0),
        ({"model": HAIKU}, 5, 4, 1),
        ({"model": SONNET}, 3, 2, 0),
        ({"category": "Code Review & Quality"}, 3, 3, 0),
        ({"category": "Code Generation", "model": HAIKU}, 3, 2, 1),
    ],
)
def test_filters(
    filled: Store, filters: dict[str, str], calls: int, runs: int, escalated: int
) -> None:
    for by in DASHBOARD:
        report = compute_metrics(filled, by=by, **filters)  # type: ignore[arg-type]
        assert report.filters == filters
        t = report.totals
        assert (t.calls, t.runs, t.escalated_runs) == (calls, runs, escalated)
        assert sum(g.calls for g in report.groups) == (calls if by else 0)


def test_unpriced_is_never_counted_as_zero_dollars(store: Store) -> None:
    store.write_events(
        [
            ev("u1", MONDAY, OPUS, OK, latency_ms=100.0),
            ev("u2", MONDAY + 1, OPUS, REJ, latency_ms=100.0),
            ev("u3", MONDAY + 2, OPUS, ERR),  # an error is not an unpriced answer
            ev("p1", MONDAY + 3, SONNET, OK, cost_usd=0.0, latency_ms=100.0),  # priced at $0
        ]
    )
    groups = by_key(compute_metrics(store, by="model").groups)
    opus, sonnet = groups[OPUS], groups[SONNET]
    assert (opus.cost_usd, opus.unpriced, opus.priced) == (0.0, 2, 0)
    assert opus.cost_per_call_usd is None
    assert opus.to_dict()["cost_per_call_usd"] is None
    assert (sonnet.cost_usd, sonnet.unpriced, sonnet.cost_per_call_usd) == (0.0, 0, 0.0)


def test_empty_store(store: Store) -> None:
    for by, report in compute_metrics_page(store).items():
        assert report.by == by and report.groups == []
        assert report.totals == GroupMetrics("total")
        assert report.totals.to_dict()["success_rate"] is None


def test_page_equals_single_calls(filled: Store) -> None:
    page = compute_metrics_page(filled, (*DASHBOARD, "tier"), since=MONDAY + 1)
    for by, report in page.items():
        assert same_report(report, compute_metrics(filled, by=by, since=MONDAY + 1))


def test_unknown_grouping_is_refused(filled: Store) -> None:
    with pytest.raises(ValueError, match="cannot group by 'hour'"):
        compute_metrics(filled, by="hour")  # type: ignore[arg-type]


def test_to_dict_is_json_with_every_field_and_rate(filled: Store) -> None:
    report = compute_metrics(filled, by="week", since=MONDAY, model=HAIKU)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["by"] == "week"
    assert data["window"] == {
        "since": MONDAY,
        "until": None,
        "since_utc": "2026-11-02T00:00:00+00:00",
        "until_utc": None,
    }
    assert data["filters"] == {"model": HAIKU}
    assert data["latency_resolution"] == 0.05
    totals = data["totals"]
    assert totals["key"] == "total"
    required = {"calls", "cost_usd", "input_tokens", "output_tokens", "cache_creation_tokens"}
    assert required | {"cache_read_tokens"} <= set(totals)
    rates = {"success_rate", "escalation_rate", "fallback_rate", "correction_rate"}
    assert rates | {"cost_per_call_usd", "latency_p99_ms", "runs", "unpriced"} <= set(totals)
    assert totals["calls"] == 5 and totals["escalation_rate"] == pytest.approx(0.25)
    assert [g["key"] for g in data["groups"]] == ["2026-W45", "2026-W46"]
    assert set(data["groups"][0]) == set(totals)


# -- SQL twins: what the database computes is what Python says ---------------------------


def test_day_sql_floors_at_midnight(store: Store) -> None:
    stamps = [MONDAY + k * DAY + d for k in range(3) for d in (-0.001, 0.0, 0.001, 43_200.0)]
    stamps += [0.0, 0.5, 86_399.999, 1e9 + 0.25]
    store.write_events([ev(f"d{i}", ts, HAIKU, OK) for i, ts in enumerate(stamps)])
    rows = store.query(f"SELECT ts, {DAY_SQL} FROM events")
    assert len(rows) == len(stamps)
    for ts, day in rows:
        assert int(day) == math.floor(ts / DAY), ts


def test_bucket_sql_matches_python(store: Store) -> None:
    rng = random.Random(5)
    values = [0.0, 0.4, 1.0, 1.04, 1.05, 1.999, 2.0, 4.99, 5.0, 9.9999, 10.0, 99.99, 100.0]
    values += [999.0, 1000.0, 1999.0, 2000.0, 4999.9, 5000.0, 9999.9, 1e4, 1e5, 1e6, 1e7, 3e7]
    values += [rng.lognormvariate(math.log(2000), 1.5) for _ in range(300)]
    store.write_events([ev(f"b{i}", MONDAY, HAIKU, OK, latency_ms=v) for i, v in enumerate(values)])
    store.write_events([ev("x", MONDAY, HAIKU, ERR, latency_ms=7.77), ev("y", MONDAY, HAIKU, OK)])
    rows = store.query(f"SELECT latency_ms, {BUCKET_SQL} FROM events")
    assert len(rows) == len(values) + 2
    for latency, bucket in rows:
        if latency is None or latency == 7.77:  # no latency, or an error: no bucket
            assert bucket is None
            continue
        assert int(bucket) == latency_bucket(latency), latency
        low, high = bucket_bounds(int(bucket))
        assert low <= latency < high or (bucket == OVERFLOW_BUCKET and latency >= low)
        if latency >= 1 and bucket != OVERFLOW_BUCKET:
            assert high - low <= 0.05 * low * (1 + 1e-9)


def test_percentiles_are_those_of_the_answered_latencies(store: Store) -> None:
    """The histogram counted in SQL gives what `percentiles_of` gives for the values."""
    rng = random.Random(9)
    latencies = [rng.lognormvariate(math.log(1500), 0.8) for _ in range(3000)]
    models = [HAIKU, SONNET]
    events = [
        ev(f"p{i}", MONDAY + i, models[i % 2], OK if i % 7 else REJ, latency_ms=v)
        for i, v in enumerate(latencies)
    ]
    events.append(ev("slow-error", MONDAY, HAIKU, ERR, latency_ms=1e6))  # not an answer
    store.write_events(events)
    for by in ("model", "day", None):
        report = compute_metrics(store, by=by)  # type: ignore[arg-type]
        for group in [report.totals, *report.groups]:
            mine = [
                e.latency_ms
                for e in events
                if e.outcome is not ERR
                and e.latency_ms is not None
                and group.key in ("total", e.model, day_key(math.floor(e.ts / DAY)))
            ]
            got = [group.latency_p50_ms, group.latency_p95_ms, group.latency_p99_ms]
            assert got == percentiles_of(mine) and None not in got


# -- the indexes the queries are written for (SQLite) -------------------------------------


def test_the_indexes_of_migration_m002_are_used_and_change_nothing(tmp_path: Path) -> None:
    """The store's migration m002 froze the SQLite indexes these queries are written for (its
    DDL is literal): a query that no longer spells its expressions as they do loses them, and
    this fails (then append a migration with the new indexes)."""
    path = tmp_path / "indexed.db"
    with SQLiteStore(path) as lite:
        lite.write_events(fleet())
        for feedback in FEEDBACK:
            lite.add_feedback(feedback)
    conn = sqlite3.connect(path)
    for index in ("events_metrics_cells", "events_metrics_days", "events_rerouted"):
        conn.execute(f"DROP INDEX {index}")
    conn.commit()
    conn.close()
    with SQLiteStore(path) as lite:
        before = compute_metrics_page(lite, (*DASHBOARD, "tier"))
    conn = sqlite3.connect(path)
    for ddl in render(M002, "sqlite"):  # as a new store has them
        conn.execute(str(ddl))
    conn.commit()
    conn.close()
    f = metrics_sql.EventFilter(MONDAY, None, "Code Generation")
    with SQLiteStore(path) as lite:
        after = compute_metrics_page(lite, (*DASHBOARD, "tier"))
        assert all(same_report(after[by], before[by]) for by in before)
        plans = {
            name: " | ".join(row[3] for row in lite.query("EXPLAIN QUERY PLAN " + sql, params))
            for name, (sql, params) in {
                "cells": metrics_sql.cell_query(f),
                "days": metrics_sql.day_query(f),
                "flags": metrics_sql.flag_query(f),
            }.items()
        }
    assert "USING COVERING INDEX events_metrics_cells" in plans["cells"]
    assert "USING COVERING INDEX events_metrics_days" in plans["days"]
    assert "TEMP B-TREE" not in plans["cells"] + plans["days"]  # no sort over the events
    assert "SCAN x USING COVERING INDEX events_rerouted" in plans["flags"]
    assert "COVERING INDEX events_run_attempt (run_id=? AND attempt=?" in plans["flags"]


def test_attempts_of_a_run_never_started_count_as_calls_only(store: Store) -> None:
    """A run whose first attempt was never recorded counts its attempts, not a run."""
    late = replace(fleet()[2], run_id="orphan")  # an escalated attempt 2 without attempt 1
    store.write_events([late])
    t = compute_metrics(store).totals
    assert (t.calls, t.runs, t.escalated_runs, t.escalation_rate) == (1, 0, 0, None)


def test_by_session_costliest_first_with_run_flags(store: Store) -> None:
    events = [replace(e, session_id={"r1": "s-a", "r2": "s-a", "r3": "s-b"}.get(e.run_id))
              for e in fleet()]  # fmt: skip
    store.write_events(events)
    for feedback in FEEDBACK:
        store.add_feedback(feedback)
    report = compute_metrics(store, by="session")
    assert [g.key for g in report.groups] == ["", "s-a", "s-b"]  # $0.77, $0.13, unpriced
    groups = by_key(report.groups)
    a, b = groups["s-a"], groups["s-b"]
    assert (a.calls, a.runs, a.escalated_runs, a.corrected_runs, a.ratings) == (3, 2, 1, 1, 3)
    assert a.cost_usd == pytest.approx(0.13) and a.input_tokens == 5000
    assert (b.calls, b.errors, b.fallback_runs, b.unpriced, b.cost_usd) == (2, 1, 1, 1, 0.0)
    assert groups[""].calls == 4
    assert same(report.totals, compute_metrics(store).totals)
    page = compute_metrics_page(store, ("session", "model"), since=MONDAY + 1)
    assert same_report(page["session"], compute_metrics(store, by="session", since=MONDAY + 1))
    only = compute_metrics(store, by="session", agent="code-reviewer")
    assert [(g.key, g.calls) for g in only.groups] == [("", 2), ("s-a", 1)]
