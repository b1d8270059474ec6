"""The real Claude Code CLI against the fake upstream: the harness the integration tests use."""

from __future__ import annotations

import json
from pathlib import Path

from ctxrouter.testing.fake_anthropic import FakeAnthropic
from tests.harness.claude_code import (
    CLAUDE_CODE_VERSION,
    SpawnSubagent,
    claude_version,
    is_subagent_request,
    run_claude,
)

AGENT_BODY = "You are DOC-WRITER-7731, a documentation agent. Write one short paragraph."


def write_agent(project: Path) -> None:
    folder = project / ".claude" / "agents"
    folder.mkdir(parents=True)
    (folder / "doc-writer.md").write_text(
        "---\nname: doc-writer\ndescription: Writes short docs.\ntools: Read\n---\n"
        + AGENT_BODY
        + "\n"
    )


def test_pinned_version(claude_cli: Path) -> None:
    assert claude_version(claude_cli) == CLAUDE_CODE_VERSION


def test_claude_code_spawns_the_subagent_the_fake_asks_for(
    claude_cli: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    write_agent(project)
    spawn = SpawnSubagent("doc-writer", "Write a paragraph about caching.")
    with FakeAnthropic(responder=spawn) as fake:
        run = run_claude(
            "Document caching with the doc-writer agent.",
            base_url=fake.base_url,
            home=tmp_path / "home",
            cwd=project,
            binary=claude_cli,
        )
        requests = fake.requests
    assert run.ok, run.stderr or run.stdout
    assert run.result["subagent_stats"]["by_type"] == {"doc-writer": 1}
    assert spawn.spawned == 1 and spawn.subagent_requests == 1
    assert AGENT_BODY in json.dumps(spawn.subagent_bodies[0]["system"])
    sub = [r for r in requests if is_subagent_request(r.body)]
    main = [r for r in requests if not is_subagent_request(r.body)]
    assert len(sub) == 1 and len(main) == 2
    assert all(r.query == {"beta": "true"} and r.stream for r in requests)
    assert "x-claude-code-agent-id" in sub[0].headers
    assert all("x-claude-code-agent-id" not in r.headers for r in main)
    session = {r.headers["x-claude-code-session-id"] for r in requests}
    assert session == {run.result["session_id"]}
