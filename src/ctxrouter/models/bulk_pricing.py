"""Pricing many requests fast: the totals an importer needs for hundreds of thousands of them.

:meth:`ModelRegistry.quote` prices one request as a :class:`~ctxrouter.models.pricing.Quote`
(validated models, every category, about 15 µs). A :class:`Pricer` takes the raw token counts
instead, looks each (model, day, modifiers) up once, and returns only the total: the same
formula (:func:`~ctxrouter.models.pricing.price_tokens`), so the same floats as
``quote.cost.total``, bit for bit (``tests/models/test_bulk_pricing.py`` checks it).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from ctxrouter.errors import PricingError
from ctxrouter.models.pricing import PriceFactors, Tokens, price_factors, price_tokens, total_usd
from ctxrouter.models.registry import ModelInfo, ModelRegistry, PriceRow

_EPOCH = date(1970, 1, 1)
_UNSEEN: Any = object()  # a key not looked up yet


class Pricer:
    """USD of a request from its token counts, or ``None`` when it cannot be priced."""

    def __init__(self, registry: ModelRegistry) -> None:
        self.registry = registry
        self._models: dict[str, ModelInfo | None] = {}
        self._terms: dict[tuple[str, int, bool, bool], tuple[PriceRow, PriceFactors] | None] = {}
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
        tokens: Tokens,
        *,
        fast: bool = False,
        us_only: bool = False,
    ) -> float | None:
        """What :meth:`ModelRegistry.quote` gives as ``cost.total`` for a request made on
        ``day`` (days since 1970-01-01, UTC) with ``tokens`` (input, output, cache writes 5m
        and 1h, cache reads); ``None`` where it gives no cost or would refuse the modifier.
        (Imports are never batch requests.)"""
        key = (model_id, day, fast, us_only)
        terms = self._terms.get(key, _UNSEEN)
        if terms is _UNSEEN:
            terms = self._look_up(key)
        if terms is None:
            return None
        dollars, _long_context = price_tokens(tokens, *terms)
        return total_usd(dollars)

    def _model(self, model_id: str) -> ModelInfo | None:
        if model_id not in self._models:
            self._models[model_id] = self.registry.find(model_id)
        return self._models[model_id]

    def _look_up(self, key: tuple[str, int, bool, bool]) -> tuple[PriceRow, PriceFactors] | None:
        """The price row and factors of a (model, day, fast, us_only), remembered."""
        model_id, day, fast, us_only = key
        model = self._model(model_id)
        row = model.price_on(_EPOCH + timedelta(days=day)) if model is not None else None
        terms: tuple[PriceRow, PriceFactors] | None = None
        if model is not None and row is not None:
            try:
                terms = (row, price_factors(model, us_only=us_only, fast=fast))
            except PricingError:  # a modifier the model does not offer
                terms = None
        self._terms[key] = terms
        return terms


__all__ = ["Pricer"]
