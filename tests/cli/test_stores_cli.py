"""Every command that reads or writes events goes through the configured store and says which:
each test here runs once with the settings naming a SQLite file (``database``) and once naming a
fresh PostgreSQL schema (``store_url`` and ``store_schema``), through the real ``ctxrouter`` app.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ctxrouter.telemetry import Event, EventQuery, Outcome
from tests.stores import StoreBackend
from tests.telemetry.factories import T0, make_event

runner = CliRunner(env={"COLUMNS": "250"})

HOUR = 3600.0
HAIKU, OLD_HAIKU = "claude-haiku-5-5", "claude-haiku-4-5"


def a_day() -> list[Event]:
    """100 imported python-pro runs on haiku over the day before T0; every fifth falls back
    after an overload, so the fleet's fallback rate (20%) fires an alert."""
    events = []
    for i in range(100):
        run = f"run-{i:03d}"
        common = {"run_id": run, "agent": "python-pro", "tier": "haiku", "provider": "claude-code"}
        answer = {"outcome": Outcome.SUCCESS, "cost_usd": 0.01, "latency_ms": 900.0}
        ts = T0 - 20 * HOUR + i * 600
        if i % 5:
            events.append(make_event(event_id=f"{run}-1", ts=ts, model=HAIKU, **common, **answer))
            continue
        failed = {"outcome": Outcome.ERROR, "error_type": "overloaded"}
        events.append(make_event(event_id=f"{run}-1", ts=ts, model=HAIKU, **common, **failed))
        retried = {"attempt": 2, "fallback_from": HAIKU, **answer}
        events.append(
            make_event(event_id=f"{run}-2", ts=ts + 1, model=OLD_HAIKU, **common, **retried)
        )
    return events


@pytest.fixture
def fleet(cli_store: StoreBackend) -> StoreBackend:
    """The configured store, holding :func:`a_day`."""
    with cli_store.open() as store:
        store.write_events(a_day())
    return cli_store


def invoke(app: typer.Typer, *args: str) -> tuple[str, str]:
    """Run ``ctxrouter ARGS``: its stdout and stderr (exit codes 0 and 1 are answers)."""
    result = runner.invoke(app, list(args))
    assert result.exit_code in (0, 1), result.output
    return result.stdout, result.stderr


# -- readers -----------------------------------------------------------------------------------


def test_metrics_reads_the_configured_store(app: typer.Typer, fleet: StoreBackend) -> None:
    out, err = invoke(app, "metrics", "--json")
    data = json.loads(out)
    assert (data["totals"]["calls"], data["totals"]["runs"]) == (120, 100)
    assert data["totals"]["fallback_rate"] == 0.2
    assert data["store"] == fleet.label and err == ""
    out, err = invoke(app, "metrics", "--by", "model")
    assert HAIKU in out and OLD_HAIKU in out
    assert err == f"store: {fleet.label}\n"


def test_events_reads_the_configured_store(app: typer.Typer, fleet: StoreBackend) -> None:
    out, err = invoke(app, "events", "--json", "--limit", "0")
    assert len(json.loads(out)) == 120 and err == ""
    out, err = invoke(app, "events", "--run", "run-095")
    assert "python-pro" in out and "2 event(s)" in out
    assert err == f"store: {fleet.label}\n"


def test_alerts_check_reads_the_configured_store(app: typer.Typer, fleet: StoreBackend) -> None:
    result = runner.invoke(app, ["alerts", "check", "--json"])
    assert result.exit_code == 1, result.output  # an alert fires
    data = json.loads(result.stdout)
    assert [a["rule"] for a in data["alerts"]] == ["fleet-fallback-rate"]
    assert data["store"] == fleet.label
    human = runner.invoke(app, ["alerts", "check"])
    assert human.exit_code == 1 and "1 alert(s) firing" in human.stdout
    assert human.stderr == f"store: {fleet.label}\n"


