"""Notifiers on real things (a webhook server on 127.0.0.1, a log, a console) and the
de-duplication state in a real JSON file."""

from __future__ import annotations

import io
import json
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from ctxrouter.alerts import (
    Alert,
    AlertState,
    ConsoleNotifier,
    LogNotifier,
    NotifyFailure,
    Severity,
    WebhookNotifier,
    notify_all,
    slack_payload,
    state_path,
)
from ctxrouter.alerts.notify import redact
from ctxrouter.errors import ConfigError, InputError

HOUR = 3600.0
T0 = 1_790_000_000.0


def make_alert(value: float = 0.75, **changes: Any) -> Alert:
    alert = Alert(
        rule_id="agent-success-rate",
        kind="rate",
        severity=Severity.CRITICAL,
        scope="agent",
        subject="test-automator",
        metric="success_rate",
        unit="fraction",
        value=value,
        threshold=0.85,
        direction="below",
        baseline=None,
        sample=40,
        window_start=T0 - 86_400,
        window_end=T0,
        message=f"Success rate of agent test-automator is {value:.1%} <below> 85.0% & falling.",
    )
    return replace(alert, **changes)


def cost_alert(value: float = 30.0) -> Alert:
    return make_alert(
        value,
        rule_id="daily-cost-spike",
        kind="cost_spike",
        severity=Severity.WARNING,
        scope="fleet",
        subject="fleet",
        metric="cost_usd",
        unit="usd",
        threshold=12.0,
        direction="above",
        baseline=10.0,
        message="Cost of the last day is $30.00.",
    )


# ---- a real webhook receiver ------------------------------------------------------------------


@dataclass
class Receiver:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    hang: threading.Event | None = None  # when set up, answers only once released


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if state.hang is not None:
                state.hang.wait(30)
                return
            state.requests.append(
                {"path": self.path, "type": self.headers["Content-Type"], "json": json.loads(body)}
            )
            self.send_response(state.status)
            self.end_headers()
            self.wfile.write(b"ok" if state.status < 400 else b"invalid_token\n")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/services/T000/B000/secret"
    try:
        yield state
    finally:
        if state.hang is not None:
            state.hang.set()
        server.shutdown()
        server.server_close()
        thread.join()


def test_webhook_posts_a_slack_payload(receiver: Receiver) -> None:
    alerts = [make_alert(), cost_alert()]
    failures = notify_all([WebhookNotifier(receiver.url)], alerts)
    assert failures == []
    (request,) = receiver.requests
    assert request["path"] == "/services/T000/B000/secret"
    assert request["type"] == "application/json"
    payload = request["json"]
    assert payload == slack_payload(alerts)
    assert payload["text"] == "ctxrouter: 2 alert(s) firing (1 critical, 1 warning)"
    header, first, second = payload["blocks"]
    assert header == {"type": "header", "text": {"type": "plain_text", "text": payload["text"]}}
    assert first["type"] == "section"
    assert first["text"]["type"] == "mrkdwn"
    assert "`agent-success-rate` agent *test-automator*" in first["text"]["text"]
    assert "&lt;below&gt; 85.0% &amp; falling" in first["text"]["text"]  # mrkdwn escaped
    assert "Cost of the last day is $30.00." in second["text"]["text"]


def test_webhook_error_status_is_reported_not_raised(receiver: Receiver) -> None:
    receiver.status = 403
    (failure,) = notify_all([WebhookNotifier(receiver.url)], [make_alert()])
    assert failure.notifier == "webhook"
    assert "answered HTTP 403: invalid_token" in failure.message
    assert "secret" not in failure.message  # the path of a webhook URL is its secret
    assert len(receiver.requests) == 1


def test_webhook_timeout_is_reported(receiver: Receiver) -> None:
    receiver.hang = threading.Event()
    (failure,) = notify_all([WebhookNotifier(receiver.url, timeout_s=0.2)], [make_alert()])
    assert failure.message.endswith("no answer within 0.2s")


def test_webhook_connection_refused_is_reported() -> None:
    with socket.socket() as sock:  # a port that nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (failure,) = notify_all([WebhookNotifier(f"http://127.0.0.1:{port}/hook")], [make_alert()])
    assert failure.notifier == "webhook"
    assert "ConnectError" in failure.message


def test_one_failing_notifier_does_not_stop_the_others(receiver: Receiver) -> None:
    class Broken:
        name = "broken"

        def notify(self, alerts: Any) -> None:
            raise RuntimeError("disk full")

    failures = notify_all([Broken(), WebhookNotifier(receiver.url)], [make_alert()])
    assert failures == [NotifyFailure("broken", "RuntimeError: disk full")]
    assert len(receiver.requests) == 1


def test_nothing_to_notify_sends_nothing(receiver: Receiver) -> None:
    assert notify_all([WebhookNotifier(receiver.url)], []) == []
    assert receiver.requests == []


