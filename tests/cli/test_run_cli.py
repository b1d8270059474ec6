from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ctxrouter.cli.app import app
from ctxrouter.testing.fake_anthropic import FakeAnthropic, Fault

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"CTXROUTER_DATA_DIR": str(tmp_path / "data")}


def test_route_shows_the_trace(env: dict[str, str]) -> None:
    result = runner.invoke(
        app, ["route", "refactoring-expert", "split the monolith into services", "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["tier"] == "sonnet"
    assert [s["stage"] for s in data["trace"]][:2] == ["default", "conditions"]


def test_run_feedback_events_round_trip(env: dict[str, str], tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "python-pro", "Add a slugify helper", "--json"], env=env)
    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)
    assert run["model"].startswith("claude-") and run["attempts"] >= 1
    assert run["tokens"]["input"] > 0 and run["cost_usd"] > 0
    assert run["trace"][0]["stage"] == "default"
    db = tmp_path / "data" / "ctxrouter.db"
    assert db.exists()

    listed = runner.invoke(app, ["events", "--run", run["run_id"], "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    events = json.loads(listed.stdout)
    assert len(events) == run["attempts"]
    assert all(e["prompt_text"] is None for e in events)

    fb = runner.invoke(
        app, ["feedback", run["run_id"], "--correction", "use python-slugify", "--json"], env=env
    )
    assert fb.exit_code == 0, fb.output
    assert json.loads(fb.stdout)["agent"] == "python-pro"
    short = run["run_id"][-8:]  # as the events table shows it
    fb = runner.invoke(app, ["feedback", short, "--rating", "2", "--json"], env=env)
    assert fb.exit_code == 0, fb.output
    assert json.loads(fb.stdout)["run_id"] == run["run_id"]
    missing = runner.invoke(app, ["feedback", "nope", "--correction", "x"], env=env)
    assert missing.exit_code == 2 and "unknown run 'nope'" in missing.stderr


def test_run_human_output(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["run", "terraform-specialist", "Write a VPC module"], env=env)
    assert result.exit_code == 0, result.output
    assert "model     claude-" in result.stdout and "cost      $" in result.stdout
    assert "recorded in" in result.stderr


def test_run_against_the_fake_api_with_a_failing_validator(
    env: dict[str, str], tmp_path: Path
) -> None:
    check = tmp_path / "check.py"
    check.write_text("import sys\nsys.exit(0 if 'def ' in sys.stdin.read() else 1)\n")
    with FakeAnthropic() as fake:
        fake.enqueue(Fault.ok(text="no code here"), Fault.ok(text="def slugify(s): ..."))
        result = runner.invoke(
            app,
            [
                "run", "python-pro", "Add a slugify helper", "--provider", "anthropic",
                "--validate", f"{sys.executable} {check}", "--json",
            ],
            env={
                **env,
                "CTXROUTER_PROVIDERS__ANTHROPIC_BASE_URL": fake.base_url,
                "ANTHROPIC_API_KEY": "sk-test",
            },
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)
    assert run["answer"] == "def slugify(s): ..." and run["escalations"] == 1
    assert [e["outcome"] for e in run["events"]] == ["rejected", "success"]


def test_run_errors(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["run", "pyton-pro", "x"], env=env)
    assert result.exit_code == 2 and "did you mean 'python-pro'" in result.stderr
    result = runner.invoke(app, ["run", "python-pro", "x", "--provider", "openai"], env=env)
    assert result.exit_code == 2 and "unknown provider 'openai'" in result.stderr
    result = runner.invoke(app, ["run", "python-pro", " "], env=env)
    assert result.exit_code == 2 and "the task is empty" in result.stderr
    result = runner.invoke(app, ["run", "python-pro", "x", "--provider", "anthropic"], env=env)
    assert result.exit_code == 2 and "ANTHROPIC_API_KEY" in result.stderr


def test_serve_beyond_loopback_refuses_to_start_without_gateway_keys(
    env: dict[str, str],
) -> None:
    result = runner.invoke(app, ["serve", "--host", "0.0.0.0"], env=env)
    assert result.exit_code == 2
    assert "needs gateway keys" in result.stderr
    assert "ctxrouter keys create --user NAME" in result.stderr
