"""The model registry: model ids, their tiers and their dated prices.

The shipped table is ``ctxrouter/data/models.yaml``. ``Settings.models_file`` names a YAML file
in the same schema whose models replace shipped ones of the same id or add new ones; a model
that declares a ``tier`` there takes that tier over. ``Settings.tier_models`` then remaps tiers
to any known id. Lookups accept the ids Claude Code sends: a ``[1m]`` suffix and a trailing
``-YYYYMMDD`` date are ignored when the exact id is not in the table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ctxrouter.config import Settings
from ctxrouter.datafile import read_text
from ctxrouter.errors import ConfigError, UnknownModelError, did_you_mean
from ctxrouter.models.pricing import Quote, quote_usage
from ctxrouter.models.usage import Usage
from ctxrouter.policy.tier import TIERS, Tier

_ONE_M_SUFFIX = re.compile(r"\[1m\]$", re.IGNORECASE)
_DATE_SUFFIX = re.compile(r"-\d{8}$")


class Rates(BaseModel):
    """USD per million tokens for each billed category."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_write_5m: float = Field(ge=0)
    cache_write_1h: float = Field(ge=0)
    cache_read: float = Field(ge=0)


class LongContextRates(Rates):
    """Prices for a whole request whose prompt is above ``above_prompt_tokens``."""

    above_prompt_tokens: int = Field(gt=0)


class PriceRow(Rates):
    """The prices in force from ``effective_from`` (``None``: since release) to the next row."""

    effective_from: date | None = None
    long_context: LongContextRates | None = None

    def rates_for(self, prompt_tokens: int) -> tuple[Rates, bool]:
        """The rates for a request of this prompt size, and whether they are long-context."""
        lc = self.long_context
        if lc is not None and prompt_tokens > lc.above_prompt_tokens:
            return lc, True
        return self, False


class ModelInfo(BaseModel):
    """One model: its tier (if any tier maps to it by default), modifiers and price history."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@/-]*$")
    tier: Tier | None = None
    generation: str
    context_window: int | None = Field(default=None, gt=0)  # None: not stated by our sources
    max_output_tokens: int | None = Field(default=None, gt=0)  # None: not stated
    batch_discount: float | None = Field(default=None, ge=0, le=1)  # 0.5 = 50% off in and out
    fast_multiplier: float | None = Field(default=None, gt=0)
    us_only_multiplier: float | None = Field(default=None, gt=0)
    source: str = Field(min_length=1)
    prices: tuple[PriceRow, ...] = ()

    @model_validator(mode="after")
    def _rows_in_order(self) -> ModelInfo:
        previous: date | None = None
        for i, row in enumerate(self.prices):
            when = row.effective_from
            if when is None:
                if i != 0:
                    raise ValueError(
                        f"prices[{i}]: only the first row may have effective_from null"
                    )
                continue
            if previous is not None and when <= previous:
                what = "repeats" if when == previous else "comes before"
                raise ValueError(
                    f"prices[{i}]: effective_from {when} {what} the previous row's {previous}; "
                    "rows must be sorted by date with no duplicates"
                )
            previous = when
        return self

    @property
    def priced(self) -> bool:
        return bool(self.prices)

    def price_on(self, day: date) -> PriceRow | None:
        """The row in force on ``day``, or ``None`` if none is (no rows, or all start later)."""
        found: PriceRow | None = None
        for row in self.prices:
            if row.effective_from is None or row.effective_from <= day:
                found = row
        return found


class PriceTable(BaseModel):
    """The schema of ``models.yaml`` and of a user's ``models_file``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1]
    retrieved: date  # when the prices were taken from their source
    models: tuple[ModelInfo, ...]

    @model_validator(mode="after")
    def _unique(self) -> PriceTable:
        ids: set[str] = set()
        tiers: dict[Tier, str] = {}
        for m in self.models:
            if m.id in ids:
                raise ValueError(f"model id {m.id!r} appears twice")
            ids.add(m.id)
            if m.tier is not None:
                if m.tier in tiers:
                    raise ValueError(
                        f"tier {m.tier.value!r} is claimed by both {tiers[m.tier]!r} and {m.id!r}"
                    )
                tiers[m.tier] = m.id
        return self


def normalise_model_id(model_id: str) -> str:
    """Drop the suffixes that do not change the price: ``[1m]`` and ``-YYYYMMDD``."""
    base = _ONE_M_SUFFIX.sub("", model_id.strip())
    return _DATE_SUFFIX.sub("", base)


def shipped_models_path() -> Path:
    """The price table shipped with ctxrouter."""
    return Path(str(resources.files("ctxrouter") / "data" / "models.yaml"))


M = TypeVar("M", bound=BaseModel)


def parse_price_table(text: str, *, source: str) -> PriceTable:
    """Validate YAML text as a price table; errors name ``source`` and the field."""
    return parse_validated(
        text, PriceTable, source=source, expected="schema_version, retrieved, models"
    )


