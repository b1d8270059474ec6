"""The agents a gateway recognises: the catalog plus the agent files Claude Code reads.

Order (a later file replaces an earlier agent of the same name, as Claude Code lets a project
agent replace a user agent): the catalog (built-in and ``agent_dirs``), ``~/.claude/agents``,
``.claude/agents`` in the working directory, ``gateway.agent_dirs``, then ``--agents`` folders.
An agent file without ``model:`` takes its policy from the catalog entry of the same name
(:func:`ctxrouter.catalog.loader.merge`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ctxrouter.catalog.catalog import Catalog
from ctxrouter.catalog.loader import collect_catalog
from ctxrouter.config import Settings
from ctxrouter.errors import InputError, Problem


def claude_code_dirs(cwd: Path, home: Path) -> list[Path]:
    """Claude Code's agent folders that exist: user level first, then the project's."""
    found = [home / ".claude" / "agents", cwd / ".claude" / "agents"]
    return [folder for folder in found if folder.is_dir()]


def gateway_catalog(
    settings: Settings,
    extra_dirs: Sequence[Path] = (),
    *,
    cwd: Path | None = None,
    home: Path | None = None,
) -> tuple[Catalog, list[Problem]]:
    """The catalog the gateway routes with, and the problems found in agent files.

    Folders named explicitly (config or ``--agents``) must exist; a broken agent file is
    reported and skipped rather than stopping the gateway."""
    explicit = [Path(d).expanduser() for d in (*settings.gateway.agent_dirs, *extra_dirs)]
    for folder in explicit:
        if not folder.exists():
            raise InputError(f"--agents {folder}: no such folder")
    discovered: list[Path] = []
    if settings.gateway.claude_code_agents:
        discovered = claude_code_dirs(cwd or Path.cwd(), home or Path.home())
    folders = [*discovered, *explicit]
    catalog, problems = collect_catalog(settings, folders)
    return catalog, [p for p in problems if p.severity == "error"]


__all__ = ["claude_code_dirs", "gateway_catalog"]
