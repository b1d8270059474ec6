from __future__ import annotations

from pathlib import Path

import pytest

from ctxrouter import Settings, load_catalog
from ctxrouter.analytics.apply import apply_edit, plan_edit
from ctxrouter.analytics.profile import (
    AgentProfile,
    ProfileSettings,
    TierStats,
    collect,
    newcombe,
    recommend,
    wilson,
)
from ctxrouter.errors import InputError
from ctxrouter.telemetry.event import Event, Outcome
from ctxrouter.telemetry.sqlite import SQLiteStore


def test_wilson_and_newcombe_known_values() -> None:
    low, high = wilson(81, 100)  # 81/100: 0.7222 to 0.8749
    assert low == pytest.approx(0.7222, abs=1e-3) and high == pytest.approx(0.8749, abs=1e-3)
    diff, low, high = newcombe(56, 70, 48, 80)  # Newcombe 1998, example (a): 0.0524 to 0.3339
    assert diff == pytest.approx(0.2, abs=1e-9)
    assert low == pytest.approx(0.0524, abs=1e-3) and high == pytest.approx(0.3339, abs=1e-3)


def profile(agent: str, default: str, **tiers: tuple[int, int, int, int]) -> AgentProfile:
    p = AgentProfile(agent, default, {t: TierStats(*v) for t, v in tiers.items()})
    h, s = p.tiers.get("haiku"), p.tiers.get("sonnet")
    if h and s:
        p.benefit = newcombe(s.success, s.answered, h.success, h.answered)
    return p


def test_over_powered_needs_haiku_within_tolerance_with_confidence() -> None:
    same = profile("a", "sonnet", haiku=(4000, 3800, 4000, 0), sonnet=(4000, 3800, 4000, 0))
    worse = profile("b", "sonnet", haiku=(4000, 3000, 4000, 0), sonnet=(4000, 3800, 4000, 0))
    few = profile("c", "sonnet", haiku=(10, 10, 10, 0), sonnet=(4000, 3800, 4000, 0))
    recs = recommend([same, worse, few], ProfileSettings(tolerance=0.02))
    assert [(r.agent, r.kind, r.proposed) for r in recs] == [("a", "over-powered", "haiku")]


def test_under_powered_on_low_success_or_escalations() -> None:
    low = profile("a", "haiku", haiku=(500, 350, 500, 10))
    escalating = profile("b", "haiku", haiku=(500, 490, 500, 200))
    fine = profile("c", "haiku", haiku=(500, 490, 500, 20))
    recs = {r.agent: r for r in recommend([low, escalating, fine])}
    assert set(recs) == {"a", "b"}
    assert "below 85%" in recs["a"].reason and "escalate" in recs["b"].reason


def test_collect_reads_the_store(tmp_path: Path) -> None:
    catalog = load_catalog(Settings.load())
    events = []
    for i in range(40):
        outcome = Outcome.SUCCESS if i % 4 else Outcome.REJECTED
        events.append(
            Event(f"e{i}", 1000.0 + i, f"r{i}", "python-pro", "claude-haiku-5-5", "haiku", outcome)
        )
        if outcome is Outcome.REJECTED:
            events.append(
                Event(f"x{i}", 1000.5 + i, f"r{i}", "python-pro", "claude-sonnet-5-5", "sonnet",
                      Outcome.SUCCESS, attempt=2, escalated_from="haiku")
            )  # fmt: skip
    with SQLiteStore(tmp_path / "e.db") as store:
        store.write_events(events)
        [p] = collect(store, since=0, until=5000, catalog=catalog)
    assert p.default_tier == "haiku"
    assert (p.tiers["haiku"].answered, p.tiers["haiku"].success) == (40, 30)
    assert p.tiers["sonnet"].escalated_runs == 10
    assert p.benefit is not None and p.benefit[0] == pytest.approx(1.0 - 0.75)


def test_edit_keeps_every_other_byte(tmp_path: Path) -> None:
    user = tmp_path / "agents"
    user.mkdir()
    (user / "mine.md").write_text(
        "---\nname: mine\ndescription: d\nmodel:\n  preference: haiku   # cheap\n"
        "  fallbacks: [sonnet]\n---\nBody stays.\n"
    )
    (user / "cc.md").write_text(
        "---\nname: cc\ndescription: d\nmodel: sonnet\ntools: Read\n---\nx\n"
    )
    catalog = load_catalog(Settings.load(agent_dirs=[user]))
    edit = plan_edit(catalog["mine"], "sonnet", override_dir=None)
    assert edit.target == user / "mine.md"
    assert "-  preference: haiku   # cheap" in edit.diff()
    assert "+  preference: sonnet   # cheap" in edit.diff()
    apply_edit(edit)
    assert (user / "mine.md").read_text().endswith("fallbacks: [sonnet]\n---\nBody stays.\n")
    cc = plan_edit(catalog["cc"], "haiku", override_dir=None)
    assert cc.after == "---\nname: cc\ndescription: d\nmodel: haiku\ntools: Read\n---\nx\n"


def test_builtin_agents_get_an_override_file(tmp_path: Path) -> None:
    catalog = load_catalog(Settings.load())
    with pytest.raises(InputError, match="built-in agent: give --dir"):
        plan_edit(catalog["code-reviewer"], "haiku", override_dir=None)
    edit = plan_edit(catalog["code-reviewer"], "haiku", override_dir=tmp_path)
    apply_edit(edit)
    reloaded = load_catalog(Settings.load(agent_dirs=[tmp_path]))
    assert reloaded["code-reviewer"].policy.preference is not None
    assert reloaded["code-reviewer"].policy.preference.value == "haiku"
    assert reloaded.overridden == {"code-reviewer"}