def parse_validated(text: str, model: type[M], *, source: str, expected: str) -> M:
    """YAML text validated as ``model``: a ConfigError names ``source``, the line of a YAML
    error, and each invalid field (used by the price table and the workload mixes)."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise ConfigError(f"{where}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping with {expected}")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, raw, source=source)) from None


def load_price_table(path: Path) -> PriceTable:
    """Read and validate a price table file."""
    return parse_price_table(read_text(path, "the models file"), source=str(path))


def format_validation_error(exc: ValidationError, raw: Any, *, source: str) -> str:
    """One line per problem: ``source: field.path (model id): message (got value)``."""
    lines = [f"{source}: {exc.error_count()} problem(s):"]
    for err in exc.errors():
        field = _field_path(err["loc"], raw)
        value = err.get("input")
        got = f" (got {value!r})" if isinstance(value, (int, float, str)) else ""
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(f"  {source}: {field or '<top>'}: {msg}{got}")
    return "\n".join(lines)


def _field_path(loc: tuple[int | str, ...], raw: Any) -> str:
    parts: list[str] = []
    node = raw
    for key in loc:
        if isinstance(key, int):
            parts.append(f"[{key}]")
        else:
            parts.append(f".{key}" if parts else key)
        node = _child(node, key)
        if isinstance(key, int) and loc[0] == "models" and len(parts) == 2:
            model_id = node.get("id") if isinstance(node, dict) else None
            if isinstance(model_id, str):
                parts.append(f" ({model_id})")
    return "".join(parts)


def _child(node: Any, key: int | str) -> Any:
    if isinstance(key, int) and isinstance(node, list) and 0 <= key < len(node):
        return node[key]
    if isinstance(key, str) and isinstance(node, dict):
        return node.get(key)
    return None


class ModelRegistry:
    """Known models by id, and which model each tier maps to. Immutable once built."""

    def __init__(
        self,
        tables: Sequence[tuple[str, PriceTable]],
        *,
        tier_models: Mapping[Tier, str] | None = None,
    ) -> None:
        """Merge ``(origin, table)`` pairs in order (later ids win), then apply ``tier_models``."""
        models: dict[str, ModelInfo] = {}
        origins: dict[str, tuple[str, date]] = {}
        tiers: dict[Tier, str] = {}
        for origin, table in tables:
            for model in table.models:
                models[model.id] = model
                origins[model.id] = (origin, table.retrieved)
                for tier, model_id in list(tiers.items()):
                    if model_id == model.id and model.tier != tier:
                        del tiers[tier]
                if model.tier is not None:
                    tiers[model.tier] = model.id
        self._models = MappingProxyType(models)
        self._origins = MappingProxyType(origins)
        for tier, wanted in (tier_models or {}).items():
            found = self.find(wanted)
            if found is None:
                hint = did_you_mean(wanted, models)
                extra = f" (did you mean {hint!r}?)" if hint else ""
                raise ConfigError(
                    f"tier_models.{tier.value}: unknown model {wanted!r}{extra}; "
                    "`ctxrouter models list` shows the known ids"
                )
            tiers[tier] = found.id
        missing = [t.value for t in TIERS if t not in tiers]
        if missing:
            raise ConfigError(
                f"no model for tier(s) {', '.join(missing)}: give a model `tier: <name>` in the "
                "models file or set tier_models in the config"
            )
        self._tiers = MappingProxyType({t: tiers[t] for t in TIERS})

    @classmethod
    def load(cls, settings: Settings) -> ModelRegistry:
        """The shipped table, then ``settings.models_file``, then ``settings.tier_models``."""
        tables = [("shipped", load_price_table(shipped_models_path()))]
        if settings.models_file is not None:
            tables.append((str(settings.models_file), load_price_table(settings.models_file)))
        return cls(tables, tier_models=settings.tier_models)

    def ids(self) -> tuple[str, ...]:
        return tuple(self._models)

    def models(self) -> tuple[ModelInfo, ...]:
        return tuple(self._models.values())

    def __contains__(self, model_id: object) -> bool:
        return isinstance(model_id, str) and self.find(model_id) is not None

    def __len__(self) -> int:
        return len(self._models)

    def find(self, model_id: str) -> ModelInfo | None:
        """The model for ``model_id`` (exact, else without ``[1m]``/date suffixes) or None."""
        exact = self._models.get(model_id)
        if exact is not None:
            return exact
        return self._models.get(normalise_model_id(model_id))

    def get(self, model_id: str) -> ModelInfo:
        """Like :meth:`find`, but raises :class:`UnknownModelError` with a "did you mean"."""
        found = self.find(model_id)
        if found is None:
            raise UnknownModelError(model_id, self._models)
        return found

    @property
    def tier_map(self) -> Mapping[Tier, str]:
        """Tier -> model id, after the user's overrides."""
        return self._tiers

    def for_tier(self, tier: Tier) -> ModelInfo:
        return self._models[self._tiers[tier]]

    def tiers_of(self, model_id: str) -> tuple[Tier, ...]:
        """The tiers that map to this model (none for a previous generation)."""
        model = self.get(model_id)
        return tuple(t for t, mid in self._tiers.items() if mid == model.id)

    def origin(self, model_id: str) -> tuple[str, date]:
        """Where the model's entry came from ("shipped" or a file path) and its retrieved date."""
        return self._origins[self.get(model_id).id]

    def quote(
        self,
        model_id: str,
        usage: Usage,
        *,
        day: date,
        batch: bool = False,
        us_only: bool = False,
        fast: bool = False,
    ) -> Quote:
        """Price a request, or mark it unpriced (unknown id, no price that day)."""
        model = self.find(model_id)
        return quote_usage(model_id, usage, model, day=day, batch=batch, us_only=us_only, fast=fast)


__all__ = [
    "LongContextRates",
    "ModelInfo",
    "ModelRegistry",
    "PriceRow",
    "PriceTable",
    "Rates",
    "load_price_table",
    "normalise_model_id",
    "parse_price_table",
    "shipped_models_path",
]
