"""``ctxrouter alerts check`` through a real Typer app over a real SQLite file, notifying a real
webhook server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from ctxrouter.telemetry import Event, Outcome, SQLiteStore

runner = CliRunner(env={"COLUMNS": "200"})

T_END = 1_790_208_000.0  # 2026-09-24T00:00:00Z
HOUR = 3600.0


def one_day(*, fallback_every: int = 0) -> list[Event]:
    """100 runs over the day before T_END; every ``fallback_every``-th run falls back."""
    events = []
    for i in range(100):
        ts = T_END - 22 * HOUR + i * 600
        run = f"run-{i}"
        common: dict[str, Any] = {"run_id": run, "agent": "python-pro", "tier": "haiku"}
        if fallback_every and i % fallback_every == 0:
            events.append(
                Event(
                    event_id=f"{run}-1",
                    ts=ts,
                    model="claude-haiku-5-5",
                    outcome=Outcome.ERROR,
                    error_type="server_error",
                    **common,
                )
            )
            events.append(
                Event(
                    event_id=f"{run}-2",
                    ts=ts + 1,
                    model="claude-haiku-4-5",
                    outcome=Outcome.SUCCESS,
                    attempt=2,
                    fallback_from="claude-haiku-5-5",
                    cost_usd=0.01,
                    latency_ms=900.0,
                    **common,
                )
            )
        else:
            events.append(
                Event(
                    event_id=f"{run}-1",
                    ts=ts,
                    model="claude-haiku-5-5",
                    outcome=Outcome.SUCCESS,
                    cost_usd=0.01,
                    latency_ms=900.0,
                    **common,
                )
            )
    return events


def write_db(path: Path, events: list[Event]) -> Path:
    with SQLiteStore(path) as store:
        store.write_events(events)
    return path


@pytest.fixture
def quiet_db(tmp_path: Path) -> Path:
    return write_db(tmp_path / "quiet.db", one_day())


@pytest.fixture
def firing_db(tmp_path: Path) -> Path:
    return write_db(tmp_path / "firing.db", one_day(fallback_every=5))  # 20% of runs


class Hook:
    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []
        self.status = 200
        self.url = ""


@pytest.fixture
def hook() -> Iterator[Hook]:
    received = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.payloads.append(json.loads(body))
            self.send_response(received.status)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    received.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_quiet_exits_0(app: typer.Typer, data_dir: Path, quiet_db: Path) -> None:
    result = runner.invoke(app, ["alerts", "check", "--db", str(quiet_db)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("no alerts: 7 rule(s) checked at 2026-09-23 18:30 UTC")


def test_firing_exits_1_and_prints_the_alert(
    app: typer.Typer, data_dir: Path, firing_db: Path
) -> None:
    result = runner.invoke(app, ["alerts", "check", "--db", str(firing_db)])
    assert result.exit_code == 1, result.output
    out = " ".join(result.stdout.split())
    assert out.startswith("1 alert(s) firing: 7 rule(s) checked at 2026-09-23 18:30 UTC")
    assert "WARNING fleet-fallback-rate fleet" in out
    assert "20.0% of runs fell back to another model over the last day (100 runs)" in out


def test_json_shape(app: typer.Typer, data_dir: Path, firing_db: Path) -> None:
    result = runner.invoke(app, ["alerts", "check", "--db", str(firing_db), "--json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"alerts", "checked_rules", "now", "notifications", "store"}
    assert data["store"] == str(firing_db)
    assert data["checked_rules"] == 7
    assert data["now"] == "2026-09-23T18:30:00Z"  # just after the newest event
    (alert,) = data["alerts"]
    assert alert["rule"] == "fleet-fallback-rate"
    assert (alert["severity"], alert["scope"], alert["subject"]) == ("warning", "fleet", "fleet")
    assert (alert["value"], alert["threshold"], alert["sample"]) == (0.2, 0.1, 100)
    assert alert["notified"] is True
    assert data["notifications"] == {"sent": 1, "held": 0, "failures": []}

    quiet = runner.invoke(
        app, ["alerts", "check", "--db", str(firing_db), "--json", "--now", "2026-09-01"]
    )
    assert quiet.exit_code == 0, quiet.output
    assert json.loads(quiet.stdout) == {
        "alerts": [],
        "checked_rules": 7,
        "now": "2026-09-01T00:00:00Z",
        "notifications": {"sent": 0, "held": 0, "failures": []},
        "store": str(firing_db),
    }


def test_webhook_is_notified_once_then_held(
    app: typer.Typer, data_dir: Path, firing_db: Path, hook: Hook
) -> None:
    args = ["alerts", "check", "--db", str(firing_db), "--webhook", hook.url, "--json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 1, first.output
    (payload,) = hook.payloads
    assert payload["text"] == "ctxrouter: 1 alert(s) firing (1 warning)"
    assert "fleet-fallback-rate" in payload["blocks"][1]["text"]["text"]

    again = runner.invoke(app, args)
    assert again.exit_code == 1  # still firing: cron and CI still see it
    data = json.loads(again.stdout)
    assert data["alerts"][0]["notified"] is False
    assert data["notifications"] == {"sent": 0, "held": 1, "failures": []}
    assert len(hook.payloads) == 1  # but nobody is paged twice

    state = json.loads((data_dir / "alerts-state.json").read_text(encoding="utf-8"))
    assert list(state["notified"]) == ["fleet-fallback-rate:fleet:fleet"]
    log = (data_dir / "alerts.log").read_text(encoding="utf-8").splitlines()
    assert len(log) == 1
    assert "Z warning fleet-fallback-rate [fleet:fleet] 20.0% of runs" in log[0]


def test_a_failing_webhook_is_a_warning_and_is_tried_again(
    app: typer.Typer, data_dir: Path, firing_db: Path, hook: Hook
) -> None:
    hook.status = 500
    args = ["alerts", "check", "--db", str(firing_db), "--webhook", hook.url]
    first = runner.invoke(app, args)
    assert first.exit_code == 1
    assert "webhook notification failed" in first.stderr
    assert "answered HTTP 500" in first.stderr
    hook.status = 200
    second = runner.invoke(app, args)
    assert second.exit_code == 1
    assert second.stderr == f"store: {firing_db}\n"  # and no warning
    assert len(hook.payloads) == 2  # not held back: the first one never arrived


def test_the_held_output_says_so(app: typer.Typer, data_dir: Path, firing_db: Path) -> None:
    runner.invoke(app, ["alerts", "check", "--db", str(firing_db)])
    again = runner.invoke(app, ["alerts", "check", "--db", str(firing_db)])
    assert again.exit_code == 1
    assert "0 notified; 1 already notified and held back" in " ".join(again.stdout.split())


def test_custom_rules_file(
    app: typer.Typer, data_dir: Path, quiet_db: Path, tmp_path: Path
) -> None:
    rules = tmp_path / "strict.yaml"
    rules.write_text(
        """\
