"""The price formula, and one request priced with it: token usage in, dollars out. Pure
arithmetic, no I/O.

A request is priced on its own, never from totals: whether the long-context prices apply
depends on that request's prompt size, and the price row depends on the day it was made.
Modifiers multiply the per-token prices: batch takes ``batch_discount`` off input and output,
US-only inference multiplies every category by ``us_only_multiplier``, fast mode by
``fast_multiplier``.

The formula is written once, in :func:`price_factors` (the modifiers' multipliers),
:func:`price_tokens` (dollars per category) and :func:`total_usd` (their sum, in a fixed
order). Two callers use it: :func:`price_usage` here, which gives a :class:`Cost` with every
category (and :func:`quote_usage`, a :class:`Quote` that says why a request is unpriced), and
:class:`~ctxrouter.models.bulk_pricing.Pricer`, the importers' cached fast path that gives the
same totals, bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, computed_field

from ctxrouter.errors import PricingError
from ctxrouter.models.usage import Usage

if TYPE_CHECKING:
    from ctxrouter.models.registry import ModelInfo, PriceRow

PER_MILLION = 1_000_000

Tokens = tuple[int, int, int, int, int]
"""One request's token counts: input, output, cache writes 5-minute and 1-hour, cache reads."""
Dollars = tuple[float, float, float, float, float]
"""USD per category, in the order of :data:`Tokens`."""


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
        return total_usd(
            (self.input, self.output, self.cache_write_5m, self.cache_write_1h, self.cache_read)
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


@dataclass(frozen=True, slots=True)
class PriceFactors:
    """What the modifiers multiply the per-token prices by."""

    io: float = 1.0  # input and output: batch discount times ``every``
    every: float = 1.0  # every category: US-only and fast
    modifiers: tuple[Modifier, ...] = ()


def price_factors(
    model: ModelInfo, *, batch: bool = False, us_only: bool = False, fast: bool = False
) -> PriceFactors:
    """The multipliers of the modifiers asked for. Raises :class:`PricingError` for a
    modifier the model does not offer."""
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
    return PriceFactors(io=io_factor * all_factor, every=all_factor, modifiers=tuple(modifiers))


def price_tokens(tokens: Tokens, row: PriceRow, factors: PriceFactors) -> tuple[Dollars, bool]:
    """The price formula: USD per category of one request at ``row``'s prices (its
    long-context prices when the whole prompt is above their threshold) times ``factors``,
    and whether the long-context prices applied."""
    inp, out, five_min, one_hour, read = tokens
    rates, long_context = row.rates_for(inp + read + five_min + one_hour)
    io, every = factors.io, factors.every
    dollars = (
        inp * rates.input * io / PER_MILLION,
        out * rates.output * io / PER_MILLION,
        five_min * rates.cache_write_5m * every / PER_MILLION,
        one_hour * rates.cache_write_1h * every / PER_MILLION,
        read * rates.cache_read * every / PER_MILLION,
    )
    return dollars, long_context


def total_usd(dollars: Dollars) -> float:
    """The sum of the categories, always in this order, so that every caller gets the same
    float (not :func:`sum`, whose rounding differs)."""
    inp, out, five_min, one_hour, read = dollars
    return inp + out + five_min + one_hour + read


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
    factors = price_factors(model, batch=batch, us_only=us_only, fast=fast)
    tokens = (
        usage.input_tokens,
        usage.output_tokens,
        usage.cache_creation_5m_tokens,
        usage.cache_creation_1h_tokens,
        usage.cache_read_tokens,
    )
    (inp, out, five_min, one_hour, read), long_context = price_tokens(tokens, row, factors)
    return Cost(
        model_id=model.id,
        day=day,
        price_from=row.effective_from,
        long_context=long_context,
        modifiers=factors.modifiers,
        input=inp,
        output=out,
        cache_write_5m=five_min,
        cache_write_1h=one_hour,
        cache_read=read,
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


__all__ = [
    "PER_MILLION",
    "Cost",
    "Dollars",
    "Modifier",
    "PriceFactors",
    "Quote",
    "Tokens",
    "Usage",
    "price_factors",
    "price_tokens",
    "price_usage",
    "quote_usage",
    "total_usd",
]
