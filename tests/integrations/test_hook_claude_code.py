"""The hook end to end, run by the real Claude Code CLI.

The fake upstream makes the main agent call the Agent tool for ``python-pro`` with
``model: "opus"``. The project's ``python-pro.md`` has no ``model:``, so ctxrouter uses the
catalog's python-pro policy (haiku for a well-specified task): with the hook installed the
subagent's request arrives on claude-haiku-5-5; without it, on the opus the main agent chose.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

from ctxrouter.integrations.claude_code.hook import ask_helper, socket_path
from tests.harness.claude_code import (
    SpawnSubagent,
    claude_env,
    models_by_role,
    run_with_subagent,
)

TASK = "Write a Python function that adds two numbers."
AGENT_FILE = """---
name: python-pro
description: Our Python agent. Use for Python code.
---
You are the team's Python agent. Write small, typed, tested functions and explain nothing.
"""


def project_with(tmp_path: Path, *, hook: bool) -> Path:
    project = tmp_path / ("hooked" if hook else "plain")
    (project / ".claude" / "agents").mkdir(parents=True)
    (project / ".claude" / "agents" / "python-pro.md").write_text(AGENT_FILE)
    if hook:
        command = f"{shlex.quote(sys.executable)} -m ctxrouter hook pre-tool-use"
        settings = {
            "hooks": {
                "PreToolUse": [
                    {"matcher": "Agent", "hooks": [{"type": "command", "command": command}]}
                ]
            }
        }
        (project / ".claude" / "settings.json").write_text(json.dumps(settings))
    return project


def subagent_models(claude_cli: Path, project: Path, tmp_path: Path) -> tuple[list[str], str]:
    spawn = SpawnSubagent("python-pro", TASK, model="opus")
    env = {
        "CTXROUTER_DATA_DIR": str(tmp_path / "data"),
        "XDG_RUNTIME_DIR": str(tmp_path / "run"),
        "CTXROUTER_HOOK_IDLE_S": "60",
    }
    home = tmp_path / "home"
    run, requests = run_with_subagent(
        spawn,
        "Add the numbers with python-pro.",
        home=home,
        cwd=project,
        binary=claude_cli,
        env=env,
    )
    assert run.ok, run.stderr or run.stdout
    assert spawn.spawned == 1
    ask_helper(socket_path(claude_env(home, "", env)), {"cmd": "stop"})
    log = tmp_path / "data" / "hook.log"
    return models_by_role(requests)[0], log.read_text() if log.exists() else ""


def test_the_subagent_runs_on_the_model_the_hook_chose(claude_cli: Path, tmp_path: Path) -> None:
    models, log = subagent_models(claude_cli, project_with(tmp_path, hook=True), tmp_path)
    assert log == ""
    assert models and set(models) == {"claude-haiku-5-5"}


def test_without_the_hook_the_main_agents_choice_stands(claude_cli: Path, tmp_path: Path) -> None:
    models, _ = subagent_models(claude_cli, project_with(tmp_path, hook=False), tmp_path)
    assert models and set(models) == {"claude-opus-5-5"}