@pytest.mark.parametrize("url", ["ftp://example.com/hook", "hooks.slack.com/services/x", ""])
def test_webhook_url_must_be_http(url: str) -> None:
    with pytest.raises(InputError, match="webhook URL"):
        WebhookNotifier(url)


def test_redact_keeps_scheme_host_and_port() -> None:
    assert redact("https://hooks.slack.com/services/T0/B0/XYZ") == "https://hooks.slack.com/…"
    assert redact("http://127.0.0.1:8080/") == "http://127.0.0.1:8080"


def test_slack_payload_stays_within_fifty_blocks() -> None:
    alerts = [make_alert(subject=f"agent-{i}") for i in range(60)]
    payload = slack_payload(alerts)
    assert len(payload["blocks"]) == 50
    assert payload["blocks"][-1]["type"] == "context"
    assert "and 12 more" in payload["blocks"][-1]["elements"][0]["text"]


def test_log_notifier_logs_one_record_per_alert(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ctxrouter.alerts")
    LogNotifier().notify([make_alert(), cost_alert()])
    critical, warning = caplog.records
    assert (critical.name, critical.levelno) == ("ctxrouter.alerts", logging.ERROR)
    assert warning.levelno == logging.WARNING
    assert critical.getMessage().startswith("critical agent-success-rate [agent:test-automator]")
    assert critical.alert["rule"] == "agent-success-rate"  # type: ignore[attr-defined]


def test_console_notifier_prints_rule_subject_and_message() -> None:
    out = io.StringIO()
    ConsoleNotifier(Console(file=out, width=200)).notify([make_alert(), cost_alert()])
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["CRITICAL", "agent-success-rate", "agent", "test-automator"]
    assert lines[1].strip().startswith("Success rate of agent test-automator is 75.0%")
    assert lines[2].split() == ["WARNING", "daily-cost-spike", "fleet"]


# ---- de-duplication ---------------------------------------------------------------------------


def test_a_repeat_is_held_back_within_the_period() -> None:
    state = AlertState().record([make_alert()], at=T0)
    assert state.due([make_alert()], at=T0 + 60) == []
    assert state.due([make_alert()], at=T0 + 6 * HOUR - 1) == []


def test_it_is_notified_again_after_the_period() -> None:
    state = AlertState().record([make_alert()], at=T0)
    assert state.due([make_alert()], at=T0 + 6 * HOUR) == [make_alert()]
    assert state.due([make_alert()], at=T0 + 2 * HOUR, renotify_after=HOUR) == [make_alert()]


def test_it_is_notified_again_sooner_when_worse() -> None:
    state = AlertState().record([make_alert(0.80)], at=T0)
    assert state.due([make_alert(0.70)], at=T0 + 60) == []  # worse, but by less than 25%
    assert state.due([make_alert(0.60)], at=T0 + 60) == [make_alert(0.60)]  # 25% lower
    assert state.due([make_alert(0.70)], at=T0 + 60, worse_by=0.1) == [make_alert(0.70)]
    up = AlertState().record([cost_alert(20.0)], at=T0)
    assert up.due([cost_alert(24.0)], at=T0 + 60) == []
    assert up.due([cost_alert(25.0)], at=T0 + 60) == [cost_alert(25.0)]


def test_other_subjects_and_rules_are_their_own_conditions() -> None:
    state = AlertState().record([make_alert()], at=T0)
    other_agent = make_alert(subject="debugger")
    assert state.due([make_alert(), other_agent, cost_alert()], at=T0 + 60) == [
        other_agent,
        cost_alert(),
    ]


def test_state_round_trips_through_its_json_file(tmp_path: Path) -> None:
    path = state_path(tmp_path / "data")
    assert AlertState.load(path) == AlertState()  # no file yet
    state = AlertState().record([make_alert(), cost_alert()], at=T0)
    state.save(path)
    assert AlertState.load(path) == state
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["version"] == 1
    entry = data["notified"]["agent-success-rate:agent:test-automator"]
    assert entry == {"value": 0.75, "at": T0, "at_iso": "2026-09-21T14:13:20Z"}
    assert sorted(p.name for p in path.parent.iterdir()) == ["alerts-state.json"]  # no temp


def test_expired_entries_are_dropped_when_recording() -> None:
    state = AlertState().record([make_alert()], at=T0)
    later = state.record([cost_alert()], at=T0 + 7 * HOUR)
    assert set(later.notified) == {"daily-cost-spike:fleet:fleet"}


def test_a_broken_state_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "alerts-state.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot read the alert state"):
        AlertState.load(path)
    path.write_text('{"notified": [1, 2]}', encoding="utf-8")
    with pytest.raises(ConfigError, match="not an alert state file"):
        AlertState.load(path)
