"""The metrics page over 1,000,000 events: how long the metrics take for what a dashboard shows
(totals, then by model, agent, category, day and week) on SQLite.

The first run fills the database (default ``bench/data/metrics_1m.db``, ~40 s, ~0.5 GB, ignored
by git) with a synthetic month, time-ordered ids from ``new_id``: the 67 built-in agents
(Zipf-like popularity) with their categories, 5% of calls without an agent, three models
(agents start on haiku, sonnet or opus), 3% errors (retried or fallen back from), rejected
answers escalated a tier up, lognormal tokens and latencies, 1% unpriced, feedback
(corrections, ratings) on 3% of runs. Later runs reuse the file.

Then, on the schema with the indexes ``metrics.SQLITE_INDEXES`` proposes ("proposed") and on
the shipped one ("shipped"; the script adds or drops the indexes on its own file), it times
the page as one ``compute_metrics_page`` call and as six ``compute_metrics`` calls. Prints JSON.

    .venv/bin/python bench/metrics_page.py [--db PATH] [--events N] [--repeat 5]
        [--schema proposed|shipped ...]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import re
import sqlite3
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ctxrouter.analytics.metrics import (
    DASHBOARD,
    SQLITE_INDEXES,
    GroupBy,
    compute_metrics,
    compute_metrics_page,
)
from ctxrouter.telemetry.event import Event, Feedback, Outcome, new_id
from ctxrouter.telemetry.sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = ROOT / "bench" / "data" / "metrics_1m.db"
AGENTS_DIR = ROOT / "src" / "ctxrouter" / "catalog" / "defaults"
PAGE: tuple[GroupBy | None, ...] = DASHBOARD  # totals, model, agent, category, day, week
DAY = 86_400.0


@dataclass(frozen=True)
class _Model:
    id: str
    tier: str
    prices: tuple[float, float, float, float]  # USD per million: input, output, write, read
    latency_median_s: float


MODELS = (
    _Model("claude-haiku-5-5", "haiku", (0.10, 0.50, 0.125, 0.01), 1.4),
    _Model("claude-sonnet-5-5", "sonnet", (2.00, 10.00, 2.50, 0.10), 4.0),
    _Model("claude-opus-5-5", "opus", (4.00, 20.00, 5.00, 0.20), 9.0),
)
_ERRORS = (("overloaded", 529), ("rate_limit", 429), ("api_error", 500))


def catalog_agents() -> list[tuple[str, str]]:
    """(name, category) of the built-in agents, read from their front matter."""
    found = []
    for path in sorted(AGENTS_DIR.glob("*.md")):
        match = re.search(r"^category:\s*(.+)$", path.read_text(encoding="utf-8"), re.M)
        found.append((path.stem, match[1].strip() if match else "Specialized"))
    return found


class _Generator:
    def __init__(self, seed: int, end: float, days: int) -> None:
        self.rng = random.Random(seed)
        self.end = end
        self.start = end - days * DAY
        self.agents = catalog_agents()
        self.agent_weights = [1 / (rank + 1) ** 0.8 for rank in range(len(self.agents))]
        # each agent's usual starting tier: most on haiku, some on sonnet, a few on opus
        self.agent_tier = {
            name: self.rng.choices((0, 1, 2), (0.55, 0.38, 0.07))[0] for name, _ in self.agents
        }

    def hexes(self, digits: int) -> str:
        return f"{self.rng.getrandbits(digits * 4):0{digits}x}"

    def runs(self, count: int) -> Iterator[tuple[list[Event], Feedback | None]]:
        starts = sorted(self.rng.uniform(self.start, self.end) for _ in range(count))
        for ts in starts:
            yield self.run(ts)

    def run(self, ts: float) -> tuple[list[Event], Feedback | None]:
        rng = self.rng
        agent: str | None = None
        category: str | None = None
        level = rng.choices((0, 1, 2), (0.6, 0.35, 0.05))[0]
        if rng.random() >= 0.05:
            agent, category = rng.choices(self.agents, self.agent_weights)[0]
            level = self.agent_tier[agent]
        run_id = new_id()
        prompt_chars = int(rng.lognormvariate(math.log(4000), 0.9))
        prompt_sha = self.hexes(64)
        events: list[Event] = []
        model = MODELS[level]
        escalated_from: str | None = None
        fallback_from: str | None = None
        tries = 0
        while len(events) < 8:
            tries += 1
            attempt = len(events) + 1
            base = {
                "event_id": new_id(),
                "ts": ts,
                "run_id": run_id,
                "agent": agent,
                "model": model.id,
                "tier": model.tier,
                "attempt": attempt,
                "category": category,
                "provider": "anthropic",
                "escalated_from": escalated_from,
                "fallback_from": fallback_from,
                "stream": rng.random() < 0.3,
                "prompt_chars": prompt_chars,
                "prompt_sha256": prompt_sha,
            }
            if rng.random() < 0.03:  # the call failed
                kind, status = rng.choice(_ERRORS)
                latency = rng.lognormvariate(math.log(250), 0.6)
                events.append(
                    Event(
                        **base,  # type: ignore[arg-type]
                        outcome=Outcome.ERROR,
                        error_type=kind,
                        status_code=status,
                        latency_ms=latency,
                        request_id=f"req_{self.hexes(24)}",
                    )
                )
                ts += latency / 1000 + 1.0
                if tries >= 2 or rng.random() < 0.5:  # retry once, or fall back at once
                    fallback_from = model.id
                    model = MODELS[1] if model is not MODELS[1] else MODELS[0]
                    tries = 0
                continue
            answered = self.answer(base, model)
            rejected = rng.random() < (0.08, 0.04, 0.02)[MODELS.index(model)]
            if rejected:
                answered = Event(
                    **{**answered.to_dict(), "outcome": Outcome.REJECTED, "error_type": "rejected"}
                )
            events.append(answered)
            ts += (answered.latency_ms or 0) / 1000 + 0.5
            if not rejected or model is MODELS[2]:
                break
            escalated_from = model.tier  # escalate one tier up
            model = MODELS[MODELS.index(model) + 1]
            fallback_from = None
            tries = 0
        feedback = None
        if rng.random() < 0.03:
            feedback = Feedback(
                feedback_id=new_id(),
                ts=ts + rng.uniform(60, 3 * 3600),
                run_id=run_id,
                agent=agent,
                correction="use the v2 API" if rng.random() < 0.6 else None,
                rating=rng.choice((1, 2, 3, 4, 4, 5, 5, 5)) if rng.random() < 0.7 else None,
            )
        return events, feedback

    def answer(self, base: dict[str, object], model: _Model) -> Event:
        rng = self.rng
        input_tokens = int(rng.lognormvariate(math.log(2500), 1.0))
        output_tokens = int(rng.lognormvariate(math.log(450), 0.8))
        read = int(rng.lognormvariate(math.log(20_000), 0.7)) if rng.random() < 0.4 else 0
        write_5m = int(rng.lognormvariate(math.log(3000), 0.8)) if rng.random() < 0.15 else 0
        write_1h = int(rng.lognormvariate(math.log(3000), 0.8)) if rng.random() < 0.03 else 0
        p_in, p_out, p_write, p_read = model.prices
        cost: float | None = (
            input_tokens * p_in
            + output_tokens * p_out
            + write_5m * p_write
            + write_1h * p_write * 1.6
            + read * p_read
        ) / 1e6
        if rng.random() < 0.01:
            cost = None
        latency = rng.lognormvariate(math.log(model.latency_median_s * 1000), 0.55)
        return Event(
            **base,  # type: ignore[arg-type]
            outcome=Outcome.SUCCESS,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cache_creation_5m_tokens=write_5m,
            cache_creation_1h_tokens=write_1h,
            cache_read_tokens=read,
            cost_usd=cost,
            latency_ms=latency,
            ttft_ms=latency * rng.uniform(0.1, 0.4),
            request_id=f"req_{self.hexes(24)}",
            output_chars=output_tokens * 4,
            output_sha256=self.hexes(64),
            confidence=round(rng.uniform(0.5, 1.0), 3),
        )


def fill(db_path: Path, events: int = 1_000_000, *, seed: int = 11, days: int = 30) -> int:
    """Write ``events`` synthetic events (and their feedback) to a new store at ``db_path``."""
    generator = _Generator(seed, end=time.time(), days=days)
    # ~1.1 events per run with these rates; generate runs until the count is reached
    written = 0
    batch: list[Event] = []
    with SQLiteStore(db_path) as store:
        for run_events, feedback in generator.runs(int(events / 1.08)):
            take = run_events[: events - written - len(batch)]
            batch.extend(take)
            if feedback is not None and take:
                store.add_feedback(feedback)
            if len(batch) >= 20_000 or written + len(batch) >= events:
                store.write_events(batch)
                written += len(batch)
                batch = []
                if written >= events:
                    break
        if batch:
            store.write_events(batch)
            written += len(batch)
    return written


def set_indexes(db_path: Path, proposed: bool) -> None:
    """Give this bench file the schema `metrics.SQLITE_INDEXES` proposes, or the shipped one."""
    conn = sqlite3.connect(db_path)
    try:
        if proposed:
            for statement in SQLITE_INDEXES:
                conn.execute(statement)
        else:
            for name in _PROPOSED:
                conn.execute(f"DROP INDEX IF EXISTS {name}")
            conn.execute("CREATE INDEX IF NOT EXISTS events_run ON events (run_id)")  # shipped
        conn.commit()
    finally:
        conn.close()


_PROPOSED = [s.split(" ON ")[0].split()[-1] for s in SQLITE_INDEXES if s.startswith("CREATE")]


def _time_page(store: SQLiteStore, repeat: int) -> dict[str, object]:
    pages: list[float] = []
    calls: list[float] = []
    parts: dict[str, list[float]] = {str(by or "totals"): [] for by in PAGE}
    groups: dict[str, int] = {}
    for _ in range(repeat):
        t0 = time.perf_counter()
        reports = compute_metrics_page(store, PAGE)
        pages.append(time.perf_counter() - t0)
        groups = {str(by or "totals"): len(r.groups) for by, r in reports.items()}
        t0 = time.perf_counter()
        for by in PAGE:  # the same page, one compute_metrics call per grouping
            t1 = time.perf_counter()
            compute_metrics(store, by=by)
            parts[str(by or "totals")].append(time.perf_counter() - t1)
        calls.append(time.perf_counter() - t0)
    return {
        "page_s_median": round(statistics.median(pages), 3),
        "page_s_min": round(min(pages), 3),
        "page_s_max": round(max(pages), 3),
        "six_calls_s_median": round(statistics.median(calls), 3),
        "per_call_s_median": {k: round(statistics.median(v), 3) for k, v in parts.items()},
        "groups": groups,
    }


def metrics_timing(
    db_path: Path | str,
    *,
    events: int = 1_000_000,
    repeat: int = 5,
    schemas: tuple[str, ...] = ("proposed", "shipped"),
) -> dict[str, object]:
    """Fill ``db_path`` unless it exists, then time the metrics page: with
    `compute_metrics_page` (one set of queries for the six reports) and as six
    `compute_metrics` calls, on the schema with the proposed indexes and on the shipped one."""
    path = Path(db_path)
    filled_s = None
    if not path.exists():
        t0 = time.perf_counter()
        fill(path, events)
        filled_s = round(time.perf_counter() - t0, 1)
    result: dict[str, object] = {
        "benchmark": "metrics page: totals + by model, agent, category, day, week",
        "database": str(path),
        "fill_s": filled_s,
    }
    for schema in schemas:
        t0 = time.perf_counter()
        set_indexes(path, proposed=schema == "proposed")
        indexing_s = round(time.perf_counter() - t0, 1)
        with SQLiteStore(path) as store:
            (count,) = store.query("SELECT COUNT(*) FROM events")[0]
            (feedback,) = store.query("SELECT COUNT(*) FROM feedback")[0]
            compute_metrics_page(store, PAGE)  # warm the page cache
            timing = _time_page(store, repeat if schema == "proposed" else min(repeat, 2))
        result["events"], result["feedback"] = count, feedback
        result[schema] = {"indexing_s": indexing_s, **timing}
    result.update(
        repeat=repeat,
        sqlite=sqlite3.sqlite_version,
        python=platform.python_version(),
        cpus=os.cpu_count(),
        goal="page < 1 s over 1,000,000 events",
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=DEFAULT_DB)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--schema",
        choices=("proposed", "shipped"),
        action="append",
        help="Time on the schema with the proposed indexes and/or the shipped one (default: both).",
    )
    args = parser.parse_args()
    schemas = tuple(args.schema or ("proposed", "shipped"))
    result = metrics_timing(args.db, events=args.events, repeat=args.repeat, schemas=schemas)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
