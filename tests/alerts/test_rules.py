"""The shipped alert rules, judged on hand-built metrics: each fires on a case built to trigger
it and stays quiet on one built not to (pure: no store, no clock)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from ctxrouter.alerts import (
    Alert,
    AlertInputs,
    Need,
    RuleSet,
    Severity,
    evaluate,
    load_rules,
    needs,
)
from ctxrouter.alerts.rules import (
    CostSpikeRule,
    LatencyRule,
    RateRule,
    TierShareRule,
    describe_duration,
    format_duration,
)
from ctxrouter.analytics.metrics import GroupMetrics, MetricsReport
from ctxrouter.errors import ConfigError

NOW = 1_790_000_000.0  # 2026-09-21T14:13:20Z
DAY = 86_400.0

Fill = Callable[[Need], MetricsReport | None]


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules()


def report(need: Need, totals: GroupMetrics, *groups: GroupMetrics) -> MetricsReport:
    since, until = need.bounds(NOW)
    return MetricsReport(since=since, until=until, by=need.by, totals=totals, groups=list(groups))


def inputs(rule_set: RuleSet, rule_id: str, fill: Fill) -> AlertInputs:
    """The reports ``rule_id`` reads, built by ``fill``; every other rule's are missing."""
    reports = {}
    for need in needs([rule_set.rule(rule_id)]):
        built = fill(need)
        if built is not None:
            reports[need] = built
    return AlertInputs(now=NOW, reports=reports)


def fired(rule_set: RuleSet, rule_id: str, fill: Fill) -> list[Alert]:
    """Evaluate every shipped rule; only ``rule_id`` has data."""
    alerts = evaluate(rule_set.enabled, inputs(rule_set, rule_id, fill))
    assert {a.rule_id for a in alerts} <= {rule_id}
    return alerts


# ---- the cases, one builder per rule ----------------------------------------------------------


def daily_cost(today_usd: float, *, today_calls: int = 400, baseline_days: int = 7) -> Fill:
    """$10 a day for ``baseline_days`` of the 7 baseline days; ``today_usd`` in the last day."""

    def fill(need: Need) -> MetricsReport | None:
        day = round(need.ago / DAY)
        if day == 0:
            return report(need, GroupMetrics("total", calls=today_calls, cost_usd=today_usd))
        if day > baseline_days:
            return report(need, GroupMetrics("total"))
        return report(need, GroupMetrics("total", calls=400, cost_usd=10.0))

    return fill


def tier_calls(today: dict[str, int], baseline: dict[str, int]) -> Fill:
    def fill(need: Need) -> MetricsReport:
        counts = today if need.ago == 0 else baseline
        groups = [GroupMetrics(tier, calls=n) for tier, n in counts.items()]
        return report(need, GroupMetrics("total", calls=sum(counts.values())), *groups)

    return fill


def agents(**by_agent: GroupMetrics) -> Fill:
    def fill(need: Need) -> MetricsReport:
        groups = [replace(g, key=name) for name, g in by_agent.items()]
        return report(need, GroupMetrics("total"), *groups)

    return fill


def fleet(totals: GroupMetrics) -> Fill:
    return lambda need: report(need, totals)


def p95(model: str, today_ms: float, baseline_ms: float, *, answered: int = 200) -> Fill:
    def fill(need: Need) -> MetricsReport:
        value = today_ms if need.ago == 0 else baseline_ms
        group = GroupMetrics(model, calls=answered, answered=answered, latency_p95_ms=value)
        return report(need, GroupMetrics("total"), group)

    return fill


def success(answered: int, accepted: int) -> GroupMetrics:
    return GroupMetrics("", calls=answered, answered=answered, success=accepted)


def escalated(runs: int, escalated_runs: int) -> GroupMetrics:
    return GroupMetrics("", calls=runs, runs=runs, escalated_runs=escalated_runs)


# ---- the shipped file -------------------------------------------------------------------------


