"""The shipped rules on real events in a real SQLite store: eight days of a small fleet, the
last day (or the week) changed so that exactly one rule fires, and left alone so that none does."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from ctxrouter.alerts import RuleSet, collect_inputs, evaluate, load_rules, needs, newest_event_time
from ctxrouter.alerts.collect import AFTER_NEWEST_S
from ctxrouter.telemetry import Event, Outcome, SQLiteStore

DAY = 86_400.0
HOUR = 3600.0
T_END = 1_790_208_000.0  # 2026-09-24T00:00:00Z: the end of the last simulated day
AGENTS = ("code-reviewer", "python-pro", "test-automator", "backend-architect")
MODELS = {"haiku": "claude-haiku-5-5", "sonnet": "claude-sonnet-5-5"}
FALLBACK_MODELS = {"haiku": "claude-haiku-4-5", "sonnet": "claude-sonnet-4-5"}


@dataclass
class Day:
    """One day of the fleet: ``runs`` runs spread over 02:00-22:00, one agent after another."""

    runs: int = 120
    sonnet_share: float = 0.3
    cost_per_answer: float = 0.10
    sonnet_latency_factor: float = 1.0
    rejected: dict[str, float] = field(default_factory=dict)  # agent -> share of runs
    escalated: dict[str, float] = field(default_factory=dict)  # agent -> share of runs
    fallback_share: float = 0.0


def picked(index: int, share: float) -> bool:
    """``share`` of the indexes, spread evenly (exactly floor(n * share) of the first n)."""
    return int((index + 1) * share) > int(index * share)


def day_events(days_back: int, spec: Day) -> list[Event]:
    start = T_END - (days_back + 1) * DAY
    events: list[Event] = []
    for i in range(spec.runs):
        ts = start + 2 * HOUR + i * (20 * HOUR / spec.runs)
        agent = AGENTS[i % len(AGENTS)]
        nth = i // len(AGENTS)  # the agent's own run number that day
        tier = "sonnet" if picked(i, spec.sonnet_share) else "haiku"
        latency = 1000.0 + (i % 10) * 40
        if tier == "sonnet":
            latency *= spec.sonnet_latency_factor
        run = f"run-{days_back}-{i}"
        answer = Event(
            event_id=f"{run}-1",
            ts=ts,
            run_id=run,
            agent=agent,
            model=MODELS[tier],
            tier=tier,
            outcome=Outcome.SUCCESS,
            input_tokens=2_000,
            output_tokens=300,
            cost_usd=spec.cost_per_answer,
            latency_ms=latency,
        )
        failed = replace(answer, outcome=Outcome.ERROR, cost_usd=None, latency_ms=None)
        retry = replace(answer, event_id=f"{run}-2", ts=ts + 1, attempt=2)
        if picked(nth, spec.escalated.get(agent, 0.0)):
            events.append(
                replace(failed, tier="haiku", model=MODELS["haiku"], error_type="overloaded")
            )
            events.append(
                replace(retry, tier="sonnet", model=MODELS["sonnet"], escalated_from="haiku")
            )
        elif picked(i, spec.fallback_share):
            events.append(replace(failed, error_type="server_error"))
            events.append(replace(retry, model=FALLBACK_MODELS[tier], fallback_from=MODELS[tier]))
        elif picked(nth, spec.rejected.get(agent, 0.0)):
            events.append(replace(answer, outcome=Outcome.REJECTED))
        else:
            events.append(answer)
    return events


def fleet(last_day: Day | None = None, every_day: Day | None = None) -> list[Event]:
    """Eight days: seven of baseline and the last one (``last_day``, else like the others)."""
    usual = every_day or Day()
    events: list[Event] = []
    for days_back in range(7, -1, -1):
        events += day_events(days_back, last_day if days_back == 0 and last_day else usual)
    return events


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    with SQLiteStore(tmp_path / "ctxrouter.db") as opened:
        yield opened


def fired(store: SQLiteStore, rules: RuleSet, events: list[Event]) -> dict[str, list[str]]:
    """rule id -> subjects of the alerts that fire on ``events``, judged at the last day's end."""
    store.write_events(events)
    alerts = evaluate(rules.enabled, collect_inputs(store, rules.enabled, now=T_END))
    found: dict[str, list[str]] = {}
    for alert in alerts:
        found.setdefault(alert.rule_id, []).append(alert.subject)
    return found


def test_an_ordinary_week_is_quiet(store: SQLiteStore, rules: RuleSet) -> None:
    assert fired(store, rules, fleet()) == {}


def test_daily_cost_spike(store: SQLiteStore, rules: RuleSet) -> None:
    assert fired(store, rules, fleet(Day(cost_per_answer=0.30))) == {"daily-cost-spike": ["fleet"]}


def test_daily_cost_within_120_percent_is_quiet(store: SQLiteStore, rules: RuleSet) -> None:
    assert fired(store, rules, fleet(Day(cost_per_answer=0.115))) == {}


