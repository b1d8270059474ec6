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
# One common English suffix, stripped where at least four characters of the word remain
# ("ies"/"ied" become "y" first; a final "e" goes too, so "database" and "databases" agree).
_IES = re.compile(r"(?<=[a-z0-9]{3})ie[sd](?![a-z0-9+#])")
_SUFFIX = re.compile(r"(?<=[a-z0-9]{4})(?:ings|ing|es|ed|e|(?<!s)s)(?![a-z0-9+#])")
_TRAILING = re.compile(r"[.-]+(?![a-z0-9])")


def stem(word: str) -> str:
    """A crude, predictable stem: ``redesigns`` -> ``redesign``, ``schemas`` -> ``schema``."""
    return _SUFFIX.sub("", _IES.sub("y", _TRAILING.sub("", word.lower())))


def stems(text: str) -> frozenset[str]:
    """The content words of ``text``, stemmed: one regex pass each for suffixes and words."""
    words = _WORD.findall(_SUFFIX.sub("", _IES.sub("y", _TRAILING.sub("", text.lower()))))
    return frozenset(words).difference(_STOP)


@dataclass(frozen=True, slots=True)
class _Phrase:
    text: str
    words: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Compiled:
    phrases: tuple[_Phrase, ...]
    # A cheap necessary condition: some phrase word's stem, less its last letter, begins a
    # word of the text (a stem less one letter prefixes every form that stems to it).
    quick: re.Pattern[str] | None


@lru_cache(maxsize=1024)
def _compile(phrases: tuple[str, ...]) -> _Compiled:
    compiled = tuple(_Phrase(p, stems(p)) for p in phrases if stems(p))
    prefixes = sorted({w[:-1] or w for p in compiled for w in p.words}, key=len, reverse=True)
    quick = re.compile(r"(?<![a-z0-9])(?:" + "|".join(map(re.escape, prefixes)) + ")")
    return _Compiled(compiled, quick if prefixes else None)


def matching_phrases(phrases: Sequence[str], text: str | frozenset[str]) -> list[str]:
    """The phrases (as written) whose every content word occurs in ``text``."""
    compiled = _compile(tuple(phrases))
    if isinstance(text, str):
        if compiled.quick is None or compiled.quick.search(text.lower()) is None:
            return []
        text = stems(text)
    return [p.text for p in compiled.phrases if p.words <= text]
