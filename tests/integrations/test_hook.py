"""``ctxrouter hook pre-tool-use``: the routing answer, the process, the helper."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctxrouter.config import Settings
from ctxrouter.integrations.claude_code.hook import ask_helper, socket_path
from ctxrouter.integrations.claude_code.hook_route import build_router, hook_output
from ctxrouter.routing.router import Router

TASK = "Write a Python function that adds two numbers."


def agent_event(**tool_input: object) -> dict[str, object]:
    return {
        "session_id": "s-1",
        "transcript_path": "/tmp/t.jsonl",
        "cwd": "/nonexistent",
        "hook_event_name": "PreToolUse",
        "tool_name": "Agent",
        "tool_input": {
            "description": "add numbers",
            "prompt": TASK,
            "subagent_type": "python-pro",
            "run_in_background": False,
            **tool_input,
        },
        "tool_use_id": "toolu_1",
    }


@pytest.fixture
def router(settings: Settings) -> Router:
    return Router.from_settings(settings)


def test_an_agent_call_gets_the_routed_alias_and_keeps_its_input(router: Router) -> None:
    event = agent_event(model="opus", effort="high")
    output = hook_output(event, router)
    assert output is not None
    specific = output["hookSpecificOutput"]
    assert specific["hookEventName"] == "PreToolUse"
    assert specific["updatedInput"] == {**event["tool_input"], "model": "haiku"}  # type: ignore[dict-item]
    assert "python-pro to haiku (instead of opus)" in specific["additionalContext"]


def test_a_harder_task_goes_up_and_the_caller_is_named(router: Router) -> None:
    event = agent_event(
        prompt="Threat model the payment API's authentication and its secrets handling."
    )
    event["agent_type"] = "backend-architect"
    output = hook_output(event, router)
    assert output is not None
    assert output["hookSpecificOutput"]["updatedInput"]["model"] == "sonnet"
    assert "called by backend-architect" in output["hookSpecificOutput"]["additionalContext"]


@pytest.mark.parametrize(
    "event",
    [
        {"tool_name": "Bash", "tool_input": {"command": "ls"}},
        agent_event(subagent_type="general-purpose"),  # Claude Code's own, not in the catalog
        {"tool_name": "Agent", "tool_input": "not an object"},
    ],
)
def test_other_calls_are_left_alone(router: Router, event: dict[str, object]) -> None:
    assert hook_output(event, router) is None


def test_project_agent_files_are_read_from_the_sessions_cwd(tmp_path: Path) -> None:
    agents = tmp_path / "project" / ".claude" / "agents"
    agents.mkdir(parents=True)
    (agents / "scribe.md").write_text(
        "---\nname: scribe\ndescription: Release notes.\nmodel: opus\n---\nYou write notes.\n"
    )
    router = build_router(tmp_path / "project", home=tmp_path / "home")
    output = hook_output(agent_event(subagent_type="scribe"), router)
    assert output is not None
    assert output["hookSpecificOutput"]["updatedInput"]["model"] == "opus"


# -- the process, as Claude Code runs it ---------------------------------------------------


def run_hook(stdin: bytes, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "ctxrouter", "hook", "pre-tool-use"],
        input=stdin,
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def hook_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The hook's environment; any helper it starts is stopped afterwards."""
    env = {
        **os.environ,
        "CTXROUTER_DATA_DIR": str(tmp_path / "data"),
        "XDG_RUNTIME_DIR": str(tmp_path / "run"),
        "CTXROUTER_HOOK_IDLE_S": "60",
    }
    yield env
    reply = ask_helper(socket_path(env), {"cmd": "stop"})
    assert reply is None or reply == {"stopped": True}


def test_the_process_prints_the_answer(hook_env: dict[str, str]) -> None:
    done = run_hook(json.dumps(agent_event()).encode(), {**hook_env, "CTXROUTER_HOOK_DAEMON": "0"})
    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout)
    assert output["hookSpecificOutput"]["updatedInput"]["model"] == "haiku"


