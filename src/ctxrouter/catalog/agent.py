"""An agent definition: who it is and which model policy it follows."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ctxrouter.policy.model_policy import ModelPolicy


class AgentFormat(StrEnum):
    CLAUDE_CTX = "claude-ctx"  # model: {preference: ..., fallbacks: ..., ...}
    CLAUDE_CODE = "claude-code"  # model: haiku|sonnet|opus|inherit


class Agent(BaseModel):
    """One agent. ``extra`` keeps every frontmatter field ctxrouter does not interpret."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str = ""
    category: str = ""
    tags: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()
    policy: ModelPolicy = Field(default_factory=ModelPolicy)
    format: AgentFormat = AgentFormat.CLAUDE_CTX
    source: Path | None = None  # the file it was read from
    builtin: bool = False  # shipped in ctxrouter's default catalog
    body: str = ""  # the Markdown body after the frontmatter (the system prompt)
    # a Claude Code file with no model (or ``model: inherit``): Claude Code runs it on its
    # caller's model, so the model its requests carry was not chosen for it
    inherits_model: bool = False
    extra: dict[str, Any] = Field(default_factory=dict)
