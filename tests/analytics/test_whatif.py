"""The what-if report: repricing at the policy's tier, what stays, what cannot be priced."""

from __future__ import annotations

import pytest

from ctxrouter.analytics.whatif import ASSUMPTIONS, Recorded, collect, what_if
from ctxrouter.config import Settings
from ctxrouter.models import ModelRegistry
from ctxrouter.models.bulk_pricing import Pricer
from ctxrouter.telemetry import Event, Outcome, SQLiteStore

DAY = 20_418  # 2025-11-26
TIERS = {"haiku": "claude-haiku-5-5", "sonnet": "claude-sonnet-5-5", "opus": "claude-opus-5-5"}
POLICY = {"python-pro": "haiku", "security-auditor": "sonnet", "inheritor": None}


def price(model: str, day: int, tokens: tuple[int, int, int, int, int]) -> float | None:
    """A toy price list: USD per token, by model."""
    rate = {"claude-haiku-5-5": 1.0, "claude-sonnet-5-5": 3.0, "claude-opus-5-5": 5.0}
    return None if model not in rate else rate[model] * sum(tokens)


def rec(agent: str, model: str, tokens: int = 10, cost: float | None = -1.0) -> Recorded:
    five = (tokens, 0, 0, 0, 0)
    return Recorded(agent, model, DAY, five, price(model, DAY, five) if cost == -1.0 else cost)


def test_subagents_of_the_catalog_are_repriced_at_their_policy_tier() -> None:
    report = what_if(
        [
            rec("python-pro", "claude-opus-5-5"),  # 50 -> 10 on haiku
            rec("python-pro", "claude-haiku-5-5"),  # already there: 10 -> 10
            rec("security-auditor", "claude-haiku-5-5"),  # 10 -> 30 on sonnet: costs more
            rec("main", "claude-opus-5-5"),  # the main conversation: untouched
            rec("Explore", "claude-opus-5-5"),  # not in the catalog: untouched
            rec("inheritor", "claude-opus-5-5"),  # inherits: untouched
        ],
        policy=POLICY,
        tier_models=TIERS,
        price=price,
        provider="claude-code",
    )
    rows = {row.agent: row for row in report.agents}
    pro = rows["python-pro"]
    assert (pro.responses, pro.moved, pro.actual_usd, pro.whatif_usd) == (2, 1, 60.0, 20.0)
    assert (pro.tier, pro.model, pro.saved_usd, pro.saved_pct) == (
        "haiku",
        "claude-haiku-5-5",
        40.0,
        pytest.approx(66.666, rel=1e-3),
    )
    auditor = rows["security-auditor"]
    assert (auditor.actual_usd, auditor.whatif_usd, auditor.saved_usd) == (10.0, 30.0, -20.0)
    for name, reason in (
        ("main", "the main conversation"),
        ("Explore", "not in the catalog"),
        ("inheritor", "inherits the caller's model"),
    ):
        assert rows[name].untouched == reason and rows[name].moved == 0
        assert rows[name].actual_usd == rows[name].whatif_usd == 50.0
    total = report.total
    assert (total.responses, total.moved, total.actual_usd, total.whatif_usd) == (
        6,
        2,
        220.0,
        200.0,
    )
    assert [row.agent for row in report.agents][:2] == ["python-pro", "security-auditor"]
    data = report.to_dict()
    assert data["assumptions"] == list(ASSUMPTIONS) and data["tier_models"] == TIERS
    assert data["total"]["saved_usd"] == 20.0 and data["agents"][0]["policy_tier"] == "haiku"


def test_responses_that_cannot_be_priced_are_left_out_of_both_sums() -> None:
    report = what_if(
        [rec("python-pro", "claude-opus-4-1"), rec("python-pro", "claude-opus-5-5")],
        policy=POLICY,
        tier_models=TIERS,
        price=price,
    )
    (row,) = report.agents
    assert (row.responses, row.unpriced, row.moved, row.actual_usd, row.whatif_usd) == (
        2,
        1,
        1,
        50.0,
        10.0,
    )
    assert report.total.unpriced == 1


def test_with_the_shipped_prices_on_a_store(tmp_path: object) -> None:
    registry = ModelRegistry.load(Settings())
    pricer = Pricer(registry)
    events = [
        Event(event_id=f"e{i}", ts=DAY * 86400.0 + i, run_id=f"e{i}", agent=agent, model=model,
              tier=None, outcome=outcome, provider=provider, input_tokens=1000,
              output_tokens=500, cost_usd=pricer.cost(model, DAY, (1000, 500, 0, 0, 0)))
        for i, (agent, model, outcome, provider) in enumerate([
            ("python-pro", "claude-opus-5-5", Outcome.SUCCESS, "claude-code"),
            ("python-pro", "claude-opus-5-5", Outcome.ERROR, "claude-code"),  # not an answer
            ("python-pro", "claude-opus-5-5", Outcome.SUCCESS, "gateway"),  # another provider
        ])
    ]  # fmt: skip
    with SQLiteStore(tmp_path / "w.db") as store:  # type: ignore[operator]
        store.write_events(events)
        recorded = collect(store)
        everything = collect(store, provider=None)
        later = collect(store, since=DAY * 86400.0 + 1)
    assert len(recorded) == 1 and len(everything) == 2 and later == []
    report = what_if(
        recorded,
        policy=POLICY,
        tier_models={t.value: m for t, m in registry.tier_map.items()},
        price=pricer.cost,
    )
    (row,) = report.agents
    opus = pricer.cost("claude-opus-5-5", DAY, (1000, 500, 0, 0, 0))
    haiku = pricer.cost("claude-haiku-5-5", DAY, (1000, 500, 0, 0, 0))
    assert (row.actual_usd, row.whatif_usd) == (opus, haiku)
    assert opus is not None and haiku is not None and row.saved_usd > 0
