"""Where agents come from: the one function every entry point uses to find agent files.

The library, the CLI (``route``, ``assign``, ``run``, ``pipeline``, ``batch``, ``export``, ...),
the gateway and the Claude Code hook all build their catalog with :func:`discover_catalog`, so
the same agent name means the same policy everywhere. Folders, in order (a later file replaces
an earlier agent of the same name, as Claude Code lets a project agent replace a user agent):

1. the built-in catalog (``include_builtin_agents``);
2. ``~/.claude/agents``, then ``.claude/agents`` in the working directory (Claude Code's own
   folders, when they exist; ``claude_code_agents = false`` leaves them out);
3. ``agent_dirs`` from the settings (``CTXROUTER_AGENT_DIRS=/a:/b``);
4. folders given on the command line (``--agents DIR``, repeatable).

A folder named explicitly (3 and 4) must exist. An agent file that does not parse is reported
as a :class:`~ctxrouter.errors.Problem` and skipped, never silently: the CLI prints it as a
warning, the gateway and the hook log it, ``agents lint`` fails on it. An agent file without
``model:`` (Claude Code's ``inherit``) takes the policy of the agent of the same name below it
(:func:`ctxrouter.catalog.loader.merge`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ctxrouter.catalog.agent import Agent
from ctxrouter.catalog.catalog import Catalog
from ctxrouter.catalog.loader import builtin_dir, load_folder, merge
from ctxrouter.config import Settings
from ctxrouter.errors import CatalogError, InputError, Problem


@dataclass(frozen=True, slots=True)
class AgentFolder:
    """One folder agents are read from, and why it is read."""

    path: Path
    origin: str  # "built-in", "claude-code", "agent_dirs" or "--agents"

    @property
    def builtin(self) -> bool:
        return self.origin == "built-in"


def claude_code_dirs(cwd: Path, home: Path) -> list[Path]:
    """Claude Code's agent folders, existing or not: user level first, then the project's."""
    found = [home / ".claude" / "agents", cwd / ".claude" / "agents"]
    return list(dict.fromkeys(folder.resolve() for folder in found))


def watched_folders(settings: Settings, cwd: Path | None, home: Path | None) -> list[Path]:
    """Every folder whose agent files can change what :func:`discover_catalog` finds, whether
    it exists yet or not (the hook's helper rebuilds its router when one changes)."""
    found = claude_code_dirs(cwd or Path.cwd(), home or Path.home())
    return [*found, *(Path(d).expanduser() for d in settings.agent_dirs)]


def _folders(
    settings: Settings, extra_dirs: Sequence[Path], where: tuple[Path | None, Path | None]
) -> list[AgentFolder]:
    """The folders agents are read from, lowest precedence first. Raises
    :class:`InputError` for a folder named explicitly that does not exist."""
    folders: list[AgentFolder] = []
    if settings.include_builtin_agents:
        folders.append(AgentFolder(builtin_dir(), "built-in"))
    if settings.claude_code_agents:
        cwd, home = where
        found = claude_code_dirs(cwd or Path.cwd(), home or Path.home())
        folders.extend(AgentFolder(folder, "claude-code") for folder in found if folder.is_dir())
    named = [
        *((Path(d).expanduser(), "agent_dirs") for d in settings.agent_dirs),
        *((Path(d).expanduser(), "--agents") for d in extra_dirs),
    ]
    for path, origin in named:
        if not path.exists():
            raise InputError(f"{origin} {path}: no such folder")
        folders.append(AgentFolder(path, origin))
    return folders


def discover_catalog(
    settings: Settings,
    extra_dirs: Sequence[Path] = (),
    *,
    cwd: Path | None = None,
    home: Path | None = None,
    exclude: Sequence[Path] = (),
) -> tuple[Catalog, list[Problem]]:
    """The catalog every entry point routes with, and the problems of the files skipped (or
    read with warnings). ``exclude`` leaves out a folder being written (``export
    claude-code``'s target: its files are output). An empty catalog raises
    :class:`CatalogError`."""
    agents: dict[str, Agent] = {}
    overridden: set[str] = set()
    problems: list[Problem] = []
    skipped = {folder.resolve() for folder in exclude}
    for folder in _folders(settings, extra_dirs, (cwd, home)):
        if folder.path.resolve() in skipped:
            continue
        found, folder_problems = load_folder(folder.path, builtin=folder.builtin)
        problems.extend(folder_problems)
        for agent in found:
            base = agents.get(agent.name)
            if base is not None and base.builtin:
                overridden.add(agent.name)
            agents[agent.name] = merge(base, agent)
    if not agents:
        raise CatalogError(
            [
                *problems,
                Problem(None, None, None, "the catalog is empty: no agent definitions were found"),
            ]
        )
    return Catalog(agents, frozenset(overridden)), problems


__all__ = ["AgentFolder", "claude_code_dirs", "discover_catalog", "watched_folders"]
