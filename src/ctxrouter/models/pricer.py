"""Pricing many requests fast: what an importer needs for hundreds of thousands of them.

:meth:`ModelRegistry.quote` builds a :class:`~ctxrouter.models.pricing.Quote` (validated
models) per request, about 15 µs. A :class:`Pricer` looks each (model, day) up once and then
does :func:`~ctxrouter.models.pricing.price_usage`'s arithmetic itself, in the same order, so
its dollars are the same floats, bit for bit (``tests/models/test_pricer.py`` checks it).
"""

from __future__ import annotations

from datetime import date, timedelta

from ctxrouter.models.pricing import PER_MILLION
from ctxrouter.models.registry import ModelInfo, ModelRegistry, PriceRow

_EPOCH = date(1970, 1, 1)


class Pricer:
    """USD of a request from its token counts, or ``None`` when it cannot be priced."""

    def __init__(self, registry: ModelRegistry) -> None:
        self.registry = registry
        self._models: dict[str, ModelInfo | None] = {}
        self._rows: dict[tuple[str, int], tuple[ModelInfo, PriceRow] | None] = {}
        self._tiers: dict[str, str | None] = {}

    def known(self, model_id: str) -> bool:
        return self._model(model_id) is not None

    def tier(self, model_id: str) -> str | None:
        """The tier that maps to this model (the first, if several do), else ``None``."""
        if model_id not in self._tiers:
            tiers = self.registry.tiers_of(model_id) if self.known(model_id) else ()
            self._tiers[model_id] = tiers[0].value if tiers else None
        return self._tiers[model_id]

    def cost(
        self,
        model_id: str,
        day: int,
        tokens: tuple[int, int, int, int, int],
        *,
        fast: bool = False,
        us_only: bool = False,
    ) -> float | None:
        """What :meth:`ModelRegistry.quote` gives as ``cost.total`` for a request made on
        ``day`` (days since 1970-01-01, UTC) with ``tokens`` (input, output, cache writes 5m
        and 1h, cache reads); ``None`` where it gives no cost or would refuse the modifier."""
        found = self._row(model_id, day)
        if found is None:
            return None
        model, row = found
        inp, out, five, hour, read = tokens
        rates, _long = row.rates_for(inp + read + five + hour)
        io_factor = 1.0  # as price_usage: batch would apply here (imports are never batch)
        all_factor = 1.0
        if us_only:
            if model.us_only_multiplier is None:
                return None
            all_factor *= model.us_only_multiplier
        if fast:
            if model.fast_multiplier is None:
                return None
            all_factor *= model.fast_multiplier
        io = io_factor * all_factor
        return (
            inp * rates.input * io / PER_MILLION
            + out * rates.output * io / PER_MILLION
            + five * rates.cache_write_5m * all_factor / PER_MILLION
            + hour * rates.cache_write_1h * all_factor / PER_MILLION
            + read * rates.cache_read * all_factor / PER_MILLION
        )

    def _model(self, model_id: str) -> ModelInfo | None:
        if model_id not in self._models:
            self._models[model_id] = self.registry.find(model_id)
        return self._models[model_id]

    def _row(self, model_id: str, day: int) -> tuple[ModelInfo, PriceRow] | None:
        key = (model_id, day)
        if key not in self._rows:
            model = self._model(model_id)
            row = model.price_on(_EPOCH + timedelta(days=day)) if model is not None else None
            self._rows[key] = (model, row) if model is not None and row is not None else None
        return self._rows[key]


__all__ = ["Pricer"]
