"""What a pipeline run cost and saved, computed from the tokens it actually used.

The savings compare the run with the *same run* priced as if every call had gone to the sonnet
(or opus) tier: each answered call's real token usage re-priced at that tier's model, on the
day the call was made. Nothing is assumed about token counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ctxrouter.analytics.projection import savings_pct
from ctxrouter.models.pricing import Usage
from ctxrouter.models.registry import ModelRegistry
from ctxrouter.pipelines.engine import PipelineRun
from ctxrouter.policy.tier import Tier
from ctxrouter.telemetry.event import Event, Outcome


def reprice(e: Event, registry: ModelRegistry, tier: Tier) -> float | None:
    """What event ``e``'s tokens would have cost on ``tier``'s model (None: no price)."""
    day = datetime.fromtimestamp(e.ts, UTC).date()
    quote = registry.quote(registry.tier_map[tier], e.usage, day=day, batch=e.batch)
    return quote.cost.total if quote.cost is not None else None


def _rounded_savings(cost: float, baseline: float) -> float | None:
    pct = savings_pct(cost, baseline)
    return round(pct, 2) if pct is not None else None


@dataclass(slots=True)
class CostTally:
    """Cost of answered calls as they ran, and the same calls all-sonnet and all-opus."""

    actual: float = 0.0
    all_sonnet: float = 0.0
    all_opus: float = 0.0
    unpriced: int = 0  # answered calls with no price: left out of all three sums

    def add(self, e: Event, registry: ModelRegistry) -> None:
        if e.outcome is Outcome.ERROR:
            return
        sonnet, opus = reprice(e, registry, Tier.SONNET), reprice(e, registry, Tier.OPUS)
        if e.cost_usd is None or sonnet is None or opus is None:
            self.unpriced += 1
            return
        self.actual += e.cost_usd
        self.all_sonnet += sonnet
        self.all_opus += opus

    def merge(self, other: CostTally) -> None:
        self.actual += other.actual
        self.all_sonnet += other.all_sonnet
        self.all_opus += other.all_opus
        self.unpriced += other.unpriced

    def to_dict(self) -> dict[str, Any]:
        """The cost fields of a report's JSON (a run's or a batch's)."""
        return {
            "cost_usd": round(self.actual, 6),
            "all_sonnet_usd": round(self.all_sonnet, 6),
            "all_opus_usd": round(self.all_opus, 6),
            "unpriced_calls": self.unpriced,
            "savings_vs_all_sonnet_pct": self.savings_vs_all_sonnet_pct,
            "savings_vs_all_opus_pct": self.savings_vs_all_opus_pct,
        }

    @property
    def savings_vs_all_sonnet_pct(self) -> float | None:
        return _rounded_savings(self.actual, self.all_sonnet)

    @property
    def savings_vs_all_opus_pct(self) -> float | None:
        return _rounded_savings(self.actual, self.all_opus)


@dataclass(slots=True)
class PipelineReport:
    pipeline: str
    task_id: str | None
    ok: bool
    wall_s: float
    critical_path: list[str]
    critical_path_s: float
    calls_by_tier: Counter[str] = field(default_factory=Counter)  # answered calls
    errors: int = 0  # failed attempts (retried, fallen back, or fatal)
    escalations: int = 0
    fallbacks: int = 0
    usage: Usage = field(default_factory=Usage)
    cost: CostTally = field(default_factory=CostTally)
    claimed_savings_pct: float | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline,
            "task_id": self.task_id,
            "ok": self.ok,
            "wall_s": round(self.wall_s, 3),
            "critical_path": self.critical_path,
            "critical_path_s": round(self.critical_path_s, 3),
            "calls_by_tier": dict(sorted(self.calls_by_tier.items())),
            "errors": self.errors,
            "escalations": self.escalations,
            "fallbacks": self.fallbacks,
            "tokens": self.usage.model_dump(),
            **self.cost.to_dict(),
            "claimed_savings_vs_all_sonnet_pct": self.claimed_savings_pct,
            "steps": self.steps,
        }


def critical_path(run: PipelineRun) -> tuple[list[str], float]:
    """The chain of steps that decided the wall time (longest path by step duration)."""
    finish: dict[str, float] = {}
    via: dict[str, str | None] = {}
    for step in run.spec.topological():
        outcome = run.steps[step.id]
        best = max(step.depends_on, key=lambda d: finish[d], default=None)
        finish[step.id] = outcome.duration_s + (finish[best] if best else 0.0)
        via[step.id] = best
    if not finish:
        return [], 0.0
    end: str | None = max(finish, key=lambda s: finish[s])
    total = finish[end] if end else 0.0
    path: list[str] = []
    while end is not None:
        path.append(end)
        end = via[end]
    return path[::-1], total


def report(run: PipelineRun, registry: ModelRegistry) -> PipelineReport:
    path, path_s = critical_path(run)
    out = PipelineReport(
        pipeline=run.spec.name,
        task_id=run.task_id,
        ok=run.ok,
        wall_s=run.wall_s,
        critical_path=path,
        critical_path_s=path_s,
        claimed_savings_pct=run.spec.claimed_savings_vs_all_sonnet_pct,
    )
    for step_id, outcome in run.steps.items():
        result = outcome.result
        if result is not None:
            events: tuple[Event, ...] = result.events
        else:
            events = outcome.error.run_events if outcome.error is not None else ()
        for e in events:
            if e.outcome is Outcome.ERROR:
                out.errors += 1
                continue
            out.calls_by_tier[e.tier or "unknown"] += 1
            out.usage = out.usage + e.usage
            out.cost.add(e, registry)
        if result is not None:
            out.escalations += result.escalations
            out.fallbacks += result.fallbacks
        out.steps.append(
            {
                "id": step_id,
                "agent": outcome.step.agent,
                "status": "ok" if outcome.ok else "skipped" if outcome.skipped else "failed",
                "tier": result.tier if result else None,
                "model": result.model if result else None,
                "attempts": result.attempts if result else None,
                "cost_usd": round(result.cost_usd, 6) if result else None,
                "duration_s": round(outcome.duration_s, 3),
                "error": str(outcome.error) if outcome.error else None,
            }
        )
    return out
