"""``ctxrouter events`` through the real Typer app over a real SQLite file (test_stores_cli.py
runs it on each backend)."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ctxrouter.telemetry import Event, Outcome, SQLiteStore

runner = CliRunner(env={"COLUMNS": "250"})


NOW = time.time()


def sample() -> list[Event]:
    return [
        Event(
            event_id="e1",
            ts=NOW - 3 * 86_400,
            run_id="run-aaaaaaaa-1",
            agent="code-reviewer",
            model="claude-sonnet-5-5",
            tier="sonnet",
            outcome=Outcome.SUCCESS,
            input_tokens=12_000,
            output_tokens=800,
            cache_read_tokens=10_000,
            cache_creation_5m_tokens=500,
            cost_usd=0.01234,
            latency_ms=2345.6,
        ),
        Event(
            event_id="e2",
            ts=NOW - 2 * 3600,
            run_id="run-bbbbbbbb-2",
            agent="python-pro",
            model="claude-haiku-5-5",
            tier="haiku",
            outcome=Outcome.ERROR,
            error_type="overloaded",
            input_tokens=500,
            latency_ms=120.0,
        ),
        Event(
            event_id="e3",
            ts=NOW - 3600,
            run_id="run-bbbbbbbb-2",
            agent="python-pro",
            model="claude-sonnet-5-5",
            tier="sonnet",
            outcome=Outcome.REJECTED,
            attempt=2,
            fallback_from="claude-haiku-5-5",
            input_tokens=600,
            output_tokens=40,
            cost_usd=0.0,
        ),
    ]


def write(path: Path, items: list[Event]) -> None:
    with SQLiteStore(path) as store:
        store.write_events(items)


def ids(output: str) -> list[str]:
    return [e["event_id"] for e in json.loads(output)]


def test_table_newest_first(app: typer.Typer, db: Path) -> None:
    write(db, sample())
    result = runner.invoke(app, ["events"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    rows = [line.split() for line in lines if line.startswith("20")]
    assert [r[2] for r in rows] == ["bbbbbb-2", "bbbbbb-2", "aaaaaa-1"]  # newest first; id tails
    rejected, error, success = rows
    assert rejected[3:8] == ["python-pro", "sonnet", "claude-sonnet-5-5", "2", "rejected"]
    assert rejected[-3:] == ["0/0", "$0.0000", "—"]  # priced at zero, no latency
    assert error[7:9] == ["error", "(overloaded)"]
    assert error[-2:] == ["unpriced", "120"]  # never $0 for an unpriced attempt
    assert success[8:] == ["12.0k", "800", "10.0k/500", "$0.0123", "2,346"]
    time_cell = " ".join(success[:2])
    assert time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(NOW - 3 * 86_400)) == time_cell
    assert "UTC" in lines[0]
    assert "3 event(s)" in result.stdout
    assert result.stderr == f"store: {db}\n"


def test_json_is_every_field(app: typer.Typer, db: Path) -> None:
    write(db, sample())
    result = runner.invoke(app, ["events", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [d["event_id"] for d in data] == ["e3", "e2", "e1"]
    assert data[1]["cost_usd"] is None
    assert data[0]["outcome"] == "rejected"
    assert data[0]["fallback_from"] == "claude-haiku-5-5"
    assert data[2] == {**sample()[0].to_dict(), "outcome": "success"}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--run", "run-bbbbbbbb-2"], ["e3", "e2"]),
        (["--agent", "code-reviewer"], ["e1"]),
        (["-a", "python-pro", "--model", "claude-haiku-5-5"], ["e2"]),
        (["--outcome", "error"], ["e2"]),
        (["--outcome", "REJECTED"], ["e3"]),
        (["--since", "24h"], ["e3", "e2"]),
        (["--since", "90m"], ["e3"]),
        (["--since", "7d"], ["e3", "e2", "e1"]),
        (["--since", "2000-01-01"], ["e3", "e2", "e1"]),
        (["--since", "2999-01-01T00:00:00+02:00"], []),
        (["--limit", "2"], ["e3", "e2"]),
        (["-n", "0"], ["e3", "e2", "e1"]),
    ],
)
def test_filters(app: typer.Typer, db: Path, args: list[str], expected: list[str]) -> None:
    write(db, sample())
    result = runner.invoke(app, ["events", "--json", *args])
    assert result.exit_code == 0, result.output
    assert ids(result.stdout) == expected


def test_limit_says_how_many_more(app: typer.Typer, db: Path) -> None:
    write(db, sample())
    result = runner.invoke(app, ["events", "--limit", "2"])
    assert result.exit_code == 0, result.output
    assert "newest 2 of 3 matching events" in result.stdout


def test_explicit_db(app: typer.Typer, db: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / "other.db"
    write(other, sample()[:1])
    result = runner.invoke(app, ["events", "--json", "--db", str(other)])
    assert result.exit_code == 0, result.output
    assert ids(result.stdout) == ["e1"]
    assert not db.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday"], "--since: cannot read 'yesterday'"),
        (["--since", "2026-13-01"], "a span back from now (30m, 24h, 7d, 2w)"),
        (["--outcome", "sucess"], "did you mean 'success'?"),
    ],
)
def test_bad_input_exits_2(app: typer.Typer, db: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["events", *args])
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())


def test_a_database_from_a_newer_version_is_refused(app: typer.Typer, db: Path) -> None:
    write(db, sample())
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO _migrations VALUES (99, 'm099_future', 0)")
    conn.commit()
    conn.close()
    result = runner.invoke(app, ["events"])
    assert result.exit_code == 2
    assert "newer ctxrouter" in result.stderr
