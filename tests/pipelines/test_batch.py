from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import pytest

from ctxrouter import Settings
from ctxrouter.errors import InputError
from ctxrouter.execution.runtime import Runtime
from ctxrouter.pipelines.batch import finished_keys, read_tasks, run_batch
from ctxrouter.pipelines.engine import PipelineRunner
from ctxrouter.pipelines.loader import load_pipeline
from ctxrouter.pipelines.report import PipelineReport
from ctxrouter.telemetry.sqlite import SQLiteStore
from ctxrouter.telemetry.store import EventQuery


def write_tasks(path: Path, n: int) -> None:
    path.write_text(
        "".join(json.dumps({"id": f"t{i}", "task": f"Fix bug {i}"}) + "\n" for i in range(n))
    )


async def test_an_interrupted_batch_resumes_without_repeating_work(tmp_path: Path) -> None:
    settings = Settings.load(data_dir=tmp_path / "data")
    tasks_file, results = tmp_path / "tasks.jsonl", tmp_path / "results.jsonl"
    write_tasks(tasks_file, 30)
    tasks = read_tasks(tasks_file)

    async def batch(stop_after: int | None) -> int:
        async with Runtime.open(settings) as runtime:
            spec = load_pipeline("troubleshoot-fix-test", runtime.catalog)
            runner = PipelineRunner(runtime.executor, runtime.clock)
            seen = 0
            current = asyncio.current_task()
            assert current is not None

            def done(_: PipelineReport) -> None:
                nonlocal seen
                seen += 1
                if stop_after is not None and seen == stop_after:
                    current.cancel()  # as Ctrl-C would

            summary = await run_batch(
                runner, spec, tasks, runtime.registry, results=results, concurrency=4, on_done=done
            )
            assert summary.already_done + summary.ran == 30
            return summary.already_done

    with pytest.raises(asyncio.CancelledError):
        await batch(stop_after=10)
    first = finished_keys(results)
    assert 10 <= len(first) < 30
    assert await batch(stop_after=None) == len(first)
    assert finished_keys(results) == {f"t{i}" for i in range(30)}
    # the tasks finished before the interruption were not run again: each of their steps
    # was routed once (tasks in flight at the stop run again from the start)
    with SQLiteStore(settings.database_path) as store:
        firsts = Counter(
            (e.task_id, e.step)
            for e in store.events(EventQuery())
            if e.attempt == 1 and e.escalated_from is None
        )
    assert all(firsts[(key, step)] == 1 for key in first for step in ("diagnose", "fix", "test"))
    assert {task for task, _ in firsts} == {f"t{i}" for i in range(30)}


def test_a_line_cut_by_a_crash_is_not_a_finished_task(tmp_path: Path) -> None:
    results = tmp_path / "r.jsonl"
    results.write_text('{"key": "a", "ok": true}\n{"key": "b", "ok": false}\n{"key": "c", "ok": tr')
    assert finished_keys(results) == {"a"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"task": "x"}\n{"task": 3}\n', "tasks.jsonl:2: expected an object with a 'task' string"),
        ('{"task": "x"}\nnot json\n', "tasks.jsonl:2: not valid JSON"),
        ('{"id": 1, "task": "x"}\n{"id": 1, "task": "y"}\n', "id '1' is also used on line 1"),
        ("\n", "no tasks"),
    ],
)
def test_bad_task_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "tasks.jsonl"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        read_tasks(path)