def test_sonnet_share_rise(store: SQLiteStore, rules: RuleSet) -> None:
    assert fired(store, rules, fleet(Day(sonnet_share=0.6))) == {"sonnet-share-rise": ["sonnet"]}


def test_sonnet_share_small_rise_is_quiet(store: SQLiteStore, rules: RuleSet) -> None:
    assert fired(store, rules, fleet(Day(sonnet_share=0.38))) == {}


def test_agent_success_rate(store: SQLiteStore, rules: RuleSet) -> None:
    drop = Day(rejected={"test-automator": 0.4})
    assert fired(store, rules, fleet(drop)) == {"agent-success-rate": ["test-automator"]}


def test_agent_success_rate_above_85_percent_is_quiet(store: SQLiteStore, rules: RuleSet) -> None:
    assert fired(store, rules, fleet(Day(rejected={"test-automator": 0.1}))) == {}


def test_latency_p95_regression(store: SQLiteStore, rules: RuleSet) -> None:
    slow = Day(sonnet_latency_factor=3.0)
    assert fired(store, rules, fleet(slow)) == {"latency-p95-regression": ["claude-sonnet-5-5"]}


def test_latency_under_twice_the_baseline_is_quiet(store: SQLiteStore, rules: RuleSet) -> None:
    assert fired(store, rules, fleet(Day(sonnet_latency_factor=1.5))) == {}


def test_agent_escalation_rate(store: SQLiteStore, rules: RuleSet) -> None:
    week = Day(escalated={"backend-architect": 0.4})
    assert fired(store, rules, fleet(every_day=week)) == {
        "agent-escalation-rate": ["backend-architect"]
    }


def test_agent_escalation_rate_under_30_percent_is_quiet(
    store: SQLiteStore, rules: RuleSet
) -> None:
    week = Day(escalated={"backend-architect": 0.2})
    assert fired(store, rules, fleet(every_day=week)) == {}


def test_fleet_fallback_rate(store: SQLiteStore, rules: RuleSet) -> None:
    assert fired(store, rules, fleet(Day(fallback_share=0.2))) == {"fleet-fallback-rate": ["fleet"]}


def test_fleet_fallback_rate_under_10_percent_is_quiet(store: SQLiteStore, rules: RuleSet) -> None:
    assert fired(store, rules, fleet(Day(fallback_share=0.05))) == {}


def test_a_few_calls_page_nobody(store: SQLiteStore, rules: RuleSet) -> None:
    """Three calls, every one of them bad: no rule has enough to judge."""
    events = day_events(0, Day(runs=3, rejected={a: 1.0 for a in AGENTS}, cost_per_answer=50))
    assert fired(store, rules, events) == {}


def test_now_defaults_to_just_after_the_newest_event(store: SQLiteStore, rules: RuleSet) -> None:
    events = fleet(Day(cost_per_answer=0.30))
    store.write_events(events)
    newest = max(e.ts for e in events)
    assert newest_event_time(store) == newest
    inputs = collect_inputs(store, rules.enabled)
    assert inputs.now == newest + AFTER_NEWEST_S
    assert set(inputs.reports) | set(inputs.route_flags) == set(needs(rules.enabled))
    (alert,) = evaluate(rules.enabled, inputs)
    assert alert.rule_id == "daily-cost-spike"
    assert alert.sample == 120  # the newest event is inside the last day's window
    assert alert.window_end == inputs.now


def test_an_empty_store_has_no_newest_event(store: SQLiteStore, rules: RuleSet) -> None:
    assert newest_event_time(store) is None
    assert evaluate(rules.enabled, collect_inputs(store, rules.enabled)) == []


def test_a_moment_before_the_spike_is_quiet(store: SQLiteStore, rules: RuleSet) -> None:
    """``now`` a day earlier judges the days before the spike."""
    store.write_events(fleet(Day(cost_per_answer=0.30)))
    assert evaluate(rules.enabled, collect_inputs(store, rules.enabled, now=T_END - DAY)) == []


def test_a_model_kept_outside_an_agents_policy_is_named(store: SQLiteStore, rules: RuleSet) -> None:
    """The gateway flags a client's model it kept outside the agent's tiers (override=never);
    the shipped rule names the agent."""
    events = fleet(Day(cost_per_answer=0.01))
    newest = max(e.ts for e in events)
    flagged = [
        replace(events[-1], event_id=f"flag-{i}", ts=newest - i, agent="security-auditor",
                model="claude-haiku-5-5", route_flag="below-floor")
        for i in range(2)
    ]  # fmt: skip
    store.write_events([*events, *flagged])
    alerts = evaluate(rules.enabled, collect_inputs(store, rules.enabled))
    (alert,) = [a for a in alerts if a.rule_id == "model-outside-policy"]
    assert (alert.scope, alert.subject, alert.value) == ("agent", "security-auditor", 2)
    assert alert.message.startswith("security-auditor: 2 request(s) in the last day ran on a")
    before = evaluate(rules.enabled, collect_inputs(store, rules.enabled, now=newest - 2 * DAY))
    assert not [a for a in before if a.rule_id == "model-outside-policy"]
