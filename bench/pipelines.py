"""Pipeline engine figures. Prints JSON.

1. ``overhead``: what ctxrouter adds per step on top of the provider: pattern 1 run 2,000 times
   against a provider that answers instantly (routing, executor, engine, telemetry to SQLite);
2. ``batch``: 10,000 simulated tasks through pattern 1 in batch mode (simulated provider,
   virtual time, concurrency 64, results JSONL): wall time, steps per second, peak memory;
3. ``month``: the fleet month of ``make demo`` (30 days x 1,000 tasks): wall time, peak memory.

Each scenario runs in its own process so that its peak memory (max RSS) is its own.

    .venv/bin/python bench/pipelines.py [overhead|batch|month ...]
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ctxrouter import Settings
from ctxrouter.clock import VirtualClock
from ctxrouter.execution.runtime import Runtime
from ctxrouter.models.pricing import Usage
from ctxrouter.pipelines.batch import BatchTask, run_batch
from ctxrouter.pipelines.engine import PipelineRunner
from ctxrouter.pipelines.loader import load_pipeline
from ctxrouter.providers.base import ModelCall, ModelResponse

PATTERN_1 = "design-implement-test-review"


class InstantProvider:
    """Answers at once with a fixed, confident reply: only ctxrouter's own work is timed."""

    name = "instant"

    async def complete(self, call: ModelCall) -> ModelResponse:
        return ModelResponse(
            text="done\nCONFIDENCE: 0.9",
            model=call.model,
            usage=Usage(input_tokens=1200, output_tokens=300),
            latency_s=0.0,
        )

    async def aclose(self) -> None:
        return None


async def overhead(runs: int = 2000) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.load(data_dir=Path(tmp))
        async with Runtime.open(settings, provider=InstantProvider()) as runtime:
            spec = load_pipeline(PATTERN_1, runtime.catalog)
            runner = PipelineRunner(runtime.executor, runtime.clock)
            for _ in range(100):  # warm up
                await runner.run(spec, "Add a password reset endpoint")
            started = time.perf_counter()
            for i in range(runs):
                await runner.run(spec, "Add a password reset endpoint", task_id=str(i))
            elapsed = time.perf_counter() - started
    steps = runs * len(spec.steps)
    return {
        "scenario": "engine overhead per step (instant provider, sequential, SQLite telemetry on)",
        "pipeline_runs": runs,
        "steps": steps,
        "overhead_per_step_ms": round(1000 * elapsed / steps, 4),
        "goal_ms": 1.0,
    }


async def batch(tasks: int = 10_000, concurrency: int = 64) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.load(data_dir=Path(tmp))
        clock = VirtualClock()
        async with Runtime.open(settings, provider="simulated", clock=clock) as runtime:
            spec = load_pipeline(PATTERN_1, runtime.catalog)
            runner = PipelineRunner(runtime.executor, clock)
            items = [
                BatchTask(f"t{i}", f"Add endpoint number {i} to the API", i) for i in range(tasks)
            ]
            started = time.perf_counter()
            summary = await run_batch(
                runner, spec, items, runtime.registry,
                results=Path(tmp) / "results.jsonl", concurrency=concurrency,
            )  # fmt: skip
            elapsed = time.perf_counter() - started
    steps = sum(summary.calls_by_tier.values()) + summary.errors
    return {
        "scenario": f"{tasks:,} simulated tasks through pattern 1, batch mode",
        "tasks_ok": summary.ok,
        "concurrency": concurrency,
        "wall_s": round(elapsed, 2),
        "calls": steps,
        "steps_per_s": round(tasks * len(spec.steps) / elapsed),
        "calls_per_s": round(steps / elapsed),
    }


def month() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        out = subprocess.run(
            [str(Path(sys.executable).parent / "ctxrouter"), "simulate", "month", "--json",
             "--db", f"{tmp}/month.db"],
            capture_output=True, text=True, check=True,
            env={"HOME": tmp, "PATH": "/usr/bin:/bin", "CTXROUTER_DATA_DIR": tmp},
        )  # fmt: skip
        elapsed = time.perf_counter() - started
    data = json.loads(out.stdout)
    return {
        "scenario": "the fleet month of `make demo` (ctxrouter simulate month)",
        "tasks": data["tasks"],
        "wall_s_process": round(elapsed, 2),
        "wall_s_simulation": data["wall_s"],
        "goal_s": 60,
        "cost_usd": data["cost_usd"],
        "all_sonnet_usd": data["all_sonnet_usd"],
        "all_opus_usd": data["all_opus_usd"],
        "savings_vs_all_sonnet_pct": data["savings_vs_all_sonnet_pct"],
        "savings_vs_all_opus_pct": data["savings_vs_all_opus_pct"],
        "by_pattern_vs_all_sonnet_pct": {
            name: (p["savings_vs_all_sonnet_pct"], p["claimed_savings_vs_all_sonnet_pct"])
            for name, p in data["by_pattern"].items()
        },
    }


def child(name: str) -> None:
    if name == "month":
        result = month()
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the ctxrouter process
    else:
        result = asyncio.run(overhead() if name == "overhead" else batch())
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result["peak_rss_mib"] = round(rss / 1024, 1)
    print(json.dumps(result))


def main(names: list[str]) -> list[dict[str, Any]]:
    results = []
    for name in names or ["overhead", "batch", "month"]:
        out = subprocess.run(
            [sys.executable, __file__, "--child", name], capture_output=True, text=True, check=True
        )
        results.append(json.loads(out.stdout))
    return results


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2])
    else:
        print(json.dumps(main(sys.argv[1:]), indent=2))
