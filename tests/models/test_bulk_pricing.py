"""The importers' bulk pricer gives the registry's quotes, bit for bit, and says "unpriced"
where the registry gives no cost."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from ctxrouter.config import Settings
from ctxrouter.models import ModelRegistry, Usage
from ctxrouter.models.bulk_pricing import Pricer

EPOCH = date(1970, 1, 1)


@pytest.fixture(scope="module")
def registry() -> ModelRegistry:
    return ModelRegistry.load(Settings())


def test_the_same_dollars_as_the_registry_bit_for_bit(registry: ModelRegistry) -> None:
    pricer = Pricer(registry)
    rng = random.Random(11)
    models = [*registry.ids(), "claude-opus-5-5-20261101", "claude-sonnet-5-5[1m]"]
    checked = 0
    for _ in range(3000):
        model = rng.choice(models)
        day = (date(2025, 1, 1) - EPOCH).days + rng.randrange(900)
        tokens = tuple(rng.choice((0, rng.randrange(50), rng.randrange(400_000))) for _ in range(5))
        us_only, fast = rng.random() < 0.2, rng.random() < 0.2
        usage = Usage(
            input_tokens=tokens[0],
            output_tokens=tokens[1],
            cache_creation_5m_tokens=tokens[2],
            cache_creation_1h_tokens=tokens[3],
            cache_read_tokens=tokens[4],
        )
        info = registry.find(model)
        refused = info is not None and (
            (us_only and info.us_only_multiplier is None) or (fast and info.fast_multiplier is None)
        )
        got = pricer.cost(model, day, tokens, us_only=us_only, fast=fast)  # type: ignore[arg-type]
        if refused:  # the registry raises a PricingError: the pricer calls it unpriced
            assert got is None
            continue
        quote = registry.quote(
            model, usage, day=EPOCH + timedelta(days=day), us_only=us_only, fast=fast
        )
        want = quote.cost.total if quote.cost is not None else None
        assert got == want, (model, day, tokens, us_only, fast)
        assert got is None or got.hex() == want.hex()  # type: ignore[union-attr]
        checked += want is not None
    assert checked > 1500  # most cases were priced, not skipped


def test_unknown_models_are_unpriced_and_have_no_tier(registry: ModelRegistry) -> None:
    pricer = Pricer(registry)
    assert pricer.cost("claude-opus-4-1", 20_000, (1, 1, 0, 0, 0)) is None
    assert not pricer.known("claude-opus-4-1") and pricer.tier("claude-opus-4-1") is None
    assert pricer.tier("claude-haiku-5-5") == "haiku"
    assert pricer.tier("claude-sonnet-4-6") is None  # a previous generation: no tier maps to it
    assert pricer.cost("claude-haiku-5-5", 20_000, (50_000, 0, 0, 0, 0)) == pytest.approx(0.005)
