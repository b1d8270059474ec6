"""Alert rules as data: pydantic models of ``data/alerts.yaml`` and the loader.

A rule file holds a list of rules, each of one *kind*, plus the notification policy::

    rules = load_rules()  # the shipped defaults; load_rules("my-alerts.yaml") for your own
    [r.id for r in rules.enabled]  # ["daily-cost-spike", "sonnet-share-rise", ...]

Kinds (the shipped file documents each in full):

- :class:`CostSpikeRule` (``cost_spike``): the window's cost against the mean of the baseline's
  windows;
- :class:`TierShareRule` (``tier_share_rise``): a tier's share of calls against its baseline share;
- :class:`RateRule` (``rate``): a success, escalation, fallback or correction rate per group
  against a fixed threshold;
- :class:`LatencyRule` (``latency_regression``): a latency percentile per group against that
  group's own baseline;
- :class:`RouteFlagRule` (``route_flag``): requests per agent on a model its policy does not
  allow, which the gateway kept (and flagged).

Durations are written ``90s``, ``30m``, ``24h``, ``7d``, ``2w`` (or a number of seconds) and held
as seconds. A broken file is a :class:`~ctxrouter.errors.ConfigError` naming the file, the line
and the field of every problem.
"""

from __future__ import annotations

import re
import string
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails

from ctxrouter.datafile import load_data_file
from ctxrouter.policy.tier import Tier

RULES_FILE = "alerts.yaml"

_SPAN = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_SECONDS = {"w": 604_800, "d": 86_400, "h": 3600, "m": 60, "s": 1}

# The fields a message template may use (see evaluate.Alert).
TEMPLATE_FIELDS = ("rule", "subject", "value", "threshold", "baseline", "window", "sample")


def parse_duration(value: object) -> object:
    """Seconds from ``90s`` / ``30m`` / ``24h`` / ``7d`` / ``2w`` or a number of seconds."""
    if isinstance(value, str):
        span = _SPAN.fullmatch(value.strip().lower())
        if span is None:
            raise ValueError(f"cannot read duration {value!r}; write e.g. 30m, 24h, 7d or 2w")
        return float(span[1]) * _SECONDS[span[2]]
    return value


_UNITS = (("d", "day", 86_400), ("h", "hour", 3600), ("m", "minute", 60))


def format_duration(seconds: float) -> str:
    """The largest whole-unit spelling: 86400 -> ``1d``, 604800 -> ``7d``, 5400 -> ``90m``."""
    for short, _, size in _UNITS:
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{short}"
    return f"{seconds:g}s"


def describe_duration(seconds: float) -> str:
    """For messages ("the last ..."): 86400 -> ``day``, 604800 -> ``7 days``, 1800 -> ``30
    minutes``."""
    for _, name, size in _UNITS:
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return name if count == 1 else f"{count} {name}s"
    return f"{seconds:g} seconds"


Duration = Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class RateMetric(StrEnum):
    """Rates of :class:`~ctxrouter.analytics.metrics.GroupMetrics` a ``rate`` rule can watch."""

    SUCCESS_RATE = "success_rate"  # sample: answered attempts
    ESCALATION_RATE = "escalation_rate"  # sample: runs
    FALLBACK_RATE = "fallback_rate"  # sample: runs
    CORRECTION_RATE = "correction_rate"  # sample: runs


class Percentile(StrEnum):
    P50 = "p50"
    P95 = "p95"
    P99 = "p99"


GroupKey = Literal["agent", "model", "tier", "category"]