@pytest.mark.parametrize(
    "stdin",
    [b"not json", b"[1, 2]", json.dumps({"tool_name": "Bash", "tool_input": {}}).encode()],
)
def test_bad_or_other_input_prints_nothing_and_exits_0(
    hook_env: dict[str, str], stdin: bytes
) -> None:
    done = run_hook(stdin, hook_env)
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")


def test_an_internal_error_is_logged_and_lets_the_call_through(
    hook_env: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "broken.toml"
    config.write_text("agent_dirs = [")  # the router cannot be built
    env = {**hook_env, "CTXROUTER_CONFIG": str(config), "CTXROUTER_HOOK_DAEMON": "0"}
    done = run_hook(json.dumps(agent_event()).encode(), env)
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")
    log = (tmp_path / "data" / "hook.log").read_text()
    assert "ctxrouter hook pre-tool-use failed" in log and "broken.toml" in log


def test_the_helper_answers_later_calls(hook_env: dict[str, str]) -> None:
    path = socket_path(hook_env)
    assert ask_helper(path, {"cmd": "ping"}) is None
    first = run_hook(json.dumps(agent_event()).encode(), hook_env)  # routes, starts the helper
    assert json.loads(first.stdout)["hookSpecificOutput"]["updatedInput"]["model"] == "haiku"
    reply = None
    for _ in range(600):  # the helper is loading (readiness, not a timed assertion)
        reply = ask_helper(path, {"cmd": "ping"})
        if reply is not None:
            break
        subprocess.run(["sleep", "0.05"], check=True)
    assert reply is not None and reply["pid"] > 0
    via_helper = ask_helper(path, {"event": agent_event()})
    assert via_helper is not None
    assert via_helper["output"]["hookSpecificOutput"]["updatedInput"]["model"] == "haiku"
    second = run_hook(json.dumps(agent_event()).encode(), hook_env)
    assert second.stdout == first.stdout
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"


# -- the socket's name: which ctxrouter serves it -------------------------------------------


def install_metadata(site: Path, version: str) -> None:
    """A ctxrouter distribution's metadata in ``site``, as an install leaves it (the code run
    stays the one under test): the first on ``sys.path``, so it is the installed version."""
    for old in site.glob("ctxrouter-*.dist-info"):
        shutil.rmtree(old)
    info = site / f"ctxrouter-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: ctxrouter\nVersion: {version}\n")


def socket_of(env: dict[str, str]) -> tuple[str, bool, str]:
    """In a fresh process: the helper's socket, whether finding it read the installed metadata
    (imported importlib.metadata), and ``ctxrouter.__version__``."""
    code = (
        "import json, sys, ctxrouter.integrations.claude_code.hook as hook\n"
        "path = str(hook.socket_path())\n"
        "read = 'importlib.metadata' in sys.modules\n"
        "import ctxrouter\n"
        "print(json.dumps([path, read, ctxrouter.__version__]))"
    )
    done = subprocess.run(  # -P: no working folder on sys.path
        [sys.executable, "-P", "-c", code], env=env, capture_output=True, text=True, check=True
    )
    path, read, version = json.loads(done.stdout)
    return path, read, version


def test_the_socket_follows_the_installed_version_read_once_per_install(tmp_path: Path) -> None:
    site, run = tmp_path / "site", tmp_path / "run"
    run.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "XDG_RUNTIME_DIR": str(run)}
    install_metadata(site, "7.7.7")
    first = socket_of(env)
    again = socket_of(env)
    installed = site.stat().st_mtime_ns
    install_metadata(site, "7.7.8")
    os.utime(site, ns=(installed, installed + 10**9))  # distinct even on a coarse clock
    upgraded = socket_of(env)
    assert first[1:] == (True, "7.7.7")
    assert again == (first[0], False, "7.7.7")  # remembered: importlib.metadata not imported
    assert upgraded[1:] == (True, "7.7.8") and upgraded[0] != first[0]
    assert Path(first[0]).parent == run / f"ctxrouter-{os.getuid()}"