rules:
  - id: every-call-counts
    kind: rate
    metric: escalation_rate
    below: 0.5
    severity: critical
    message: "escalated {value} over the last {window}"
""",
        encoding="utf-8",
    )
    result = runner.invoke(
        app, ["alerts", "check", "--db", str(quiet_db), "--rules", str(rules), "--json"]
    )
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["checked_rules"] == 1
    assert data["alerts"][0]["message"] == "escalated 0.0% over the last day"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rules", "{tmp}/missing.yaml"], "cannot read"),
        (["--rules", "{tmp}/bad.yaml"], "unknown value 'rat' (did you mean 'rate'?)"),
        (["--db", "{tmp}/nope.db"], "--db: no database at"),
        (["--now", "yesterday-ish"], "--now: cannot read 'yesterday-ish'"),
        (["--webhook", "hooks.example.com/x"], "webhook URL: expected an http:// or https://"),
    ],
)
def test_bad_input_exits_2(
    app: typer.Typer,
    data_dir: Path,
    quiet_db: Path,
    tmp_path: Path,
    args: list[str],
    message: str,
) -> None:
    (tmp_path / "bad.yaml").write_text(
        "rules:\n  - id: x\n    kind: rat\n    message: m\n", encoding="utf-8"
    )
    given = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = runner.invoke(app, ["alerts", "check", "--db", str(quiet_db), *given])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.stderr.split())