class _RuleBase(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    severity: Severity = Severity.WARNING
    description: str = ""
    enabled: bool = True
    window: Duration = 86_400.0
    message: str = Field(min_length=1)

    @field_validator("message")
    @classmethod
    def _known_fields(cls, value: str) -> str:
        try:
            names = [name for _, name, _, _ in string.Formatter().parse(value) if name]
        except ValueError as exc:
            raise ValueError(f"not a valid template: {exc}") from None
        unknown = [n for n in names if n not in TEMPLATE_FIELDS]
        if unknown:
            raise ValueError(
                f"unknown template field(s) {', '.join(repr(n) for n in unknown)}; "
                f"known: {', '.join(TEMPLATE_FIELDS)}"
            )
        return value


class _ComparesWithBaseline(_RuleBase):
    baseline: Duration = 7 * 86_400.0

    @model_validator(mode="after")
    def _whole_windows(self) -> Self:
        windows = self.baseline / self.window
        if abs(windows - round(windows)) > 1e-9 or round(windows) < 1:
            raise ValueError(
                f"baseline ({format_duration(self.baseline)}) must be a whole number of windows "
                f"({format_duration(self.window)})"
            )
        return self

    @property
    def baseline_windows(self) -> int:
        return round(self.baseline / self.window)


class CostSpikeRule(_ComparesWithBaseline):
    """The window's cost > ``ratio`` x the mean cost of the baseline windows that had calls."""

    kind: Literal["cost_spike"]
    ratio: float = Field(gt=0)
    min_calls: int = Field(default=0, ge=0)
    min_baseline_windows: int = Field(default=1, ge=1)
    min_cost_usd: float = Field(default=0.0, ge=0)


class TierShareRule(_ComparesWithBaseline):
    """A tier's share of calls rose by > ``min_increase_points`` AND > ``min_ratio`` times."""

    kind: Literal["tier_share_rise"]
    tiers: tuple[Tier, ...] = Field(min_length=1)
    min_increase_points: float = Field(ge=0, le=100)
    min_ratio: float = Field(default=1.0, ge=1)
    min_calls: int = Field(default=0, ge=0)
    min_baseline_calls: int = Field(default=0, ge=0)


class RateRule(_RuleBase):
    """A rate of each group (or of the fleet) ``below`` or ``above`` a threshold."""

    kind: Literal["rate"]
    metric: RateMetric
    below: float | None = Field(default=None, ge=0, le=1)
    above: float | None = Field(default=None, ge=0, le=1)
    group_by: GroupKey | None = None  # None: the whole fleet
    min_sample: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _one_bound(self) -> Self:
        if (self.below is None) == (self.above is None):
            raise ValueError("give exactly one of 'below' or 'above'")
        return self


class LatencyRule(_ComparesWithBaseline):
    """A latency percentile of each group > ``ratio`` x its own baseline value."""

    kind: Literal["latency_regression"]
    percentile: Percentile = Percentile.P95
    group_by: GroupKey | None = "model"
    ratio: float = Field(gt=1)
    min_increase_ms: float = Field(default=0.0, ge=0)
    min_calls: int = Field(default=0, ge=0)
    min_baseline_calls: int = Field(default=0, ge=0)


class RouteFlagRule(_RuleBase):
    """Requests whose model the gateway kept although the agent's policy does not allow it
    (the Event's ``route_flag``: ``override = "never"``, or a model of no known tier), per
    agent: at least ``min_requests`` in the window fire."""

    kind: Literal["route_flag"]
    min_requests: int = Field(default=1, ge=1)


Rule = Annotated[
    CostSpikeRule | TierShareRule | RateRule | LatencyRule | RouteFlagRule,
    Field(discriminator="kind"),
]
KINDS = ("cost_spike", "tier_share_rise", "rate", "latency_regression", "route_flag")


class RuleSet(BaseModel):
    """A validated rule file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    renotify_after: Duration = 6 * 3600.0
    renotify_if_worse_by: float = Field(default=0.25, ge=0)
    rules: tuple[Rule, ...] = ()

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
        seen: set[str] = set()
        for rule in rules:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id!r} is used twice")
            seen.add(rule.id)
        return rules

    @property
    def enabled(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.enabled)

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


def load_rules(path: Path | str | None = None) -> RuleSet:
    """Read and validate a rule file; ``None`` reads the one shipped with ctxrouter."""
    enums = (Severity, RateMetric, Percentile, Tier)
    known = [*KINDS, *(member.value for enum in enums for member in enum)]
    return load_data_file(path, RULES_FILE, RuleSet, known, locations=_plain_locations)


def _plain_locations(exc: ValidationError) -> ValidationError:
    """The same errors with the kind tag pydantic inserts into a union member's location
    removed (``rules.2.rate.below`` -> ``rules.2.below``, the path in the file), and an unknown
    kind reported as an unknown value of ``rules.N.kind`` (which gets a "did you mean")."""
    details: list[InitErrorDetails] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        if len(loc) >= 3 and loc[0] == "rules" and loc[2] in KINDS:
            loc = loc[:2] + loc[3:]
        ctx: dict[str, Any] | None = err.get("ctx")
        if err["type"] == "union_tag_invalid" and ctx is not None:
            details.append(
                InitErrorDetails(
                    type="enum",
                    loc=(*loc, "kind"),
                    input=ctx.get("tag"),
                    ctx={"expected": ", ".join(repr(k) for k in KINDS)},
                )
            )
            continue
        detail = InitErrorDetails(type=err["type"], loc=loc, input=err["input"])
        if ctx is not None:
            detail["ctx"] = ctx
        details.append(detail)
    return ValidationError.from_exception_data(exc.title, details)
