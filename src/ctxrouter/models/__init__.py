"""Model ids, tiers and dated prices; a request's token usage and its price.

``usage`` reads the API's usage objects, ``registry`` holds the models and their prices,
``pricing`` is the price formula and one request priced in full, ``bulk_pricing`` the
importers' fast path to the same totals.
"""

from ctxrouter.models.pricing import Cost, Modifier, Quote, price_usage, quote_usage
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
from ctxrouter.models.usage import Usage, parse_usage

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
    "parse_usage",
    "price_usage",
    "quote_usage",
    "shipped_models_path",
]
