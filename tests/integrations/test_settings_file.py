"""Merging ctxrouter's PreToolUse hook into Claude Code's settings.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ctxrouter.errors import ConfigError
from ctxrouter.integrations.claude_code.settings_file import (
    Action,
    hook_command,
    install,
    is_ctxrouter_hook,
    matches_agent,
    merge_hook,
    parse_settings,
    render_settings,
)

CMD = "/opt/venv/bin/ctxrouter hook pre-tool-use"
OURS = {"matcher": "Agent", "hooks": [{"type": "command", "command": CMD}]}
LINT = {"matcher": "Write|Edit", "hooks": [{"type": "command", "command": "ruff check"}]}


def test_empty_settings_get_the_entry() -> None:
    merged, changes = merge_hook({}, CMD)
    assert merged == {"hooks": {"PreToolUse": [OURS]}}
    assert changes == ["added PreToolUse hook (matcher Agent)"]


def test_other_keys_and_hooks_are_kept_in_order() -> None:
    settings = {
        "model": "opus",
        "hooks": {"PostToolUse": [LINT], "PreToolUse": [LINT]},
        "permissions": {"allow": ["Bash(ls:*)"]},
    }
    merged, _ = merge_hook(settings, CMD)
    assert merged == {
        "model": "opus",
        "hooks": {"PostToolUse": [LINT], "PreToolUse": [LINT, OURS]},
        "permissions": {"allow": ["Bash(ls:*)"]},
    }
    assert list(merged) == ["model", "hooks", "permissions"]
    assert settings["hooks"]["PreToolUse"] == [LINT]  # the input is not modified


def test_running_twice_adds_nothing() -> None:
    once, _ = merge_hook({}, CMD)
    twice, changes = merge_hook(once, CMD)
    assert twice == once and changes == []


def test_an_entry_with_another_path_is_updated_in_place() -> None:
    old = "'/old place/bin/python' -m ctxrouter hook pre-tool-use"
    group = {"matcher": "Agent|Bash", "hooks": [{"type": "command", "command": old, "timeout": 9}]}
    merged, changes = merge_hook({"hooks": {"PreToolUse": [LINT, group]}}, CMD)
    assert merged["hooks"]["PreToolUse"] == [
        LINT,
        {"matcher": "Agent|Bash", "hooks": [{"type": "command", "command": CMD, "timeout": 9}]},
    ]
    assert changes == [f"updated the command (was {old})"]


def test_copies_and_entries_that_never_see_agent_are_replaced() -> None:
    task = {
        "matcher": "Task",
        "hooks": [{"type": "command", "command": "ctxrouter hook pre-tool-use"}],
    }
    shared = {"matcher": "*", "hooks": [{"type": "command", "command": CMD}, LINT["hooks"][0]]}
    twin = {"matcher": "Agent", "hooks": [{"type": "command", "command": CMD}]}
    merged, changes = merge_hook({"hooks": {"PreToolUse": [task, shared, twin]}}, CMD)
    # the Task group held only our hook and goes; the "*" group keeps ours; the twin goes
    assert merged["hooks"]["PreToolUse"] == [shared]
    assert changes == [
        "removed a ctxrouter hook from PreToolUse[0]",
        "removed a ctxrouter hook from PreToolUse[2]",
    ]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ([], "must be a JSON object"),
        ({"hooks": []}, "'hooks' must be an object, not a list"),
        ({"hooks": {"PreToolUse": {}}}, "'hooks.PreToolUse' must be a list, not an object"),
    ],
)
def test_wrong_shapes_are_errors(settings: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        merge_hook(settings, CMD, "/p/settings.json")


@pytest.mark.parametrize(
    ("command", "ours"),
    [
        ("/usr/local/bin/ctxrouter hook pre-tool-use", True),
        ("ctxrouter hook pre-tool-use", True),
        ("'/my venv/bin/ctxrouter' hook pre-tool-use", True),
        ("python3 -m ctxrouter hook pre-tool-use", True),
        ("C:\\venv\\Scripts\\ctxrouter.exe hook pre-tool-use", True),
        ("ctxrouter hook pre-tool-use-other", False),
        ("my-ctxrouter hook pre-tool-use", False),
        ("ctxrouter hook status", False),
    ],
)
def test_recognises_ctxrouter_hooks(command: str, ours: bool) -> None:
    assert is_ctxrouter_hook({"type": "command", "command": command}) is ours


@pytest.mark.parametrize(
    ("matcher", "matches"),
    [(None, True), ("", True), ("*", True), ("Agent", True), ("Task|Agent", True),
     ("Ag.*", True), ("Bash", False), ("Task", False), ("Agents", False), ("[", False)],
)  # fmt: skip
def test_matcher_semantics(matcher: str | None, matches: bool) -> None:
    assert matches_agent(matcher) is matches


def test_hook_command_quotes_paths_with_spaces() -> None:
    assert hook_command("/opt/venv/bin/ctxrouter") == CMD
    assert hook_command("/Users/Jo Doe/.venv/bin/ctxrouter") == (
        "'/Users/Jo Doe/.venv/bin/ctxrouter' hook pre-tool-use"
    )
    assert is_ctxrouter_hook({"type": "command", "command": hook_command("/a b/ctxrouter")})


def test_broken_json_names_the_file_and_line() -> None:
    with pytest.raises(
        ConfigError, match=r"^/p/settings\.json:3:13: not valid JSON \(Expecting property name"
    ):
        parse_settings('{\n  "a": 1,\n  "hooks": {,}\n}\n', "/p/settings.json")
    assert parse_settings("  \n", "x") == {}


def test_render_keeps_indentation_and_line_endings() -> None:
    assert (
        render_settings({"a": [1]}, '{\r\n\t"a": []\r\n}\r\n')
        == '{\r\n\t"a": [\r\n\t\t1\r\n\t]\r\n}\r\n'
    )
    assert render_settings({"é": 1}) == '{\n  "é": 1\n}\n'


def test_install_creates_folder_and_file(tmp_path: Path) -> None:
    path = tmp_path / "project" / ".claude" / "settings.json"
    done = install(path, CMD)
    assert done.action is Action.ADDED and done.before == ""
    assert json.loads(path.read_text()) == {"hooks": {"PreToolUse": [OURS]}}
    again = install(path, CMD)
    assert again.action is Action.UNCHANGED and again.after == again.before


def test_install_keeps_the_rest_and_never_writes_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "project" / "settings.json"
    path.parent.mkdir()
    original = '{\n    "model": "sonnet",\n    "env": {"A": "1"}\n}\n'
    path.write_text(original)
    done = install(path, CMD, dry_run=True)
    assert done.action is Action.ADDED and path.read_text() == original
    install(path, CMD)
    text = path.read_text()
    assert text.startswith('{\n    "model": "sonnet",\n    "env": {\n        "A": "1"\n    },\n')
    assert json.loads(text)["hooks"] == {"PreToolUse": [OURS]}
    broken = '{\n  "model": "sonnet",\n}\n'
    path.write_text(broken)
    with pytest.raises(ConfigError, match=rf"^{path}:3:1: not valid JSON"):
        install(path, CMD)
    assert path.read_text() == broken
    assert [p.name for p in path.parent.iterdir()] == ["settings.json"]  # no temporary left


def test_a_symlinked_settings_file_stays_a_link(tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles" / "claude-settings.json"
    dotfiles.parent.mkdir()
    dotfiles.write_text('{"model": "opus"}')
    link = tmp_path / "user" / ".claude" / "settings.json"
    link.parent.mkdir(parents=True)
    link.symlink_to(dotfiles)
    install(link, CMD)
    assert link.is_symlink() and link.resolve() == dotfiles
    assert json.loads(dotfiles.read_text()) == {"model": "opus", "hooks": {"PreToolUse": [OURS]}}
