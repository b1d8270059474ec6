"""``ctxrouter install-hook``: project and user settings, dry run, JSON, idempotency, errors."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ctxrouter.cli.app import app

runner = CliRunner()
# the console script beside the interpreter running the tests (.venv/bin/ctxrouter)
SCRIPT = Path(sys.executable).parent / "ctxrouter"
COMMAND = f"{shlex.quote(str(SCRIPT.absolute()))} hook pre-tool-use"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def install(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["install-hook", *args])
    return result.exit_code, result.stdout, result.stderr


def hooks_of(path: Path) -> list[dict[str, object]]:
    groups: list[dict[str, object]] = json.loads(path.read_text())["hooks"]["PreToolUse"]
    return groups


def test_project_is_the_default_and_a_second_run_adds_nothing(project: Path) -> None:
    assert SCRIPT.is_file()
    code, out, err = install()
    assert code == 0, err
    path = project / ".claude" / "settings.json"
    assert out.splitlines()[0] == f"added: {path}"
    assert f"  hook: {COMMAND}" in out
    expected = [{"matcher": "Agent", "hooks": [{"type": "command", "command": COMMAND}]}]
    assert hooks_of(path) == expected
    before = path.read_bytes()
    code, out, _ = install("--project", "--json")
    assert code == 0
    assert json.loads(out) == {
        "path": str(path),
        "scope": "project",
        "action": "unchanged",
        "command": COMMAND,
        "changes": [],
        "dry_run": False,
    }
    assert path.read_bytes() == before


def test_user_writes_under_home(project: Path, isolated_env: Path) -> None:
    code, out, _ = install("--user", "--json")
    assert code == 0
    path = isolated_env / ".claude" / "settings.json"
    assert json.loads(out)["path"] == str(path) and json.loads(out)["scope"] == "user"
    assert hooks_of(path)[0]["matcher"] == "Agent"
    assert not (project / ".claude").exists()


def test_dry_run_shows_the_diff_and_writes_nothing(project: Path) -> None:
    settings = project / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text('{"model": "sonnet"}\n')
    code, out, err = install("--dry-run")
    assert code == 0
    assert out.startswith("--- a/.claude/settings.json\n+++ b/.claude/settings.json\n")
    assert '-{"model": "sonnet"}\n' in out and f'+            "command": "{COMMAND}"\n' in out
    assert "added: " in err and "(dry run: nothing written)" in err
    assert settings.read_text() == '{"model": "sonnet"}\n'
    code, out, _ = install("--dry-run", "--json")
    assert json.loads(out)["diff"].startswith("--- a/.claude/settings.json")


def test_an_old_path_is_updated(project: Path) -> None:
    settings = project / ".claude" / "settings.json"
    settings.parent.mkdir()
    old = {"type": "command", "command": "/old/bin/ctxrouter hook pre-tool-use", "timeout": 5}
    other = {"type": "command", "command": "echo hi"}
    data = {"hooks": {"PreToolUse": [{"matcher": "Agent", "hooks": [other, old]}]}}
    settings.write_text(json.dumps(data))
    code, out, _ = install()
    assert code == 0
    assert out.splitlines()[:2] == [
        f"updated: {settings}",
        "  updated the command (was /old/bin/ctxrouter hook pre-tool-use)",
    ]
    assert hooks_of(settings) == [
        {"matcher": "Agent", "hooks": [other, {**old, "command": COMMAND}]}
    ]


def test_broken_json_is_an_error_naming_file_and_line(project: Path) -> None:
    settings = project / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text('{\n  "hooks": {\n    "PreToolUse": [\n  }\n}\n')
    code, out, err = install()
    assert code == 2 and out == ""
    assert f"error: {settings}:4:3: not valid JSON" in " ".join(err.split())
    assert "Traceback" not in err
    assert settings.read_text() == '{\n  "hooks": {\n    "PreToolUse": [\n  }\n}\n'


def test_wrong_shape_is_an_error(project: Path) -> None:
    settings = project / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text('{"hooks": {"PreToolUse": "ctxrouter"}}')
    code, _, err = install()
    assert code == 2
    assert "'hooks.PreToolUse' must be a list, not a string" in " ".join(err.split())
