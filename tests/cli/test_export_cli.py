"""``ctxrouter export claude-code``: the command, its diff, its summary and idempotency."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ctxrouter.cli.app import app

runner = CliRunner()

PYTHON_PRO = (
    "---\r\n"
    "name: python-pro\r\n"
    "description: 'Our Python agent: typed, tested'  # keep this\r\n"
    "tools: Read, Write\r\n"
    "model: opus\r\n"
    "---\r\n"
    "You are the team's Python agent.\r\n"
)
OURS = "---\nname: our-own\ndescription: Not in the catalog.\n---\nHello.\n"


@pytest.fixture
def agents(tmp_path: Path) -> Path:
    folder = tmp_path / ".claude" / "agents"
    folder.mkdir(parents=True)
    (folder / "python-pro.md").write_bytes(PYTHON_PRO.encode())
    (folder / "our-own.md").write_text(OURS)
    return folder


def export(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["export", "claude-code", *args])
    # stdout_bytes: Result.stdout would turn the diff's CRLF into LF
    return result.exit_code, result.stdout_bytes.decode(), result.stderr


def test_dry_run_prints_a_diff_and_writes_nothing(agents: Path) -> None:
    code, out, err = export("--dir", str(agents), "--dry-run")
    assert code == 0, err
    assert f"--- {agents}/python-pro.md\n+++ {agents}/python-pro.md\n" in out
    assert "-model: opus\r\n+model: haiku\r\n" in out
    assert "our-own" not in out  # the diff is all stdout holds
    assert "changed   " in err and "python-pro: opus -> haiku" in err
    assert "our-own.md  not a catalog agent" in err
    assert "dry run: nothing written" in err
    assert (agents / "python-pro.md").read_bytes() == PYTHON_PRO.encode()


def test_relative_dir_gives_git_style_diff_names(
    agents: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(agents.parent.parent)
    code, out, _ = export("--dry-run")  # --dir defaults to .claude/agents
    assert code == 0
    assert out.startswith("--- a/.claude/agents/python-pro.md\n+++ b/.claude/agents/python-pro.md")


def test_writes_then_a_second_run_changes_nothing(agents: Path) -> None:
    code, out, err = export("--dir", str(agents))
    assert code == 0, err
    assert "1 changed, 0 unchanged, 0 created, 1 skipped" in out
    assert (agents / "python-pro.md").read_bytes() == PYTHON_PRO.replace(
        "model: opus", "model: haiku"
    ).encode()
    assert (agents / "our-own.md").read_text() == OURS
    code, out, _ = export("--dir", str(agents), "--json")
    assert code == 0
    summary = json.loads(out)
    assert summary["counts"] == {"changed": 0, "unchanged": 1, "created": 0, "skipped": 1}
    assert summary["unchanged"] == [
        {
            "agent": "python-pro",
            "path": str(agents / "python-pro.md"),
            "from": "haiku",
            "to": "haiku",
            "note": "",
        }
    ]


def test_create_writes_catalog_agents_that_are_missing(agents: Path) -> None:
    args = ("--dir", str(agents), "--create", "--agent", "database-optimizer", "--json")
    code, out, err = export(*args)
    assert code == 0, err
    summary = json.loads(out)
    (created,) = summary["created"]
    assert created["agent"] == "database-optimizer" and created["to"] == "haiku"
    assert created["note"].startswith("context-dependent: base tier haiku")
    assert "diff" not in created
    assert summary["counts"]["changed"] == 0  # --agent: python-pro is left alone
    text = (agents / "database-optimizer.md").read_text()
    assert text.startswith("---\nname: database-optimizer\ndescription: ")
    assert "\nmodel: haiku\n---\nYou are a database optimizer." in text
    code, out, _ = export(*args)
    assert json.loads(out)["counts"] == {"changed": 0, "unchanged": 1, "created": 0, "skipped": 0}


def test_create_everything_into_a_new_folder(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "agents"
    code, out, _ = export("--dir", str(folder), "--create", "--dry-run", "--json")
    assert code == 0 and not folder.exists()
    summary = json.loads(out)
    assert summary["counts"]["created"] == 67
    assert all(c["diff"].startswith("--- /dev/null\n") for c in summary["created"])
    code, out, _ = export("--dir", str(folder), "--create")
    assert code == 0 and "67 created" in out
    assert len(list(folder.glob("*.md"))) == 67
    code, out, _ = export("--dir", str(folder), "--create")
    assert "67 file(s): 0 changed, 67 unchanged, 0 created, 0 skipped" in out


def test_claude_ctx_file_is_skipped_with_a_note(agents: Path) -> None:
    ctx = "---\nname: sql-pro\nmodel:\n  preference: sonnet\n---\nSQL.\n"
    (agents / "sql-pro.md").write_text(ctx)
    code, out, _ = export("--dir", str(agents), "--json")
    assert code == 0
    (skipped,) = [s for s in json.loads(out)["skipped"] if s["agent"] == "sql-pro"]
    assert skipped["reason"].startswith("line 3: claude-ctx format")
    assert skipped["error"] is False
    assert (agents / "sql-pro.md").read_text() == ctx


def test_a_broken_file_exits_1_and_the_others_are_written(agents: Path) -> None:
    (agents / "broken.md").write_text("---\nname: python-pro\nmodel: [\n---\n")
    code, out, _ = export("--dir", str(agents))
    assert code == 1
    assert f"skipped   {agents}/broken.md  line 4: malformed YAML" in out
    assert "model: haiku" in (agents / "python-pro.md").read_text()


def test_bad_arguments_are_clear_errors(agents: Path, tmp_path: Path) -> None:
    code, _, err = export("--dir", str(tmp_path / "absent"))
    assert code == 2 and "no such folder (give --create" in err
    code, _, err = export("--dir", str(agents / "python-pro.md"))
    assert code == 2 and "not a folder" in err
    code, _, err = export("--dir", str(agents), "--agent", "pyton-pro")
    assert code == 2 and "unknown agent 'pyton-pro' (did you mean 'python-pro'?)" in err


def test_extra_catalog_folder(agents: Path, tmp_path: Path) -> None:
    team = tmp_path / "team"
    team.mkdir()
    (team / "our-own.md").write_text(
        "---\nname: our-own\ndescription: Ours.\nmodel:\n  preference: sonnet\n---\nHi.\n"
    )
    code, out, _ = export("--dir", str(agents), "--catalog", str(team), "--json")
    assert code == 0
    changed = {c["agent"]: (c["from"], c["to"]) for c in json.loads(out)["changed"]}
    assert changed == {"python-pro": ("opus", "haiku"), "our-own": (None, "sonnet")}
    assert (agents / "our-own.md").read_text() == OURS.replace(
        "catalog.\n", "catalog.\nmodel: sonnet\n"
    )
