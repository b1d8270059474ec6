"""Where Claude Code keeps its transcripts, and what a transcript's path says.

Facts read off Claude Code 2.1.328 (``~/.claude/projects``): the main conversation is
``<project>/<session>.jsonl``; a subagent's is ``<project>/<session>/subagents/agent-<id>.jsonl``,
with ``agent-<id>.meta.json`` beside it holding ``agentType``, ``spawnDepth`` and the resolved
``model``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePath

from ctxrouter.errors import InputError


def default_root() -> Path:
    """Where Claude Code keeps transcripts: ``$CLAUDE_CONFIG_DIR/projects``, else
    ``~/.claude/projects``."""
    config = os.environ.get("CLAUDE_CONFIG_DIR", "").split(",")[0].strip()
    base = Path(config).expanduser() if config else Path.home() / ".claude"
    return base / "projects"


def projects_folder(path: Path) -> Path:
    """The ``projects`` folder ``path`` names: itself, or ``<path>/projects`` when ``path`` is
    a Claude config folder. Raises :class:`InputError` when there is none."""
    path = path.expanduser()
    if not path.exists():
        raise InputError(
            f"{path}: no such folder; give the folder Claude Code keeps its transcripts in"
            " (default ~/.claude/projects)"
        )
    if not path.is_dir():
        raise InputError(f"{path}: not a folder; give the folder that holds the projects")
    nested = path / "projects"
    return (nested if nested.is_dir() else path).resolve()


@dataclass(frozen=True, slots=True)
class TranscriptFile:
    """Where a transcript sits: its session and, for a subagent's, the agent id."""

    path: PurePath
    relative: str  # to the projects folder, with "/"
    project: str
    session_id: str  # the session its path names
    agent_id: str | None  # "a3fe34..." of subagents/agent-a3fe34....jsonl
    main: bool  # <project>/<session>.jsonl

    @property
    def meta_path(self) -> PurePath | None:
        """``agent-<id>.meta.json`` beside a subagent's transcript."""
        if self.agent_id is None:
            return None
        return self.path.with_name(f"agent-{self.agent_id}.meta.json")


def transcript_file(path: PurePath, projects: PurePath) -> TranscriptFile:
    """Name the session (and agent) of a transcript under ``projects``, as ccusage does:
    ``<project>/<session>.jsonl``, ``<project>/<session>/subagents/<file>.jsonl``, else the
    folder that holds the file."""
    parts = path.relative_to(projects).parts
    stem = parts[-1].removesuffix(".jsonl")
    agent_id = None
    if len(parts) == 2 and stem:
        return TranscriptFile(path, "/".join(parts), parts[0], stem, None, main=True)
    if len(parts) >= 4 and parts[-2] == "subagents":
        session = parts[-3]
        if stem.startswith("agent-"):
            agent_id = stem.removeprefix("agent-") or None
    else:
        session = parts[-2] if len(parts) >= 2 else "unknown"
    project = parts[0] if len(parts) > 1 else "unknown"
    return TranscriptFile(path, "/".join(parts), project, session, agent_id, main=False)


def agent_type(meta: bytes) -> str | None:
    """``agentType`` of an ``agent-<id>.meta.json``; ``None`` when it holds none.
    Raises ``ValueError`` when the file is not JSON."""
    data = json.loads(meta)
    value = data.get("agentType") if isinstance(data, dict) else None
    return value if isinstance(value, str) and value else None


__all__ = ["TranscriptFile", "agent_type", "default_root", "projects_folder", "transcript_file"]
