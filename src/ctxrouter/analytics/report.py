"""What :func:`~ctxrouter.analytics.metrics.compute_metrics` returns: a :class:`MetricsReport`
of :class:`GroupMetrics`, the figures of one group (or of the totals), and the groupings.

The definitions of the figures are in :mod:`ctxrouter.analytics.metrics`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Final, Literal, get_args

from ctxrouter.analytics.percentiles import LATENCY_RESOLUTION

GroupBy = Literal["model", "agent", "category", "tier", "day", "week", "session"]
GROUP_BYS: Final[tuple[GroupBy, ...]] = get_args(GroupBy)


@dataclass(slots=True)
class GroupMetrics:
    key: str  # the group's value ("claude-haiku-5-5", "2026-11-03", ...); "total" for totals
    calls: int = 0
    answered: int = 0
    success: int = 0
    rejected: int = 0
    errors: int = 0
    runs: int = 0
    escalated_runs: int = 0
    fallback_runs: int = 0
    corrected_runs: int = 0
    ratings: int = 0
    rating_mean: float | None = None
    cost_usd: float = 0.0
    unpriced: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_tokens: int = 0  # 5m + 1h
    cache_read_tokens: int = 0
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    latency_p99_ms: float | None = None

    @property
    def success_rate(self) -> float | None:
        return _share(self.success, self.answered)

    @property
    def escalation_rate(self) -> float | None:
        return _share(self.escalated_runs, self.runs)

    @property
    def fallback_rate(self) -> float | None:
        return _share(self.fallback_runs, self.runs)

    @property
    def correction_rate(self) -> float | None:
        return _share(self.corrected_runs, self.runs)

    @property
    def priced(self) -> int:
        """Answered attempts with a price."""
        return self.answered - self.unpriced

    @property
    def cost_per_call_usd(self) -> float | None:
        """Mean cost of a priced answer (unpriced answers are left out, not counted as $0)."""
        return self.cost_usd / self.priced if self.priced > 0 else None

    def to_dict(self) -> dict[str, Any]:
        """Every field, then the derived rates; JSON-ready."""
        data: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in _DERIVED:
            data[name] = getattr(self, name)
        return data


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


_DERIVED = (
    "success_rate",
    "escalation_rate",
    "fallback_rate",
    "correction_rate",
    "cost_per_call_usd",
)


@dataclass(slots=True)
class MetricsReport:
    since: float | None
    until: float | None
    by: GroupBy | None
    totals: GroupMetrics
    groups: list[GroupMetrics] = field(default_factory=list)
    filters: dict[str, str] = field(default_factory=dict)  # agent / model / category given

    def to_dict(self) -> dict[str, Any]:
        return {
            "window": {
                "since": self.since,
                "until": self.until,
                "since_utc": _iso(self.since),
                "until_utc": _iso(self.until),
            },
            "by": self.by,
            "filters": dict(self.filters),
            "latency_resolution": LATENCY_RESOLUTION,
            "totals": self.totals.to_dict(),
            "groups": [g.to_dict() for g in self.groups],
        }


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()
