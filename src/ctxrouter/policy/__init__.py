"""Model policy: tiers, an agent's policy, and the decision matrix."""

from ctxrouter.policy.model_policy import Escalation, ModelPolicy, PolicyKind
from ctxrouter.policy.tier import TIERS, Tier, parse_tier

__all__ = ["TIERS", "Escalation", "ModelPolicy", "PolicyKind", "Tier", "parse_tier"]
