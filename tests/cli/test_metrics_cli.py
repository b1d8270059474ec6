"""``ctxrouter metrics`` through the real Typer app over a real SQLite file (test_stores_cli.py
runs it on each backend)."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ctxrouter.analytics.metrics import compute_metrics
from ctxrouter.telemetry import Event, Feedback, Outcome, SQLiteStore

runner = CliRunner(env={"COLUMNS": "250"})

NOW = time.time()
HAIKU, SONNET = "claude-haiku-5-5", "claude-sonnet-5-5"


def event(event_id: str, ago: float, run: str, model: str, outcome: Outcome, **kw: object) -> Event:
    values: dict[str, object] = {
        "event_id": event_id,
        "ts": NOW - ago,
        "run_id": run,
        "agent": "python-pro",
        "category": "Code Generation",
        "model": model,
        "tier": model.split("-")[1],
        "outcome": outcome,
    }
    values.update(kw)
    return Event(**values)  # type: ignore[arg-type]


def sample() -> list[Event]:
    return [
        event("e1", 3 * 86_400, "r1", HAIKU, Outcome.SUCCESS, agent="code-reviewer",
              category="Code Review & Quality", input_tokens=1000, output_tokens=100,
              cost_usd=0.01, latency_ms=1000.0),
        event("e2", 2 * 3600, "r2", HAIKU, Outcome.REJECTED, cost_usd=0.02, latency_ms=2000.0),
        event("e3", 2 * 3600 - 5, "r2", SONNET, Outcome.SUCCESS, attempt=2,
              escalated_from="haiku", cost_usd=0.10, latency_ms=4000.0),
        event("e4", 3600, "r3", SONNET, Outcome.ERROR, error_type="overloaded", latency_ms=90.0),
        event("e5", 3600 - 2, "r3", HAIKU, Outcome.SUCCESS, attempt=2, fallback_from=SONNET,
              latency_ms=3000.0),  # unpriced
    ]  # fmt: skip


def write(path: Path, items: list[Event], feedback: list[Feedback] = ()) -> None:  # type: ignore[assignment]
    with SQLiteStore(path) as store:
        store.write_events(items)
        for f in feedback:
            store.add_feedback(f)


def rows(output: str) -> dict[str, list[str]]:
    """Table rows by their first cell."""
    found = {}
    for line in output.splitlines():
        cells = line.split()
        if len(cells) >= 13 and cells[1][:1].isdigit():
            found[cells[0]] = cells
    return found


def test_no_database_yet_is_a_report_of_zeros(app: typer.Typer, db: Path) -> None:
    result = runner.invoke(app, ["metrics", "--json", "--by", "day", "--agent", "x"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["by"] == "day" and data["groups"] == [] and data["filters"] == {"agent": "x"}
    totals = data["totals"]
    for name in ("calls", "cost_usd", "input_tokens", "output_tokens", "cache_read_tokens"):
        assert totals[name] == 0
    assert totals["cache_creation_tokens"] == 0 and totals["success_rate"] is None
    assert not db.exists()  # looking does not create it


def test_table_by_model_with_totals(app: typer.Typer, db: Path) -> None:
    write(db, sample(), [Feedback("f1", NOW, "r2", "python-pro", correction="v2", rating=4)])
    result = runner.invoke(app, ["metrics", "--by", "model"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Metrics by model, all recorded events" in out
    table = rows(out)
    # group calls runs success p50 p95 p99 cost cost/call escalated fallback corrected rating
    haiku, sonnet, total = table[HAIKU], table[SONNET], table["total"]
    assert haiku[1:4] == ["3", "2", "66.7%"]  # e1 e2 e5; runs r1 r2 started on haiku
    assert haiku[7:12] == ["$0.0300*", "$0.0150", "50.0%", "0.0%", "50.0%"]
    assert haiku[12:] == ["4.0", "(1)"]
    assert sonnet[1:4] == ["2", "1", "100.0%"]  # e3 answered; e4 an error; r3 started here
    assert sonnet[7:12] == ["$0.1000", "$0.1000", "0.0%", "100.0%", "0.0%"]
    assert sonnet[12] == "—"
    assert total[1:4] == ["5", "3", "75.0%"]
    assert total[9:12] == ["33.3%", "33.3%", "33.3%"]
    assert list(table) == [HAIKU, SONNET, "total"]  # most calls first, totals last
    assert "* plus 1 answered call(s) without a price, not counted as $0" in out


def test_totals_only_and_an_all_unpriced_group(app: typer.Typer, db: Path) -> None:
    write(db, sample())
    result = runner.invoke(app, ["metrics", "--by", "agent"])
    assert result.exit_code == 0, result.output
    table = rows(result.stdout)
    assert set(table) == {"python-pro", "code-reviewer", "total"}
    write(db, [event("u1", 60, "r9", "claude-opus-5-5", Outcome.SUCCESS, latency_ms=10.0)])
    result = runner.invoke(app, ["metrics", "--model", "claude-opus-5-5"])
    assert result.exit_code == 0, result.output
    assert "(model claude-opus-5-5)" in result.stdout
    total = rows(result.stdout)["total"]
    assert total[7:9] == ["unpriced", "—"]  # never $0 for an unpriced answer


def test_json_is_the_report(app: typer.Typer, db: Path) -> None:
    write(db, sample())
    result = runner.invoke(app, ["metrics", "--json", "--by", "day", "--since", "2d"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data.pop("store") == str(db)
    with SQLiteStore(db) as store:
        expected = compute_metrics(store, by="day", since=data["window"]["since"])
    assert data == json.loads(json.dumps(expected.to_dict()))
    assert data["totals"]["calls"] == 4  # e1, three days ago, is out
    assert abs(data["window"]["since"] - (NOW - 2 * 86_400)) < 60


@pytest.mark.parametrize(
    ("args", "calls"),
    [
        (["--since", "24h"], 4),
        (["--since", "90m"], 2),
        (["--until", "90m"], 3),
        (["--since", "7d", "--until", "61m"], 3),  # e4 and e5, an hour ago, are out
        (["--since", "2000-01-01"], 5),
        (["--category", "Code Generation"], 4),
        (["-a", "python-pro", "-m", HAIKU], 2),
        (["--since", "2999-01-01T00:00:00+02:00"], 0),
    ],
)
def test_window_and_filters(app: typer.Typer, db: Path, args: list[str], calls: int) -> None:
    write(db, sample())
    result = runner.invoke(app, ["metrics", "--json", *args])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totals"]["calls"] == calls


def test_explicit_db(app: typer.Typer, db: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / "other.db"
    write(other, sample()[:1])
    result = runner.invoke(app, ["metrics", "--json", "--db", str(other)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totals"]["calls"] == 1
    assert not db.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--by", "weak"], "--by: cannot group by 'weak' (did you mean 'week'?)"),
        (["--by", "hour"], "expected one of model, agent, category, tier, day, week"),
        (["--since", "yesterday"], "--since: cannot read 'yesterday'"),
        (["--until", "2026-13-01"], "--until: cannot read '2026-13-01'"),
        (["--since", "1d", "--until", "2d"], "--until (2d) must be later than --since (1d)"),
    ],
)
def test_bad_input_exits_2(app: typer.Typer, db: Path, args: list[str], message: str) -> None:
    write(db, sample())
    result = runner.invoke(app, ["metrics", *args])
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())


def test_by_session_table_and_json(app: typer.Typer, db: Path) -> None:
    sessions = {"e1": "5b4904d3-1986-4cbd-a617-03445c087df6", "e2": "s-2", "e3": "s-2"}
    write(db, [replace(e, session_id=sessions.get(e.event_id)) for e in sample()])
    result = runner.invoke(app, ["metrics", "--by", "session"])
    assert result.exit_code == 0, result.output
    table = rows(result.stdout)
    assert list(table) == ["s-2", "5b4904d3", "(none)", "total"]  # long ids: 8 characters
    assert table["s-2"][7] == "$0.1200" and table["(none)"][7] == "unpriced"
    data = json.loads(runner.invoke(app, ["metrics", "--by", "session", "--json"]).stdout)
    assert data["by"] == "session"
    assert [(g["key"], g["calls"]) for g in data["groups"]] == [
        ("s-2", 2),
        ("5b4904d3-1986-4cbd-a617-03445c087df6", 1),
        ("", 2),
    ]


def test_by_session_shows_the_costliest_and_says_how_many_more(app: typer.Typer, db: Path) -> None:
    write(db, [event(f"e{i}", 60, f"r{i}", HAIKU, Outcome.SUCCESS, session_id=f"session-{i:03d}",
                     cost_usd=float(i)) for i in range(1, 31)])  # fmt: skip
    result = runner.invoke(app, ["metrics", "--by", "session"])
    assert result.exit_code == 0, result.output
    table = rows(result.stdout)
    assert len(table) == 25 + 1 and list(table)[:2] == ["session-030", "session-029"]
    assert "and 5 more session(s) not shown (--json lists them all)" in result.stdout
    data = json.loads(runner.invoke(app, ["metrics", "--by", "session", "--json"]).stdout)
    assert len(data["groups"]) == 30
