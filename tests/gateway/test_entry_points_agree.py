"""Every entry point makes the same decision for the same agent, task and state.

The library, ``route``, ``assign``, ``run``, the gateway and the hook each build their router
with :meth:`Router.from_settings` and find agents with :func:`discover_catalog`; these tests
change the state (corrections recorded, a project's agent files, ``CTXROUTER_AGENT_DIRS``) and
ask each entry point.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from ctxrouter.cli.app import app
from ctxrouter.config import Settings
from ctxrouter.integrations.claude_code.hook_route import build_router, hook_output
from ctxrouter.routing import Router, RouteRequest
from ctxrouter.testing.fake_anthropic import Fault

from .conftest import StartGateway

runner = CliRunner()
TASK = "Add a slugify helper to the utils module"


def cli(*args: str) -> dict[str, object]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def gateway_tier(start_gateway: StartGateway, agent: str, task: str, **kwargs: object) -> str:
    setup = start_gateway(**kwargs)
    setup.fake.enqueue(Fault.ok("done"))
    answer = httpx.post(
        f"{setup.url}/v1/messages",
        json={
            "model": "claude-sonnet-5-5",
            "max_tokens": 64,
            "messages": [{"role": "user", "content": task}],
        },
        headers={"x-api-key": "sk-test", "x-ctxrouter-agent": agent},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    tier = setup.events[-1].tier
    assert tier is not None
    return tier


def hook_alias(agent: str, task: str, cwd: Path) -> str:
    event = {
        "tool_name": "Agent",
        "cwd": str(cwd),
        "tool_input": {"prompt": task, "subagent_type": agent, "description": "x"},
    }
    output = hook_output(event, build_router(cwd))
    assert output is not None
    alias = output["hookSpecificOutput"]["updatedInput"]["model"]
    assert isinstance(alias, str)
    return alias


def test_corrections_move_every_entry_point_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, start_gateway: StartGateway
) -> None:
    monkeypatch.setenv("CTXROUTER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    before = cli("route", "python-pro", TASK)
    assert before["tier"] == "haiku"
    for _ in range(3):  # three runs, each corrected: python-pro is on too weak a tier
        run = cli("run", "python-pro", TASK)
        cli("feedback", str(run["run_id"]), "--correction", "that is not what I asked")

    settings = Settings.load()
    library = Router.from_settings(settings).decide(RouteRequest(TASK, "python-pro"))
    routed = cli("route", "python-pro", TASK)
    assigned = cli("assign", "--agent", "python-pro", "--task", TASK)
    ran = cli("run", "python-pro", TASK)
    tiers = {
        "library": library.tier.value,
        "route": routed["tier"],
        "assign": assigned["tier"],
        "run": ran["routed_tier"],
        "hook": hook_alias("python-pro", TASK, tmp_path),
        "gateway": gateway_tier(
            start_gateway, "python-pro", TASK, settings={"data_dir": tmp_path / "data"}
        ),
    }
    assert set(tiers.values()) == {"sonnet"}, tiers
    assert any("corrections" in str(step) for step in routed["trace"])  # type: ignore[union-attr]


def write_agent(folder: Path, name: str, tier: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.md").write_text(
        f"---\nname: {name}\ndescription: Models threats in {name} designs.\nmodel: {tier}\n---\n"
        f"You are {name}: you model the threats of a system from its design documents.\n"
    )


def test_a_projects_agents_are_known_to_every_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, start_gateway: StartGateway
) -> None:
    project = tmp_path / "project"
    write_agent(project / ".claude" / "agents", "threat-modeler", "opus")
    monkeypatch.setenv("CTXROUTER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(project)
    task = "Model the threats of the upload service"
    assert cli("route", "threat-modeler", task)["tier"] == "opus"
    assert cli("assign", "--agent", "threat-modeler", "--task", task)["tier"] == "opus"
    assert cli("run", "threat-modeler", task)["routed_tier"] == "opus"
    assert hook_alias("threat-modeler", task, project) == "opus"
    assert gateway_tier(start_gateway, "threat-modeler", task, cwd=project) == "opus"


def test_agent_dirs_from_the_environment_and_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CTXROUTER_DATA_DIR", str(tmp_path / "data"))
    write_agent(tmp_path / "a", "alpha-modeler", "haiku")
    write_agent(tmp_path / "b", "beta-modeler", "opus")
    monkeypatch.setenv("CTXROUTER_AGENT_DIRS", f"{tmp_path / 'a'}:{tmp_path / 'b'}")
    assert cli("route", "alpha-modeler", "Model it")["tier"] == "haiku"
    assert cli("route", "beta-modeler", "Model it")["tier"] == "opus"
    write_agent(tmp_path / "c", "beta-modeler", "sonnet")  # --agents comes last: it wins
    assert cli("route", "beta-modeler", "Model it", "--agents", str(tmp_path / "c"))["tier"] == (
        "sonnet"
    )


@pytest.mark.parametrize("value", ["/a::/b", ":/a", "/a:"])
def test_a_malformed_agent_dirs_variable_is_a_one_line_error(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CTXROUTER_AGENT_DIRS", value)
    result = runner.invoke(app, ["route", "python-pro", "Add a helper"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "CTXROUTER_AGENT_DIRS" in lines[0] and "is empty" in lines[0]