def test_the_shipped_file_has_one_rule_per_strategy_default(rules: RuleSet) -> None:
    assert [r.id for r in rules.enabled] == [
        "daily-cost-spike",
        "sonnet-share-rise",
        "agent-success-rate",
        "latency-p95-regression",
        "agent-escalation-rate",
        "fleet-fallback-rate",
        "model-outside-policy",
    ]
    assert rules.renotify_after == 6 * 3600
    cost = rules.rule("daily-cost-spike")
    assert isinstance(cost, CostSpikeRule)
    assert (cost.ratio, cost.window, cost.baseline_windows) == (1.2, DAY, 7)
    share = rules.rule("sonnet-share-rise")
    assert isinstance(share, TierShareRule)
    assert [t.value for t in share.tiers] == ["sonnet", "opus"]
    assert (share.min_increase_points, share.min_ratio) == (10, 1.5)
    success_rule = rules.rule("agent-success-rate")
    assert isinstance(success_rule, RateRule)
    assert (success_rule.below, success_rule.group_by) == (0.85, "agent")
    latency = rules.rule("latency-p95-regression")
    assert isinstance(latency, LatencyRule)
    assert (latency.ratio, latency.group_by) == (2.0, "model")
    escalation = rules.rule("agent-escalation-rate")
    assert isinstance(escalation, RateRule)
    assert (escalation.above, escalation.group_by) == (0.30, "agent")
    fallback = rules.rule("fleet-fallback-rate")
    assert isinstance(fallback, RateRule)
    assert (fallback.above, fallback.group_by) == (0.10, None)


# ---- each rule: fires, and stays quiet --------------------------------------------------------


def test_daily_cost_spike(rules: RuleSet) -> None:
    (alert,) = fired(rules, "daily-cost-spike", daily_cost(30.0))
    assert alert.value == 30.0
    assert alert.threshold == pytest.approx(12.0)
    assert alert.baseline == 10.0
    assert (alert.scope, alert.subject, alert.severity) == ("fleet", "fleet", Severity.WARNING)
    assert (alert.window_start, alert.window_end) == (NOW - DAY, NOW)
    assert alert.message == (
        "Cost of the last day is $30.00, above $12.00 (120% of the daily average $10.00 over "
        "the previous 7 days)."
    )
    assert fired(rules, "daily-cost-spike", daily_cost(11.9)) == []  # under 120%
    assert fired(rules, "daily-cost-spike", daily_cost(30.0, today_calls=3)) == []  # 3 calls
    assert fired(rules, "daily-cost-spike", daily_cost(30.0, baseline_days=2)) == []  # too new


def test_daily_cost_spike_averages_only_the_days_that_had_calls(rules: RuleSet) -> None:
    (alert,) = fired(rules, "daily-cost-spike", daily_cost(12.5, baseline_days=3))
    assert alert.baseline == 10.0  # three days at $10, not $30 / 7


def test_daily_cost_spike_ignores_small_money(rules: RuleSet) -> None:
    def fill(need: Need) -> MetricsReport:
        cost = 0.5 if need.ago == 0 else 0.01
        return report(need, GroupMetrics("total", calls=400, cost_usd=cost))

    assert fired(rules, "daily-cost-spike", fill) == []  # 50x, but under min_cost_usd


def test_sonnet_share_rise(rules: RuleSet) -> None:
    baseline = {"haiku": 700, "sonnet": 250, "opus": 50}
    (alert,) = fired(
        rules, "sonnet-share-rise", tier_calls({"haiku": 50, "sonnet": 45, "opus": 5}, baseline)
    )
    assert (alert.scope, alert.subject) == ("tier", "sonnet")
    assert alert.value == pytest.approx(0.45)
    assert alert.baseline == pytest.approx(0.25)
    assert alert.threshold == pytest.approx(0.375)  # max(25% + 10 points, 1.5 x 25%)
    assert "Share of calls on sonnet is 45.0% in the last day, up from 25.0%" in alert.message
    # +8 points: quiet
    quiet = tier_calls({"haiku": 62, "sonnet": 33, "opus": 5}, baseline)
    assert fired(rules, "sonnet-share-rise", quiet) == []


def test_sonnet_share_rise_needs_both_points_and_ratio(rules: RuleSet) -> None:
    # sonnet 40% -> 55%: +15 points but only 1.375x
    big_base = tier_calls({"haiku": 45, "sonnet": 55}, {"haiku": 600, "sonnet": 400})
    assert fired(rules, "sonnet-share-rise", big_base) == []
    # opus 2% -> 10%: 5x but only +8 points
    small_base = tier_calls({"haiku": 90, "opus": 10}, {"haiku": 980, "opus": 20})
    assert fired(rules, "sonnet-share-rise", small_base) == []
    # opus 2% -> 13%: both
    (alert,) = fired(
        rules,
        "sonnet-share-rise",
        tier_calls({"haiku": 87, "opus": 13}, {"haiku": 980, "opus": 20}),
    )
    assert alert.subject == "opus"


