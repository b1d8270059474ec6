"""Evaluating alert rules: metrics in, alerts out. Pure: no clock, no store, no network.

Every rule says which metric reports it reads (:func:`needs`): a :class:`Need` is a grouping and
a window relative to "now" (``[now - ago - span, now - ago)``). :mod:`ctxrouter.alerts.collect`
fetches them from a store; tests build them by hand::

    inputs = AlertInputs(now=now, reports={need: report, ...})
    alerts = evaluate(rules.enabled, inputs)

A report that is missing from the inputs counts as a window without events: the rule that needs
it stays quiet (no data is not an incident). Each rule only judges a group with enough calls, runs
or answers (its ``min_*`` fields), so a handful of calls never pages anyone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from ctxrouter.alerts.rules import (
    CostSpikeRule,
    LatencyRule,
    RateMetric,
    RateRule,
    RouteFlagRule,
    Rule,
    Severity,
    TierShareRule,
    describe_duration,
)
from ctxrouter.analytics.metrics import GroupBy, GroupMetrics, MetricsReport

FLEET = "fleet"  # the subject of a rule over the whole fleet
Direction = Literal["above", "below"]
Unit = Literal["usd", "fraction", "ms", "count"]
ROUTE_FLAGS = "route_flags"  # what a Need of a route_flag rule reads (not a metrics report)


@dataclass(frozen=True, slots=True)
class Need:
    """One metrics report a rule reads: grouped ``by`` over ``[now - ago - span, now - ago)``."""

    by: GroupBy | None
    ago: float
    span: float
    what: str = "metrics"  # or ROUTE_FLAGS: flagged requests per agent

    def bounds(self, now: float) -> tuple[float, float]:
        """``(since, until)`` in epoch seconds; ``until`` is exclusive."""
        return now - self.ago - self.span, now - self.ago


# What a rule compared with a baseline judges: its window's need and report, the baseline's report
Compared = tuple[Need, MetricsReport, MetricsReport]


@dataclass(frozen=True, slots=True)
class AlertInputs:
    """The reports the rules need, at one moment ``now`` (epoch seconds)."""

    now: float
    reports: Mapping[Need, MetricsReport] = field(default_factory=dict)
    route_flags: Mapping[Need, Mapping[str, int]] = field(default_factory=dict)

    def report(self, need: Need) -> MetricsReport | None:
        return self.reports.get(need)


@dataclass(frozen=True, slots=True)
class Alert:
    """A rule that fires for one subject (an agent, a model, a tier, or the whole fleet)."""

    rule_id: str
    kind: str
    severity: Severity
    scope: str  # "fleet", "agent", "model", "tier" or "category"
    subject: str  # the group's key; "fleet" for the whole fleet
    metric: str  # "cost_usd", "tier_share", "success_rate", "latency_p95_ms", ...
    unit: Unit
    value: float
    threshold: float
    direction: Direction  # "above": fires when value > threshold; "below": value < threshold
    baseline: float | None  # what the threshold was derived from, for rules that compare
    sample: int  # the calls, runs or answers the value rests on
    window_start: float
    window_end: float
    message: str

    @property
    def key(self) -> str:
        """Same rule, same subject: the same condition (for de-duplication)."""
        return f"{self.rule_id}:{self.scope}:{self.subject}"

    def is_worse_than(self, previous: float, margin: float) -> bool:
        """Whether this value is at least ``margin`` (relative) further in the bad direction."""
        if self.direction == "above":
            return self.value > previous if previous <= 0 else self.value >= previous * (1 + margin)
        return self.value <= previous * (1 - margin)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule_id,
            "kind": self.kind,
            "severity": self.severity.value,
            "scope": self.scope,
            "subject": self.subject,
            "metric": self.metric,
            "unit": self.unit,
            "value": self.value,
            "threshold": self.threshold,
            "direction": self.direction,
            "baseline": self.baseline,
            "sample": self.sample,
            "window_start": _iso(self.window_start),
            "window_end": _iso(self.window_end),
            "message": self.message,
        }


def needs(rules: Iterable[Rule]) -> list[Need]:
    """Every report the rules read, each once, in a stable order."""
    return sorted({need for rule in rules for need in _needs(rule)}, key=_need_order)


def evaluate(rules: Iterable[Rule], inputs: AlertInputs) -> list[Alert]:
    """The alerts the rules raise on these inputs: rule order, then subject order."""
    alerts: list[Alert] = []
    for rule in rules:
        found = _EVALUATORS[rule.kind](rule, inputs)
        alerts.extend(sorted(found, key=lambda a: a.subject))
    return alerts


def format_value(value: float | None, unit: Unit) -> str:
    if value is None:
        return "—"
    if unit == "usd":
        return f"${value:,.2f}" if abs(value) >= 0.01 or value == 0 else f"${value:.4f}"
    if unit == "fraction":
        return f"{value:.1%}"
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:,.0f} ms"


# ---- needs ------------------------------------------------------------------------------------


def _needs(rule: Rule) -> tuple[Need, ...]:
    """The window first, then the baseline (for a cost spike: one report per baseline window)."""
    if isinstance(rule, RouteFlagRule):
        return (Need("agent", 0.0, rule.window, ROUTE_FLAGS),)
    if isinstance(rule, CostSpikeRule):
        windows = range(1 + rule.baseline_windows)
        return tuple(Need(None, i * rule.window, rule.window) for i in windows)
    by = "tier" if isinstance(rule, TierShareRule) else rule.group_by
    window = Need(by, 0.0, rule.window)
    if isinstance(rule, RateRule):
        return (window,)
    return window, Need(by, rule.window, rule.baseline)


def _need_order(need: Need) -> tuple[str, str, float, float]:
    return need.what, need.by or "", need.ago, need.span


# ---- one evaluator per kind -------------------------------------------------------------------


def _cost_spike(rule: Rule, inputs: AlertInputs) -> Iterator[Alert]:
    assert isinstance(rule, CostSpikeRule)
    current_need, *baseline_needs = _needs(rule)
    current = _totals(inputs, current_need)
    if current is None or current.calls < rule.min_calls or current.cost_usd < rule.min_cost_usd:
        return
    days = [t for n in baseline_needs if (t := _totals(inputs, n)) is not None and t.calls > 0]
    if len(days) < max(rule.min_baseline_windows, 1):
        return
    mean = sum(t.cost_usd for t in days) / len(days)
    threshold = rule.ratio * mean
    if current.cost_usd > threshold:
        yield _alert(
            rule, inputs, current_need, scope=None, subject=FLEET, metric="cost_usd", unit="usd",
            value=current.cost_usd, threshold=threshold, direction="above", baseline=mean,
            sample=current.calls,
        )  # fmt: skip


def _tier_share(rule: Rule, inputs: AlertInputs, compared: Compared) -> Iterator[Alert]:
    assert isinstance(rule, TierShareRule)
    current_need, current, baseline = compared
    if current.totals.calls < max(rule.min_calls, 1):
        return
    if baseline.totals.calls < max(rule.min_baseline_calls, 1):
        return
    now_calls, base_calls = _calls_by_key(current), _calls_by_key(baseline)
    for tier in rule.tiers:
        share = now_calls.get(tier.value, 0) / current.totals.calls
        base_share = base_calls.get(tier.value, 0) / baseline.totals.calls
        threshold = max(base_share + rule.min_increase_points / 100, base_share * rule.min_ratio)
        if share > threshold:
            yield _alert(
                rule, inputs, current_need, scope="tier", subject=tier.value,
                metric="tier_share", unit="fraction", value=share, threshold=threshold,
                direction="above", baseline=base_share, sample=current.totals.calls,
            )  # fmt: skip


def _rate(rule: Rule, inputs: AlertInputs) -> Iterator[Alert]:
    assert isinstance(rule, RateRule)
    (need,) = _needs(rule)
    report = inputs.report(need)
    if report is None:
        return
    for group in _judged(report, rule.group_by):
        rate: float | None = getattr(group, rule.metric.value)
        sample = group.answered if rule.metric is RateMetric.SUCCESS_RATE else group.runs
        if rate is None or sample < max(rule.min_sample, 1):
            continue
        direction: Direction = "below" if rule.below is not None else "above"
        threshold = rule.below if rule.below is not None else rule.above
        assert threshold is not None  # the rule's validator asks for exactly one
        if rate < threshold if direction == "below" else rate > threshold:
            yield _alert(
                rule, inputs, need, scope=rule.group_by,
                subject=group.key if rule.group_by else FLEET, metric=rule.metric.value,
                unit="fraction", value=rate, threshold=threshold, direction=direction,
                baseline=None, sample=sample,
            )  # fmt: skip


def _latency(rule: Rule, inputs: AlertInputs, compared: Compared) -> Iterator[Alert]:
    assert isinstance(rule, LatencyRule)
    current_need, current, baseline = compared
    attr = f"latency_{rule.percentile.value}_ms"
    before = {g.key: g for g in _judged(baseline, rule.group_by)}
    for group in _judged(current, rule.group_by):
        base = before.get(group.key)
        if base is None or group.answered < max(rule.min_calls, 1):
            continue
        if base.answered < max(rule.min_baseline_calls, 1):
            continue
        value: float | None = getattr(group, attr)
        base_value: float | None = getattr(base, attr)
        if value is None or base_value is None:
            continue
        threshold = max(rule.ratio * base_value, base_value + rule.min_increase_ms)
        if value > threshold:
            yield _alert(
                rule, inputs, current_need, scope=rule.group_by,
                subject=group.key if rule.group_by else FLEET, metric=attr, unit="ms",
                value=value, threshold=threshold, direction="above", baseline=base_value,
                sample=group.answered,
            )  # fmt: skip


Evaluator = Callable[[Rule, AlertInputs], Iterator[Alert]]
Comparison = Callable[[Rule, AlertInputs, Compared], Iterator[Alert]]


def _against_baseline(compare: Comparison) -> Evaluator:
    """An evaluator of a rule that compares its window with a baseline: ``compare`` gets both
    reports, and is not called when one is missing."""

    def evaluate(rule: Rule, inputs: AlertInputs) -> Iterator[Alert]:
        current_need, baseline_need = _needs(rule)
        current, baseline = inputs.report(current_need), inputs.report(baseline_need)
        if current is None or baseline is None:
            return iter(())
        return compare(rule, inputs, (current_need, current, baseline))

    return evaluate


def _route_flag(rule: Rule, inputs: AlertInputs) -> Iterator[Alert]:
    assert isinstance(rule, RouteFlagRule)
    (need,) = _needs(rule)
    for agent, count in inputs.route_flags.get(need, {}).items():
        if count >= rule.min_requests:
            yield _alert(
                rule, inputs, need, scope="agent", subject=agent, metric="route_flagged",
                unit="count", value=count, threshold=rule.min_requests - 1, direction="above",
                baseline=None, sample=count,
            )  # fmt: skip


_EVALUATORS: dict[str, Evaluator] = {
    "route_flag": _route_flag,
    "cost_spike": _cost_spike,
    "tier_share_rise": _against_baseline(_tier_share),
    "rate": _rate,
    "latency_regression": _against_baseline(_latency),
}


# ---- helpers ----------------------------------------------------------------------------------


def _judged(report: MetricsReport, group_by: GroupBy | None) -> list[GroupMetrics]:
    """What a rule judges: the groups of a grouped rule, the totals of a fleet one."""
    return report.groups if group_by else [report.totals]


def _totals(inputs: AlertInputs, need: Need) -> GroupMetrics | None:
    report = inputs.report(need)
    return report.totals if report is not None else None


def _calls_by_key(report: MetricsReport) -> dict[str, int]:
    return {g.key: g.calls for g in report.groups}


def _alert(
    rule: Rule,
    inputs: AlertInputs,
    need: Need,
    *,
    scope: str | None,
    subject: str,
    metric: str,
    unit: Unit,
    value: float,
    threshold: float,
    direction: Direction,
    baseline: float | None,
    sample: int,
) -> Alert:
    since, until = need.bounds(inputs.now)
    facts = {
        "rule": rule.id,
        "subject": subject,
        "value": format_value(value, unit),
        "threshold": format_value(threshold, unit),
        "baseline": format_value(baseline, unit),
        "window": describe_duration(rule.window),
        "sample": f"{sample:,}",
    }
    return Alert(
        rule_id=rule.id,
        kind=rule.kind,
        severity=rule.severity,
        scope=scope or FLEET,
        subject=subject,
        metric=metric,
        unit=unit,
        value=value,
        threshold=threshold,
        direction=direction,
        baseline=baseline,
        sample=sample,
        window_start=since,
        window_end=until,
        message=rule.message.format(**facts),
    )


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")
