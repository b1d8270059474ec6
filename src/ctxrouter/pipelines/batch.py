"""Run a pipeline over many tasks: bounded concurrency, one result line per task, resumable.

Tasks come from a JSONL file (``{"task": "...", "id": "optional key"}`` per line). Results are
appended to a JSONL file as each task finishes, flushed line by line. Running the same batch
again with the same results file skips every task already finished successfully (failed ones
run again: their failure may have been transient), so an interrupted batch resumes without
repeating work. A line cut short by a crash is dropped and rewritten.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ctxrouter.datafile import read_json_lines
from ctxrouter.errors import InputError
from ctxrouter.models.registry import ModelRegistry
from ctxrouter.pipelines.engine import PipelineRunner
from ctxrouter.pipelines.report import CostTally, PipelineReport, report
from ctxrouter.pipelines.spec import PipelineSpec


@dataclass(frozen=True, slots=True)
class BatchTask:
    key: str
    task: str
    line: int


def read_tasks(path: Path) -> list[BatchTask]:
    """Every task of a JSONL file; any bad line is an error naming it (nothing runs)."""
    tasks: list[BatchTask] = []
    seen: dict[str, int] = {}
    for number, where, item in read_json_lines(path):
        if not isinstance(item, dict) or not isinstance(item.get("task"), str):
            raise InputError(f"{where}: expected an object with a 'task' string")
        if not item["task"].strip():
            raise InputError(f"{where}: 'task' is empty")
        key = item.get("id")
        if key is None:
            digest = hashlib.sha256(item["task"].encode()).hexdigest()[:12]
            key = f"{digest}"
        key = str(key)
        if key in seen:
            if "id" in item:
                raise InputError(f"{where}: id {key!r} is also used on line {seen[key]}")
            key = f"{key}-{number}"  # the same task twice without ids: both run
        seen[key] = number
        tasks.append(BatchTask(key, item["task"], number))
    if not tasks:
        raise InputError(f"{path}: no tasks (one JSON object with a 'task' per line)")
    return tasks


def finished_keys(results: Path) -> set[str]:
    """Keys of tasks that finished successfully in an earlier run of this batch."""
    if not results.exists():
        return set()
    done: set[str] = set()
    with results.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.endswith("\n"):
                break  # cut short by a crash: that task runs again
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                continue
            if item.get("ok") is True and isinstance(item.get("key"), str):
                done.add(item["key"])
    return done


def _open_results(results: Path) -> TextIO:
    """Open for appending, first dropping a last line that a crash cut short."""
    results.parent.mkdir(parents=True, exist_ok=True)
    if results.exists():
        with results.open("rb+") as raw:
            data = raw.read()
            if data and not data.endswith(b"\n"):
                raw.truncate(data.rfind(b"\n") + 1)
    return results.open("a", encoding="utf-8")


@dataclass(slots=True)
class BatchSummary:
    pipeline: str
    total: int
    already_done: int = 0
    ran: int = 0
    ok: int = 0
    failed: int = 0
    wall_s: float = 0.0
    calls_by_tier: Counter[str] = field(default_factory=Counter)
    errors: int = 0
    escalations: int = 0
    fallbacks: int = 0
    cost: CostTally = field(default_factory=CostTally)
    results: Path | None = None

    def add(self, rep: PipelineReport) -> None:
        self.ran += 1
        self.ok += rep.ok
        self.failed += not rep.ok
        self.calls_by_tier.update(rep.calls_by_tier)
        self.errors += rep.errors
        self.escalations += rep.escalations
        self.fallbacks += rep.fallbacks
        self.cost.merge(rep.cost)

    def to_dict(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline,
            "tasks": self.total,
            "already_done": self.already_done,
            "ran": self.ran,
            "ok": self.ok,
            "failed": self.failed,
            "wall_s": round(self.wall_s, 3),
            "calls_by_tier": dict(sorted(self.calls_by_tier.items())),
            "errors": self.errors,
            "escalations": self.escalations,
            "fallbacks": self.fallbacks,
            **self.cost.to_dict(),
            "results": str(self.results) if self.results else None,
        }


async def run_batch(
    runner: PipelineRunner,
    spec: PipelineSpec,
    tasks: list[BatchTask],
    registry: ModelRegistry,
    *,
    results: Path,
    concurrency: int = 8,
    on_done: Callable[[PipelineReport], None] | None = None,
) -> BatchSummary:
    if concurrency < 1:
        raise InputError(f"concurrency must be at least 1, got {concurrency}")
    summary = BatchSummary(pipeline=spec.name, total=len(tasks), results=results)
    done = finished_keys(results)
    todo = [t for t in tasks if t.key not in done]
    summary.already_done = len(tasks) - len(todo)
    started = runner.clock.now()
    gate = asyncio.Semaphore(concurrency)
    with _open_results(results) as out:

        async def one(item: BatchTask) -> None:
            async with gate:
                run = await runner.run(spec, item.task, task_id=item.key)
            rep = report(run, registry)
            record = {"key": item.key, "line": item.line, **rep.to_dict()}
            record["output"] = run.output
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            out.flush()
            summary.add(rep)
            if on_done is not None:
                on_done(rep)

        try:
            await asyncio.gather(*(one(t) for t in todo))
        finally:
            out.flush()
            os.fsync(out.fileno())
    summary.wall_s = runner.clock.now() - started
    return summary
