"""Pricing one request: token usage in, dollars out. Pure arithmetic, no I/O.

A request is priced on its own, never from totals: whether the long-context prices apply
depends on that request's prompt size, and the price row depends on the day it was made.
Modifiers multiply the per-token prices: batch takes ``batch_discount`` off input and output,
US-only inference multiplies every category by ``us_only_multiplier``, fast mode by
``fast_multiplier``.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, ValidationInfo, computed_field, field_validator

from ctxrouter.errors import PricingError

if TYPE_CHECKING:
    from ctxrouter.models.registry import ModelInfo

PER_MILLION = 1_000_000


class Usage(BaseModel):
    """Token counts of one request (or a sum of requests, for display only)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_5m_tokens: int = 0
    cache_creation_1h_tokens: int = 0
    cache_read_tokens: int = 0

    @field_validator("*")
    @classmethod
    def _non_negative(cls, value: int, info: ValidationInfo) -> int:
        if value < 0:
            raise ValueError(f"{info.field_name} must be a non-negative token count, got {value}")
        return value

    @property
    def prompt_tokens(self) -> int:
        """Every token of the prompt: input, cache reads and cache writes."""
        return (
            self.input_tokens
            + self.cache_read_tokens
            + self.cache_creation_5m_tokens
            + self.cache_creation_1h_tokens
        )

    def __add__(self, other: Usage) -> Usage:
        if not isinstance(other, Usage):
            return NotImplemented
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_creation_5m_tokens=self.cache_creation_5m_tokens + other.cache_creation_5m_tokens,
            cache_creation_1h_tokens=self.cache_creation_1h_tokens + other.cache_creation_1h_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
        )


class Modifier(StrEnum):
    """A pricing modifier applied to a request."""

    BATCH = "batch"
    US_ONLY = "us-only"
    FAST = "fast"


class Cost(BaseModel):
    """What one request cost, per category, in USD."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model_id: str
    day: date  # the day the request was made
    price_from: date | None  # effective_from of the price row used (None: since release)
    long_context: bool  # the long-context prices applied
    modifiers: tuple[Modifier, ...] = ()
    input: float
    output: float
    cache_write_5m: float
    cache_write_1h: float
    cache_read: float

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total(self) -> float:
        return (
            self.input + self.output + self.cache_write_5m + self.cache_write_1h + self.cache_read
        )


class Quote(BaseModel):
    """A request priced, or marked unpriced with the reason. Never a silent $0."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model_id: str  # as given (before normalising suffixes)
    usage: Usage
    cost: Cost | None
    unpriced_reason: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def priced(self) -> bool:
        return self.cost is not None


def price_usage(
    usage: Usage,
    model: ModelInfo,
    *,
    day: date,
    batch: bool = False,
    us_only: bool = False,
    fast: bool = False,
) -> Cost:
    """Price one request made on ``day``.

    Raises :class:`PricingError` when the model has no price in force that day or a modifier
    is asked for that the model does not offer.
    """
    row = model.price_on(day)
    if row is None:
        raise PricingError(f"{model.id} has no price in force on {day.isoformat()}")
    rates, long_context = row.rates_for(usage.prompt_tokens)

    io_factor = 1.0  # input and output only
    all_factor = 1.0  # every category
    modifiers: list[Modifier] = []
    if batch:
        if model.batch_discount is None:
            raise PricingError(f"{model.id} has no batch price (batch_discount is not set)")
        io_factor *= 1.0 - model.batch_discount
        modifiers.append(Modifier.BATCH)
    if us_only:
        if model.us_only_multiplier is None:
            raise PricingError(f"{model.id} has no US-only price (us_only_multiplier is not set)")
        all_factor *= model.us_only_multiplier
        modifiers.append(Modifier.US_ONLY)
    if fast:
        if model.fast_multiplier is None:
            raise PricingError(f"{model.id} has no fast mode (fast_multiplier is not set)")
        all_factor *= model.fast_multiplier
        modifiers.append(Modifier.FAST)

    def usd(tokens: int, per_million: float, factor: float) -> float:
        return tokens * per_million * factor / PER_MILLION

    return Cost(
        model_id=model.id,
        day=day,
        price_from=row.effective_from,
        long_context=long_context,
        modifiers=tuple(modifiers),
        input=usd(usage.input_tokens, rates.input, io_factor * all_factor),
        output=usd(usage.output_tokens, rates.output, io_factor * all_factor),
        cache_write_5m=usd(usage.cache_creation_5m_tokens, rates.cache_write_5m, all_factor),
        cache_write_1h=usd(usage.cache_creation_1h_tokens, rates.cache_write_1h, all_factor),
        cache_read=usd(usage.cache_read_tokens, rates.cache_read, all_factor),
    )


def quote_usage(
    model_id: str,
    usage: Usage,
    model: ModelInfo | None,
    *,
    day: date,
    batch: bool = False,
    us_only: bool = False,
    fast: bool = False,
) -> Quote:
    """Price a request, or say why it is unpriced (unknown model, no price that day)."""
    if model is None:
        return Quote(model_id=model_id, usage=usage, cost=None, unpriced_reason="unknown model")
    if not model.prices:
        reason = f"{model.id} has no prices"
        return Quote(model_id=model_id, usage=usage, cost=None, unpriced_reason=reason)
    if model.price_on(day) is None:
        reason = f"{model.id} has no price in force on {day.isoformat()}"
        return Quote(model_id=model_id, usage=usage, cost=None, unpriced_reason=reason)
    cost = price_usage(usage, model, day=day, batch=batch, us_only=us_only, fast=fast)
    return Quote(model_id=model_id, usage=usage, cost=cost)


__all__ = ["PER_MILLION", "Cost", "Modifier", "Quote", "Usage", "price_usage", "quote_usage"]