def test_sonnet_share_rise_needs_enough_calls(rules: RuleSet) -> None:
    few_today = tier_calls({"haiku": 1, "sonnet": 2}, {"haiku": 700, "sonnet": 300})
    assert fired(rules, "sonnet-share-rise", few_today) == []
    few_before = tier_calls({"haiku": 50, "sonnet": 50}, {"haiku": 90, "sonnet": 10})
    assert fired(rules, "sonnet-share-rise", few_before) == []


def test_agent_success_rate(rules: RuleSet) -> None:
    fill = agents(
        **{
            "test-automator": success(40, 30),  # 75%: fires
            "code-reviewer": success(40, 38),  # 95%: quiet
            "debugger": success(3, 0),  # 0%, but only 3 answers: quiet
        }
    )
    (alert,) = fired(rules, "agent-success-rate", fill)
    assert (alert.scope, alert.subject, alert.severity) == (
        "agent",
        "test-automator",
        Severity.CRITICAL,
    )
    assert (alert.value, alert.threshold, alert.direction, alert.sample) == (
        0.75,
        0.85,
        "below",
        40,
    )
    assert alert.message == (
        "Success rate of agent test-automator is 75.0% over the last day (40 answers), below 85.0%."
    )
    assert fired(rules, "agent-success-rate", agents(a=success(100, 85))) == []  # at 85%: quiet


def test_latency_p95_regression(rules: RuleSet) -> None:
    (alert,) = fired(rules, "latency-p95-regression", p95("claude-sonnet-5-5", 9000, 3000))
    assert (alert.scope, alert.subject, alert.metric) == (
        "model",
        "claude-sonnet-5-5",
        "latency_p95_ms",
    )
    assert (alert.value, alert.threshold, alert.baseline) == (9000, 6000, 3000)
    assert "above 6,000 ms (2x its baseline 3,000 ms)" in alert.message
    assert fired(rules, "latency-p95-regression", p95("m", 5000, 3000)) == []  # 1.7x
    assert fired(rules, "latency-p95-regression", p95("m", 500, 200)) == []  # 2.5x, +300 ms
    assert fired(rules, "latency-p95-regression", p95("m", 9000, 3000, answered=5)) == []


def test_agent_escalation_rate(rules: RuleSet) -> None:
    fill = agents(
        **{
            "backend-architect": escalated(50, 20),  # 40%: fires
            "python-pro": escalated(50, 10),  # 20%: quiet
            "debugger": escalated(5, 4),  # 80%, 5 runs: quiet
        }
    )
    (alert,) = fired(rules, "agent-escalation-rate", fill)
    assert (alert.subject, alert.value, alert.threshold, alert.direction) == (
        "backend-architect",
        0.4,
        0.3,
        "above",
    )
    assert alert.window_start == NOW - 7 * DAY
    assert "40.0% of agent backend-architect's runs escalated over the last 7 days" in alert.message


def test_fleet_fallback_rate(rules: RuleSet) -> None:
    (alert,) = fired(
        rules, "fleet-fallback-rate", fleet(GroupMetrics("total", runs=200, fallback_runs=30))
    )
    assert (alert.scope, alert.subject, alert.value, alert.sample) == ("fleet", "fleet", 0.15, 200)
    quiet = fleet(GroupMetrics("total", runs=200, fallback_runs=20))  # 10%: not above
    assert fired(rules, "fleet-fallback-rate", quiet) == []
    few = fleet(GroupMetrics("total", runs=10, fallback_runs=5))
    assert fired(rules, "fleet-fallback-rate", few) == []


def test_no_data_fires_nothing(rules: RuleSet) -> None:
    assert evaluate(rules.enabled, AlertInputs(now=NOW)) == []
    empty = {n: report(n, GroupMetrics("total")) for n in needs(rules.enabled)}
    assert evaluate(rules.enabled, AlertInputs(now=NOW, reports=empty)) == []


def test_alert_to_dict_is_plain_json(rules: RuleSet) -> None:
    (alert,) = fired(rules, "daily-cost-spike", daily_cost(30.0))
    data = alert.to_dict()
    assert data["rule"] == "daily-cost-spike"
    assert data["severity"] == "warning"
    assert data["window_end"] == "2026-09-21T14:13:20Z"
    assert data["message"] == alert.message


