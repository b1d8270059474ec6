"""Who sent a message request: which agent, in which session.

Claude Code 2.1.x (read off the real CLI) sends ``x-claude-code-session-id`` on every request
and ``x-claude-code-agent-id`` (plus ``x-claude-code-parent-agent-id`` from depth 2) on a
subagent's requests; a subagent's system prompt holds its agent file's body verbatim and its
first system block carries ``cc_is_subagent=true``. The agent is, in order:

1. the explicit ``x-ctxrouter-agent`` header (any client can set it);
2. the agent whose file body the system prompt contains (the longest such body wins), looked
   up once per ``x-claude-code-agent-id`` and then cached;
3. ``main``.

Pure apart from its bounded caches: no I/O.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ctxrouter.catalog.agent import Agent

AGENT_HEADER = "x-ctxrouter-agent"
SESSION_HEADER = "x-claude-code-session-id"
AGENT_ID_HEADER = "x-claude-code-agent-id"
PARENT_AGENT_ID_HEADER = "x-claude-code-parent-agent-id"
DEFAULT_AGENT = "main"
MIN_BODY_CHARS = 40  # shorter bodies ("You review code.") would match too much
CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class Attribution:
    agent: str
    how: str  # "header", "system-prompt", "default"
    session_id: str | None = None
    agent_id: str | None = None
    parent_agent_id: str | None = None


def system_text(body: Mapping[str, Any]) -> str:
    """The request's system prompt as one string (text blocks joined)."""
    system = body.get("system")
    if isinstance(system, str):
        return system
    if isinstance(system, list):
        return "\n".join(str(block.get("text", "")) for block in system if isinstance(block, dict))
    return ""


class AgentMatcher:
    """Finds the agent whose body a system prompt contains."""

    def __init__(self, agents: Iterable[Agent]) -> None:
        bodies: dict[str, str] = {}
        for agent in agents:
            body = agent.body.strip()
            if len(body) >= MIN_BODY_CHARS:
                bodies[agent.name] = body
        # longest first: a body that contains another's is the more specific match
        self._bodies = sorted(bodies.items(), key=lambda item: -len(item[1]))

    def __len__(self) -> int:
        return len(self._bodies)

    def match(self, system: str) -> str | None:
        if not system:
            return None
        for name, body in self._bodies:
            if body in system:
                return name
        return None


class Attributor:
    """Names the agent of each request; remembers it per Claude Code agent id."""

    def __init__(self, matcher: AgentMatcher, *, cache_size: int = CACHE_SIZE) -> None:
        self.matcher = matcher
        self._cache_size = cache_size
        self._by_agent_id: OrderedDict[str, str] = OrderedDict()
        self._by_prompt: OrderedDict[bytes, str] = OrderedDict()

    def attribute(self, headers: Mapping[str, str], body: Mapping[str, Any]) -> Attribution:
        session = headers.get(SESSION_HEADER) or None
        agent_id = headers.get(AGENT_ID_HEADER) or None
        parent = headers.get(PARENT_AGENT_ID_HEADER) or None
        explicit = headers.get(AGENT_HEADER)
        if explicit:
            return Attribution(explicit, "header", session, agent_id, parent)
        if agent_id is not None:
            name = self._remember(self._by_agent_id, agent_id, body)
        elif body.get("system"):
            # no agent id (another client, or Claude Code's main agent): match by prompt, once
            # per distinct prompt
            system = system_text(body)
            key = hashlib.blake2b(system.encode(), digest_size=16).digest()
            name = self._remember(self._by_prompt, key, body, system)
        else:
            name = DEFAULT_AGENT
        how = "default" if name == DEFAULT_AGENT else "system-prompt"
        return Attribution(name, how, session, agent_id, parent)

    def _remember(
        self,
        cache: OrderedDict[Any, str],
        key: Any,
        body: Mapping[str, Any],
        system: str | None = None,
    ) -> str:
        found = cache.get(key)
        if found is not None:
            cache.move_to_end(key)
            return found
        name = self.matcher.match(system if system is not None else system_text(body))
        name = name or DEFAULT_AGENT
        cache[key] = name
        if len(cache) > self._cache_size:
            cache.popitem(last=False)
        return name


__all__ = [
    "AGENT_HEADER",
    "AGENT_ID_HEADER",
    "DEFAULT_AGENT",
    "PARENT_AGENT_ID_HEADER",
    "SESSION_HEADER",
    "AgentMatcher",
    "Attribution",
    "Attributor",
    "system_text",
]
