"""Telemetry store figures. Prints one JSON object of named sections:

``machine``
    where it ran (CPU count, Python, SQLite and PostgreSQL versions).
``ingest``
    1,000,000 events written in batches of 1,000 into a fresh SQLite file and into a fresh
    PostgreSQL schema (dropped afterwards): events per second, and the size on disk.
    PostgreSQL is skipped, with the reason, when its server cannot be reached.

The events come from :func:`make_events` (67 agents, 3 models, mixed outcomes, random tokens,
time-ordered ids): built before any clock starts, shared by every section.
To add a section, write a function that returns a dict and add it to ``SECTIONS``.

    .venv/bin/python bench/store.py [--events N] [--batch N] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import ctxrouter.catalog
from ctxrouter.errors import ConfigError
from ctxrouter.telemetry.event import Event, Outcome, new_id
from ctxrouter.telemetry.sqlite import SQLiteStore
from ctxrouter.telemetry.store import Store

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
AGENTS = sorted(p.stem for p in (Path(ctxrouter.catalog.__file__).parent / "defaults").glob("*.md"))
# model id, tier, $ per million input / output tokens (close to the shipped price table)
MODELS = (
    ("claude-haiku-5-5", "haiku", 1.0, 5.0),
    ("claude-sonnet-5-5", "sonnet", 3.0, 15.0),
    ("claude-opus-5-5", "opus", 5.0, 25.0),
)
ERRORS = (("overloaded_error", 529), ("rate_limit_error", 429), ("api_error", 500))


def make_events(n: int, seed: int) -> list[Event]:
    """``n`` realistic events, oldest first: runs of one to three attempts (a failed or rejected
    attempt is retried, sometimes on the next tier) by 67 agents on 3 models, ~88% success,
    random token counts, most of them priced; ids from :func:`new_id` (time-ordered)."""
    rng = random.Random(seed)
    ts = 1_800_000_000.0
    events: list[Event] = []
    while len(events) < n:
        run_id, agent = uuid.UUID(int=rng.getrandbits(128)).hex, rng.choice(AGENTS)
        tier_at = rng.choices((0, 1, 2), weights=(3, 6, 1))[0]
        pipeline = rng.choice((None, None, "review", "feature", "incident"))
        for attempt in range(1, 4):
            model, tier, price_in, price_out = MODELS[tier_at]
            roll = rng.random()
            outcome = (
                Outcome.SUCCESS
                if roll < 0.88
                else Outcome.REJECTED
                if roll < 0.94
                else Outcome.ERROR
            )
            failed = outcome is Outcome.ERROR
            error_type, status = rng.choice(ERRORS) if failed else (None, None)
            input_tokens = int(rng.lognormvariate(8, 1)) + 200
            output_tokens = 0 if failed else int(rng.lognormvariate(6, 1)) + 10
            cache_read = rng.choice((0, 0, input_tokens // 2))
            stream = rng.random() < 0.6
            latency = None if failed and rng.random() < 0.5 else rng.uniform(300, 30_000)
            ts += rng.expovariate(50.0)  # ~50 attempts a second across the fleet
            events.append(
                Event(
                    event_id=new_id(),
                    ts=ts,
                    run_id=run_id,
                    agent=agent,
                    model=model,
                    tier=tier,
                    outcome=outcome,
                    attempt=attempt,
                    task_id=f"task-{rng.getrandbits(32):08x}",
                    pipeline=pipeline,
                    step=rng.choice(("plan", "implement", "review")) if pipeline else None,
                    category=rng.choice((None, "code", "docs", "security", "data")),
                    provider="anthropic",
                    user=rng.choice(("ana", "bo", "chen", "dee", None)),
                    session_id=f"s-{rng.getrandbits(24):06x}",
                    input_tokens=input_tokens,
                    output_tokens=output_tokens,
                    cache_read_tokens=cache_read,
                    cost_usd=None
                    if rng.random() < 0.02
                    else (input_tokens * price_in + output_tokens * price_out) / 1e6,
                    latency_ms=latency,
                    ttft_ms=rng.uniform(200, 2_000) if stream and not failed else None,
                    error_type=error_type,
                    status_code=status,
                    escalated_from=MODELS[tier_at - 1][1] if attempt > 1 and tier_at else None,
                    confidence=None if failed else round(rng.uniform(0.4, 1.0), 2),
                    stream=stream,
                    batch=not stream and rng.random() < 0.1,
                    request_id=None if failed else f"req_{rng.getrandbits(96):024x}",
                    prompt_chars=input_tokens * 4,
                    prompt_sha256=f"{rng.getrandbits(256):064x}",
                    output_chars=output_tokens * 4,
                    output_sha256=None if failed else f"{rng.getrandbits(256):064x}",
                )
            )
            if outcome is Outcome.SUCCESS or len(events) >= n:
                break
            if outcome is Outcome.REJECTED and tier_at < 2:
                tier_at += 1
    return events


def ingest(store: Store, events: Sequence[Event], batch: int) -> dict[str, Any]:
    """Write ``events`` in batches of ``batch``; the rate over the whole run."""
    gc.collect()
    started = time.perf_counter()
    for i in range(0, len(events), batch):
        store.write_events(events[i : i + batch])
    elapsed = time.perf_counter() - started
    if store.count_events() != len(events):
        raise RuntimeError("the store does not hold every event written")
    return {
        "events": len(events),
        "batch_size": batch,
        "seconds": round(elapsed, 2),
        "events_per_s": round(len(events) / elapsed),
    }


def sqlite_ingest(events: Sequence[Event], batch: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ctxrouter-bench-") as tmp:
        path = Path(tmp) / "bench.db"
        with SQLiteStore(path) as store:
            result = ingest(store, events, batch)
            wal = path.with_name(path.name + "-wal")
            result["size_bytes"] = path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
        result["size_bytes_after_close"] = path.stat().st_size  # the WAL checkpointed in
    result["bytes_per_event"] = round(result["size_bytes_after_close"] / len(events), 1)
    return result


def postgres_ingest(events: Sequence[Event], batch: int, url: str) -> dict[str, Any]:
    try:
        import psycopg
        from psycopg import sql

        from ctxrouter.telemetry.postgres import PostgresStore
    except ImportError as exc:
        return {"skipped": f"psycopg is not installed ({exc}): pip install 'ctxrouter[postgres]'"}
    try:
        admin = psycopg.connect(url, autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        return {"skipped": f"PostgreSQL unreachable at {url}: {str(exc).strip()}"}
    schema = f"ctxrouter_bench_{uuid.uuid4().hex[:12]}"
    try:
        with PostgresStore(url, schema=schema) as store:
            result = ingest(store, events, batch)
        size = admin.execute(
            "SELECT pg_total_relation_size(%s), pg_total_relation_size(%s)",
            (f"{schema}.events", f"{schema}.feedback"),
        ).fetchone()
        if size is not None:
            result["size_bytes"] = int(size[0]) + int(size[1])  # tables + indexes + TOAST
            result["bytes_per_event"] = round(result["size_bytes"] / len(events), 1)
        result["server"] = admin.info.parameter_status("server_version")
    except ConfigError as exc:
        return {"skipped": str(exc)}
    finally:
        admin.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        admin.close()
    return result


def machine(args: argparse.Namespace, events: Sequence[Event]) -> dict[str, Any]:
    del args, events
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }


def ingest_section(args: argparse.Namespace, events: Sequence[Event]) -> dict[str, Any]:
    return {
        "sqlite": sqlite_ingest(events, args.batch),
        "postgres": postgres_ingest(events, args.batch, args.postgres_url),
    }


Section = Callable[[argparse.Namespace, Sequence[Event]], dict[str, Any]]
SECTIONS: dict[str, Section] = {"machine": machine, "ingest": ingest_section}


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument(
        "--sections", default=",".join(SECTIONS), help=f"comma-separated, of {','.join(SECTIONS)}"
    )
    args = parser.parse_args()
    wanted = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
    events = make_events(args.events, args.seed)
    return {name: SECTIONS[name](args, events) for name in wanted}


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
