"""Run a pipeline for one task: each step through the router and the executor, independent
steps concurrently (asyncio), a step starting when the steps it depends on have finished."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from ctxrouter.clock import Clock
from ctxrouter.errors import CtxRouterError
from ctxrouter.execution.executor import Executor
from ctxrouter.execution.result import RunOptions, RunResult
from ctxrouter.pipelines.spec import PipelineSpec, StepSpec, render_prompt
from ctxrouter.routing.request import RouteRequest


@dataclass(slots=True)
class StepOutcome:
    step: StepSpec
    started: float
    ended: float
    result: RunResult | None = None  # None: failed or skipped
    error: CtxRouterError | None = None
    skipped: bool = False  # an input step failed, so this one never ran

    @property
    def ok(self) -> bool:
        return self.result is not None

    @property
    def duration_s(self) -> float:
        return self.ended - self.started


@dataclass(slots=True)
class PipelineRun:
    spec: PipelineSpec
    task: str
    task_id: str | None
    started: float
    ended: float = 0.0
    steps: dict[str, StepOutcome] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.steps.values())

    @property
    def wall_s(self) -> float:
        return self.ended - self.started

    @property
    def output(self) -> str | None:
        """The last step's answer (the pipeline's result), if it ran."""
        last = self.spec.steps[-1].id
        outcome = self.steps.get(last)
        return outcome.result.text if outcome and outcome.result else None


class PipelineRunner:
    """Runs pipelines on an executor. ``batch`` sends batchable steps through the provider's
    Message Batches path (when the executor has one), at the batch discount."""

    def __init__(self, executor: Executor, clock: Clock, *, batch: bool = False) -> None:
        self.executor = executor
        self.clock = clock
        self.batch = batch

    async def run(
        self, spec: PipelineSpec, task: str, *, task_id: str | None = None
    ) -> PipelineRun:
        run = PipelineRun(spec=spec, task=task, task_id=task_id, started=self.clock.now())
        outputs: dict[str, str] = {}
        tasks: dict[str, asyncio.Task[StepOutcome]] = {}
        for step in spec.topological():
            deps = [tasks[d] for d in step.depends_on]
            tasks[step.id] = asyncio.create_task(self._step(run, step, deps, outputs))
        for step_id, pending in tasks.items():
            run.steps[step_id] = await pending
        run.ended = max((o.ended for o in run.steps.values()), default=run.started)
        return run

    async def _step(
        self,
        run: PipelineRun,
        step: StepSpec,
        deps: list[asyncio.Task[StepOutcome]],
        outputs: dict[str, str],
    ) -> StepOutcome:
        inputs = [await d for d in deps]
        ready = max((o.ended for o in inputs), default=run.started)
        self.clock.advance_to(ready)
        if any(not o.ok for o in inputs):
            return StepOutcome(step, ready, ready, skipped=True)
        placeholders = {d: "[earlier output]" for d in step.depends_on}
        request = RouteRequest(
            task=render_prompt(step, run.task, {**placeholders, **_ancestor_marks(run, step)}),
            agent=step.agent,
            pipeline=run.spec.name,
            task_id=run.task_id,
            step=step.id,
            prompt=render_prompt(step, run.task, outputs),
        )
        options = RunOptions(batch=self.batch and step.batchable)
        started = self.clock.now()
        try:
            result = await self.executor.run(request, options)
        except CtxRouterError as error:
            return StepOutcome(step, started, self.clock.now(), error=error)
        outputs[step.id] = result.text
        return StepOutcome(step, started, self.clock.now(), result=result)


def _ancestor_marks(run: PipelineRun, step: StepSpec) -> dict[str, str]:
    """Placeholders for every ancestor's output, so templates render for routing."""
    return {a: "[earlier output]" for a in run.spec.ancestors(step.id)}
