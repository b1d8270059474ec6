"""Analytics over costs and recorded events: cost projections of task mixes at a price basis
(:mod:`~ctxrouter.analytics.projection`, re-exported here), fleet metrics
(:mod:`~ctxrouter.analytics.metrics`, with its one percentile definition in
:mod:`~ctxrouter.analytics.percentiles`), agent profiles and what-if reports."""

from ctxrouter.analytics.projection import (
    CallProfile,
    Claims,
    KindCost,
    Mix,
    PriceBasis,
    Projection,
    TaskKind,
    claimed_basis,
    load_mix,
    parse_mix,
    project,
    savings_pct,
    shipped_mix_path,
    today_basis,
)

__all__ = [
    "CallProfile",
    "Claims",
    "KindCost",
    "Mix",
    "PriceBasis",
    "Projection",
    "TaskKind",
    "claimed_basis",
    "load_mix",
    "parse_mix",
    "project",
    "savings_pct",
    "shipped_mix_path",
    "today_basis",
]
