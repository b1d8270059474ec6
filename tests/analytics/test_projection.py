"""Projecting the strategy's task mix: its own basis (corrected) and today's prices."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ctxrouter.analytics import (
    CallProfile,
    Mix,
    claimed_basis,
    load_mix,
    project,
    savings_pct,
    shipped_mix_path,
    today_basis,
)
from ctxrouter.config import Settings
from ctxrouter.errors import ConfigError, PricingError
from ctxrouter.models import ModelRegistry, Usage
from ctxrouter.policy.tier import Tier

DAY = date(2026, 11, 26)


@pytest.fixture
def registry(settings: Settings) -> ModelRegistry:
    return ModelRegistry.load(settings)


@pytest.fixture
def mix() -> Mix:
    return load_mix(shipped_mix_path())


def test_the_shipped_mix_is_the_strategy(mix: Mix) -> None:
    assert mix.tasks_per_day == 1000
    assert [(k.name, k.share, k.total_calls) for k in mix.kinds] == [
        ("architecture", 0.3, 5),
        ("implementation", 0.5, 5),
        ("maintenance", 0.2, 5),
    ]
    assert mix.claims is not None
    assert mix.claims.hybrid_per_task_usd == 4.76
    assert mix.claims.all_sonnet_per_task_usd == 15.0
    assert mix.claims.savings_vs_all_sonnet_pct == 68


def test_strategy_basis_gives_7_80_a_task_and_48_percent(mix: Mix, registry: ModelRegistry) -> None:
    basis = claimed_basis(mix, registry, day=DAY)
    assert basis is not None
    p = project(mix, basis)
    assert p.models == {
        Tier.HAIKU: "claude-haiku-4-5",
        Tier.SONNET: "claude-sonnet-4-6",
        Tier.OPUS: "claude-opus-5",
    }
    assert p.per_call == pytest.approx({Tier.HAIKU: 1.0, Tier.SONNET: 3.0, Tier.OPUS: 5.0})
    by_kind = {k.name: k for k in p.kinds}
    assert by_kind["architecture"].hybrid == pytest.approx(11.0)  # 3 x 3 + 2 x 1
    assert by_kind["implementation"].hybrid == pytest.approx(7.0)  # 3 + 4
    assert by_kind["maintenance"].hybrid == pytest.approx(5.0)
    assert p.hybrid_per_task == pytest.approx(7.80)  # 3.3 + 3.5 + 1.0
    assert p.all_sonnet_per_task == pytest.approx(15.0)
    assert p.all_opus_per_task == pytest.approx(25.0)
    assert p.savings_vs_all_sonnet_pct == pytest.approx(48.0)  # not the claimed 68
    assert p.savings_vs_all_opus_pct == pytest.approx(68.8)
    assert p.hybrid_per_day == pytest.approx(7_800.0)
    assert p.all_sonnet_per_day == pytest.approx(15_000.0)
    assert any("assumption" in note for note in p.notes)


def test_today_basis_at_20k_in_2k_out(mix: Mix, registry: ModelRegistry) -> None:
    profile = CallProfile(input_tokens=20_000, output_tokens=2_000)
    p = project(mix, today_basis(registry, profile, day=DAY))
    assert p.per_call == pytest.approx({Tier.HAIKU: 0.003, Tier.SONNET: 0.06, Tier.OPUS: 0.12})
    by_kind = {k.name: k for k in p.kinds}
    assert by_kind["architecture"].hybrid == pytest.approx(0.186)
    assert by_kind["implementation"].hybrid == pytest.approx(0.072)
    assert by_kind["maintenance"].hybrid == pytest.approx(0.015)
    assert p.hybrid_per_task == pytest.approx(0.0948)
    assert p.all_sonnet_per_task == pytest.approx(0.30)
    assert p.all_opus_per_task == pytest.approx(0.60)
    assert p.hybrid_per_day == pytest.approx(94.8)
    assert p.savings_vs_all_sonnet_pct == pytest.approx(68.4)
    assert p.savings_vs_all_opus_pct == pytest.approx(84.2)


def test_cache_reads_follow_the_day_of_the_price(mix: Mix, registry: ModelRegistry) -> None:
    profile = CallProfile(input_tokens=20_000, output_tokens=2_000, cache_read_share=0.5)
    assert profile.usage() == Usage(
        input_tokens=10_000, cache_read_tokens=10_000, output_tokens=2_000
    )
    before = project(mix, today_basis(registry, profile, day=date(2026, 10, 6)))
    after = project(mix, today_basis(registry, profile, day=date(2026, 10, 7)))
    # sonnet: 10k x $2 + 10k cache reads x $0.20 (then $0.10) + 2k x $10, per million
    assert before.per_call[Tier.SONNET] == pytest.approx(0.042)
    assert after.per_call[Tier.SONNET] == pytest.approx(0.041)


def test_call_profile_splits_input_into_reads_and_writes() -> None:
    profile = CallProfile(
        input_tokens=1_000, output_tokens=0, cache_read_share=0.6, cache_write_share=0.4
    )
    assert profile.usage() == Usage(cache_read_tokens=600, cache_creation_5m_tokens=400)
    with pytest.raises(ValueError, match="at most 1"):
        CallProfile(input_tokens=1, output_tokens=1, cache_read_share=0.7, cache_write_share=0.4)


def test_savings_of_a_free_baseline_is_undefined() -> None:
    assert savings_pct(1.0, 0.0) is None
    assert savings_pct(1.0, 4.0) == pytest.approx(75.0)


def test_a_tier_model_without_a_price_refuses_to_project(tmp_path: Path, mix: Mix) -> None:
    models_file = tmp_path / "prices.yaml"
    models_file.write_text(
        "schema_version: 1\nretrieved: 2026-11-01\nmodels:\n"
        "  - {id: claude-free, tier: haiku, generation: x, source: s}\n",
        encoding="utf-8",
    )
    registry = ModelRegistry.load(Settings.load(models_file=models_file))
    profile = CallProfile(input_tokens=1, output_tokens=1)
    with pytest.raises(PricingError, match="claude-free has no price"):
        project(mix, today_basis(registry, profile, day=DAY))


def test_a_mix_without_claims_has_no_claimed_basis(tmp_path: Path, registry: ModelRegistry) -> None:
    path = tmp_path / "mix.yaml"
    path.write_text(
        "schema_version: 1\nname: mine\ntasks_per_day: 10\n"
        "kinds:\n  - {name: all, share: 1, calls: {opus: 2}}\n",
        encoding="utf-8",
    )
    mine = load_mix(path)
    assert claimed_basis(mine, registry, day=DAY) is None
    p = project(mine, today_basis(registry, CallProfile(input_tokens=0, output_tokens=0), day=DAY))
    assert p.hybrid_per_task == 0.0
    assert p.savings_vs_all_opus_pct is None


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [
        ("  - {name: a, share: 0.5, calls: {haiku: 1}}\n", "shares must sum to 1, they sum to 0.5"),
        ("  - {name: a, share: 1, calls: {haiku: -1}}\n", r"kinds\[0\].calls.haiku"),
        ("  - {name: a, share: 1, calls: {haikuu: 1}}\n", r"kinds\[0\].calls.haikuu"),
        (
            "  - {name: a, share: 0.5}\n  - {name: a, share: 0.5}\n",
            "names must be unique, repeated: a",
        ),
    ],
)
def test_bad_mix_files_name_file_and_field(tmp_path: Path, kinds: str, expected: str) -> None:
    path = tmp_path / "mix.yaml"
    path.write_text(f"schema_version: 1\nname: bad\ntasks_per_day: 1\nkinds:\n{kinds}")
    with pytest.raises(ConfigError, match=expected) as info:
        load_mix(path)
    assert str(path) in str(info.value)
