"""An agent's model policy, as written in its frontmatter.

claude-ctx form::

    model:
      preference: haiku            # haiku | sonnet | opus
      fallbacks: [sonnet]          # tried in order when the preferred model fails
      escalation:                  # optional; may point up (escalation) or down (fast path)
        to: sonnet
        when: ["architectural refactoring", "security implications"]
      reasoning: "Fast path for standard operations, escalate for complex decisions"

Claude Code form: ``model: haiku|sonnet|opus|inherit`` (a string).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from ctxrouter.policy.tier import Tier


class PolicyKind(StrEnum):
    """How the default catalog groups agents."""

    FIXED = "fixed"  # one tier, fallbacks only
    ESCALATES = "escalates"  # default cheap tier, escalates up on conditions
    FAST_PATH = "fast-path"  # default strong tier, drops down on conditions


class Escalation(BaseModel):
    """A conditional move to another tier: up (escalation) or down (fast path)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    to: Tier
    when: tuple[str, ...] = Field(min_length=1)


class ModelPolicy(BaseModel):
    """What tier an agent prefers, what it falls back to, and when it moves."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    preference: Tier | None = None  # None: Claude Code's "inherit" (the caller's model)
    fallbacks: tuple[Tier, ...] = ()
    escalation: Escalation | None = None
    reasoning: str = ""

    @property
    def kind(self) -> PolicyKind:
        if self.escalation is None or self.preference is None:
            return PolicyKind.FIXED
        if self.escalation.to > self.preference:
            return PolicyKind.ESCALATES
        if self.escalation.to < self.preference:
            return PolicyKind.FAST_PATH
        return PolicyKind.FIXED

    @property
    def context_dependent(self) -> bool:
        return self.kind is not PolicyKind.FIXED

    @property
    def allowed_tiers(self) -> tuple[Tier, ...]:
        """Every tier this policy may land on, strongest last."""
        tiers = {t for t in (self.preference, *self.fallbacks) if t is not None}
        if self.escalation is not None:
            tiers.add(self.escalation.to)
        return tuple(sorted(tiers))
