from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ctxrouter.cli.app import app
from ctxrouter.testing.fake_anthropic import FakeAnthropic

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"CTXROUTER_DATA_DIR": str(tmp_path / "data")}


def test_pipeline_list_and_show(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["pipeline", "list", "--json"], env=env)
    assert result.exit_code == 0, result.output
    names = {p["name"] for p in json.loads(result.stdout)}
    assert names == {
        "design-implement-test-review", "research-generate-polish",
        "troubleshoot-fix-test", "audit-remediate-verify",
    }  # fmt: skip
    shown = runner.invoke(app, ["pipeline", "show", "troubleshoot-fix-test"], env=env)
    assert shown.exit_code == 0 and "fix        python-pro (haiku) after diagnose" in shown.stdout


def test_pipeline_run_reports_savings_from_tokens(env: dict[str, str]) -> None:
    result = runner.invoke(
        app,
        ["pipeline", "run", "troubleshoot-fix-test", "-t", "Orders ship twice", "--json"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] and [s["id"] for s in data["steps"]] == ["diagnose", "fix", "test"]
    assert data["claimed_savings_vs_all_sonnet_pct"] == 67
    assert data["all_sonnet_usd"] > data["cost_usd"] > 0
    expected = 100 * (1 - data["cost_usd"] / data["all_sonnet_usd"])  # from rounded costs
    assert data["savings_vs_all_sonnet_pct"] == pytest.approx(expected, abs=0.01)
    assert data["critical_path"] == ["diagnose", "fix", "test"] and data["wall_s"] > 0
    human = runner.invoke(
        app, ["pipeline", "run", "troubleshoot-fix-test", "-t", "Orders ship twice"], env=env
    )
    assert "savings" in human.stdout and "(claimed 67%)" in human.stdout


def test_user_pipeline_file_with_an_error(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "mine.yaml"
    bad.write_text("schema_version: 1\nname: mine\nsteps:\n  - {id: a, agent: nobody}\n")
    result = runner.invoke(app, ["pipeline", "run", str(bad), "-t", "x"], env=env)
    assert result.exit_code == 2
    assert "mine.yaml:4: [steps[0].agent] error: unknown agent 'nobody'" in result.stderr


def test_batch_run_resumes(env: dict[str, str], tmp_path: Path) -> None:
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(
        "".join(json.dumps({"id": f"t{i}", "task": f"Bug {i}"}) + "\n" for i in range(6))
    )
    args = ["batch", "run", "troubleshoot-fix-test", str(tasks), "--concurrency", "3", "--json"]
    first = runner.invoke(app, args, env=env)
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)
    assert (data["ran"], data["ok"], data["already_done"]) == (6, 6, 0)
    results = tmp_path / "tasks.results.jsonl"
    assert len(results.read_text().splitlines()) == 6
    again = json.loads(runner.invoke(app, args, env=env).stdout)
    assert (again["ran"], again["already_done"]) == (0, 6)
    restarted = json.loads(runner.invoke(app, [*args, "--restart"], env=env).stdout)
    assert restarted["ran"] == 6


def test_batch_api_path_is_discounted(env: dict[str, str], tmp_path: Path) -> None:
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text("".join(json.dumps({"task": f"Bug {i}"}) + "\n" for i in range(4)))
    with FakeAnthropic(batch_polls=1) as fake:
        result = runner.invoke(
            app,
            ["batch", "run", "troubleshoot-fix-test", str(tasks), "--provider", "anthropic",
             "--batch-api", "--concurrency", "4", "--json"],
            env={
                **env,
                "CTXROUTER_PROVIDERS__ANTHROPIC_BASE_URL": fake.base_url,
                "ANTHROPIC_API_KEY": "sk-test",
                "CTXROUTER_PROVIDERS__BATCH_MAX_WAIT_S": "0.2",
                "CTXROUTER_PROVIDERS__BATCH_POLL_INTERVAL_S": "0.05",
            },
        )  # fmt: skip
        batches = [r for r in fake.requests if r.path == "/v1/messages/batches"]
        singles = [r for r in fake.requests if r.path == "/v1/messages"]
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ok"] == 4
    # the batchable step (test) of all four tasks went as Message Batches, the rest one by one
    assert sum(len(r.body["requests"]) for r in batches) == 4
    assert len(singles) == 8
    events = json.loads(runner.invoke(app, ["events", "--limit", "0", "--json"], env=env).stdout)
    batched = [e for e in events if e["batch"]]
    assert len(batched) == 4 and all(e["step"] == "test" for e in batched)
