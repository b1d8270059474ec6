"""What model a gateway request goes to, and why. Pure: no I/O.

The router's decision is applied to an agent the catalog knows under the override policy
(``gateway.override``). Each answer names the rule that applied, first in its reason (the
Event's ``route_reason``):

- ``agree``: the client asked for the model the policy picks;
- ``never`` (``override = "never"``): the client's model is kept, the decision only recorded;
  a model outside the agent's tiers is *flagged* (the Event's ``route_flag``) so an alert can
  name it;
- ``always``: the decision replaces the client's model whenever they differ;
- under ``within-tiers`` (the default), by where the asked model's tier stands against the
  tiers the agent's policy allows:

  - ``inherit``: an agent file without ``model:`` did not ask (Claude Code sends its caller's
    model): the decision applies;
  - ``within-tiers``: the asked tier is one the agent may use: the decision applies;
  - ``floor``: the asked tier is below the agent's weakest tier: raised to the routed tier
    (quality first: a client never takes a security agent below its floor);
  - ``ceiling``: the asked tier is above the agent's strongest tier: brought to the routed
    tier (the policy says the work needs no more);
  - ``outside``: the asked model's tier is unknown (a model the registry lacks) or sits between
    the agent's tiers: kept, and flagged;

- ``not-routed``: agents the catalog does not know (``main``) keep their model.

A request moved to another model is kept valid for it: ``max_tokens`` (and a thinking budget
below it) is clamped to the target's output limit when the registry states one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ctxrouter.catalog.agent import Agent
from ctxrouter.config import OverridePolicy
from ctxrouter.models.registry import ModelInfo, ModelRegistry
from ctxrouter.policy.tier import Tier
from ctxrouter.routing.request import Decision

# the Event's route_flag: the client's model was kept although the agent's policy disallows it
BELOW_FLOOR = "below-floor"
ABOVE_CEILING = "above-ceiling"
OUTSIDE_TIERS = "outside-tiers"


@dataclass(frozen=True, slots=True)
class ModelChoice:
    model: str  # what goes upstream
    rewritten: bool  # differs from what the client asked for
    reason: str  # one line: the rule, then why
    rule: str = "not-routed"
    flag: str | None = None  # set when a model outside the agent's tiers is kept

    @property
    def tier_routed(self) -> bool:
        """The model is the policy's choice (so the agent's fallbacks may replace it)."""
        return self.rewritten or self.rule == "agree"


def choose(
    *,
    agent: Agent | None,
    asked: str,
    decision: Decision | None,
    registry: ModelRegistry,
    override: OverridePolicy,
) -> ModelChoice:
    """The model for one request (``decision`` is ``None`` for agents the catalog lacks)."""
    if agent is None or decision is None:
        return ModelChoice(asked, False, "not-routed: agent not in the catalog: the client's model")
    info = registry.find(asked)
    asked_tier = info.tier if info is not None else None
    why = decision.why
    allowed = agent.policy.allowed_tiers
    place = _place(asked_tier, allowed)
    if decision.model == asked:
        return ModelChoice(
            asked, False, f"agree: the policy picks the client's model: {why}", "agree"
        )
    moved = f"{asked} -> {decision.model}: {why}"
    if override is OverridePolicy.NEVER:
        flag = None if place == "within" else _FLAGS[place]
        note = f" ({_describe(asked, asked_tier, agent, allowed, place)})" if flag else ""
        return ModelChoice(
            asked,
            False,
            f"never: override=never kept {asked}{note}; the policy would pick {decision.model}",
            "never",
            flag,
        )
    if override is OverridePolicy.ALWAYS:
        return ModelChoice(decision.model, True, f"always: {moved}", "always")
    if agent.inherits_model:
        return ModelChoice(decision.model, True, f"inherit: {moved}", "inherit")
    if place == "within":
        return ModelChoice(decision.model, True, f"within-tiers: {moved}", "within-tiers")
    if place == "below" and agent.policy.preference is not None:
        floor = min(allowed)
        return ModelChoice(
            decision.model,
            True,
            f"floor: {asked} ({_tier(asked_tier)}) is below {agent.name}'s floor ({floor}): "
            f"raised to {decision.model}: {why}",
            "floor",
        )
    if place == "above" and agent.policy.preference is not None:
        return ModelChoice(
            decision.model,
            True,
            f"ceiling: {asked} ({_tier(asked_tier)}) is above {agent.name}'s tiers "
            f"({_tiers(allowed)}): brought to {decision.model}: {why}",
            "ceiling",
        )
    return ModelChoice(
        asked,
        False,
        f"outside: {_describe(asked, asked_tier, agent, allowed, place)}: kept",
        "outside",
        _FLAGS.get(place, OUTSIDE_TIERS),
    )


_FLAGS = {"below": BELOW_FLOOR, "above": ABOVE_CEILING, "between": OUTSIDE_TIERS}


def _place(tier: Tier | None, allowed: tuple[Tier, ...]) -> str:
    """Where ``tier`` stands against ``allowed``: within, below, above, between, unknown."""
    if tier is None or not allowed:
        return "unknown"
    if tier in allowed:
        return "within"
    if tier < min(allowed):
        return "below"
    if tier > max(allowed):
        return "above"
    return "between"


def _describe(
    asked: str, tier: Tier | None, agent: Agent, allowed: tuple[Tier, ...], place: str
) -> str:
    where = {"below": "below", "above": "above"}.get(place, "outside")
    return f"{asked} ({_tier(tier)}) is {where} {agent.name}'s tiers ({_tiers(allowed)})"


def _tier(tier: Tier | None) -> str:
    return tier.value if tier is not None else "unknown tier"


def _tiers(tiers: tuple[Tier, ...]) -> str:
    return ", ".join(t.value for t in tiers) or "none"


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


__all__ = [
    "ABOVE_CEILING",
    "BELOW_FLOOR",
    "OUTSIDE_TIERS",
    "ModelChoice",
    "adapt_body",
    "choose",
]
