from __future__ import annotations

from pathlib import Path

import pytest

from ctxrouter import Settings, load_catalog
from ctxrouter.catalog import Catalog
from ctxrouter.errors import ConfigError
from ctxrouter.pipelines.loader import load_all, load_pipeline, parse_pipeline


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(Settings.load())


def test_the_four_patterns_ship(catalog: Catalog) -> None:
    specs = {s.name: s for s in load_all(catalog)}
    assert {name: [s.agent for s in spec.steps] for name, spec in specs.items()} == {
        "design-implement-test-review": [
            "backend-architect", "python-pro", "test-automator", "code-reviewer",
        ],
        "research-generate-polish": ["search-specialist", "docs-architect", "technical-writer"],
        "troubleshoot-fix-test": ["debugger", "python-pro", "test-automator"],
        "audit-remediate-verify": ["security-auditor", "typescript-pro", "quality-engineer"],
    }  # fmt: skip
    claims = {n: s.claimed_savings_vs_all_sonnet_pct for n, s in specs.items()}
    assert claims == {
        "design-implement-test-review": 50,
        "research-generate-polish": 67,
        "troubleshoot-fix-test": 67,
        "audit-remediate-verify": 33,
    }


def check(catalog: Catalog, body: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_pipeline("schema_version: 1\nname: p\nsteps:\n" + body, Path("p.yaml"), catalog)
    return str(info.value)


def test_unknown_agent_with_line_and_suggestion(catalog: Catalog) -> None:
    message = check(catalog, "  - id: a\n    agent: pyhton-pro\n")
    assert "p.yaml:5: [steps[0].agent]" in message and "did you mean 'python-pro'" in message


def test_cycle_is_named(catalog: Catalog) -> None:
    message = check(
        catalog,
        "  - {id: a, agent: python-pro, depends_on: [c]}\n"
        "  - {id: b, agent: python-pro, depends_on: [a]}\n"
        "  - {id: c, agent: python-pro, depends_on: [b]}\n",
    )
    assert "dependency cycle: a -> c -> b -> a" in message


def test_missing_input_and_unknown_step(catalog: Catalog) -> None:
    message = check(
        catalog,
        "  - {id: a, agent: python-pro}\n"
        "  - {id: b, agent: python-pro, prompt: 'Use {a} and {tsak}', depends_on: [x]}\n",
    )
    assert "uses {a}, the output of step 'a', without depending on it" in message
    assert "unknown input {tsak} (did you mean {task}?)" in message
    assert "depends on unknown step 'x'" in message


def test_schema_errors_and_duplicates(catalog: Catalog) -> None:
    message = check(catalog, "  - {id: a, agent: python-pro, colour: red}\n")
    assert "steps.0.colour" in message and "Extra inputs are not permitted" in message
    message = check(catalog, "  - {id: a, agent: python-pro}\n  - {id: a, agent: sql-pro}\n")
    assert "step id 'a' is used twice" in message


def test_unknown_pipeline_name(catalog: Catalog) -> None:
    with pytest.raises(ConfigError, match="did you mean 'troubleshoot-fix-test'"):
        load_pipeline("troubleshoot-fix-tests", catalog)
