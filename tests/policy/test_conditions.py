from __future__ import annotations

import pytest

from ctxrouter.policy.conditions import matching_phrases, stem


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("schemas", "schema"),
        ("databases", "database"),
        ("processes", "process"),
        ("strategies", "strategy"),
        ("redesigning", "redesign"),
        ("changed", "change"),
    ],
)
def test_inflections_share_a_stem(a: str, b: str) -> None:
    assert stem(a) == stem(b)


def test_phrases_match_in_any_order_and_inflection() -> None:
    phrases = ["schema redesign", "partitioning strategy", "sharding strategy"]
    text = "Redesigning the schemas; pick partitioning strategies"
    assert matching_phrases(phrases, text) == ["schema redesign", "partitioning strategy"]


def test_every_content_word_must_be_present() -> None:
    assert matching_phrases(["schema redesign"], "Redesign the landing page") == []
    assert matching_phrases(["the of"], "the of") == []  # a phrase of stop words never fires
