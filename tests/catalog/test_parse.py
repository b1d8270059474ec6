from __future__ import annotations

from pathlib import Path

from ctxrouter.catalog import AgentFormat, parse_agent_text
from ctxrouter.policy import PolicyKind, Tier

CTX = """---
name: db-helper
description: Tunes queries.
category: Context-Dependent
tags: [sql, perf]
model:
  preference: haiku
  fallbacks: [sonnet]
  escalation:
    to: sonnet
    when:
      - "schema redesign"
  reasoning: "Fast path for queries"
---
You tune queries.
"""


def test_claude_ctx_format() -> None:
    agent, problems = parse_agent_text(CTX, Path("db-helper.md"))
    assert problems == []
    assert agent is not None
    assert agent.format is AgentFormat.CLAUDE_CTX
    assert agent.policy.preference is Tier.HAIKU
    assert agent.policy.fallbacks == (Tier.SONNET,)
    assert agent.policy.kind is PolicyKind.ESCALATES
    assert agent.policy.escalation is not None
    assert agent.policy.escalation.when == ("schema redesign",)
    assert agent.tags == ("sql", "perf")
    assert agent.body == "You tune queries.\n"


def test_claude_code_format_keeps_other_fields() -> None:
    text = (
        "---\nname: reviewer\ndescription: Reviews diffs\ntools: Read, Grep, Glob\n"
        "model: sonnet\ncolor: blue\npermissionMode: plan\n---\nReview carefully.\n"
    )
    agent, problems = parse_agent_text(text, Path("reviewer.md"))
    assert problems == []
    assert agent is not None
    assert agent.format is AgentFormat.CLAUDE_CODE
    assert agent.policy.preference is Tier.SONNET
    assert agent.tools == ("Read", "Grep", "Glob")
    assert agent.extra == {"color": "blue", "permissionMode": "plan"}


def test_claude_code_inherit_and_missing_model() -> None:
    for model_line in ("model: inherit\n", ""):
        text = f"---\nname: x\ndescription: d\n{model_line}---\nbody\n"
        agent, problems = parse_agent_text(text, Path("x.md"))
        assert agent is not None, problems
        assert agent.policy.preference is None


def test_misspelt_tier_names_file_line_field_and_suggests() -> None:
    text = CTX.replace("preference: haiku", "preference: haikuu")
    agent, problems = parse_agent_text(text, Path("db-helper.md"))
    assert agent is None
    [problem] = problems
    assert problem.line == 7
    assert problem.field == "model.preference"
    assert "did you mean 'haiku'" in problem.message
    assert str(problem).startswith("db-helper.md:7: [model.preference] error:")


def test_misspelt_fields_suggest() -> None:
    text = CTX.replace("  fallbacks:", "  fallback:").replace("category:", "catgory:")
    agent, problems = parse_agent_text(text, Path("db-helper.md"))
    assert agent is None
    messages = {p.field: p.message for p in problems}
    assert "did you mean 'fallbacks'" in messages["model.fallback"]
    assert "did you mean 'category'" in messages["catgory"]


def test_malformed_yaml_reports_line() -> None:
    text = "---\nname: x\nmodel: [unclosed\ndescription: y\n---\n"
    agent, problems = parse_agent_text(text, Path("x.md"))
    assert agent is None
    assert problems[0].line is not None and problems[0].line >= 3
    assert "malformed YAML" in problems[0].message


def test_unclosed_frontmatter_and_missing_name() -> None:
    agent, problems = parse_agent_text("---\nname: x\n", Path("x.md"))
    assert agent is None and "not closed" in problems[0].message
    agent, problems = parse_agent_text("---\ndescription: d\n---\n", Path("x.md"))
    assert agent is None and problems[0].field == "name"


def test_escalation_to_itself_is_an_error() -> None:
    text = CTX.replace("to: sonnet", "to: haiku")
    agent, problems = parse_agent_text(text, Path("db-helper.md"))
    assert agent is None
    assert problems[0].field == "model.escalation.to"


def test_unknown_claude_code_model_suggests() -> None:
    text = "---\nname: x\ndescription: d\nmodel: sonet\n---\n"
    agent, problems = parse_agent_text(text, Path("x.md"))
    assert agent is None
    assert "did you mean 'sonnet'" in problems[0].message
    assert problems[0].line == 4
