"""A simulated month of a fleet's work: every task a pipeline run through the router and the
executor on the simulated provider, in virtual time, with failures injected.

The plan (``ctxrouter/data/fleet/strategy-month.yaml``) gives the mix of task kinds, which
pipelines serve them, example tasks and fault rates. Each task starts at its own virtual time
during the working day; steps wait their simulated latency on that task's own timeline, so a
month of work takes seconds. Every attempt is recorded in the event store, and the summary is
computed from the same events.
"""

from __future__ import annotations

import asyncio
import random
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ctxrouter.analytics.percentiles import percentiles_of
from ctxrouter.clock import VirtualClock
from ctxrouter.config import Settings
from ctxrouter.datafile import load_data_file
from ctxrouter.execution.runtime import Runtime
from ctxrouter.pipelines.engine import PipelineRun, PipelineRunner
from ctxrouter.pipelines.loader import load_pipeline
from ctxrouter.pipelines.report import CostTally, report
from ctxrouter.providers.simulated import ErrorRates, SimulatedProvider
from ctxrouter.simulation.drift import Drift, DriftingProvider
from ctxrouter.telemetry.event import Outcome
from ctxrouter.telemetry.sqlite import SQLiteStore

DAY_S = 86_400.0
PLAN_FILE = "fleet/strategy-month.yaml"  # under ctxrouter/data


