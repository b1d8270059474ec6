"""What the router is asked, and what it answers."""

from __future__ import annotations

from dataclasses import dataclass, field

from ctxrouter.policy.detect import Detection, DetectionResult
from ctxrouter.policy.matrix import Characteristic, MatrixResult, Strength
from ctxrouter.policy.tier import Tier


@dataclass(frozen=True, slots=True)
class RouteRequest:
    """One agent call to route.

    ``characteristics``, when given, replace detection from the text (the caller knows best).
    ``user``, ``pipeline`` and ``task_id`` are context for stages that need it (budgets,
    experiments) and for telemetry. ``task`` is what routing reads; ``prompt``, when given, is
    what the model is sent instead (a pipeline step routes on its instruction, not on the long
    outputs of earlier steps that it carries).
    """

    task: str
    agent: str | None = None
    characteristics: tuple[Characteristic, ...] | None = None
    user: str | None = None
    pipeline: str | None = None
    task_id: str | None = None
    step: str | None = None  # the pipeline step this call serves
    prompt: str | None = None  # what the model is sent, when it is more than ``task``


@dataclass(frozen=True, slots=True)
class TraceStep:
    """What one stage did: the tier after it, whether it changed, and why."""

    stage: str
    tier: Tier
    changed: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Decision:
    """The router's answer: a tier, its model, and the ordered trace of why."""

    tier: Tier
    model: str
    agent: str | None
    matrix: MatrixResult
    detection: DetectionResult
    trace: tuple[TraceStep, ...] = field(default=())

    @property
    def strength(self) -> Strength:
        return self.matrix.strength

    @property
    def why(self) -> str:
        """The decision in one line: the reasons of the stages that moved the tier, else the
        last stage's (what the gateway records and the hook tells Claude Code)."""
        changed = [step.reason for step in self.trace if step.changed]
        last = self.trace[-1].reason if self.trace else "policy"
        return "; ".join(changed) if changed else last

    @property
    def reasons(self) -> list[str]:
        """Human-readable reasons: what was detected, the scores, then each stage's say."""
        out = [explain(d) for d in self.detection.detections]
        m = self.matrix
        winner = m.winner.value if m.winner else "tie"
        out.append(
            f"matrix: haiku {m.haiku_score:+d}, sonnet {m.sonnet_score:+d} -> {winner} "
            f"({m.strength.value}, margin {m.margin})"
        )
        out.extend(f"{s.stage}: {s.reason}" for s in self.trace)
        return out


def explain(detection: Detection) -> str:
    """``security-critical: keyword "threat model", agent category "Security & Compliance"``."""
    return f"{detection.characteristic.value}: {', '.join(detection.signals)}"
