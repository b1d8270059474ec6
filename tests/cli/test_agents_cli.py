from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ctxrouter.cli.app import app

runner = CliRunner()


def test_agents_list_json_is_the_strategy() -> None:
    result = runner.invoke(app, ["agents", "list", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["count"] == 67
    assert data["summary"] == {"context-dependent": 9, "haiku": 31, "sonnet": 27}
    by_name = {a["name"]: a for a in data["agents"]}
    assert by_name["database-optimizer"]["default_tier"] == "haiku"
    assert by_name["database-optimizer"]["escalation"]["to"] == "sonnet"
    assert by_name["learning-guide"]["default_tier"] == "sonnet"
    assert by_name["learning-guide"]["fast_path"]["to"] == "haiku"
    assert by_name["security-auditor"]["fallbacks"] == ["opus"]


def test_agents_list_table_and_filters() -> None:
    result = runner.invoke(app, ["agents", "list", "--tier", "sonnet", "--json"])
    assert json.loads(result.stdout)["count"] == 31  # 27 fixed + 4 fast-path
    result = runner.invoke(app, ["agents", "list", "--tier", "sonet"])
    assert result.exit_code == 2
    assert "did you mean 'sonnet'" in result.stderr
    result = runner.invoke(app, ["agents", "list"])
    assert result.exit_code == 0
    assert "terraform-specialist" in result.stdout
    assert "catalog: 9 context-dependent, 31 haiku, 27 sonnet" in result.stdout


def test_agents_show() -> None:
    result = runner.invoke(app, ["agents", "show", "refactoring-expert", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["policy"] == "escalates" and data["body"]
    result = runner.invoke(app, ["agents", "show", "refactoring-expret"])
    assert result.exit_code == 2
    assert "did you mean 'refactoring-expert'" in result.stderr


def test_agents_lint_exit_codes(tmp_path: Path) -> None:
    (tmp_path / "ok.md").write_text("---\nname: ok\ndescription: d\nmodel: haiku\n---\n")
    result = runner.invoke(app, ["agents", "lint", str(tmp_path)])
    assert result.exit_code == 0
    assert "1 file(s) checked: 0 error(s)" in result.stderr
    (tmp_path / "bad.md").write_text("---\nname: bad\nmodle: haiku\n---\n")
    result = runner.invoke(app, ["agents", "lint", str(tmp_path), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    [error] = [p for p in data["problems"] if p["severity"] == "error"]
    assert error["line"] == 3 and error["field"] == "modle"
    assert "did you mean 'model'" in error["message"]


def test_user_dir_with_error_exits_non_zero(tmp_path: Path) -> None:
    (tmp_path / "bad.md").write_text("---\nname: bad\nmodel: [\n---\n")
    result = runner.invoke(app, ["agents", "list", str(tmp_path)])
    assert result.exit_code == 1  # listed without it, and said so
    assert "skipped: " in result.stderr and "bad.md:4: error: malformed YAML" in result.stderr
    assert "python-pro" in result.stdout
