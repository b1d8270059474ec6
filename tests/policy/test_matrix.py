"""The decision matrix: the shipped data, the loader's validation, and scoring."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ctxrouter.errors import ConfigError
from ctxrouter.policy.matrix import (
    Characteristic,
    Contribution,
    DecisionMatrix,
    Strength,
    StrengthBands,
    load_decision_matrix,
    score,
)
from ctxrouter.policy.tier import Tier

C = Characteristic

# (haiku, sonnet) per characteristic, as the strategy states them.
STRATEGY = {
    C.WELL_DEFINED_SPEC: (2, 0),
    C.NOVEL_PROBLEM: (0, 2),
    C.PATTERN_APPLICATION: (2, 0),
    C.COMPLEX_REASONING: (0, 2),
    C.SECURITY_CRITICAL: (-1, 2),
    C.CODE_GENERATION: (2, 0),
    C.ARCHITECTURE_DESIGN: (0, 2),
    C.BATCH_PROCESSING: (2, 0),
    C.CREATIVE_SYNTHESIS: (0, 2),
    C.DOCUMENTATION: (1, 1),
}


@pytest.fixture(scope="module")
def matrix() -> DecisionMatrix:
    return load_decision_matrix()


def shipped_raw() -> dict[str, object]:
    text = (Path(__file__).parents[2] / "src/ctxrouter/data/decision_matrix.yaml").read_text()
    raw = yaml.safe_load(text)
    assert isinstance(raw, dict)
    return raw


def write(tmp_path: Path, raw: object) -> Path:
    path = tmp_path / "matrix.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


# --- the shipped matrix ---


def test_characteristic_ids() -> None:
    assert [c.value for c in Characteristic] == [
        "well-defined-spec",
        "novel-problem",
        "pattern-application",
        "complex-reasoning",
        "security-critical",
        "code-generation",
        "architecture-design",
        "batch-processing",
        "creative-synthesis",
        "documentation",
    ]


@pytest.mark.parametrize(("characteristic", "scores"), STRATEGY.items())
def test_shipped_scores_match_the_strategy(
    matrix: DecisionMatrix, characteristic: Characteristic, scores: tuple[int, int]
) -> None:
    row = matrix.row(characteristic)
    assert (row.haiku, row.sonnet) == scores
    assert row.label and row.description


def test_shipped_bands(matrix: DecisionMatrix) -> None:
    assert matrix.strength_bands == StrengthBands(strong_above=3, moderate_at_least=1)


def test_load_from_an_explicit_path(tmp_path: Path) -> None:
    assert load_decision_matrix(write(tmp_path, shipped_raw())) == load_decision_matrix()
    assert load_decision_matrix(str(write(tmp_path, shipped_raw()))) == load_decision_matrix()


# --- scoring ---


def test_spec_and_code_generation_is_a_strong_haiku(matrix: DecisionMatrix) -> None:
    result = score([C.CODE_GENERATION, C.WELL_DEFINED_SPEC], matrix)
    assert (result.haiku_score, result.sonnet_score) == (4, 0)
    assert result.winner is Tier.HAIKU
    assert result.margin == 4
    assert result.strength is Strength.STRONG
    # contributions come in matrix order, whatever order the input had
    assert result.contributions == (
        Contribution(C.WELL_DEFINED_SPEC, 2, 0),
        Contribution(C.CODE_GENERATION, 2, 0),
    )


def test_security_counts_against_haiku(matrix: DecisionMatrix) -> None:
    result = score({C.SECURITY_CRITICAL, C.CODE_GENERATION}, matrix)
    assert (result.haiku_score, result.sonnet_score) == (1, 2)
    assert result.winner is Tier.SONNET
    assert result.margin == 1
    assert result.strength is Strength.MODERATE


def test_architecture_with_reasoning_is_a_strong_sonnet(matrix: DecisionMatrix) -> None:
    result = score([C.ARCHITECTURE_DESIGN, C.COMPLEX_REASONING], matrix)
    assert result.winner is Tier.SONNET
    assert result.strength is Strength.STRONG


@pytest.mark.parametrize(
    "characteristics",
    [
        [],
        [C.DOCUMENTATION],
        [C.CODE_GENERATION, C.NOVEL_PROBLEM],
        [C.BATCH_PROCESSING, C.DOCUMENTATION, C.CREATIVE_SYNTHESIS],
    ],
)
def test_a_tie_has_no_winner(matrix: DecisionMatrix, characteristics: list[Characteristic]) -> None:
    result = score(characteristics, matrix)
    assert result.winner is None
    assert result.margin == 0
    assert result.strength is Strength.CONSIDER_ALTERNATIVE


def test_duplicates_count_once(matrix: DecisionMatrix) -> None:
    once = score([C.NOVEL_PROBLEM], matrix)
    assert score([C.NOVEL_PROBLEM, C.NOVEL_PROBLEM], matrix) == once
    assert once.sonnet_score == 2


def test_every_characteristic_at_once(matrix: DecisionMatrix) -> None:
    result = score(Characteristic, matrix)
    assert result.haiku_score == sum(h for h, _ in STRATEGY.values()) == 8
    assert result.sonnet_score == sum(s for _, s in STRATEGY.values()) == 11
    assert result.winner is Tier.SONNET
    assert result.strength is Strength.MODERATE
    assert [c.characteristic for c in result.contributions] == list(Characteristic)


@pytest.mark.parametrize(
    ("margin", "strength"),
    [
        (0, Strength.CONSIDER_ALTERNATIVE),
        (1, Strength.MODERATE),
        (2, Strength.MODERATE),
        (3, Strength.MODERATE),
        (4, Strength.STRONG),
        (9, Strength.STRONG),
    ],
)
def test_strength_bands(matrix: DecisionMatrix, margin: int, strength: Strength) -> None:
    assert matrix.strength_bands.strength(margin) is strength


def test_bands_come_from_the_data(tmp_path: Path) -> None:
    raw = shipped_raw()
    raw["strength_bands"] = {"strong_above": 5, "moderate_at_least": 3}
    matrix = load_decision_matrix(write(tmp_path, raw))
    assert score([C.CODE_GENERATION, C.PATTERN_APPLICATION], matrix).strength is Strength.MODERATE
    assert score([C.CODE_GENERATION], matrix).strength is Strength.CONSIDER_ALTERNATIVE
    assert score([C.CODE_GENERATION], matrix).winner is Tier.HAIKU


def test_score_is_pure(matrix: DecisionMatrix) -> None:
    chosen = [C.SECURITY_CRITICAL, C.DOCUMENTATION]
    assert score(chosen, matrix) == score(chosen, matrix)
    assert chosen == [C.SECURITY_CRITICAL, C.DOCUMENTATION]
    assert matrix == load_decision_matrix()


# --- validation of the matrix file ---


def test_a_typo_in_an_id_is_located_with_a_hint(tmp_path: Path) -> None:
    raw = shipped_raw()
    rows = raw["characteristics"]
    assert isinstance(rows, list)
    rows[1]["id"] = "novel-problm"
    path = write(tmp_path, raw)
    with pytest.raises(ConfigError) as caught:
        load_decision_matrix(path)
    message = str(caught.value)
    assert str(path) in message
    assert "[characteristics.1.id]" in message
    assert "did you mean 'novel-problem'" in message
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "novel-problm" in t)
    assert f"{path}:{line}:" in message


def test_a_missing_characteristic_is_named(tmp_path: Path) -> None:
    raw = shipped_raw()
    rows = raw["characteristics"]
    assert isinstance(rows, list)
    del rows[-1]
    with pytest.raises(ConfigError, match="missing from the matrix: documentation"):
        load_decision_matrix(write(tmp_path, raw))


def test_a_duplicate_characteristic_is_named(tmp_path: Path) -> None:
    raw = shipped_raw()
    rows = raw["characteristics"]
    assert isinstance(rows, list)
    rows.append(dict(rows[0]))
    with pytest.raises(ConfigError, match="'well-defined-spec' is listed twice"):
        load_decision_matrix(write(tmp_path, raw))


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ({"strength_bands": {"strong_above": 1, "moderate_at_least": 2}}, "must not exceed"),
        ({"strength_bands": {"strong_above": 3, "moderate_at_least": 0}}, "moderate_at_least"),
        ({"version": 2}, "version"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_other_mistakes(tmp_path: Path, edit: dict[str, object], expected: str) -> None:
    raw = shipped_raw() | edit
    with pytest.raises(ConfigError, match=expected):
        load_decision_matrix(write(tmp_path, raw))


def test_a_non_integer_score_is_rejected(tmp_path: Path) -> None:
    raw = shipped_raw()
    rows = raw["characteristics"]
    assert isinstance(rows, list)
    rows[0]["haiku"] = "lots"
    with pytest.raises(ConfigError, match=r"\[characteristics\.0\.haiku\]"):
        load_decision_matrix(write(tmp_path, raw))


def test_broken_yaml_is_located(tmp_path: Path) -> None:
    path = tmp_path / "matrix.yaml"
    path.write_text("version: 1\ncharacteristics: [\n")
    with pytest.raises(ConfigError, match=r"matrix\.yaml:\d+: error: not valid YAML"):
        load_decision_matrix(path)


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_decision_matrix(tmp_path / "nope.yaml")
