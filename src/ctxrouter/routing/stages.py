"""The router's stages: small functions that each may move the tier, and say why.

A stage gets the routing context and the tier so far, and returns ``(tier, reason)`` or
``None`` when it has nothing to say. Built-in stages, in order:

1. ``default``    — the agent's preferred tier; without an agent (or with ``inherit``), the
   decision matrix's winner (a tie goes to sonnet: quality first).
2. ``conditions`` — the agent's escalation (up) or fast-path (down) conditions: its ``when``
   phrases, and the matrix when it clearly points the same way.
3. ``quality``    — guardrails: security-critical work never lands on the cheapest tier;
   user-facing analysis favours sonnet when no agent policy says otherwise.

Later stages (budget state, experiment arm, a learned router) plug in through the same
:class:`Stage` protocol with :meth:`ctxrouter.routing.Router.with_stage`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ctxrouter.catalog.agent import Agent
from ctxrouter.policy.conditions import matching_phrases
from ctxrouter.policy.detect import DetectionResult
from ctxrouter.policy.matrix import Characteristic, MatrixResult, Strength
from ctxrouter.policy.model_policy import PolicyKind
from ctxrouter.policy.tier import Tier
from ctxrouter.routing.request import RouteRequest

StageResult = tuple[Tier, str] | None


@dataclass(frozen=True, slots=True)
class RouteContext:
    """Everything a stage may read. Built once per decision; stages must not do I/O."""

    request: RouteRequest
    agent: Agent | None
    detection: DetectionResult
    matrix: MatrixResult


class Stage(Protocol):
    """One step of routing. ``name`` shows in the decision's trace."""

    name: str

    def __call__(self, ctx: RouteContext, tier: Tier | None) -> StageResult: ...


def _matrix_says(m: MatrixResult) -> str:
    return f"haiku {m.haiku_score:+d} vs sonnet {m.sonnet_score:+d}, {m.strength.value}"


class DefaultStage:
    name = "default"

    def __call__(self, ctx: RouteContext, tier: Tier | None) -> StageResult:
        agent = ctx.agent
        if agent is not None and agent.policy.preference is not None:
            why = agent.policy.reasoning or "its policy"
            return agent.policy.preference, f"{agent.name} prefers {agent.policy.preference}: {why}"
        who = f"{agent.name} inherits its model, so " if agent is not None else ""
        m = ctx.matrix
        if m.winner is None:
            return Tier.SONNET, f"{who}the matrix ties ({_matrix_says(m)}): quality first, sonnet"
        return m.winner, f"{who}the matrix picks {m.winner} ({_matrix_says(m)})"


class ConditionStage:
    """Escalation (up) and fast path (down), from the agent's frontmatter."""

    name = "conditions"

    def __call__(self, ctx: RouteContext, tier: Tier | None) -> StageResult:
        agent = ctx.agent
        if agent is None or tier is None or agent.policy.escalation is None:
            return None
        esc = agent.policy.escalation
        kind = agent.policy.kind
        matched = matching_phrases(esc.when, ctx.request.task)
        m = ctx.matrix
        security = Characteristic.SECURITY_CRITICAL in ctx.detection
        if kind is PolicyKind.ESCALATES:
            if matched:
                return esc.to, f"escalate to {esc.to}: task matches {_quote(matched)}"
            if (
                m.winner is not None
                and m.winner > tier
                and m.strength is not Strength.CONSIDER_ALTERNATIVE
            ):
                return (
                    esc.to,
                    f"escalate to {esc.to}: the matrix favours {m.winner} ({_matrix_says(m)})",
                )
            if security:
                return esc.to, f"escalate to {esc.to}: security-critical work"
            return tier, f"stay on {tier}: no escalation condition matched"
        if kind is PolicyKind.FAST_PATH:
            if security:
                return tier, f"stay on {tier}: no fast path for security-critical work"
            if matched:
                return esc.to, f"fast path to {esc.to}: task matches {_quote(matched)}"
            if m.winner is not None and m.winner < tier and m.strength is Strength.STRONG:
                return esc.to, f"fast path to {esc.to}: the matrix strongly favours {m.winner}"
            return tier, f"stay on {tier}: no fast-path condition matched"
        return None


class QualityStage:
    """Quality before cost where it matters."""

    name = "quality"

    def __init__(self, *, security_floor: bool = True, user_facing_sonnet: bool = True) -> None:
        self.security_floor = security_floor
        self.user_facing_sonnet = user_facing_sonnet

    def __call__(self, ctx: RouteContext, tier: Tier | None) -> StageResult:
        if tier is None:
            return None
        det = ctx.detection
        if (
            self.security_floor
            and tier is Tier.HAIKU
            and (Characteristic.SECURITY_CRITICAL in det.characteristics)
        ):
            return Tier.SONNET, "security-critical work never lands on the cheapest tier"
        policy_set = ctx.agent is not None and ctx.agent.policy.preference is not None
        if (
            self.user_facing_sonnet
            and tier is Tier.HAIKU
            and det.user_facing
            and not policy_set
            and ctx.matrix.strength is not Strength.STRONG
        ):
            return Tier.SONNET, "user-facing analysis favours sonnet for better explanations"
        return None


def default_stages() -> list[Stage]:
    return [DefaultStage(), ConditionStage(), QualityStage()]


def _quote(phrases: list[str]) -> str:
    return ", ".join(f'"{p}"' for p in phrases)
