"""The decision matrix: task characteristics scored for haiku and for sonnet.

The matrix itself is data (``ctxrouter/data/decision_matrix.yaml``), loaded once by
:func:`load_decision_matrix` and handed to the pure :func:`score`::

    matrix = load_decision_matrix()
    result = score({Characteristic.CODE_GENERATION, Characteristic.WELL_DEFINED_SPEC}, matrix)
    result.winner, result.strength  # Tier.HAIKU, Strength.STRONG (4 to 0)

Every characteristic present adds its haiku score to haiku's total and its sonnet score to
sonnet's; the higher total wins, and the winning margin is banded into a :class:`Strength`.
A tie has no winner (the caller decides; ctxrouter's default is quality first).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from ctxrouter.datafile import load_data_file
from ctxrouter.policy.tier import Tier

MATRIX_FILE = "decision_matrix.yaml"


class Characteristic(StrEnum):
    """A characteristic of a task that the decision matrix scores."""

    WELL_DEFINED_SPEC = "well-defined-spec"
    NOVEL_PROBLEM = "novel-problem"
    PATTERN_APPLICATION = "pattern-application"
    COMPLEX_REASONING = "complex-reasoning"
    SECURITY_CRITICAL = "security-critical"
    CODE_GENERATION = "code-generation"
    ARCHITECTURE_DESIGN = "architecture-design"
    BATCH_PROCESSING = "batch-processing"
    CREATIVE_SYNTHESIS = "creative-synthesis"
    DOCUMENTATION = "documentation"


class Strength(StrEnum):
    """How clearly the matrix prefers its winner."""

    STRONG = "strong"
    MODERATE = "moderate"
    CONSIDER_ALTERNATIVE = "consider-alternative"


class CharacteristicScore(BaseModel):
    """One row of the matrix."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Characteristic
    label: str = Field(min_length=1)
    haiku: int
    sonnet: int
    description: str = Field(min_length=1)


class StrengthBands(BaseModel):
    """Bands on the winning margin: ``> strong_above`` strong, ``>= moderate_at_least`` moderate."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    strong_above: int = Field(ge=1)
    moderate_at_least: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.moderate_at_least > self.strong_above:
            raise ValueError(
                f"moderate_at_least ({self.moderate_at_least}) must not exceed "
                f"strong_above ({self.strong_above})"
            )
        return self

    def strength(self, margin: int) -> Strength:
        if margin > self.strong_above:
            return Strength.STRONG
        if margin >= self.moderate_at_least:
            return Strength.MODERATE
        return Strength.CONSIDER_ALTERNATIVE


@dataclass(frozen=True, slots=True)
class Contribution:
    """What one present characteristic added to each side."""

    characteristic: Characteristic
    haiku: int
    sonnet: int


class DecisionMatrix(BaseModel):
    """The matrix: every :class:`Characteristic` exactly once, plus the strength bands."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    characteristics: tuple[CharacteristicScore, ...]
    strength_bands: StrengthBands

    _rows: dict[Characteristic, Contribution] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _complete(self) -> Self:
        seen: set[Characteristic] = set()
        for row in self.characteristics:
            if row.id in seen:
                raise ValueError(f"characteristic {row.id.value!r} is listed twice")
            seen.add(row.id)
        missing = [c.value for c in Characteristic if c not in seen]
        if missing:
            raise ValueError(f"characteristics missing from the matrix: {', '.join(missing)}")
        return self

    def model_post_init(self, context: Any, /) -> None:
        self._rows.update(
            (r.id, Contribution(r.id, r.haiku, r.sonnet)) for r in self.characteristics
        )

    def row(self, characteristic: Characteristic) -> CharacteristicScore:
        return next(r for r in self.characteristics if r.id == characteristic)


@dataclass(frozen=True, slots=True)
class MatrixResult:
    """The matrix's verdict on one set of characteristics."""

    haiku_score: int
    sonnet_score: int
    winner: Tier | None  # None on a tie
    margin: int  # |haiku_score - sonnet_score|
    strength: Strength
    contributions: tuple[Contribution, ...]  # in matrix order, one per present characteristic


def score(characteristics: Iterable[Characteristic], matrix: DecisionMatrix) -> MatrixResult:
    """Score a task's characteristics (duplicates count once). Pure."""
    present = set(characteristics)
    contributions = tuple(c for k, c in matrix._rows.items() if k in present)
    haiku = sum(c.haiku for c in contributions)
    sonnet = sum(c.sonnet for c in contributions)
    winner = None if haiku == sonnet else (Tier.HAIKU if haiku > sonnet else Tier.SONNET)
    margin = abs(haiku - sonnet)
    return MatrixResult(
        haiku_score=haiku,
        sonnet_score=sonnet,
        winner=winner,
        margin=margin,
        strength=matrix.strength_bands.strength(margin),
        contributions=contributions,
    )


def load_decision_matrix(path: Path | str | None = None) -> DecisionMatrix:
    """Read and validate a matrix file; ``None`` reads the one shipped with ctxrouter."""
    return load_data_file(path, MATRIX_FILE, DecisionMatrix, [c.value for c in Characteristic])
