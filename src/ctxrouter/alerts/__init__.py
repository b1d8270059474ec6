"""Alerts: rules as data over the fleet's metrics, evaluated purely, notified at the edges.

::

    rules = load_rules()  # data/alerts.yaml, or your own file
    inputs = collect_inputs(store, rules.enabled)  # metrics at the newest event's time
    alerts = evaluate(rules.enabled, inputs)  # pure: metrics in, alerts out
    held = AlertState.load(state_path(data_dir))
    due = held.due(alerts, at=time.time(), renotify_after=rules.renotify_after)
    failures = notify_all([ConsoleNotifier(), LogNotifier(), WebhookNotifier(url)], due)
    held.record(due, at=time.time()).save(state_path(data_dir))

``ctxrouter alerts check`` does all of this and exits 1 while any alert fires.
"""

from ctxrouter.alerts.collect import collect_inputs, newest_event_time
from ctxrouter.alerts.evaluate import Alert, AlertInputs, Need, evaluate, needs
from ctxrouter.alerts.notify import (
    ConsoleNotifier,
    LogNotifier,
    Notifier,
    NotifyError,
    NotifyFailure,
    WebhookNotifier,
    notify_all,
    slack_payload,
)
from ctxrouter.alerts.rules import (
    CostSpikeRule,
    LatencyRule,
    RateRule,
    Rule,
    RuleSet,
    Severity,
    TierShareRule,
    load_rules,
)
from ctxrouter.alerts.state import AlertState, state_path

__all__ = [
    "Alert",
    "AlertInputs",
    "AlertState",
    "ConsoleNotifier",
    "CostSpikeRule",
    "LatencyRule",
    "LogNotifier",
    "Need",
    "Notifier",
    "NotifyError",
    "NotifyFailure",
    "RateRule",
    "Rule",
    "RuleSet",
    "Severity",
    "TierShareRule",
    "WebhookNotifier",
    "collect_inputs",
    "evaluate",
    "load_rules",
    "needs",
    "newest_event_time",
    "notify_all",
    "slack_payload",
    "state_path",
]
