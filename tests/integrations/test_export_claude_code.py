"""What ``export claude-code`` and ``install-hook`` write, read by the real Claude Code CLI.

The fake upstream makes the main agent call the Agent tool for one subagent; the subagent's
request must arrive on the model its exported file names (Claude Code maps the alias to the
model id), and Claude Code must run with the settings file install-hook wrote.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ctxrouter.cli.app import app
from tests.harness.claude_code import SpawnSubagent, models_by_role, run_with_subagent

runner = CliRunner()
SECURITY_AUDITOR = (  # the project's own file: CRLF, comments, Claude Code's fields
    "---\r\n"
    "name: security-auditor\r\n"
    "description: Reviews code for vulnerabilities.  # ours\r\n"
    "tools: Read, Grep\r\n"
    "model: opus  # someone's guess\r\n"
    "---\r\n"
    "You are our security auditor. Report findings as a list.\r\n"
)


def subagent_run(
    claude_cli: Path, project: Path, home: Path, spawn: SpawnSubagent, env: dict[str, str]
) -> tuple[list[str], list[str]]:
    """Run ``claude -p``; the models of the subagent's requests and of the main agent's."""
    run, requests = run_with_subagent(
        spawn,
        f"Use the {spawn.subagent_type} agent.",
        home=home,
        cwd=project,
        binary=claude_cli,
        env=env,
    )
    assert run.ok, run.stderr or run.stdout
    assert run.result["subagent_stats"]["by_type"] == {spawn.subagent_type: 1}
    return models_by_role(requests)


@pytest.mark.parametrize(
    ("agent", "existing", "action", "model"),
    [
        ("python-pro", None, "created", "claude-haiku-5-5"),
        ("security-auditor", SECURITY_AUDITOR, "changed", "claude-sonnet-5-5"),
    ],
)
def test_the_subagent_runs_on_the_exported_tier(
    claude_cli: Path,
    tmp_path: Path,
    agent: str,
    existing: str | None,
    action: str,
    model: str,
) -> None:
    project = tmp_path / "project"
    agents = project / ".claude" / "agents"
    agents.mkdir(parents=True)
    if existing is not None:
        (agents / f"{agent}.md").write_bytes(existing.encode())
    result = runner.invoke(
        app, ["export", "claude-code", "--dir", str(agents), "--create", "--agent", agent, "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"][action] == 1
    spawn = SpawnSubagent(agent, "Do the task you are made for.")
    sub, main = subagent_run(claude_cli, project, tmp_path / "home", spawn, {})
    assert sub and set(sub) == {model}
    assert model not in main  # the subagent's model came from its file, not its caller


def test_claude_code_runs_with_the_installed_hook(
    claude_cli: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    (project / ".claude" / "agents").mkdir(parents=True)
    (project / ".claude" / "agents" / "python-pro.md").write_text(
        "---\nname: python-pro\ndescription: Our Python agent.\n---\nWrite typed Python.\n"
    )
    monkeypatch.chdir(project)
    result = runner.invoke(app, ["install-hook", "--project"])
    assert result.exit_code == 0, result.output
    assert (project / ".claude" / "settings.json").exists()
    data = tmp_path / "data"
    # the main agent asks for opus; the hook (run in-process, no helper left behind) routes
    # python-pro per the catalog: its request on haiku shows Claude Code ran the hook
    spawn = SpawnSubagent(
        "python-pro", "Write a Python function that adds two numbers.", model="opus"
    )
    env = {"CTXROUTER_DATA_DIR": str(data), "CTXROUTER_HOOK_DAEMON": "0"}
    sub, _ = subagent_run(claude_cli, project, tmp_path / "home", spawn, env)
    assert sub and set(sub) == {"claude-haiku-5-5"}
    assert not (data / "hook.log").exists()  # the hook logs its errors there