class TaskKind(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    share: float = Field(gt=0, le=1)
    pipelines: dict[str, float]


class FleetPlan(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    name: str
    days: int = Field(default=30, ge=1)
    tasks_per_day: int = Field(default=1000, ge=1)
    start: date = date(2026, 10, 27)
    working_hours: tuple[int, int] = (8, 20)
    kinds: tuple[TaskKind, ...] = Field(min_length=1)
    errors: ErrorRates = ErrorRates()
    drifts: tuple[Drift, ...] = ()
    tasks: dict[str, tuple[str, ...]]

    @model_validator(mode="after")
    def _consistent(self) -> FleetPlan:
        total = sum(k.share for k in self.kinds)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"kind shares add up to {total}, not 1")
        for kind in self.kinds:
            for pipeline in kind.pipelines:
                if not self.tasks.get(pipeline):
                    raise ValueError(f"no example tasks for pipeline {pipeline!r}")
        start, end = self.working_hours
        if not 0 <= start < end <= 24:
            raise ValueError("working_hours must be [start, end] with 0 <= start < end <= 24")
        return self


def load_plan(path: Path | None = None) -> FleetPlan:
    return load_data_file(path, PLAN_FILE, FleetPlan)


@dataclass(frozen=True, slots=True)
class PlannedTask:
    task_id: str
    day: int
    start: float
    kind: str
    pipeline: str
    text: str


def plan_day(plan: FleetPlan, day: int, rng: random.Random) -> list[PlannedTask]:
    """The day's tasks, in start order, drawn deterministically from ``rng``."""
    day0 = datetime.combine(plan.start, datetime.min.time(), UTC).timestamp() + day * DAY_S
    first, last = plan.working_hours
    span = (last - first) * 3600.0
    kinds = list(plan.kinds)
    out = []
    for i in range(plan.tasks_per_day):
        kind = rng.choices(kinds, [k.share for k in kinds])[0]
        names = list(kind.pipelines)
        pipeline = rng.choices(names, [kind.pipelines[n] for n in names])[0]
        start = day0 + first * 3600.0 + span * (i + rng.random()) / plan.tasks_per_day
        text = rng.choice(plan.tasks[pipeline])
        out.append(PlannedTask(f"d{day:02d}-{i:04d}", day, start, kind.name, pipeline, text))
    return out


def _pcts(values: list[float], unit_ms: float = 1.0) -> dict[str, float | None]:
    """p50 / p95 / p99 of ``values`` (each ``unit_ms`` milliseconds), to 0.1, as ``ctxrouter
    metrics`` reads them (:mod:`ctxrouter.analytics.percentiles`): the same events give the
    same figures here and there."""
    found = percentiles_of(v * unit_ms for v in values)
    return {
        name: None if value is None else round(value / unit_ms, 1)
        for name, value in zip(("p50", "p95", "p99"), found, strict=True)
    }


@dataclass(slots=True)
class _TierStats:
    calls: int = 0  # answered
    accepted: int = 0
    rejected: int = 0
    errors: int = 0
    cost: float = 0.0
    latency_ms: list[float] = field(default_factory=list)


@dataclass(slots=True)
class _PatternStats:
    runs: int = 0
    ok: int = 0
    cost: CostTally = field(default_factory=CostTally)
    wall_s: list[float] = field(default_factory=list)
    claimed: float | None = None


@dataclass(slots=True)
class FleetSummary:
    plan: str
    days: int
    first_day: date
    tasks: int = 0
    ok: int = 0
    escalations: int = 0
    fallbacks: int = 0
    cost: CostTally = field(default_factory=CostTally)
    by_tier: dict[str, _TierStats] = field(default_factory=lambda: defaultdict(_TierStats))
    by_pattern: dict[str, _PatternStats] = field(default_factory=lambda: defaultdict(_PatternStats))
    by_kind: Counter[str] = field(default_factory=Counter)
    database: Path | None = None
    wall_s: float = 0.0

    def add(self, planned: PlannedTask, run: PipelineRun, rep: Any) -> None:
        self.tasks += 1
        self.ok += rep.ok
        self.escalations += rep.escalations
        self.fallbacks += rep.fallbacks
        self.cost.merge(rep.cost)
        self.by_kind[planned.kind] += 1
        pattern = self.by_pattern[planned.pipeline]
        pattern.runs += 1
        pattern.ok += rep.ok
        pattern.cost.merge(rep.cost)
        pattern.wall_s.append(rep.wall_s)
        pattern.claimed = run.spec.claimed_savings_vs_all_sonnet_pct
        for outcome in run.steps.values():
            events = (
                outcome.result.events
                if outcome.result
                else (outcome.error.run_events if outcome.error else ())
            )
            for e in events:
                tier = self.by_tier[e.tier or "unknown"]
                if e.outcome is Outcome.ERROR:
                    tier.errors += 1
                    continue
                tier.calls += 1
                tier.accepted += e.outcome is Outcome.SUCCESS
                tier.rejected += e.outcome is Outcome.REJECTED
                tier.cost += e.cost_usd or 0.0
                if e.latency_ms is not None:
                    tier.latency_ms.append(e.latency_ms)

    def to_dict(self) -> dict[str, Any]:
        c = self.cost
        last = self.first_day + timedelta(days=self.days - 1)
        return {
            "plan": self.plan,
            "period": {"from": self.first_day.isoformat(), "to": last.isoformat()},
            "tasks": self.tasks,
            "tasks_ok": self.ok,
            "tasks_by_kind": dict(self.by_kind),
            "escalations": self.escalations,
            "fallbacks": self.fallbacks,
            "cost_usd": round(c.actual, 2),
            "all_sonnet_usd": round(c.all_sonnet, 2),
            "all_opus_usd": round(c.all_opus, 2),
            "unpriced_calls": c.unpriced,
            "savings_vs_all_sonnet_pct": c.savings_vs_all_sonnet_pct,
            "savings_vs_all_opus_pct": c.savings_vs_all_opus_pct,
            "claimed_savings_vs_all_sonnet_pct": 68,
            "by_tier": {
                name: {
                    "calls": t.calls,
                    "success_rate": round(t.accepted / t.calls, 4) if t.calls else None,
                    "rejected": t.rejected,
                    "failed_attempts": t.errors,
                    "cost_usd": round(t.cost, 2),
                    "latency_ms": _pcts(t.latency_ms),
                }
                for name, t in sorted(self.by_tier.items())
            },
            "by_pattern": {
                name: {
                    "runs": p.runs,
                    "success_rate": round(p.ok / p.runs, 4) if p.runs else None,
                    "cost_usd": round(p.cost.actual, 2),
                    "cost_per_run_usd": round(p.cost.actual / p.runs, 5) if p.runs else None,
                    "savings_vs_all_sonnet_pct": p.cost.savings_vs_all_sonnet_pct,
                    "claimed_savings_vs_all_sonnet_pct": p.claimed,
                    "savings_vs_all_opus_pct": p.cost.savings_vs_all_opus_pct,
                    "wall_s": _pcts(p.wall_s, unit_ms=1000.0),
                    "wall_s_mean": round(statistics.fmean(p.wall_s), 2) if p.wall_s else None,
                }
                for name, p in sorted(self.by_pattern.items())
            },
            "database": str(self.database) if self.database else None,
            "wall_s": round(self.wall_s, 2),
        }


async def simulate_month(
    settings: Settings,
    plan: FleetPlan,
    *,
    database: Path,
    seed: int = 0,
    concurrency: int = 250,
    on_day: Callable[[int, int], None] | None = None,
) -> FleetSummary:
    """Run the plan; events go to a fresh SQLite file at ``database``."""
    import time

    wall = time.perf_counter()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    start = datetime.combine(plan.start, datetime.min.time(), UTC).timestamp()
    clock = VirtualClock(start=start)
    simulated = SimulatedProvider(seed=seed, clock=clock, error_rates=plan.errors, time_scale=1.0)
    provider = DriftingProvider(simulated, clock, start, plan.drifts) if plan.drifts else simulated
    summary = FleetSummary(plan=plan.name, days=plan.days, first_day=plan.start)
    summary.database = database
    rng = random.Random(seed)
    async with Runtime.open(
        settings, provider=provider, clock=clock, store=SQLiteStore(database), jitter_seed=seed
    ) as runtime:
        runner = PipelineRunner(runtime.executor, clock)
        specs = {
            name: load_pipeline(name, runtime.catalog, settings.pipeline_dirs)
            for kind in plan.kinds
            for name in kind.pipelines
        }
        gate = asyncio.Semaphore(concurrency)

        async def one(planned: PlannedTask) -> None:
            async with gate:
                clock.advance_to(planned.start)
                run = await runner.run(
                    specs[planned.pipeline], planned.text, task_id=planned.task_id
                )
            summary.add(planned, run, report(run, runtime.registry))

        for day in range(plan.days):
            await asyncio.gather(*(one(t) for t in plan_day(plan, day, rng)))
            if on_day is not None:
                on_day(day + 1, plan.days)
    summary.wall_s = time.perf_counter() - wall
    return summary
