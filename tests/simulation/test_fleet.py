from __future__ import annotations

from pathlib import Path

from ctxrouter import Settings
from ctxrouter.analytics.metrics import compute_metrics
from ctxrouter.simulation.drift import Drift
from ctxrouter.simulation.fleet import load_plan, plan_day, simulate_month
from ctxrouter.telemetry.sqlite import SQLiteStore


async def test_a_short_month_is_deterministic_and_recorded(tmp_path: Path) -> None:
    plan = load_plan().model_copy(update={"days": 2, "tasks_per_day": 60, "drifts": ()})
    settings = Settings.load(data_dir=tmp_path)
    first = await simulate_month(settings, plan, database=tmp_path / "a.db")
    second = await simulate_month(settings, plan, database=tmp_path / "b.db")
    a, b = first.to_dict(), second.to_dict()
    assert a["tasks"] == 120 and a["tasks_ok"] == 120
    for key in ("cost_usd", "all_sonnet_usd", "escalations", "by_tier", "by_pattern"):
        assert a[key] == b[key]
    with SQLiteStore(tmp_path / "a.db") as store:
        [(events, days)] = store.query(
            "SELECT COUNT(*), COUNT(DISTINCT CAST(ts / 86400 AS INTEGER)) FROM events"
        )
    calls = sum(t["calls"] + t["failed_attempts"] for t in a["by_tier"].values())
    assert events == calls and days == 2


async def test_the_summary_reads_percentiles_as_metrics_does(tmp_path: Path) -> None:
    """The month's summary and `ctxrouter metrics` give the same p50/p95/p99 for its events."""
    plan = load_plan().model_copy(update={"days": 2, "tasks_per_day": 60, "drifts": ()})
    settings = Settings.load(data_dir=tmp_path)
    summary = await simulate_month(settings, plan, database=tmp_path / "month.db")
    by_tier = summary.to_dict()["by_tier"]
    with SQLiteStore(tmp_path / "month.db") as store:
        groups = {g.key: g for g in compute_metrics(store, by="tier").groups}
    assert set(by_tier) == set(groups)
    for tier, figures in by_tier.items():
        group = groups[tier]
        assert figures["calls"] == group.answered > 0
        from_metrics = (group.latency_p50_ms, group.latency_p95_ms, group.latency_p99_ms)
        assert figures["latency_ms"] == {
            name: None if value is None else round(value, 1)
            for name, value in zip(("p50", "p95", "p99"), from_metrics, strict=True)
        }


async def test_drifts_show_in_the_events(tmp_path: Path) -> None:
    base = load_plan().model_copy(update={"days": 2, "tasks_per_day": 80, "drifts": ()})
    drifted = base.model_copy(
        update={
            "drifts": (
                Drift(kind="cost_spike", days=(1,), factor=3.0),
                Drift(kind="success_drop", agent="test-automator", from_day=0, rate=1.0),
            )
        }
    )
    settings = Settings.load(data_dir=tmp_path)
    calm = (await simulate_month(settings, base, database=tmp_path / "calm.db")).to_dict()
    hit = (await simulate_month(settings, drifted, database=tmp_path / "hit.db")).to_dict()
    assert hit["cost_usd"] > calm["cost_usd"] * 1.5  # day 2 of 2 costs ~3x
    with SQLiteStore(tmp_path / "hit.db") as store:
        [(rejected, answered)] = store.query(
            "SELECT SUM(CASE WHEN outcome = 'rejected' THEN 1 ELSE 0 END), COUNT(*) FROM events "
            "WHERE agent = 'test-automator' AND tier = 'haiku' AND outcome != 'error'"
        )
    assert answered > 0 and rejected == answered  # every haiku answer of the agent went wrong


def test_plan_days_follow_the_mix() -> None:
    import random

    plan = load_plan()
    tasks = plan_day(plan, 0, random.Random(1))
    assert len(tasks) == 1000
    kinds = {
        k: sum(t.kind == k for t in tasks) / 1000
        for k in ("architecture", "implementation", "maintenance")
    }
    assert abs(kinds["architecture"] - 0.3) < 0.05 and abs(kinds["implementation"] - 0.5) < 0.05
    assert tasks == sorted(tasks, key=lambda t: t.start)
