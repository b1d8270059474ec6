"""Fault tolerance: 1,000 tasks through the executor against a fake Anthropic API.

The official SDK (through ctxrouter's anthropic provider) talks real HTTP on loopback to the
fake server, which answers 20% of requests with 529 (overloaded) and 5% with 429 (rate limited,
``retry-after: 1``). Prints JSON: the share of tasks completed, attempts per task, and whether
the events recorded in the SQLite store equal the attempts the server saw.

    .venv/bin/python bench/faults.py [--tasks N] [--concurrency N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from ctxrouter import RouteRequest, Settings, load_catalog
from ctxrouter.errors import CtxRouterError
from ctxrouter.execution.runtime import Runtime
from ctxrouter.telemetry.sqlite import SQLiteStore
from ctxrouter.telemetry.store import EventQuery
from ctxrouter.testing.fake_anthropic import FakeAnthropic

ROOT = Path(__file__).resolve().parent.parent


def tasks(n: int, agents: list[str], rng: random.Random) -> list[RouteRequest]:
    corpus = ROOT / "tests" / "data" / "assign_corpus.jsonl"
    texts = [json.loads(line)["task"] for line in corpus.read_text().splitlines() if line]
    return [
        RouteRequest(task=rng.choice(texts), agent=rng.choice(agents), task_id=f"t{i}")
        for i in range(n)
    ]


async def run_all(
    settings: Settings, requests: list[RouteRequest], concurrency: int
) -> dict[str, Any]:
    gate = asyncio.Semaphore(concurrency)
    outcomes: Counter[str] = Counter()
    attempts: list[int] = []
    errors: Counter[str] = Counter()

    async with Runtime.open(settings, provider="anthropic") as runtime:

        async def one(request: RouteRequest) -> None:
            async with gate:
                try:
                    result = await runtime.run(request)
                except CtxRouterError as exc:
                    outcomes["failed"] += 1
                    errors[type(exc).__name__] += 1
                    print(exc, file=sys.stderr)
                    tried = getattr(exc, "attempts", [])  # calls made, not circuit-open skips
                    attempts.append(sum(1 for a in tried if a.error is not None))
                    return
                outcomes["completed"] += 1
                attempts.append(result.attempts)

        await asyncio.gather(*(one(r) for r in requests))
    return {"outcomes": outcomes, "attempts": attempts, "errors": errors}


def main() -> dict[str, object]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    rng = random.Random(3)
    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeAnthropic(seed=11, rates={529: 0.20, 429: 0.05}) as fake,
    ):
        settings = Settings.load(
            data_dir=Path(tmp),
            providers={
                "default": "anthropic",
                "anthropic_base_url": fake.base_url,
                "anthropic_api_key": "sk-test",
            },
        )
        agents = list(load_catalog(settings))
        requests = tasks(args.tasks, agents, rng)
        started = time.perf_counter()
        ran = asyncio.run(run_all(settings, requests, args.concurrency))
        wall = time.perf_counter() - started
        served = [r for r in fake.requests if r.path == "/v1/messages"]
        faults = Counter(str(r.status_code) for r in served)
        store = SQLiteStore(settings.database_path)
        recorded = store.count_events(EventQuery())
        store.close()
    attempts = ran["attempts"]
    completed = ran["outcomes"]["completed"]
    return {
        "benchmark": "executor under injected faults (real SDK, fake API on loopback)",
        "tasks": args.tasks,
        "concurrency": args.concurrency,
        "injected": {"529": 0.20, "429 (retry-after: 1)": 0.05},
        "completed": completed,
        "completed_share": round(completed / args.tasks, 4),
        "failed_by_error": dict(ran["errors"]),
        "attempts_per_task_mean": round(statistics.fmean(attempts), 3),
        "attempts_per_task_max": max(attempts),
        "attempts_histogram": dict(sorted(Counter(attempts).items())),
        "requests_served_by_status": dict(sorted(faults.items())),
        "requests_served": len(served),
        "events_recorded": recorded,
        "events_equal_attempts": recorded == len(served) == sum(attempts),
        "wall_s": round(wall, 2),
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
