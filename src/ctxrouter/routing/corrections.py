"""Corrections as escalation signals: an agent whose answers people keep correcting is
probably on too weak a tier.

:class:`CorrectionStage` is pure: it decides from the counts it holds. Reading the counts is
:func:`read_corrections`'s job (one query pair on the store), done by whoever builds the router
(:meth:`ctxrouter.routing.Router.from_settings`) and, in long-running processes (the gateway,
the hook's helper), again every ``runtime.correction_refresh_s`` through :meth:`update`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ctxrouter.policy.tier import Tier
from ctxrouter.routing.stages import RouteContext, StageResult

if TYPE_CHECKING:
    from ctxrouter.config import RuntimeSettings, Settings
    from ctxrouter.telemetry.store import Store

DAY_S = 86_400.0


@dataclass(frozen=True, slots=True)
class CorrectionStats:
    corrections: int
    runs: int

    @property
    def rate(self) -> float:
        return self.corrections / self.runs if self.runs else 0.0


def read_corrections(
    store: Store, runtime: RuntimeSettings, now: float
) -> dict[str, CorrectionStats]:
    """Corrections and runs per agent within the correction window ending ``now``."""
    since = now - runtime.correction_window_days * DAY_S
    corrections = store.corrections_by_agent(since)
    if not corrections:
        return {}
    runs = store.runs_by_agent(since)
    return {a: CorrectionStats(n, runs.get(a, n)) for a, n in corrections.items()}


def configured_corrections(settings: Settings, now: float) -> dict[str, CorrectionStats]:
    """The counts in the configured store; none when it does not exist yet (a SQLite file is
    never created just to find it empty)."""
    if settings.store_url is None and not settings.database_path.exists():
        return {}
    from ctxrouter.telemetry import open_store

    with open_store(settings) as store:
        return read_corrections(store, settings.runtime, now)


class CorrectionStage:
    """Escalate an agent one step within its policy when its recent correction rate is high."""

    name = "corrections"

    def __init__(
        self,
        stats: Mapping[str, CorrectionStats] | None = None,
        *,
        rate: float = 0.2,
        minimum: int = 3,
    ) -> None:
        self.stats: dict[str, CorrectionStats] = dict(stats or {})
        self.rate = rate
        self.minimum = minimum

    @classmethod
    def from_settings(
        cls, runtime: RuntimeSettings, stats: Mapping[str, CorrectionStats] | None = None
    ) -> CorrectionStage:
        return cls(stats, rate=runtime.correction_rate, minimum=runtime.correction_min)

    def update(self, stats: Mapping[str, CorrectionStats]) -> None:
        """Replace the counts (one assignment: a concurrent decision sees old or new)."""
        self.stats = dict(stats)

    def __call__(self, ctx: RouteContext, tier: Tier | None) -> StageResult:
        agent = ctx.agent
        if not self.stats or agent is None or tier is None:
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
