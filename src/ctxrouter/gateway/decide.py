"""What model a gateway request goes to, and why. Pure: no I/O.

The router's decision is applied to an agent the catalog knows, under the override policy
(``gateway.override``): ``never`` keeps every client's model (the decision is only recorded),
``within-tiers`` (the default) replaces it only when the asked model is of a tier the agent may
use (a client that asks for a model outside the agent's policy knows something we do not),
``always`` replaces it whenever the policy routes elsewhere. A Claude Code agent file without
``model:`` did not ask for a model (Claude Code sends its caller's), so only ``never`` keeps
it. Requests of agents the catalog does not know (``main``) keep their model.

A request moved to another model is kept valid for it: ``max_tokens`` (and a thinking budget
below it) is clamped to the target's output limit when the registry states one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ctxrouter.catalog.agent import Agent
from ctxrouter.config import OverridePolicy
from ctxrouter.models.registry import ModelInfo, ModelRegistry
from ctxrouter.routing.request import Decision


@dataclass(frozen=True, slots=True)
class ModelChoice:
    model: str  # what goes upstream
    rewritten: bool  # differs from what the client asked for
    reason: str  # one line: why this model
    fallbacks: tuple[str, ...] = ()  # models to try when ``model`` keeps failing


def choose(
    *,
    agent: Agent | None,
    asked: str,
    decision: Decision | None,
    registry: ModelRegistry,
    override: OverridePolicy,
    tier_models: Mapping[Any, str],
) -> ModelChoice:
    """The model for one request (``decision`` is ``None`` for agents the catalog lacks)."""
    if agent is None or decision is None:
        return ModelChoice(asked, False, "agent not in the catalog: the client's model")
    info = registry.find(asked)
    asked_tier = info.tier if info is not None else None
    why = _why(decision)
    if decision.model == asked:
        return ModelChoice(asked, False, f"policy agrees with the client: {why}")
    allowed = agent.policy.allowed_tiers
    if override is OverridePolicy.NEVER:
        return ModelChoice(asked, False, f"override=never; policy would pick {decision.model}")
    outside = asked_tier is None or asked_tier not in allowed
    if override is OverridePolicy.WITHIN_TIERS and outside and not agent.inherits_model:
        shown = asked_tier.value if asked_tier is not None else "unknown tier"
        return ModelChoice(
            asked,
            False,
            f"client asked for {asked} ({shown}), outside {agent.name}'s tiers "
            f"({', '.join(t.value for t in allowed)}): kept",
        )
    fallbacks = tuple(
        model
        for tier in agent.policy.fallbacks
        if (model := tier_models.get(tier)) is not None and model != decision.model
    )
    return ModelChoice(decision.model, True, f"{asked} -> {decision.model}: {why}", fallbacks)


def _why(decision: Decision) -> str:
    changed = [step.reason for step in decision.trace if step.changed]
    last = decision.trace[-1].reason if decision.trace else "policy"
    return "; ".join(changed) if changed else last


def adapt_body(body: dict[str, Any], target: ModelInfo | None) -> dict[str, Any]:
    """``body`` made valid for ``target`` (a new dict when anything changes)."""
    limit = target.max_output_tokens if target is not None else None
    max_tokens = body.get("max_tokens")
    if limit is None or not isinstance(max_tokens, int) or max_tokens <= limit:
        return body
    adapted = {**body, "max_tokens": limit}
    thinking = body.get("thinking")
    if isinstance(thinking, dict):
        budget = thinking.get("budget_tokens")
        if isinstance(budget, int) and budget >= limit:
            adapted["thinking"] = {**thinking, "budget_tokens": max(1024, limit - 1)}
    return adapted


__all__ = ["ModelChoice", "adapt_body", "choose"]
