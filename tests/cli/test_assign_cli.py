from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ctxrouter.cli.app import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("task", "tier"),
    [
        ("Implement the endpoints described in this OpenAPI spec", "haiku"),
        ("Generate unit tests from our test template for the cart module", "haiku"),
        ("Write a Terraform module for an S3 bucket with versioning", "haiku"),
        ("Decide the architecture for our event-driven order system", "sonnet"),
        ("Threat model the payment API", "sonnet"),
        ("Production is returning intermittent 500 errors and nobody knows why", "sonnet"),
    ],
)
def test_assign_picks_what_the_strategy_says(task: str, tier: str) -> None:
    result = runner.invoke(app, ["assign", "--task", task, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["tier"] == tier
    assert data["reasons"] and data["characteristics"]
    assert data["strength"] in {"strong", "moderate", "consider-alternative"}


def test_assign_human_output_explains() -> None:
    result = runner.invoke(app, ["assign", "-t", "Threat model the payment API"])
    assert result.exit_code == 0
    assert result.stdout.startswith("sonnet (claude-sonnet-5-5)")
    assert 'security-critical: keyword "threat model"' in result.stdout
    assert "decided:" in result.stdout


def test_assign_with_agent_applies_policy() -> None:
    args = ["assign", "--json", "-a", "database-optimizer", "-t"]
    cheap = json.loads(runner.invoke(app, [*args, "Rewrite this query to use the index"]).stdout)
    assert cheap["tier"] == "haiku"
    up = json.loads(runner.invoke(app, [*args, "Redesign the schema for tenant isolation"]).stdout)
    assert up["tier"] == "sonnet"
    assert any(s["stage"] == "conditions" and s["changed"] for s in up["trace"])


def test_assign_tasks_file_one_result_a_line(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(
        '{"task": "Write a Terraform module for a VPC"}\n'
        "\n"
        '{"task": "Threat model the login flow", "agent": "security-auditor"}\n'
        '{"task": "anything", "characteristics": ["batch-processing"]}\n'
    )
    result = runner.invoke(app, ["assign", "--tasks", str(tasks), "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["tier"] for r in lines] == ["haiku", "sonnet", "haiku"]
    for record in lines:
        assert {"tier", "haiku_score", "sonnet_score", "strength", "reasons"} <= set(record)
    assert lines[1]["agent"] == "security-auditor"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"task": "ok"}\n{"task": \n', "tasks.jsonl:2: not valid JSON"),
        ('{"task": ""}\n', "tasks.jsonl:1: 'task' must be a non-empty string"),
        ('["x"]\n', "tasks.jsonl:1: expected a JSON object"),
        ('{"task": "x", "agent": "pyhton-pro"}\n', "did you mean 'python-pro'"),
        ('{"task": "x", "characteristics": ["novel"]}\n', "unknown characteristic 'novel'"),
    ],
)
def test_assign_tasks_file_errors_name_the_line(tmp_path: Path, content: str, message: str) -> None:
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(content)
    result = runner.invoke(app, ["assign", "--tasks", str(tasks), "--json"])
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""  # nothing half-printed


def test_assign_argument_errors() -> None:
    assert runner.invoke(app, ["assign"]).exit_code == 2
    result = runner.invoke(app, ["assign", "-t", "x", "-c", "secrity-critical"])
    assert result.exit_code == 2
    assert "did you mean 'security-critical'" in result.stderr
    result = runner.invoke(app, ["assign", "-t", "x", "-a", "nobody"])
    assert result.exit_code == 2 and "unknown agent 'nobody'" in result.stderr
    result = runner.invoke(app, ["assign", "-t", "   "])
    assert result.exit_code == 2 and "--task is empty" in result.stderr
