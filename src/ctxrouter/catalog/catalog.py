"""The set of agents ctxrouter knows, by name."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping

from ctxrouter.catalog.agent import Agent
from ctxrouter.errors import UnknownAgentError
from ctxrouter.policy.model_policy import PolicyKind


class Catalog(Mapping[str, Agent]):
    """An ordered, read-only mapping of agent name to :class:`Agent`."""

    def __init__(self, agents: Mapping[str, Agent], overridden: frozenset[str] = frozenset()):
        self._agents = dict(agents)
        self.overridden = overridden  # built-in names that a user's file replaced

    def __getitem__(self, name: str) -> Agent:
        try:
            return self._agents[name]
        except KeyError:
            raise UnknownAgentError(name, self._agents) from None

    def __contains__(self, name: object) -> bool:
        return name in self._agents

    def get(self, name: str, default: Agent | None = None) -> Agent | None:  # type: ignore[override]
        """The agent, or ``default``: a plain lookup (no suggestion is computed for a miss,
        which :meth:`__getitem__` does for its error message)."""
        return self._agents.get(name, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._agents)

    def __len__(self) -> int:
        return len(self._agents)

    def get_agent(self, name: str) -> Agent:
        """Like ``catalog[name]``: raises :class:`UnknownAgentError` with a suggestion."""
        return self[name]

    def agents(self) -> list[Agent]:
        return list(self._agents.values())

    def summary(self) -> dict[str, int]:
        """Counts by policy: fixed tiers by their tier, and the context-dependent ones."""
        counts: Counter[str] = Counter()
        for agent in self._agents.values():
            policy = agent.policy
            if policy.kind is not PolicyKind.FIXED:
                counts["context-dependent"] += 1
            elif policy.preference is None:
                counts["inherit"] += 1
            else:
                counts[policy.preference.value] += 1
        return dict(sorted(counts.items()))
