"""The model registry: the shipped table, suffixes, user overrides and their errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ctxrouter.config import Settings
from ctxrouter.errors import ConfigError, UnknownModelError
from ctxrouter.models import ModelRegistry, Usage, normalise_model_id
from ctxrouter.policy.tier import Tier

DAY = date(2026, 11, 26)

USER_TABLE = """\
schema_version: 1
retrieved: 2026-11-20
models:
  - id: claude-opus-5-5          # replaces the shipped entry by id
    tier: opus
    generation: "5.5"
    batch_discount: 0.5
    source: "our negotiated price"
    prices:
      - effective_from: null
        input: 3.00
        output: 15.00
        cache_write_5m: 3.75
        cache_write_1h: 6.00
        cache_read: 0.15
  - id: claude-internal-eval      # a new model, no price known yet
    generation: "x"
    source: "seen in transcripts"
    prices: []
"""


def write_config(tmp_path: Path, body: str) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(body, encoding="utf-8")
    return config


def test_shipped_table_maps_the_tiers_and_states_only_limits_it_has_a_source_for(
    settings: Settings,
) -> None:
    registry = ModelRegistry.load(settings)
    assert dict(registry.tier_map) == {
        Tier.HAIKU: "claude-haiku-5-5",
        Tier.SONNET: "claude-sonnet-5-5",
        Tier.OPUS: "claude-opus-5-5",
    }
    assert registry.ids() == (
        "claude-haiku-5-5",
        "claude-sonnet-5-5",
        "claude-opus-5-5",
        "claude-opus-5",
        "claude-sonnet-5",
        "claude-sonnet-4-6",
        "claude-haiku-4-5",
    )
    assert registry.for_tier(Tier.OPUS).fast_multiplier == 2.0
    assert registry.tiers_of("claude-opus-5") == ()
    current = {"claude-haiku-5-5", "claude-sonnet-5-5", "claude-opus-5-5"}
    for model in registry.models():
        # Claude Code 2.1.328 states the limits of the current models; nothing else does
        limits = (model.context_window, model.max_output_tokens)
        assert limits == ((1_000_000, 128_000) if model.id in current else (None, None))
        assert model.priced
        assert "check against the vendor's pricing page" in model.source
        assert registry.origin(model.id) == ("shipped", date(2026, 11, 26))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("claude-sonnet-4-6[1m]", "claude-sonnet-4-6"),
        ("claude-haiku-4-5-20251001", "claude-haiku-4-5"),
        ("claude-opus-5-5-20261101[1m]", "claude-opus-5-5"),
        ("claude-opus-5-5[1M]", "claude-opus-5-5"),
        ("claude-opus-5-5", "claude-opus-5-5"),
    ],
)
def test_suffixes_price_as_the_base_id(settings: Settings, given: str, expected: str) -> None:
    registry = ModelRegistry.load(settings)
    assert registry.get(given).id == expected
    assert given in registry
    cost = registry.quote(given, Usage(input_tokens=1_000_000), day=DAY).cost
    assert cost is not None
    assert cost.model_id == expected


def test_normalise_keeps_other_digits() -> None:
    assert normalise_model_id("claude-sonnet-4-6") == "claude-sonnet-4-6"
    assert normalise_model_id("claude-x-2026") == "claude-x-2026"


def test_unknown_model_suggests_the_nearest_id(settings: Settings) -> None:
    registry = ModelRegistry.load(settings)
    with pytest.raises(UnknownModelError) as info:
        registry.get("claude-sonet-5-5")
    assert "unknown model 'claude-sonet-5-5'" in str(info.value)
    assert "did you mean 'claude-sonnet-5-5'?" in str(info.value)
    assert registry.find("claude-sonet-5-5") is None
    quote = registry.quote("claude-sonet-5-5", Usage(input_tokens=5), day=DAY)
    assert quote.cost is None
    assert quote.unpriced_reason == "unknown model"


def test_user_file_overrides_by_id_adds_models_and_tier_models_remaps(
    tmp_path: Path,
) -> None:
    models_file = tmp_path / "prices.yaml"
    models_file.write_text(USER_TABLE, encoding="utf-8")
    config = write_config(
        tmp_path,
        f'models_file = "{models_file}"\n[tier_models]\nsonnet = "claude-sonnet-5-20260301"\n',
    )
    registry = ModelRegistry.load(Settings.load(config))

    opus = registry.get("claude-opus-5-5")
    assert opus.source == "our negotiated price"
    assert opus.fast_multiplier is None  # the whole entry is replaced, not merged
    assert registry.origin("claude-opus-5-5") == (str(models_file), date(2026, 11, 20))
    cost = registry.quote("claude-opus-5-5", Usage(input_tokens=1_000_000), day=DAY).cost
    assert cost is not None
    assert cost.total == pytest.approx(3.0)

    assert registry.tier_map[Tier.SONNET] == "claude-sonnet-5"
    assert registry.tiers_of("claude-sonnet-5-5") == ()
    assert registry.ids()[-1] == "claude-internal-eval"


def test_usage_of_a_model_without_prices_is_unpriced_not_zero(tmp_path: Path) -> None:
    models_file = tmp_path / "prices.yaml"
    models_file.write_text(USER_TABLE, encoding="utf-8")
    registry = ModelRegistry.load(Settings.load(models_file=models_file))
    usage = Usage(input_tokens=1_000, output_tokens=100)
    quote = registry.quote("claude-internal-eval", usage, day=DAY)
    assert not quote.priced
    assert quote.cost is None
    assert quote.unpriced_reason == "claude-internal-eval has no prices"
    assert registry.quote("claude-internal-eval", usage, day=DAY).cost is None


def test_a_user_model_claiming_a_tier_takes_it_over(tmp_path: Path) -> None:
    models_file = tmp_path / "prices.yaml"
    models_file.write_text(
        USER_TABLE.replace('generation: "x"', 'generation: "x"\n    tier: haiku'),
        encoding="utf-8",
    )
    registry = ModelRegistry.load(Settings.load(models_file=models_file))
    assert registry.for_tier(Tier.HAIKU).id == "claude-internal-eval"
    assert registry.tiers_of("claude-haiku-5-5") == ()


def test_bad_user_file_names_the_file_the_model_and_the_field(tmp_path: Path) -> None:
    models_file = tmp_path / "prices.yaml"
    bad = USER_TABLE.replace("input: 3.00", "input: -3.00").replace(
        "cache_read: 0.15", "cache_rd: 1"
    )
    models_file.write_text(bad, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        ModelRegistry.load(Settings.load(models_file=models_file))
    message = str(info.value)
    assert f"{models_file}: models[0] (claude-opus-5-5).prices[0].input:" in message
    assert "greater than or equal to 0 (got -3.0)" in message
    assert f"{models_file}: models[0] (claude-opus-5-5).prices[0].cache_rd:" in message
    assert "Extra inputs are not permitted" in message
    assert "models[0] (claude-opus-5-5).prices[0].cache_read: Field required" in message


@pytest.mark.parametrize(
    ("second_date", "expected"),
    [("2026-10-07", "repeats the previous row's 2026-10-07"), ("2026-09-01", "comes before")],
)
def test_price_rows_must_be_sorted_without_duplicates(
    tmp_path: Path, second_date: str, expected: str
) -> None:
    row = (
        "      - effective_from: {when}\n        input: 1\n        output: 1\n"
        "        cache_write_5m: 1\n        cache_write_1h: 1\n        cache_read: 1\n"
    )
    text = (
        "schema_version: 1\nretrieved: 2026-11-01\nmodels:\n  - id: m\n    generation: g\n"
        "    source: s\n    prices:\n"
        + row.format(when="2026-10-07")
        + row.format(when=second_date)
    )
    models_file = tmp_path / "prices.yaml"
    models_file.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=expected) as info:
        ModelRegistry.load(Settings.load(models_file=models_file))
    assert f"{models_file}: models[0] (m):" in str(info.value)


def test_invalid_yaml_names_file_and_line(tmp_path: Path) -> None:
    models_file = tmp_path / "prices.yaml"
    models_file.write_text("schema_version: 1\nmodels: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"{models_file}:\d+: not valid YAML"):
        ModelRegistry.load(Settings.load(models_file=models_file))


def test_wrong_schema_version_and_duplicate_ids_are_refused(tmp_path: Path) -> None:
    models_file = tmp_path / "prices.yaml"
    models_file.write_text(USER_TABLE.replace("schema_version: 1", "schema_version: 2"))
    with pytest.raises(ConfigError, match=r"schema_version: Input should be 1 \(got 2\)"):
        ModelRegistry.load(Settings.load(models_file=models_file))
    models_file.write_text(USER_TABLE.replace("claude-internal-eval", "claude-opus-5-5"))
    with pytest.raises(ConfigError, match="model id 'claude-opus-5-5' appears twice"):
        ModelRegistry.load(Settings.load(models_file=models_file))


def test_missing_models_file_is_a_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match=f"{missing}: cannot read the models file"):
        ModelRegistry.load(Settings.load(models_file=missing))


def test_tier_models_pointing_nowhere_is_a_config_error(tmp_path: Path) -> None:
    config = write_config(tmp_path, '[tier_models]\nopus = "claude-opuss-5-5"\n')
    with pytest.raises(ConfigError) as info:
        ModelRegistry.load(Settings.load(config))
    assert "tier_models.opus: unknown model 'claude-opuss-5-5'" in str(info.value)
    assert "did you mean 'claude-opus-5-5'?" in str(info.value)
