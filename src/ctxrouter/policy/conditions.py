"""Match an agent's escalation / fast-path ``when`` phrases against a task's text.

A phrase matches when every content word of it appears in the task, in any order, up to a
simple suffix (``redesign the schemas`` matches ``schema redesign``). Pure and cached per
phrase list, so matching a task costs one tokenisation and a few set look-ups.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

_WORD = re.compile(r"[a-z0-9][a-z0-9+#.-]*")
_STOP = frozenset(
    """a an the of for to in on at by with and or vs versus into from our your their this
    that is are be it its as""".split()  # noqa: SIM905 - a word list reads better as text
)
_SUFFIXES = ("ings", "ing", "ies", "ied", "es", "ed", "s")


def stem(word: str) -> str:
    """A crude, predictable stem: strip one common English suffix from longer words."""
    word = word.rstrip(".-")
    for suffix in _SUFFIXES:
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def stems(text: str) -> frozenset[str]:
    return frozenset(stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP)


@dataclass(frozen=True, slots=True)
class _Phrase:
    text: str
    words: frozenset[str]


@lru_cache(maxsize=1024)
def _compile(phrases: tuple[str, ...]) -> tuple[_Phrase, ...]:
    return tuple(_Phrase(p, stems(p)) for p in phrases if stems(p))


def matching_phrases(phrases: Sequence[str], text: str | frozenset[str]) -> list[str]:
    """The phrases (as written) whose every content word occurs in ``text``."""
    words = stems(text) if isinstance(text, str) else text
    return [p.text for p in _compile(tuple(phrases)) if p.words <= words]