def test_report_reads_the_configured_store(
    app: typer.Typer, fleet: StoreBackend, tmp_path: Path
) -> None:
    page = tmp_path / "fleet.html"
    out, err = invoke(app, "report", "--html", str(page))
    assert out.startswith(f"wrote {page}")
    assert err == f"store: {fleet.label}\n"  # and no "no events match" warning
    text = page.read_text(encoding="utf-8")
    assert "python-pro" in text and "fleet-fallback-rate" in text


def test_whatif_reads_the_configured_store(app: typer.Typer, fleet: StoreBackend) -> None:
    out, err = invoke(app, "whatif", "--json")
    data = json.loads(out)
    assert data["total"]["responses"] == 100  # the answered ones
    assert data["store"] == fleet.label and err == ""
    out, err = invoke(app, "whatif")
    assert "python-pro" in out and err == f"store: {fleet.label}\n"


def test_profile_reads_the_configured_store(app: typer.Typer, fleet: StoreBackend) -> None:
    out, err = invoke(app, "profile", "--json")
    data = json.loads(out)
    (agent,) = data["agents"]
    assert agent["agent"] == "python-pro" and agent["tiers"]["haiku"]["answered"] == 100
    assert data["store"] == fleet.label and err == ""
    out, err = invoke(app, "profile")
    assert "python-pro" in out and err == f"store: {fleet.label}\n"


EMPTY = [
    pytest.param(["metrics"], "no events recorded yet", id="metrics"),
    pytest.param(["events"], "no events recorded yet", id="events"),
    pytest.param(["whatif"], "no claude-code events recorded", id="whatif"),
    pytest.param(["alerts", "check"], "no events recorded yet", id="alerts"),
]


@pytest.mark.parametrize(("args", "what"), EMPTY)
def test_an_empty_store_is_named(
    app: typer.Typer, cli_store: StoreBackend, args: list[str], what: str
) -> None:
    cli_store.open().close()  # created (the file, the schema), with no events
    out, err = invoke(app, *args)
    assert f"{what} (store: {cli_store.label})" in out
    assert err == ""


@pytest.mark.parametrize(("args", "what"), EMPTY)
def test_reading_creates_no_sqlite_file(
    app: typer.Typer, db: Path, args: list[str], what: str
) -> None:
    out, err = invoke(app, *args)
    assert f"{what} (store: {db})" in out and err == ""
    out, err = invoke(app, *args, "--json")
    data = json.loads(out)  # an empty answer: a list, or an object that names the store
    assert data == [] if isinstance(data, list) else data["store"] == str(db)
    assert not db.exists()  # looking creates nothing


@pytest.mark.parametrize("command", ["metrics", "events"])
def test_no_match_names_the_store(app: typer.Typer, fleet: StoreBackend, command: str) -> None:
    out, err = invoke(app, command, "--agent", "nobody")
    assert out == f"no events match (store: {fleet.label})\n" and err == ""


