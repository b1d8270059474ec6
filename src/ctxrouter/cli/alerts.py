"""``ctxrouter alerts check``: judge the fleet's metrics against the alert rules.

The events are those of the configured store (``store_url``, else the SQLite database) unless
``--db`` names another. Exit codes (for cron and CI): 0 no alert fires, 1 at least one fires,
2 bad input (a flag, the rule file, a missing ``--db`` file, a store that cannot be opened).
Every firing alert is printed; notifications (the log file and the webhook) are de-duplicated:
an alert already notified is held back until the rule file's ``renotify_after`` passes or its
value gets worse (see :mod:`ctxrouter.alerts.state`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import SecretStr
from rich.markup import escape

from ctxrouter.alerts.collect import collect_inputs
from ctxrouter.alerts.evaluate import Alert, AlertInputs, evaluate
from ctxrouter.alerts.notify import (
    ConsoleNotifier,
    LogNotifier,
    Notifier,
    NotifyFailure,
    WebhookNotifier,
    notify_all,
)
from ctxrouter.alerts.rules import load_rules
from ctxrouter.alerts.state import AlertState, state_path
from ctxrouter.cli.options import DbOpt
from ctxrouter.cli.output import guarded, print_json, print_store, stderr, stdout
from ctxrouter.cli.state import state
from ctxrouter.config import Settings
from ctxrouter.errors import ConfigError, InputError
from ctxrouter.telemetry.store import EventQuery, Store
from ctxrouter.timewindow import parse_since

app = typer.Typer(no_args_is_help=True)

LOG_FILE = "alerts.log"


@app.command("check")
@guarded
def check(
    ctx: typer.Context,
    db: DbOpt = None,
    rules_file: Annotated[
        Path | None,
        typer.Option("--rules", help="A rule file (YAML); default: the shipped alerts.yaml."),
    ] = None,
    webhook: Annotated[
        str | None,
        typer.Option(
            "--webhook",
            help="POST notifications (Slack-compatible JSON) to this URL; "
            "default: the alerts_webhook_url setting.",
        ),
    ] = None,
    log: Annotated[
        Path | None,
        typer.Option(
            "--log", help="Append notifications to this file; default <data_dir>/alerts.log."
        ),
    ] = None,
    now: Annotated[
        str | None,
        typer.Option(
            "--now",
            help="Judge this moment: a date, a UTC time (2026-01-31T20:00) or a span back "
            "from the wall clock (24h); default: the newest event's time.",
        ),
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Check the alert rules: print the alerts that fire and notify them (a log file and, when
    configured, a webhook; a repeat is held back). Exit 1 when any fires, 0 when none, 2 on bad
    input."""
    settings = state(ctx).settings
    rules = load_rules(rules_file or _setting(settings, "alerts_rules_file"))
    at = parse_since(now, now=time.time(), flag="--now") if now is not None else None
    target = state(ctx).store_target(db)
    if db is not None and not target.exists():
        raise InputError(f"--db: no database at {db}")
    url = webhook or _secret(_setting(settings, "alerts_webhook_url"))
    notifiers: list[Notifier] = [] if url is None else [WebhookNotifier(url)]

    def read(store: Store) -> tuple[AlertInputs, bool]:
        recorded = store.count_events(EventQuery(limit=1)) > 0
        return collect_inputs(store, rules.enabled, now=at), recorded

    nothing = (AlertInputs(now=at if at is not None else time.time()), False)
    inputs, recorded = target.read(read, empty=nothing)
    alerts = evaluate(rules.enabled, inputs)

    clock = time.time()  # notifications are held by the wall clock, not by the judged moment
    state_file = state_path(settings.data_dir)
    try:
        held = AlertState.load(state_file)
    except ConfigError as exc:
        stderr().print(f"[yellow]warning:[/] {escape(str(exc))}; starting afresh", highlight=False)
        held = AlertState()
    due = held.due(
        alerts, at=clock, renotify_after=rules.renotify_after, worse_by=rules.renotify_if_worse_by
    )
    failures = _notify(due, notifiers, log or settings.data_dir / LOG_FILE)
    if due and not failures:  # a failed notification is tried again at the next check
        held.record(due, at=clock, renotify_after=rules.renotify_after).save(state_file)

    if json_:
        data = _as_json(alerts, due, failures, len(rules.enabled), inputs.now)
        print_json({**data, "store": target.label})
    else:
        empty = None if recorded else target.label
        _print(alerts, due, len(rules.enabled), inputs.now, empty_store=empty)
        if recorded:
            print_store(target.label)
    for failure in failures:
        what = f"{failure.notifier} notification failed: {failure.message}"
        stderr().print(f"[yellow]warning:[/] {escape(what)}", highlight=False)
    if alerts:
        raise typer.Exit(1)


def _notify(
    alerts: Sequence[Alert], notifiers: list[Notifier], log_path: Path
) -> list[NotifyFailure]:
    """The log file and the webhook; a logger of our own, so the host's logging is untouched."""
    if not alerts:
        return []
    logger = logging.Logger("ctxrouter.alerts")
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(log_path, encoding="utf-8")
    except OSError as exc:
        failure = NotifyFailure("log", f"cannot write {log_path}: {exc.strerror or exc}")
        return [failure, *notify_all(notifiers, alerts)]
    formatter = logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%dT%H:%M:%SZ")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    logger.addHandler(handler)
    try:
        return notify_all([LogNotifier(logger), *notifiers], alerts)
    finally:
        logger.removeHandler(handler)
        handler.close()


def _print(
    alerts: Sequence[Alert],
    due: Sequence[Alert],
    checked: int,
    now: float,
    *,
    empty_store: str | None,
) -> None:
    out = stdout()
    moment = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(now))
    if not alerts:
        note = f"; no events recorded yet (store: {empty_store})" if empty_store else ""
        out.print(
            f"no alerts: {checked} rule(s) checked at {moment}{note}", highlight=False, markup=False
        )
        return
    out.print(
        f"{len(alerts)} alert(s) firing: {checked} rule(s) checked at {moment}", highlight=False
    )
    ConsoleNotifier(out).notify(alerts)
    held = len(alerts) - len(due)
    if held:
        out.print(
            f"[dim]{len(due)} notified; {held} already notified and held back (until the "
            "renotify period passes or the value gets worse)[/]",
            highlight=False,
        )


def _as_json(
    alerts: Sequence[Alert],
    due: Sequence[Alert],
    failures: Sequence[NotifyFailure],
    checked: int,
    now: float,
) -> dict[str, Any]:
    notified = {a.key for a in due}
    return {
        "alerts": [{**a.to_dict(), "notified": a.key in notified} for a in alerts],
        "checked_rules": checked,
        "now": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "notifications": {
            "sent": len(due),
            "held": len(alerts) - len(due),
            "failures": [{"notifier": f.notifier, "message": f.message} for f in failures],
        },
    }


def _setting(settings: Settings, name: str) -> Any:
    """An alerts setting, if this version of :class:`Settings` has it."""
    return getattr(settings, name, None)


def _secret(value: object) -> str | None:
    if isinstance(value, SecretStr):
        return value.get_secret_value() or None
    return str(value) if value else None


__all__ = ["app", "check"]
