"""``ctxrouter import claude-code`` and ``ctxrouter whatif`` through the real Typer app, over
transcripts on disk and the default SQLite store of an isolated data dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ctxrouter.cli.app import app
from ctxrouter.telemetry import SQLiteStore

from .conftest import SESSION, line

runner = CliRunner(env={"COLUMNS": "200"})


def cells(output: str) -> list[list[str]]:
    return [line.split() for line in output.splitlines()]


def test_import_prints_a_summary_and_adds_nothing_the_second_time(
    claude_dir: Path, data_dir: Path
) -> None:
    result = runner.invoke(app, ["import", "claude-code", str(claude_dir)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert ["from", str(claude_dir / "projects")] in cells(out)
    assert ["into", str(data_dir / "ctxrouter.db")] in cells(out)
    assert "2 found: 2 read, 0 unchanged" in out
    assert "4 read: 3 report a response, 1 other, 0 skipped" in out
    assert "2 distinct: 2 added, 0 updated, 0 already stored; 1 lines were copies" in out
    assert "main 1 · python-pro 1" in out and "cost" in out
    again = runner.invoke(app, ["import", "claude-code", str(claude_dir)])
    assert "2 found: 0 read, 2 unchanged" in again.stdout and "0 added" in again.stdout
    with SQLiteStore(data_dir / "ctxrouter.db") as store:
        events = {e.message_id: e for e in store.events()}
    assert set(events) == {"msg_1", "msg_2"}
    assert events["msg_2"].category == "Code Generation"  # python-pro's, from the catalog
    assert events["msg_1"].output_text is None  # no text unless asked


def test_import_json_summary(claude_dir: Path, data_dir: Path) -> None:
    result = runner.invoke(app, ["import", "claude-code", str(claude_dir / "projects"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["source"] == "claude-code" and data["store"] == str(data_dir / "ctxrouter.db")
    assert data["files"] == {"found": 2, "read": 2, "unchanged": 0, "reread": {}}
    assert data["lines"] == {"read": 4, "responses": 3, "other": 1, "skipped": 0,
                             "incomplete": 0}  # fmt: skip
    assert data["responses"] == {"distinct": 2, "new": 2, "duplicate_lines": 1, "added": 2,
                                 "updated": 0, "already_stored": 0}  # fmt: skip
    assert data["tokens"] == {"input": 6, "output": 46, "cache_creation_5m": 2400,
                              "cache_creation_1h": 0, "cache_read": 18000,
                              "cache_creation": 2400, "total": 20452}  # fmt: skip
    assert data["models"] == {"priced": {"claude-opus-5-5": 2}, "unpriced": {}}
    assert data["cost_usd"] > 0 and data["problems"] == [] and data["problem_count"] == 0


def test_the_default_folder_is_claude_config_dir(
    claude_dir: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude_dir))
    data = json.loads(runner.invoke(app, ["import", "claude-code", "--json"]).stdout)
    assert data["root"] == str((claude_dir / "projects").resolve())
    assert data["responses"]["added"] == 2


def test_unpriced_models_and_broken_lines_are_reported(
    claude_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    main = claude_dir / "projects" / "-src-app" / f"{SESSION}.jsonl"
    with main.open("a") as handle:
        handle.write(line("msg_3", "req_3", 9, model="claude-opus-4-1") + "\n")
        handle.write('{"type":"assistant","message":{"usage":{"input_tok\n')
    db = tmp_path / "explicit.db"
    result = runner.invoke(app, ["import", "claude-code", str(claude_dir), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "unpriced (not counted as $0): claude-opus-4-1 1" in result.stdout
    assert "1 line(s) could not be read and were skipped:" in result.stdout
    assert f"-src-app/{SESSION}.jsonl:5: broken JSON" in result.stdout
    assert ["into", str(db)] in cells(result.stdout)
    assert not (data_dir / "ctxrouter.db").exists()


def test_with_text_stores_the_answer(claude_dir: Path, data_dir: Path) -> None:
    result = runner.invoke(app, ["import", "claude-code", str(claude_dir), "--with-text"])
    assert result.exit_code == 0, result.output
    with SQLiteStore(data_dir / "ctxrouter.db") as store:
        texts = {e.message_id: e.output_text for e in store.events()}
    assert texts == {"msg_1": "answer msg_1", "msg_2": "answer msg_2"}


@pytest.mark.parametrize(
    ("where", "message"),
    [("missing", "no such folder"), ("file.txt", "not a folder")],
)
def test_a_bad_folder_is_a_clear_error(
    tmp_path: Path, data_dir: Path, where: str, message: str
) -> None:
    (tmp_path / "file.txt").write_text("x")
    result = runner.invoke(app, ["import", "claude-code", str(tmp_path / where)])
    assert result.exit_code == 2
    assert message in result.stderr and str(tmp_path / where) in result.stderr
    assert "Traceback" not in result.output


def test_whatif_after_an_import(claude_dir: Path, data_dir: Path) -> None:
    empty = runner.invoke(app, ["whatif"])
    assert empty.exit_code == 0 and "no claude-code events recorded" in empty.stdout
    runner.invoke(app, ["import", "claude-code", str(claude_dir)])
    result = runner.invoke(app, ["whatif"])
    assert result.exit_code == 0, result.output
    rows = {cells[0]: cells for cells in (ln.split() for ln in result.stdout.splitlines()) if cells}
    assert rows["python-pro"][1:5] == ["1", "claude-opus-5-5", "haiku", "1"]
    assert rows["main"][3:5] == ["=", "(main)"]
    assert "assumptions:" in result.stdout and "policy tiers: haiku = claude-haiku-5-5" in (
        result.stdout
    )
    data = json.loads(runner.invoke(app, ["whatif", "--json"]).stdout)
    pro = next(a for a in data["agents"] if a["agent"] == "python-pro")
    assert pro["policy_model"] == "claude-haiku-5-5" and pro["saved_usd"] > 0
    assert data["total"]["saved_usd"] == pytest.approx(pro["saved_usd"])
    assert data["provider"] == "claude-code" and len(data["assumptions"]) == 4
    none = json.loads(runner.invoke(app, ["whatif", "--json", "--provider", "gateway"]).stdout)
    assert none["total"]["responses"] == 0


def test_whatif_refuses_an_empty_window(data_dir: Path) -> None:
    result = runner.invoke(app, ["whatif", "--since", "2026-11-02", "--until", "2026-11-01"])
    assert result.exit_code == 2 and "must be later than --since" in result.stderr
