"""Cost projection: what a mix of tasks costs a task and a day, routed or on one tier.

A *mix* (``data/mixes/*.yaml``) lists task kinds with their share of the tasks and their agent
calls per tier. A *price basis* fixes the model behind each tier, the day whose prices apply and
the tokens of one call. :func:`project` is pure: it prices one call per tier and weighs the
kinds, for the routed mix (hybrid) and for every call on sonnet or on opus.
"""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    computed_field,
    model_validator,
)

from ctxrouter.datafile import read_text
from ctxrouter.models.pricing import Usage, price_usage
from ctxrouter.models.registry import ModelInfo, ModelRegistry, parse_validated
from ctxrouter.policy.tier import TIERS, Tier

_SHARE_TOLERANCE = 1e-6


class TaskKind(BaseModel):
    """One kind of task: its share of all tasks and its agent calls per tier."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    share: float = Field(gt=0, le=1)
    calls: dict[Tier, NonNegativeInt] = Field(default_factory=dict)  # a tier left out: 0

    def calls_on(self, tier: Tier) -> int:
        return self.calls.get(tier, 0)

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())


class ClaimBasis(BaseModel):
    """The prices and tokens a source document used, expressed with our model ids."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    models: dict[Tier, str]
    input_tokens_per_call: int = Field(ge=0)
    output_tokens_per_call: int = Field(ge=0)
    notes: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _every_tier(self) -> ClaimBasis:
        missing = [t.value for t in TIERS if t not in self.models]
        if missing:
            raise ValueError(f"models: no model for tier(s) {', '.join(missing)}")
        return self


class Claims(BaseModel):
    """What a source document claims for the mix, to print beside our figures."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    hybrid_per_task_usd: float | None = None
    all_sonnet_per_task_usd: float | None = None
    all_opus_per_task_usd: float | None = None
    savings_vs_all_sonnet_pct: float | None = None
    savings_vs_all_opus_pct: float | None = None
    basis: ClaimBasis | None = None


class Mix(BaseModel):
    """Task kinds (shares sum to 1) and the number of tasks a day."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1]
    name: str = Field(min_length=1)
    description: str = ""
    tasks_per_day: int = Field(ge=0)
    kinds: tuple[TaskKind, ...] = Field(min_length=1)
    claims: Claims | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Mix:
        names = [k.name for k in self.kinds]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"kinds: names must be unique, repeated: {', '.join(dupes)}")
        total = sum(k.share for k in self.kinds)
        if abs(total - 1.0) > _SHARE_TOLERANCE:
            raise ValueError(f"kinds: shares must sum to 1, they sum to {total:g}")
        return self


class CallProfile(BaseModel):
    """The tokens of one agent call. Cache shares are fractions of the input tokens."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=0)
    cache_read_share: float = Field(default=0.0, ge=0, le=1)
    cache_write_share: float = Field(default=0.0, ge=0, le=1)  # written with the 5-minute TTL

    @model_validator(mode="after")
    def _shares(self) -> CallProfile:
        if self.cache_read_share + self.cache_write_share > 1.0 + _SHARE_TOLERANCE:
            raise ValueError(
                "cache_read_share + cache_write_share must be at most 1 (they are parts of input)"
            )
        return self

    def usage(self) -> Usage:
        """The call as a :class:`Usage`: the input split into uncached, cache reads, writes."""
        read = round(self.input_tokens * self.cache_read_share)
        write = min(round(self.input_tokens * self.cache_write_share), self.input_tokens - read)
        return Usage(
            input_tokens=self.input_tokens - read - write,
            output_tokens=self.output_tokens,
            cache_read_tokens=read,
            cache_creation_5m_tokens=write,
        )


class PriceBasis(BaseModel):
    """What a projection is priced at: a model per tier, the day, the tokens of a call."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    models: dict[Tier, ModelInfo]
    profile: CallProfile
    day: date
    notes: tuple[str, ...] = ()


