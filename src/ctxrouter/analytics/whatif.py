"""What the fleet's policy would have cost on recorded history (``ctxrouter whatif``).

Assumptions (stated with every report, see :data:`ASSUMPTIONS`):

- each response of a subagent the catalog knows is repriced at the model of the tier its policy
  prefers, with the same tokens (input, output, cache writes and reads), at that day's prices,
  the long-context prices applied per request as usual;
- the conditions that escalate or fast-path an agent are not applied: they read the task,
  which the history does not hold;
- the main conversation, agents the catalog does not know, agents whose policy inherits the
  caller's model, and responses already on the policy's model stay as they were;
- a response that cannot be priced (now or repriced) is left out of both sums and counted.

Pure: responses and a policy in, a report out (``collect`` reads the store).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ctxrouter.telemetry.store import Store

ASSUMPTIONS: Final = (
    "each response of a subagent the catalog knows is repriced at the model of the tier its"
    " policy prefers, with the same tokens, at that day's prices (long-context prices per"
    " request)",
    "escalation and fast-path conditions are not applied: they read the task, which the"
    " history does not hold",
    "the main conversation, agents the catalog does not know, agents that inherit the caller's"
    " model, and responses already on the policy's model stay as they were",
    "responses that cannot be priced (now or repriced) are left out of both sums and counted",
)
MAIN: Final = "main"

Tokens = tuple[int, int, int, int, int]  # input, output, cache writes 5m and 1h, cache reads
Price = Callable[[str, int, Tokens], float | None]  # model, day (since 1970), tokens -> USD


@dataclass(frozen=True, slots=True)
class Recorded:
    """One recorded response: who, on what, when (a day number, UTC), its tokens and cost."""

    agent: str
    model: str
    day: int
    tokens: Tokens
    cost_usd: float | None


@dataclass(slots=True)
class AgentWhatIf:
    agent: str
    responses: int = 0
    tier: str | None = None  # the tier the policy prefers (None: left as it was)
    model: str | None = None  # that tier's model
    untouched: str | None = None  # why it is left as it was
    moved: int = 0  # responses repriced on another model
    unpriced: int = 0  # left out of both sums
    actual_usd: float = 0.0
    whatif_usd: float = 0.0
    models: dict[str, int] = field(default_factory=dict)  # responses per model, as recorded

    @property
    def saved_usd(self) -> float:
        return self.actual_usd - self.whatif_usd

    @property
    def saved_pct(self) -> float | None:
        return self.saved_usd / self.actual_usd * 100 if self.actual_usd > 0 else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "responses": self.responses,
            "models": dict(sorted(self.models.items(), key=lambda kv: -kv[1])),
            "policy_tier": self.tier,
            "policy_model": self.model,
            "untouched": self.untouched,
            "moved": self.moved,
            "unpriced": self.unpriced,
            "actual_usd": self.actual_usd,
            "whatif_usd": self.whatif_usd,
            "saved_usd": self.saved_usd,
            "saved_pct": self.saved_pct,
        }


@dataclass(slots=True)
class WhatIfReport:
    agents: list[AgentWhatIf]
    total: AgentWhatIf
    provider: str | None
    tier_models: dict[str, str] = field(default_factory=dict)
    since: float | None = None
    until: float | None = None
    assumptions: tuple[str, ...] = ASSUMPTIONS

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "window": {"since": self.since, "until": self.until},
            "tier_models": dict(self.tier_models),
            "assumptions": list(self.assumptions),
            "total": self.total.to_dict(),
            "agents": [a.to_dict() for a in self.agents],
        }


def what_if(
    responses: Iterable[Recorded],
    *,
    policy: Mapping[str, str | None],
    tier_models: Mapping[str, str],
    price: Price,
    provider: str | None = None,
) -> WhatIfReport:
    """Reprice ``responses`` as :data:`ASSUMPTIONS` say. ``policy``: the catalog's agents and
    the tier each prefers (``None``: inherits); ``tier_models``: tier -> model id."""
    by_agent: dict[str, AgentWhatIf] = {}
    total = AgentWhatIf("total")
    for r in responses:
        row = by_agent.get(r.agent)
        if row is None:
            row = by_agent[r.agent] = _row(r.agent, policy, tier_models)
        row.responses += 1
        row.models[r.model] = row.models.get(r.model, 0) + 1
        target = row.model
        moved = target is not None and r.model != target
        repriced = price(target, r.day, r.tokens) if moved and target is not None else r.cost_usd
        if r.cost_usd is None or repriced is None:
            row.unpriced += 1
            continue
        row.moved += moved
        row.actual_usd += r.cost_usd
        row.whatif_usd += repriced
    agents = sorted(by_agent.values(), key=lambda a: (-abs(a.saved_usd), -a.responses, a.agent))
    for row in agents:
        total.responses += row.responses
        total.moved += row.moved
        total.unpriced += row.unpriced
        total.actual_usd += row.actual_usd
        total.whatif_usd += row.whatif_usd
        for model, n in row.models.items():
            total.models[model] = total.models.get(model, 0) + n
    return WhatIfReport(agents, total, provider, dict(tier_models))


def _row(
    agent: str, policy: Mapping[str, str | None], tier_models: Mapping[str, str]
) -> AgentWhatIf:
    row = AgentWhatIf(agent)
    if agent == MAIN:
        row.untouched = "the main conversation"
    elif agent not in policy:
        row.untouched = "not in the catalog"
    elif policy[agent] is None:
        row.untouched = "inherits the caller's model"
    else:
        row.tier = policy[agent]
        row.model = tier_models[row.tier]  # type: ignore[index]
    return row


def collect(
    store: Store,
    *,
    provider: str | None = "claude-code",
    since: float | None = None,
    until: float | None = None,
) -> list[Recorded]:
    """The answered responses in the window (of ``provider``; ``None``: every provider)."""
    clauses, params = ["outcome <> 'error'"], []
    for clause, value in (("provider = ?", provider), ("ts >= ?", since), ("ts < ?", until)):
        if value is not None:
            clauses.append(clause)
            params.append(value)
    rows = store.query(
        "SELECT agent, model, ts, input_tokens, output_tokens, cache_creation_5m_tokens,"
        " cache_creation_1h_tokens, cache_read_tokens, cost_usd FROM events"
        f" WHERE {' AND '.join(clauses)}",
        params,
    )
    return [
        Recorded(agent or "", model, int(ts // 86400), (i, o, c5, c1, cr), cost)
        for agent, model, ts, i, o, c5, c1, cr, cost in rows
    ]


__all__ = ["ASSUMPTIONS", "AgentWhatIf", "Recorded", "WhatIfReport", "collect", "what_if"]
