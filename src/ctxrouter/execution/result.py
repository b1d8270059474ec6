"""What a run returns: the answer, and every attempt it took to get it."""

from __future__ import annotations

from dataclasses import dataclass, field

from ctxrouter.execution.validators import Validator, Verdict
from ctxrouter.models.pricing import Usage
from ctxrouter.routing.request import Decision
from ctxrouter.telemetry.event import Event, Outcome


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Per-run knobs. ``system`` defaults to the agent's own prompt (its file's body)."""

    validators: tuple[Validator, ...] = ()
    system: str | None = None
    max_tokens: int = 4096
    stream: bool = False
    run_id: str | None = None
    store_text: bool | None = None  # None: the settings' choice (off by default)
    experiment_arm: str | None = None
    batch: bool = False  # through the provider's Message Batches path, when it has one


@dataclass(frozen=True, slots=True)
class RunResult:
    run_id: str
    text: str
    model: str
    tier: str
    decision: Decision
    events: tuple[Event, ...]
    accepted: bool  # False: the last answer was still rejected (no stronger tier left)
    confidence: float | None = None
    verdicts: tuple[Verdict, ...] = field(default=())

    @property
    def attempts(self) -> int:
        return len(self.events)

    @property
    def escalations(self) -> int:
        return len({e.escalated_from for e in self.events if e.escalated_from})

    @property
    def fallbacks(self) -> int:
        """How many fallback models were tried."""
        return len({(e.escalated_from, e.model) for e in self.events if e.fallback_from})

    @property
    def usage(self) -> Usage:
        total = Usage()
        for e in self.events:
            total = total + e.usage
        return total

    @property
    def cost_usd(self) -> float:
        """The cost of every priced attempt; see :attr:`unpriced` for the rest."""
        return sum(e.cost_usd for e in self.events if e.cost_usd is not None)

    @property
    def unpriced(self) -> int:
        """Attempts with tokens but no price (unknown model): never counted as $0 silently."""
        return sum(1 for e in self.events if e.cost_usd is None and e.outcome is not Outcome.ERROR)

    @property
    def latency_s(self) -> float:
        return sum((e.latency_ms or 0.0) for e in self.events) / 1000.0