def test_db_names_another_store(
    app: typer.Typer, fleet: StoreBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--db PATH|URL`` reads that store, not the configured one (a URL's schema: the
    store_schema setting)."""
    monkeypatch.delenv("CTXROUTER_STORE_URL", raising=False)
    monkeypatch.delenv("CTXROUTER_DATABASE", raising=False)
    out, _ = invoke(app, "metrics", "--json")
    assert json.loads(out)["totals"]["calls"] == 0  # the default store: nothing there
    for args in (["metrics", "--json"], ["whatif", "--json"], ["alerts", "check", "--json"]):
        out, _ = invoke(app, *args, "--db", fleet.db)
        assert json.loads(out)["store"] == fleet.label
    out, _ = invoke(app, "events", "--json", "--limit", "0", "--db", fleet.db)
    assert len(json.loads(out)) == 120


# -- writers -----------------------------------------------------------------------------------


def test_run_records_in_the_configured_store(
    app: typer.Typer, cli_store: StoreBackend, data_dir: Path
) -> None:
    result = runner.invoke(app, ["run", "python-pro", "Add a slugify helper", "--json"])
    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)
    assert run["store"] == cli_store.label
    with cli_store.open() as store:
        recorded = store.events(EventQuery(run_id=run["run_id"]))
    assert len(recorded) == run["attempts"] >= 1
    human = runner.invoke(app, ["run", "python-pro", "Add a slugify helper"])
    assert human.exit_code == 0, human.output
    assert human.stderr == f"recorded in {cli_store.label}\n"
    if cli_store.name == "postgres":
        assert not (data_dir / "ctxrouter.db").exists()  # nothing went to the SQLite file


def test_pipeline_run_records_in_the_configured_store(
    app: typer.Typer, cli_store: StoreBackend
) -> None:
    args = ["pipeline", "run", "troubleshoot-fix-test", "-t", "Orders ship twice"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["store"] == cli_store.label
    human = runner.invoke(app, args)
    assert human.exit_code == 0, human.output
    assert human.stderr == f"events recorded in {cli_store.label}\n"
    with cli_store.open() as store:
        steps = {e.step for e in store.events()}
    assert steps == {"diagnose", "fix", "test"}


def test_import_records_in_the_configured_store(
    app: typer.Typer, cli_store: StoreBackend, claude_dir: Path
) -> None:
    out, _ = invoke(app, "import", "claude-code", str(claude_dir), "--json")
    data = json.loads(out)
    assert data["responses"]["added"] == 2 and data["store"] == cli_store.label
    out, _ = invoke(app, "import", "claude-code", str(claude_dir))
    rows = [row.strip().split(None, 1) for row in out.splitlines() if row.strip()]
    assert "0 added" in out and ["into", cli_store.label] in rows  # its summary names it
    with cli_store.open() as store:
        assert {e.message_id for e in store.events()} == {"msg_1", "msg_2"}


def test_feedback_goes_to_the_configured_store(app: typer.Typer, fleet: StoreBackend) -> None:
    result = runner.invoke(app, ["feedback", "run-042", "--correction", "use slugify", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["run_id"], data["agent"], data["store"]) == ("run-042", "python-pro", fleet.label)
    human = runner.invoke(app, ["feedback", "run-042", "--rating", "2"])
    assert human.exit_code == 0, human.output
    assert human.stderr == f"recorded in {fleet.label}\n"
    with fleet.open() as store:
        given = store.feedback(run_id="run-042")
    assert {(f.correction, f.rating) for f in given} == {("use slugify", None), (None, 2)}


def test_feedback_on_an_empty_store_names_it(app: typer.Typer, cli_store: StoreBackend) -> None:
    result = runner.invoke(app, ["feedback", "run-1", "--rating", "3"])
    assert result.exit_code == 2
    if cli_store.name == "sqlite":  # no file yet: nothing is created
        assert f"no events recorded yet (store: {cli_store.label})" in result.stderr
    else:
        assert "unknown run 'run-1'" in result.stderr


# -- a store that cannot be opened ------------------------------------------------------------


def test_an_unreachable_postgresql_store_is_one_line_without_its_password(
    app: typer.Typer, data_dir: Path, psycopg_installed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CTXROUTER_STORE_URL", "postgresql://app:s3cret@127.0.0.1:1/fleet")
    for args in (["metrics"], ["events", "--json"], ["run", "python-pro", "Add a helper"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("error: cannot connect to the telemetry store")
        assert "127.0.0.1:1/fleet" in result.stderr and "s3cret" not in result.output
        assert result.stderr.count("\n") == 1 and result.stdout == ""


def test_an_unopenable_sqlite_file_is_one_line_naming_it(
    app: typer.Typer, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("CTXROUTER_DATABASE", str(blocker / "events.db"))
    result = runner.invoke(app, ["run", "python-pro", "Add a helper"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: cannot open the event store {blocker / 'events.db'}:")
    assert result.stderr.count("\n") == 1