class KindCost(BaseModel):
    """USD per task of one kind: routed (hybrid), all calls on sonnet, all on opus."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    share: float
    calls: dict[Tier, int]
    hybrid: float
    all_sonnet: float
    all_opus: float


class Projection(BaseModel):
    """A mix priced at one basis: per call, per task kind, per task and per day."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    basis: str
    day: date
    models: dict[Tier, str]
    profile: CallProfile
    notes: tuple[str, ...]
    per_call: dict[Tier, float]
    kinds: tuple[KindCost, ...]
    tasks_per_day: int
    hybrid_per_task: float
    all_sonnet_per_task: float
    all_opus_per_task: float

    @computed_field  # type: ignore[prop-decorator]
    @property
    def hybrid_per_day(self) -> float:
        return self.hybrid_per_task * self.tasks_per_day

    @computed_field  # type: ignore[prop-decorator]
    @property
    def all_sonnet_per_day(self) -> float:
        return self.all_sonnet_per_task * self.tasks_per_day

    @computed_field  # type: ignore[prop-decorator]
    @property
    def all_opus_per_day(self) -> float:
        return self.all_opus_per_task * self.tasks_per_day

    @computed_field  # type: ignore[prop-decorator]
    @property
    def savings_vs_all_sonnet_pct(self) -> float | None:
        return savings_pct(self.hybrid_per_task, self.all_sonnet_per_task)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def savings_vs_all_opus_pct(self) -> float | None:
        return savings_pct(self.hybrid_per_task, self.all_opus_per_task)


def savings_pct(cost: float, baseline: float) -> float | None:
    """How much cheaper ``cost`` is than ``baseline``, in percent (None for a zero baseline)."""
    if baseline <= 0:
        return None
    return (1.0 - cost / baseline) * 100.0


def project(mix: Mix, basis: PriceBasis) -> Projection:
    """Price ``mix`` at ``basis``. Raises PricingError if a tier's model has no price that day."""
    usage = basis.profile.usage()
    per_call = {tier: price_usage(usage, basis.models[tier], day=basis.day).total for tier in TIERS}
    kinds = tuple(
        KindCost(
            name=kind.name,
            share=kind.share,
            calls={tier: kind.calls_on(tier) for tier in TIERS},
            hybrid=sum(kind.calls_on(tier) * per_call[tier] for tier in TIERS),
            all_sonnet=kind.total_calls * per_call[Tier.SONNET],
            all_opus=kind.total_calls * per_call[Tier.OPUS],
        )
        for kind in mix.kinds
    )
    return Projection(
        basis=basis.name,
        day=basis.day,
        models={tier: basis.models[tier].id for tier in TIERS},
        profile=basis.profile,
        notes=basis.notes,
        per_call=per_call,
        kinds=kinds,
        tasks_per_day=mix.tasks_per_day,
        hybrid_per_task=sum(k.share * k.hybrid for k in kinds),
        all_sonnet_per_task=sum(k.share * k.all_sonnet for k in kinds),
        all_opus_per_task=sum(k.share * k.all_opus for k in kinds),
    )


def today_basis(registry: ModelRegistry, profile: CallProfile, *, day: date) -> PriceBasis:
    """The registry's tier mapping at the prices in force on ``day``."""
    models = {tier: registry.for_tier(tier) for tier in TIERS}
    cache = (
        f"cache reads {profile.cache_read_share:.0%} and 5-minute cache writes "
        f"{profile.cache_write_share:.0%} of input"
        if profile.cache_read_share or profile.cache_write_share
        else "no prompt caching"
    )
    notes = (
        "tier mapping: " + ", ".join(f"{t.value} = {models[t].id}" for t in TIERS),
        f"prices in force on {day.isoformat()}",
        f"{profile.input_tokens:,} input + {profile.output_tokens:,} output tokens per call, "
        + cache,
    )
    return PriceBasis(name="today", models=models, profile=profile, day=day, notes=notes)


def claimed_basis(mix: Mix, registry: ModelRegistry, *, day: date) -> PriceBasis | None:
    """The prices the mix's source used (``claims.basis``), or None if it names none."""
    if mix.claims is None or mix.claims.basis is None:
        return None
    cb = mix.claims.basis
    models = {tier: registry.get(cb.models[tier]) for tier in TIERS}
    profile = CallProfile(
        input_tokens=cb.input_tokens_per_call, output_tokens=cb.output_tokens_per_call
    )
    return PriceBasis(name=mix.name, models=models, profile=profile, day=day, notes=cb.notes)


def shipped_mix_path(name: str = "strategy") -> Path:
    """A mix shipped with ctxrouter (``data/mixes/<name>.yaml``)."""
    return Path(str(resources.files("ctxrouter") / "data" / "mixes" / f"{name}.yaml"))


def parse_mix(text: str, *, source: str) -> Mix:
    """Validate YAML text as a mix; errors name ``source`` and the field."""
    return parse_validated(text, Mix, source=source, expected="schema_version, name, kinds")


def load_mix(path: Path) -> Mix:
    """Read and validate a mix file."""
    return parse_mix(read_text(path, "the mix file"), source=str(path))
