"""Detecting characteristics in task text, and the labelled corpus that keeps it honest."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from ctxrouter.errors import ConfigError
from ctxrouter.policy.detect import DetectionRules, Detector, load_detector
from ctxrouter.policy.matrix import Characteristic, DecisionMatrix, load_decision_matrix, score
from ctxrouter.policy.tier import Tier

C = Characteristic
CORPUS = Path(__file__).parents[1] / "data" / "assign_corpus.jsonl"
SHIPPED = Path(__file__).parents[2] / "src/ctxrouter/data/detection.yaml"
CATEGORIES = (
    "Architecture & Design",
    "Security & Compliance",
    "Incident & Troubleshooting",
    "Code Review & Quality",
    "Business & Product",
    "Code Generation",
    "Testing",
    "Infrastructure as Code",
    "Documentation",
    "Build & Deployment",
    "Data Processing",
    "Specialized",
    "Context-Dependent",
)


@pytest.fixture(scope="module")
def detector() -> Detector:
    return load_detector()


@pytest.fixture(scope="module")
def matrix() -> DecisionMatrix:
    return load_decision_matrix()


@dataclass(frozen=True)
class Example:
    task: str
    expected: str
    why: str


def corpus() -> list[Example]:
    with CORPUS.open(encoding="utf-8") as lines:
        return [Example(**json.loads(line)) for line in lines if line.strip()]


# --- the examples of the strategy ---


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        (
            "Implement the endpoints described in this OpenAPI spec",
            {C.WELL_DEFINED_SPEC, C.CODE_GENERATION},
        ),
        (
            "Generate unit tests for the user service following our test template",
            {C.PATTERN_APPLICATION, C.CODE_GENERATION},
        ),
        (
            "Write a Terraform module for an S3 bucket with versioning",
            {C.CODE_GENERATION, C.PATTERN_APPLICATION},
        ),
        (
            "Decide the architecture for our event-driven order system",
            {C.ARCHITECTURE_DESIGN, C.COMPLEX_REASONING},
        ),
        ("Threat model the payment API", {C.SECURITY_CRITICAL, C.COMPLEX_REASONING}),
        (
            "Production is returning intermittent 500 errors and nobody knows why",
            {C.NOVEL_PROBLEM, C.COMPLEX_REASONING},
        ),
        ("Convert these 500 CSV files to JSON", {C.BATCH_PROCESSING, C.PATTERN_APPLICATION}),
        ("Write the README for the CLI", {C.DOCUMENTATION}),
    ],
)
def test_strategy_examples(detector: Detector, task: str, expected: set[Characteristic]) -> None:
    assert set(detector.detect(task).characteristics) == expected


def test_signals_explain_each_detection(detector: Detector) -> None:
    result = detector.detect("Threat model the payment API", category="Security & Compliance")
    assert result.characteristics == (C.COMPLEX_REASONING, C.SECURITY_CRITICAL)
    assert result.signals(C.COMPLEX_REASONING) == ('keyword "threat model"',)
    assert result.signals(C.SECURITY_CRITICAL) == (
        'keyword "threat model"',
        'agent category "Security & Compliance"',
    )
    assert result.signals(C.BATCH_PROCESSING) == ()
    assert C.SECURITY_CRITICAL in result
    assert C.DOCUMENTATION not in result


def test_detections_come_in_matrix_order(detector: Detector) -> None:
    result = detector.detect("Write the README, then threat model the new architecture")
    order = list(Characteristic)
    assert [order.index(c) for c in result.characteristics] == sorted(
        order.index(c) for c in result.characteristics
    )


def test_signals_report_the_words_as_written_without_repeats(detector: Detector) -> None:
    result = detector.detect("THREAT   MODEL the API.\nThen threat model the queue.")
    assert result.signals(C.SECURITY_CRITICAL) == ('keyword "threat model"',)


# --- precision ---


@pytest.mark.parametrize(
    "task",
    [
        "Write tests for the login page",
        "Add a test for the date parser",
        "Generate unit tests for the user service",
        "Fix the failing test in test_orders.py",
        "Rename the test fixtures",
    ],
)
def test_tests_are_not_security_critical(detector: Detector, task: str) -> None:
    result = detector.detect(task)
    assert C.SECURITY_CRITICAL not in result
    assert C.CODE_GENERATION in result


def test_matching_is_case_insensitive(detector: Detector) -> None:
    assert C.SECURITY_CRITICAL in detector.detect("THREAT MODEL THE PAYMENT API")
    assert C.SECURITY_CRITICAL in detector.detect("Check for SQL Injection")


@pytest.mark.parametrize(
    ("task", "absent"),
    [
        ("Ask the specialist", C.WELL_DEFINED_SPEC),  # "spec" is not in "specialist"
        ("Paste the codes into the sheet", C.CODE_GENERATION),  # "code" is not "codes"
        ("Our secured room", C.SECURITY_CRITICAL),  # "secure" is not "secured"
        ("Run the nightly backup", C.BATCH_PROCESSING),  # "nightly" is not "night"
    ],
)
def test_matching_is_whole_word(detector: Detector, task: str, absent: Characteristic) -> None:
    assert absent not in detector.detect(task)


@pytest.mark.parametrize(
    "task",
    [
        "Rename the field; there is no security impact",
        "Rename the field, not security related",
        "A non-security change: rename the field",
        "Rename the field, without security implications",
        "Rename the field, it isn't security sensitive",
    ],
)
def test_a_negated_keyword_is_ignored(detector: Detector, task: str) -> None:
    assert C.SECURITY_CRITICAL not in detector.detect(task)


def test_a_negation_only_reaches_the_next_keyword(detector: Detector) -> None:
    assert C.SECURITY_CRITICAL in detector.detect("No tests yet; audit the security of the API")
    # a keyword that starts with a negation word is still a keyword
    assert C.NOVEL_PROBLEM in detector.detect("It fails for no obvious reason")
    assert C.NOVEL_PROBLEM in detector.detect("We don't know why it fails")


def test_a_typographic_apostrophe_works_like_a_plain_one(detector: Detector) -> None:
    assert C.NOVEL_PROBLEM in detector.detect("We can’t figure out why it fails")
    assert C.NOVEL_PROBLEM in detector.detect("We can't figure out why it fails")


def test_an_empty_task_has_no_detections(detector: Detector) -> None:
    result = detector.detect("")
    assert result.detections == ()
    assert result.user_facing is False


# --- agent-category priors ---


def test_the_shipped_file_has_every_category(detector: Detector) -> None:
    assert set(detector.categories) == set(CATEGORIES)


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("Security & Compliance", {C.SECURITY_CRITICAL}),
        ("Architecture & Design", {C.ARCHITECTURE_DESIGN}),
        ("Code Generation", {C.CODE_GENERATION}),
        ("Documentation", {C.DOCUMENTATION}),
        ("Testing", {C.CODE_GENERATION, C.PATTERN_APPLICATION}),
        ("Infrastructure as Code", {C.CODE_GENERATION, C.PATTERN_APPLICATION}),
        ("Incident & Troubleshooting", {C.COMPLEX_REASONING}),
        ("Code Review & Quality", {C.COMPLEX_REASONING}),
        ("Business & Product", {C.COMPLEX_REASONING}),
        ("Build & Deployment", {C.PATTERN_APPLICATION}),
        ("Data Processing", {C.BATCH_PROCESSING}),
        ("Specialized", set()),
        ("Context-Dependent", set()),
    ],
)
def test_category_priors(detector: Detector, category: str, expected: set[Characteristic]) -> None:
    result = detector.detect("Take care of it", category=category)
    assert set(result.characteristics) == expected
    for detection in result.detections:
        assert detection.signals == (f'agent category "{category}"',)


def test_a_category_adds_to_the_keywords(detector: Detector) -> None:
    result = detector.detect("Write the README", category="Security & Compliance")
    assert set(result.characteristics) == {C.DOCUMENTATION, C.SECURITY_CRITICAL}


def test_category_names_ignore_case_and_spaces(detector: Detector) -> None:
    result = detector.detect("Take care of it", category="  security & COMPLIANCE ")
    assert result.characteristics == (C.SECURITY_CRITICAL,)
    assert result.signals(C.SECURITY_CRITICAL) == ('agent category "Security & Compliance"',)


def test_an_unknown_category_adds_nothing(detector: Detector) -> None:
    assert detector.detect("Take care of it", category="Astrology").detections == ()
    assert detector.detect("Take care of it", category="").detections == ()


# --- the user-facing modifier ---


@pytest.mark.parametrize(
    "task",
    [
        "Explain to the customer why their invoice went up",
        "Write up an analysis of the outage for leadership",
        "Summarise the migration status for stakeholders",
        "Prepare an executive summary of the audit",
        "Draft a customer-facing note about the downtime",
    ],
)
def test_user_facing(detector: Detector, task: str) -> None:
    result = detector.detect(task)
    assert result.user_facing is True
    assert result.user_facing_signals
    assert all(s.startswith('keyword "') for s in result.user_facing_signals)


@pytest.mark.parametrize(
    "task",
    [
        "Convert these 500 CSV files to JSON",
        "Implement the endpoints described in this OpenAPI spec",
        "Threat model the payment API",
    ],
)
def test_not_user_facing(detector: Detector, task: str) -> None:
    result = detector.detect(task)
    assert result.user_facing is False
    assert result.user_facing_signals == ()


# --- the compiled scan finds exactly what the patterns say ---


def reference_detect(rules: DetectionRules, task: str) -> set[Characteristic]:
    """The detection rules applied the slow, obvious way: each pattern on its own."""
    text = task.lower().replace("\u2019", "'")

    def starts(patterns: tuple[str, ...]) -> Iterator[tuple[int, int]]:
        for p in patterns:
            for m in re.finditer(rf"(?<!\w)(?=((?:{p}))(?!\w))", text):
                yield m.start(), m.start() + len(m.group(1))

    negation_ends = {end for _, end in starts(rules.negation.patterns)}

    def negated(start: int) -> bool:
        return any(e <= start and not text[e:start].strip(" -") for e in negation_ends)

    return {
        c
        for c, patterns in rules.characteristics.items()
        if any(not negated(start) for start, _ in starts(patterns.patterns))
    }


EXTRA_TASKS = [
    "Write a Terraform module; no security groups, just the bucket",
    "non-functional requirements from the spec, per the ticket: at least 3 replicas",
    "Root-cause the flaky, intermittent deadlock (unexplained) in the scheduler",
    "As described in the design doc, implement handlers for every one of the 10,000 records",
    "convert async/await code; see docs/config.yaml and api.proto, --dry-run first",
]


def test_the_compiled_scan_matches_the_plain_patterns(detector: Detector) -> None:
    for task in [e.task for e in corpus()] + EXTRA_TASKS:
        expected = reference_detect(detector.rules, task)
        assert set(detector.detect(task).characteristics) == expected, task


# --- validation of the detection file ---


def shipped_raw() -> dict[str, object]:
    raw = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    assert isinstance(raw, dict)
    return raw


def minimal_raw() -> dict[str, object]:
    return {
        "version": 1,
        "characteristics": {c.value: {"patterns": []} for c in Characteristic},
    }


def write(tmp_path: Path, raw: object) -> Path:
    path = tmp_path / "detection.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def test_a_custom_file(tmp_path: Path) -> None:
    characteristics: dict[str, object] = {c.value: {"patterns": []} for c in Characteristic}
    characteristics["novel-problem"] = {"patterns": ["weird(?:ly)?"]}
    raw = {
        "version": 1,
        "negation": {"patterns": ["hardly"]},
        "characteristics": characteristics,
        "categories": {"Oddities": ["novel-problem"]},
    }
    detector = load_detector(write(tmp_path, raw))
    assert detector.detect("It behaves weirdly").characteristics == (C.NOVEL_PROBLEM,)
    assert detector.detect("It is hardly weird").characteristics == ()
    assert detector.detect("Threat model it").characteristics == ()
    assert detector.detect("x", category="oddities").characteristics == (C.NOVEL_PROBLEM,)
    assert detector.categories == ("Oddities",)


def test_a_file_with_no_patterns_detects_nothing(tmp_path: Path) -> None:
    detector = load_detector(write(tmp_path, minimal_raw()))
    assert detector.detect("Threat model the payment API").detections == ()


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("Threat model", "lower case"),
        ("threat (model", "not a valid regular expression"),
        ("threat (model|actor)", "capturing group"),
        ("(?:threat)?", "matches the empty string"),
        (" threat", "leading or trailing spaces"),
    ],
)
def test_a_bad_pattern_is_located(tmp_path: Path, pattern: str, expected: str) -> None:
    raw = shipped_raw()
    characteristics = raw["characteristics"]
    assert isinstance(characteristics, dict)
    characteristics["security-critical"]["patterns"].insert(2, pattern)
    path = write(tmp_path, raw)
    with pytest.raises(ConfigError, match=expected) as caught:
        load_detector(path)
    assert "[characteristics.security-critical.patterns.2]" in str(caught.value)
    lines = path.read_text().splitlines()
    # the line of the offending list item, as yaml.safe_dump wrote it (quoted or not)
    line = next(i for i, t in enumerate(lines, 1) if t.strip()[2:].strip("'\"") == pattern)
    assert f"{path}:{line}:" in str(caught.value)


def test_an_unknown_characteristic_gets_a_hint(tmp_path: Path) -> None:
    raw = minimal_raw()
    raw["categories"] = {"Testing": ["code-generaton"]}
    with pytest.raises(ConfigError, match="did you mean 'code-generation'"):
        load_detector(write(tmp_path, raw))


def test_every_characteristic_needs_an_entry(tmp_path: Path) -> None:
    raw = minimal_raw()
    characteristics = raw["characteristics"]
    assert isinstance(characteristics, dict)
    del characteristics["documentation"]
    with pytest.raises(ConfigError, match="without an entry: documentation"):
        load_detector(write(tmp_path, raw))


def test_a_category_listed_twice(tmp_path: Path) -> None:
    raw = minimal_raw()
    raw["categories"] = {"Testing": [], "testing ": []}
    with pytest.raises(ConfigError, match="listed twice"):
        load_detector(write(tmp_path, raw))


# --- the labelled corpus ---


def test_the_corpus_is_well_formed() -> None:
    examples = corpus()
    assert len(examples) >= 80
    assert {e.expected for e in examples} == {"haiku", "sonnet"}
    assert all(e.task.strip() and e.why.strip() for e in examples)
    assert len({e.task for e in examples}) == len(examples)


def routed(detector: Detector, matrix: DecisionMatrix, task: str) -> Tier:
    """What the corpus check expects a router to do with the matrix alone."""
    detected = detector.detect(task)
    if C.SECURITY_CRITICAL in detected:
        return Tier.SONNET  # security-critical work is never given to haiku
    return score(detected.characteristics, matrix).winner or Tier.SONNET  # tie: quality first


def test_corpus_accuracy(detector: Detector, matrix: DecisionMatrix) -> None:
    examples = corpus()
    misses = [e for e in examples if routed(detector, matrix, e.task) != e.expected]
    accuracy = 1 - len(misses) / len(examples)
    report = "\n".join(f"  expected {e.expected}: {e.task}  ({e.why})" for e in misses)
    print(f"corpus accuracy {accuracy:.3f} ({len(examples) - len(misses)}/{len(examples)})")
    print(f"misses:\n{report}" if misses else "no misses")
    assert accuracy >= 0.85, f"accuracy {accuracy:.3f}; misses:\n{report}"
