"""Analytics over costs: projections of task mixes at a price basis."""

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
