"""Pricing one request at the shipped prices: long context, dated rows, modifiers."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from ctxrouter.errors import PricingError
from ctxrouter.models import (
    ModelInfo,
    Modifier,
    PriceRow,
    Usage,
    load_price_table,
    price_usage,
    quote_usage,
    shipped_models_path,
)

DAY = date(2026, 11, 26)
M = 1_000_000


@pytest.fixture(scope="module")
def shipped() -> dict[str, ModelInfo]:
    return {m.id: m for m in load_price_table(shipped_models_path()).models}


def test_haiku_at_exactly_100k_prompt_tokens_pays_the_short_prices(
    shipped: dict[str, ModelInfo],
) -> None:
    # 100,000 prompt tokens in all, spread over every prompt category
    usage = Usage(
        input_tokens=40_000,
        cache_read_tokens=30_000,
        cache_creation_5m_tokens=20_000,
        cache_creation_1h_tokens=10_000,
        output_tokens=1_000,
    )
    assert usage.prompt_tokens == 100_000
    cost = price_usage(usage, shipped["claude-haiku-5-5"], day=DAY)
    assert not cost.long_context
    assert cost.input == pytest.approx(40_000 * 0.10 / M)
    assert cost.cache_read == pytest.approx(30_000 * 0.01 / M)
    assert cost.cache_write_5m == pytest.approx(20_000 * 0.125 / M)
    assert cost.cache_write_1h == pytest.approx(10_000 * 0.20 / M)
    assert cost.output == pytest.approx(1_000 * 0.50 / M)
    assert cost.total == pytest.approx(0.004 + 0.0003 + 0.0025 + 0.002 + 0.0005)


def test_haiku_one_token_over_100k_pays_long_prices_on_every_token(
    shipped: dict[str, ModelInfo],
) -> None:
    usage = Usage(
        input_tokens=40_001,
        cache_read_tokens=30_000,
        cache_creation_5m_tokens=20_000,
        cache_creation_1h_tokens=10_000,
        output_tokens=1_000,
    )
    assert usage.prompt_tokens == 100_001
    cost = price_usage(usage, shipped["claude-haiku-5-5"], day=DAY)
    assert cost.long_context
    assert cost.input == pytest.approx(40_001 * 0.50 / M)
    assert cost.cache_read == pytest.approx(30_000 * 0.05 / M)
    assert cost.cache_write_5m == pytest.approx(20_000 * 0.625 / M)
    assert cost.cache_write_1h == pytest.approx(10_000 * 1.00 / M)
    assert cost.output == pytest.approx(1_000 * 2.50 / M)  # output too


def test_requests_are_priced_one_by_one_not_from_totals(shipped: dict[str, ModelInfo]) -> None:
    haiku = shipped["claude-haiku-5-5"]
    one = Usage(input_tokens=60_000)
    each = price_usage(one, haiku, day=DAY).total
    summed = price_usage(one + one, haiku, day=DAY).total
    assert each * 2 == pytest.approx(0.012)
    assert summed == pytest.approx(0.06)  # what pricing the total would wrongly say


def test_sonnet_cache_reads_cost_less_from_2026_10_07(shipped: dict[str, ModelInfo]) -> None:
    sonnet = shipped["claude-sonnet-5-5"]
    usage = Usage(cache_read_tokens=M, input_tokens=M)
    before = price_usage(usage, sonnet, day=date(2026, 10, 6))
    after = price_usage(usage, sonnet, day=date(2026, 10, 7))
    assert before.cache_read == pytest.approx(0.20)
    assert before.price_from is None
    assert after.cache_read == pytest.approx(0.10)
    assert after.price_from == date(2026, 10, 7)
    assert before.input == after.input == pytest.approx(2.0)


def test_batch_halves_input_and_output_only(shipped: dict[str, ModelInfo]) -> None:
    usage = Usage(input_tokens=M, output_tokens=M, cache_read_tokens=M, cache_creation_5m_tokens=M)
    cost = price_usage(usage, shipped["claude-opus-5-5"], day=DAY, batch=True)
    assert cost.input == pytest.approx(2.0)
    assert cost.output == pytest.approx(10.0)
    assert cost.cache_read == pytest.approx(0.20)
    assert cost.cache_write_5m == pytest.approx(5.0)
    assert cost.modifiers == (Modifier.BATCH,)


def test_us_only_costs_1_1x_on_every_category(shipped: dict[str, ModelInfo]) -> None:
    usage = Usage(
        input_tokens=M,
        output_tokens=M,
        cache_read_tokens=M,
        cache_creation_5m_tokens=M,
        cache_creation_1h_tokens=M,
    )
    cost = price_usage(usage, shipped["claude-sonnet-5-5"], day=DAY, us_only=True)
    assert cost.input == pytest.approx(2.2)
    assert cost.output == pytest.approx(11.0)
    assert cost.cache_write_5m == pytest.approx(2.75)
    assert cost.cache_write_1h == pytest.approx(4.4)
    assert cost.cache_read == pytest.approx(0.11)
    assert cost.total == pytest.approx(1.1 * (2 + 10 + 2.5 + 4 + 0.1))


def test_batch_and_us_only_combine(shipped: dict[str, ModelInfo]) -> None:
    usage = Usage(input_tokens=M, output_tokens=M, cache_read_tokens=M)
    cost = price_usage(usage, shipped["claude-sonnet-4-6"], day=DAY, batch=True, us_only=True)
    assert cost.input == pytest.approx(3 * 0.5 * 1.1)
    assert cost.output == pytest.approx(15 * 0.5 * 1.1)
    assert cost.cache_read == pytest.approx(0.30 * 1.1)
    assert cost.modifiers == (Modifier.BATCH, Modifier.US_ONLY)


def test_fast_mode_doubles_opus_and_is_refused_without_a_multiplier(
    shipped: dict[str, ModelInfo],
) -> None:
    usage = Usage(input_tokens=M, output_tokens=M, cache_read_tokens=M)
    cost = price_usage(usage, shipped["claude-opus-5-5"], day=DAY, fast=True)
    assert (cost.input, cost.output, cost.cache_read) == pytest.approx((8.0, 40.0, 0.40))
    with pytest.raises(PricingError, match="claude-sonnet-5-5 has no fast mode"):
        price_usage(usage, shipped["claude-sonnet-5-5"], day=DAY, fast=True)


def test_no_row_in_force_is_an_error_for_price_usage_and_unpriced_for_quote() -> None:
    later = ModelInfo(
        id="claude-next",
        generation="6",
        source="test",
        prices=(
            PriceRow(
                effective_from=date(2027, 1, 1),
                input=1,
                output=1,
                cache_write_5m=1,
                cache_write_1h=1,
                cache_read=1,
            ),
        ),
    )
    usage = Usage(input_tokens=10)
    with pytest.raises(PricingError, match="no price in force on 2026-11-26"):
        price_usage(usage, later, day=DAY)
    quote = quote_usage("claude-next", usage, later, day=DAY)
    assert not quote.priced
    assert quote.cost is None
    assert quote.unpriced_reason == "claude-next has no price in force on 2026-11-26"
    assert quote_usage("claude-next", usage, later, day=date(2027, 1, 1)).priced


def test_usage_rejects_negative_counts_with_a_clear_message() -> None:
    with pytest.raises(ValidationError, match="output_tokens must be a non-negative token count"):
        Usage(output_tokens=-1)


def test_usage_adds_every_category() -> None:
    a = Usage(input_tokens=1, output_tokens=2, cache_read_tokens=3)
    b = Usage(cache_creation_5m_tokens=4, cache_creation_1h_tokens=5, input_tokens=6)
    total = a + b
    assert total == Usage(
        input_tokens=7,
        output_tokens=2,
        cache_read_tokens=3,
        cache_creation_5m_tokens=4,
        cache_creation_1h_tokens=5,
    )
    assert total.prompt_tokens == 7 + 3 + 4 + 5