def test_worse_means_further_in_the_bad_direction(rules: RuleSet) -> None:
    (up,) = fired(rules, "daily-cost-spike", daily_cost(30.0))
    assert up.is_worse_than(20.0, 0.25)  # 30 >= 25
    assert not up.is_worse_than(25.0, 0.25)  # 30 < 31.25
    (down,) = fired(rules, "agent-success-rate", agents(a=success(100, 60)))
    assert down.is_worse_than(0.8, 0.25)  # 0.60 <= 0.60
    assert not down.is_worse_than(0.7, 0.25)


# ---- rule files: precise errors ---------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "alerts.yaml"
    path.write_text(text, encoding="utf-8")
    return path


RATE = """\
version: 1
rules:
  - id: agent-success
    kind: rate
    metric: success_rate
    below: 0.85
    group_by: agent
    message: "{subject}: {value}"
"""


def test_a_user_file_replaces_the_defaults(tmp_path: Path) -> None:
    loaded = load_rules(write(tmp_path, RATE))
    assert [r.id for r in loaded.rules] == ["agent-success"]
    (alert,) = evaluate(loaded.enabled, inputs(loaded, "agent-success", agents(x=success(10, 1))))
    assert alert.message == "x: 10.0%"


@pytest.mark.parametrize(
    ("change", "line", "field", "says"),
    [
        (("kind: rate", "kind: rates"), 4, "rules.0.kind", "did you mean 'rate'?"),
        (("below: 0.85", "below: 0.85\n    above: 0.5"), 3, "rules.0", "exactly one of"),
        (("below: 0.85", "below: 1.5"), 6, "rules.0.below", "less than or equal to 1"),
        (("metric: success_rate", "metric: sucess_rate"), 5, "rules.0.metric", "success_rate"),
        (("{subject}: {value}", "{agent}: {value}"), 8, "rules.0.message", "'agent'"),
        (("group_by: agent", "group_by: agent\n    window: 3 days"), 8, "rules.0.window", "7d"),
        (
            ("group_by: agent", "group_by: agent\n    colour: red"),
            8,
            "rules.0.colour",
            "Extra inputs",
        ),
    ],
)
def test_rule_file_errors_name_file_line_and_field(
    tmp_path: Path, change: tuple[str, str], line: int, field: str, says: str
) -> None:
    path = write(tmp_path, RATE.replace(*change))
    with pytest.raises(ConfigError) as caught:
        load_rules(path)
    message = str(caught.value)
    assert f"{path}:{line}: [{field}]" in message
    assert says in message


def test_rule_file_errors_report_every_problem(tmp_path: Path) -> None:
    second = RATE.split("rules:\n")[1].replace("id: agent-success", "id: agent-success-2")
    text = RATE.replace("below: 0.85", "below: 1.5") + second.replace(
        "below: 0.85", "below: 0.8\n    severity: loud"
    )
    with pytest.raises(ConfigError) as caught:
        load_rules(write(tmp_path, text))
    message = str(caught.value)
    assert "2 problem(s)" in message
    assert ":6: [rules.0.below]" in message
    assert ":13: [rules.1.severity] error: unknown value 'loud'" in message


def test_rule_ids_are_unique(tmp_path: Path) -> None:
    text = RATE + RATE.split("rules:\n")[1]
    with pytest.raises(ConfigError, match="rule id 'agent-success' is used twice"):
        load_rules(write(tmp_path, text))


def test_baseline_must_be_whole_windows(tmp_path: Path) -> None:
    text = """\
rules:
  - id: cost
    kind: cost_spike
    window: 1d
    baseline: 36h
    ratio: 1.2
    message: "{value}"
"""
    with pytest.raises(ConfigError, match=r"baseline \(36h\) must be a whole number of windows"):
        load_rules(write(tmp_path, text))


def test_not_yaml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_rules(write(tmp_path, "rules: [\n"))
    with pytest.raises(ConfigError, match="cannot read"):
        load_rules(tmp_path / "nope.yaml")


def test_durations() -> None:
    assert format_duration(DAY) == "1d"
    assert format_duration(7 * DAY) == "7d"
    assert format_duration(5400) == "90m"
    assert describe_duration(DAY) == "day"
    assert describe_duration(7 * DAY) == "7 days"
    assert describe_duration(6 * 3600) == "6 hours"
