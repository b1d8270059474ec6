"""Corrections as escalation signals: an agent whose answers people keep correcting is
probably on too weak a tier. Pure: the counts are read from the store by the caller."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ctxrouter.policy.tier import Tier
from ctxrouter.routing.stages import RouteContext, StageResult


@dataclass(frozen=True, slots=True)
class CorrectionStats:
    corrections: int
    runs: int

    @property
    def rate(self) -> float:
        return self.corrections / self.runs if self.runs else 0.0


class CorrectionStage:
    """Escalate an agent one step within its policy when its recent correction rate is high."""

    name = "corrections"

    def __init__(
        self, stats: Mapping[str, CorrectionStats], *, rate: float = 0.2, minimum: int = 3
    ) -> None:
        self.stats = dict(stats)
        self.rate = rate
        self.minimum = minimum

    def __call__(self, ctx: RouteContext, tier: Tier | None) -> StageResult:
        agent = ctx.agent
        if agent is None or tier is None:
            return None
        stats = self.stats.get(agent.name)
        if stats is None or stats.corrections < self.minimum or stats.rate < self.rate:
            return None
        stronger = [t for t in agent.policy.allowed_tiers if t > tier]
        if not stronger:
            return None
        target = min(stronger)
        return target, (
            f"escalate to {target}: {stats.corrections} corrections in {stats.runs} recent runs "
            f"({stats.rate:.0%} >= {self.rate:.0%})"
        )
