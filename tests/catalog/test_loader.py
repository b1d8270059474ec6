from __future__ import annotations

from pathlib import Path

import pytest

from ctxrouter.catalog import builtin_dir, lint, load_catalog
from ctxrouter.config import Settings
from ctxrouter.errors import CatalogError, UnknownAgentError
from ctxrouter.policy import PolicyKind, Tier

SONNET = [
    "backend-architect", "system-architect", "cloud-architect", "hybrid-cloud-architect",
    "devops-architect", "frontend-architect", "data-architect", "ml-architect",
    "architect-reviewer", "legacy-modernizer", "dx-optimizer", "security-auditor",
    "compliance-auditor", "penetration-tester", "legal-advisor", "privacy-engineer", "debugger",
    "incident-responder", "devops-troubleshooter", "error-coordinator", "code-reviewer",
    "quality-engineer", "performance-engineer", "product-manager", "requirements-analyst",
    "business-analyst", "search-specialist",
]  # fmt: skip
HAIKU = [
    "python-pro", "typescript-pro", "javascript-pro", "golang-pro", "rust-pro",
    "react-specialist", "fastapi-pro", "django-pro", "test-automator", "quality-automator",
    "integration-tester", "terraform-specialist", "kubernetes-architect", "helm-specialist",
    "ansible-specialist", "docs-architect", "api-documenter", "reference-builder",
    "technical-writer", "deployment-engineer", "build-engineer", "cli-developer",
    "tooling-engineer", "data-engineer", "sql-pro", "data-validator", "git-workflow-manager",
    "mermaid-expert", "electron-pro", "websocket-engineer", "graphql-specialist",
]  # fmt: skip
ESCALATES = ["database-optimizer", "refactoring-expert", "workflow-orchestrator",
             "multi-agent-coordinator", "context-manager"]  # fmt: skip
FAST_PATH = ["learning-guide", "tutorial-engineer", "socratic-mentor", "prompt-engineer"]


def test_default_catalog_is_the_strategy(settings: Settings) -> None:
    catalog = load_catalog(settings)
    assert len(catalog) == 67
    assert catalog.summary() == {"context-dependent": 9, "haiku": 31, "sonnet": 27}
    for name in SONNET:
        assert catalog[name].policy.preference is Tier.SONNET, name
        assert catalog[name].policy.kind is PolicyKind.FIXED
    for name in HAIKU:
        assert catalog[name].policy.preference is Tier.HAIKU, name
        assert catalog[name].policy.kind is PolicyKind.FIXED
    for name in ESCALATES:
        pol = catalog[name].policy
        assert (pol.preference, pol.kind) == (Tier.HAIKU, PolicyKind.ESCALATES), name
        assert pol.escalation is not None and pol.escalation.to is Tier.SONNET
    for name in FAST_PATH:
        pol = catalog[name].policy
        assert (pol.preference, pol.kind) == (Tier.SONNET, PolicyKind.FAST_PATH), name
        assert pol.escalation is not None and pol.escalation.to is Tier.HAIKU
    assert all(a.description and a.category and a.policy.reasoning for a in catalog.agents())
    assert lint([builtin_dir()]) == []


def test_user_agents_override_builtins_by_name(tmp_path: Path) -> None:
    agents = tmp_path / "agents"
    agents.mkdir()
    (agents / "python-pro.md").write_text(
        "---\nname: python-pro\ndescription: Ours.\nmodel: sonnet\n---\nOur body.\n"
    )
    (agents / "database-optimizer.md").write_text(
        "---\nname: database-optimizer\ndescription: Ours too.\nmodel: inherit\n---\n"
    )
    (agents / "my-agent.md").write_text(
        "---\nname: my-agent\ndescription: New.\nmodel:\n  preference: opus\n---\n"
    )
    settings = Settings.load(agent_dirs=[agents], data_dir=tmp_path / "d")
    catalog = load_catalog(settings)
    assert len(catalog) == 68
    assert catalog.overridden == {"python-pro", "database-optimizer"}
    assert catalog["python-pro"].policy.preference is Tier.SONNET
    assert catalog["python-pro"].body == "Our body.\n"
    assert catalog["python-pro"].category == "Code Generation"  # kept from the built-in
    # inherit keeps the built-in policy, escalation included
    assert catalog["database-optimizer"].policy.kind is PolicyKind.ESCALATES
    assert catalog["my-agent"].policy.preference is Tier.OPUS


def test_bad_file_fails_loudly_and_lint_lists_everything(tmp_path: Path) -> None:
    agents = tmp_path / "agents"
    agents.mkdir()
    (agents / "good.md").write_text("---\nname: good\ndescription: d\nmodel: haiku\n---\n")
    (agents / "bad.md").write_text("---\nname: bad\nmodel:\n  preference: sonet\n---\n")
    (agents / "README.md").write_text("# Our agents\n")
    (agents / "notes.txt").write_text("not markdown")
    with pytest.raises(CatalogError) as info:
        load_catalog(Settings.load(agent_dirs=[agents], data_dir=tmp_path / "d"))
    assert "bad.md:4" in str(info.value)
    problems = lint([agents])
    by_file = {(p.path.name if p.path else None, p.severity) for p in problems}
    assert ("bad.md", "error") in by_file
    assert ("README.md", "warning") in by_file  # skipped, but said so
    assert len([p for p in problems if p.severity == "error"]) == 1


def test_duplicate_names_in_one_folder(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("---\nname: same\ndescription: d\n---\n")
    (tmp_path / "b.md").write_text("---\nname: same\ndescription: d\n---\n")
    problems = [p for p in lint([tmp_path]) if p.severity == "error"]
    assert len(problems) == 1 and "also defined in" in problems[0].message


def test_empty_catalog_is_an_error(tmp_path: Path) -> None:
    settings = Settings.load(include_builtin_agents=False, data_dir=tmp_path)
    with pytest.raises(CatalogError, match="catalog is empty"):
        load_catalog(settings)


def test_unknown_agent_suggests(settings: Settings) -> None:
    with pytest.raises(UnknownAgentError, match="did you mean 'python-pro'"):
        load_catalog(settings)["pyhton-pro"]
