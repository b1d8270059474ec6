"""Model ids, tiers and dated prices; pricing a request's token usage."""

from ctxrouter.models.pricing import Cost, Modifier, Quote, Usage, price_usage, quote_usage
from ctxrouter.models.registry import (
    LongContextRates,
    ModelInfo,
    ModelRegistry,
    PriceRow,
    PriceTable,
    Rates,
    load_price_table,
    normalise_model_id,
    parse_price_table,
    shipped_models_path,
)

__all__ = [
    "Cost",
    "LongContextRates",
    "ModelInfo",
    "ModelRegistry",
    "Modifier",
    "PriceRow",
    "PriceTable",
    "Quote",
    "Rates",
    "Usage",
    "load_price_table",
    "normalise_model_id",
    "parse_price_table",
    "price_usage",
    "quote_usage",
    "shipped_models_path",
]
