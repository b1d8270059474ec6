"""Read agent folders: each ``.md`` file becomes an agent, an error, or a warning saying why it
was skipped (no file is dropped silently). Which folders, in which order:
:mod:`ctxrouter.catalog.discovery`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path

from ctxrouter.catalog.agent import Agent
from ctxrouter.catalog.catalog import Catalog
from ctxrouter.catalog.frontmatter import FrontmatterError, split
from ctxrouter.catalog.parse import parse_agent_text
from ctxrouter.config import Settings
from ctxrouter.errors import CatalogError, Problem
from ctxrouter.policy.model_policy import ModelPolicy


def builtin_dir() -> Path:
    """The folder of the shipped default catalog."""
    return Path(str(resources.files("ctxrouter.catalog") / "defaults"))


def agent_files(folder: Path) -> list[Path]:
    """Every ``*.md`` below ``folder``, sorted, so loading is deterministic."""
    return sorted(p for p in folder.rglob("*.md") if p.is_file())


def load_folder(folder: Path, *, builtin: bool = False) -> tuple[list[Agent], list[Problem]]:
    """Read one folder (or one file). Returns the agents and every problem found."""
    if not folder.exists():
        return [], [Problem(folder, None, None, "no such file or folder")]
    files = [folder] if folder.is_file() else agent_files(folder)
    agents: list[Agent] = []
    problems: list[Problem] = []
    seen: dict[str, Path] = {}
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(path, None, None, f"cannot read: {exc}"))
            continue
        if _not_an_agent(text):
            problems.append(
                Problem(path, 1, None, "skipped: no YAML frontmatter, so not an agent", "warning")
            )
            continue
        agent, found = parse_agent_text(text, path, builtin=builtin)
        problems.extend(found)
        if agent is None:
            continue
        if agent.name in seen:
            problems.append(
                Problem(
                    path,
                    None,
                    "name",
                    f"agent {agent.name!r} is also defined in {seen[agent.name]}",
                )
            )
            continue
        seen[agent.name] = path
        agents.append(agent)
    return agents, problems


def _not_an_agent(text: str) -> bool:
    """A Markdown file with no frontmatter at all (a README) is not an agent definition."""
    try:
        split(text)
    except FrontmatterError as exc:
        return "must start with" in str(exc)
    return False


def merge(base: Agent | None, override: Agent) -> Agent:
    """Apply a user's agent over a built-in of the same name.

    A Claude Code file that inherits its model (or names the built-in's own tier) keeps the
    built-in's whole policy; naming another tier moves the preference and keeps what still fits.
    """
    if base is None:
        return override
    pol, base_pol = override.policy, base.policy
    if pol.preference is None or (pol == ModelPolicy(preference=base_pol.preference)):
        pol = base_pol
    elif pol.escalation is None and not pol.fallbacks and not pol.reasoning:
        esc = base_pol.escalation
        pol = ModelPolicy(
            preference=pol.preference,
            fallbacks=tuple(t for t in base_pol.fallbacks if t != pol.preference),
            escalation=esc if esc is not None and esc.to != pol.preference else None,
            # the built-in's reasoning argued for its own tier: say where this one comes from
            reasoning=f"model: {pol.preference.value} in "
            + (override.source.name if override.source is not None else "its file"),
        )
    return override.model_copy(
        update={
            "policy": pol,
            "category": override.category or base.category,
            "description": override.description or base.description,
        }
    )


def load_catalog(
    settings: Settings,
    extra_dirs: Sequence[Path] | None = None,
    *,
    strict: bool = True,
    cwd: Path | None = None,
    home: Path | None = None,
) -> Catalog:
    """The catalog :func:`~ctxrouter.catalog.discovery.discover_catalog` finds (the same agents
    every entry point sees). With ``strict`` (the default) a file with an error raises
    :class:`CatalogError` instead of being skipped."""
    from ctxrouter.catalog.discovery import discover_catalog

    catalog, problems = discover_catalog(settings, extra_dirs or (), cwd=cwd, home=home)
    if strict and any(p.severity == "error" for p in problems):
        raise CatalogError(problems)
    return catalog


def lint(paths: Iterable[Path]) -> list[Problem]:
    """Every problem in the given folders or files (each checked on its own)."""
    problems: list[Problem] = []
    for path in paths:
        _, found = load_folder(Path(path).expanduser())
        problems.extend(found)
    return problems
