"""Routing decision latency: p50 / p99 of `Router.decide` over 100,000 decisions.

Each decision pairs one of the 67 built-in agents (and, one time in ten, no agent) with a task
from the labelled corpora, so detection, matrix scoring and every rule stage run as they do in
production. Prints JSON.

    .venv/bin/python bench/router.py [--decisions N]
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import random
import statistics
import time
from pathlib import Path

from ctxrouter import Router, RouteRequest, Settings, load_catalog
from ctxrouter.analytics.percentiles import nearest_rank

ROOT = Path(__file__).resolve().parent.parent
CORPORA = [
    ROOT / "tests" / "data" / "assign_corpus.jsonl",
    ROOT / "bench" / "data" / "assign_holdout.jsonl",
]


def tasks() -> list[str]:
    out = []
    for path in CORPORA:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line)["task"])
    return out


def main() -> dict[str, object]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--decisions", type=int, default=100_000)
    args = parser.parse_args()
    settings = Settings.load()
    catalog = load_catalog(settings)
    router = Router.from_settings(settings, catalog)
    rng = random.Random(7)
    agents: list[str | None] = [*catalog, None]
    weights = [9 / len(catalog)] * len(catalog) + [1.0]
    texts = tasks()
    requests = [
        RouteRequest(task=rng.choice(texts), agent=rng.choices(agents, weights)[0])
        for _ in range(args.decisions)
    ]
    for request in requests[:2000]:  # warm up caches (phrase stems, regex)
        router.decide(request)
    samples = []
    gc.disable()
    clock = time.perf_counter_ns
    started = clock()
    for request in requests:
        t0 = clock()
        router.decide(request)
        samples.append(clock() - t0)
    total = clock() - started
    gc.enable()
    p50, p90, p99, top = (round(ns / 1000, 2) for ns in nearest_rank(samples, (0.5, 0.9, 0.99, 1)))
    return {
        "benchmark": "router.decide",
        "decisions": len(samples),
        "agents": len(catalog),
        "distinct_tasks": len(set(texts)),
        "p50_us": p50,
        "p90_us": p90,
        "p99_us": p99,
        "max_us": top,
        "mean_us": round(statistics.fmean(samples) / 1000, 2),
        "decisions_per_s": round(len(samples) / (total / 1e9)),
        "goal": "p99 < 50 us for the rule stages",
        "python": platform.python_version(),
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
