"""Profiling: which agents run on the wrong tier.

From recorded traffic, per agent and tier: answered calls and accepted answers. Then:

- **benefit of the stronger tier**: success on sonnet minus success on haiku, with a 95%
  confidence interval (Newcombe's hybrid score interval from two Wilson intervals), from
  traffic where the agent used both tiers. Escalated calls are the harder tasks (the cheap
  answer was rejected first), so the difference is biased towards the strong tier: the report
  says so;
- **over-powered**: the agent's default is the stronger tier and the cheaper tier's success is
  within ``tolerance`` of it (the interval's lower bound says so), with enough traffic on both;
- **under-powered**: the default is the cheaper tier and its success is low, or its runs
  escalate often.

Every finding becomes a recommendation: a new ``model.preference`` for the agent, shown as a
diff of its frontmatter (:mod:`ctxrouter.analytics.apply` writes it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ctxrouter.catalog.catalog import Catalog
from ctxrouter.policy.tier import Tier
from ctxrouter.telemetry.store import Store

Z95 = 1.959963984540054


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe(s1: int, n1: int, s2: int, n2: int) -> tuple[float, float, float]:
    """Difference p1 - p2 and its 95% interval (Newcombe's method 10)."""
    p1, p2 = s1 / n1, s2 / n2
    l1, u1 = wilson(s1, n1)
    l2, u2 = wilson(s2, n2)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, low, high


@dataclass(slots=True)
class TierStats:
    answered: int = 0
    success: int = 0
    runs: int = 0
    escalated_runs: int = 0

    @property
    def rate(self) -> float | None:
        return self.success / self.answered if self.answered else None


@dataclass(slots=True)
class AgentProfile:
    agent: str
    default_tier: str | None
    tiers: dict[str, TierStats] = field(default_factory=dict)
    benefit: tuple[float, float, float] | None = None  # sonnet - haiku success, 95% CI

    def to_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "default_tier": self.default_tier,
            "tiers": {
                t: {
                    "answered": s.answered,
                    "success_rate": round(s.rate, 4) if s.rate is not None else None,
                    "runs": s.runs,
                    "escalated_runs": s.escalated_runs,
                }
                for t, s in sorted(self.tiers.items())
            },
            "sonnet_minus_haiku_success": (
                {"diff": round(self.benefit[0], 4), "ci95": [round(self.benefit[1], 4),
                                                             round(self.benefit[2], 4)]}
                if self.benefit else None
            ),
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Recommendation:
    agent: str
    kind: str  # "over-powered" | "under-powered"
    current: str
    proposed: str
    reason: str
    evidence: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "kind": self.kind,
            "current": self.current,
            "proposed": self.proposed,
            "reason": self.reason,
            "evidence": self.evidence,
        }


@dataclass(frozen=True, slots=True)
class ProfileSettings:
    tolerance: float = 0.02  # "within 2%", the strategy's deterministic-task threshold
    min_answered: int = 30  # per tier, before any verdict
    low_success: float = 0.85
    high_escalation: float = 0.30


_SQL = """
SELECT agent, tier,
       SUM(CASE WHEN outcome IN ('success', 'rejected') THEN 1 ELSE 0 END),
       SUM(CASE WHEN outcome = 'success' THEN 1 ELSE 0 END),
       COUNT(DISTINCT run_id),
       COUNT(DISTINCT CASE WHEN escalated_from IS NOT NULL THEN run_id END)
FROM events
WHERE agent IS NOT NULL AND tier IS NOT NULL AND ts >= ? AND ts < ?
GROUP BY agent, tier
"""


def collect(store: Store, *, since: float, until: float, catalog: Catalog) -> list[AgentProfile]:
    profiles: dict[str, AgentProfile] = {}
    for agent, tier, answered, success, runs, escalated in store.query(_SQL, (since, until)):
        if agent not in profiles:
            pref = catalog[agent].policy.preference if agent in catalog else None
            profiles[agent] = AgentProfile(agent, pref.value if pref else None)
        profiles[agent].tiers[tier] = TierStats(
            int(answered), int(success), int(runs), int(escalated)
        )
    for p in profiles.values():
        h, s = p.tiers.get("haiku"), p.tiers.get("sonnet")
        if h and s and h.answered and s.answered:
            p.benefit = newcombe(s.success, s.answered, h.success, h.answered)
    return sorted(profiles.values(), key=lambda p: p.agent)


def recommend(
    profiles: list[AgentProfile], settings: ProfileSettings = ProfileSettings()
) -> list[Recommendation]:
    """Pure: findings from profiles."""
    out: list[Recommendation] = []
    for p in profiles:
        h, s = p.tiers.get("haiku"), p.tiers.get("sonnet")
        if p.default_tier == Tier.SONNET.value and h and s and p.benefit:
            enough = min(h.answered, s.answered) >= settings.min_answered
            diff, low, high = p.benefit
            if enough and high <= settings.tolerance:
                out.append(
                    Recommendation(
                        p.agent, "over-powered", "sonnet", "haiku",
                        f"haiku succeeds within {settings.tolerance:.0%} of sonnet "
                        f"(sonnet - haiku = {diff:+.1%}, 95% CI {low:+.1%} to {high:+.1%})",
                        {"haiku": h.answered, "sonnet": s.answered},
                    )
                )  # fmt: skip
        if p.default_tier == Tier.HAIKU.value and h and h.answered >= settings.min_answered:
            rate = h.rate or 0.0
            esc = h.escalated_runs / h.runs if h.runs else 0.0
            low_ci, high_ci = wilson(h.success, h.answered)
            if high_ci < settings.low_success or esc > settings.high_escalation:
                why = []
                if high_ci < settings.low_success:
                    why.append(
                        f"haiku success {rate:.1%} (95% CI {low_ci:.1%}-{high_ci:.1%}) is below "
                        f"{settings.low_success:.0%}"
                    )
                if esc > settings.high_escalation:
                    why.append(f"{esc:.0%} of its runs escalate (> {settings.high_escalation:.0%})")
                out.append(
                    Recommendation(
                        p.agent, "under-powered", "haiku", "sonnet", "; ".join(why),
                        {"haiku_answered": h.answered, "escalation_rate": round(esc, 4)},
                    )
                )  # fmt: skip
    return out
