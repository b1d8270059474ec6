"""Detect the decision matrix's characteristics in a task description.

The rules are data (``ctxrouter/data/detection.yaml``): for each :class:`Characteristic`, keyword
and phrase patterns; agent-category priors; and the signals of the ``user_facing`` modifier.
:func:`load_detector` reads and validates them and compiles them once::

    detector = load_detector()
    result = detector.detect("Threat model the payment API", category="Security & Compliance")
    result.characteristics   # (COMPLEX_REASONING, SECURITY_CRITICAL)
    result.detections[1].signals
    # ('keyword "threat model"', 'agent category "Security & Compliance"')

Matching is case-insensitive and whole-word. A keyword right after a negation word ("no security
impact", "non-critical") is ignored. :meth:`Detector.detect` is pure and fast (~20 µs for a
20-word task): all patterns are compiled once into one scan of the lower-cased task, see
:class:`Detector`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from ctxrouter.datafile import load_data_file
from ctxrouter.policy.matrix import Characteristic

DETECTION_FILE = "detection.yaml"
_ORDER: tuple[Characteristic, ...] = tuple(Characteristic)  # iterating the Enum class is slow
_UNESCAPED_UPPER = re.compile(r"(?<!\\)[A-Z]")
_NO_PRIOR: tuple[str, frozenset[Characteristic]] = ("", frozenset())


def _check_pattern(pattern: str) -> str:
    if not pattern or pattern != pattern.strip():
        raise ValueError("a pattern must be non-empty, without leading or trailing spaces")
    if _UNESCAPED_UPPER.search(pattern):
        raise ValueError(f"{pattern!r}: write patterns in lower case (they match lower-cased text)")
    try:
        compiled = re.compile(pattern)
        re.compile(rf"(?<!\w)(?:{pattern})(?!\w)")  # as it is embedded (no "(?i)" and such)
    except re.error as exc:
        raise ValueError(f"{pattern!r} is not a valid regular expression: {exc}") from None
    if compiled.groups:
        raise ValueError(f"{pattern!r} has a capturing group; write (?:...) instead")
    if compiled.match("") is not None:
        raise ValueError(f"{pattern!r} matches the empty string, so it would fire on every task")
    return pattern


Pattern = Annotated[str, AfterValidator(_check_pattern)]


class PatternSet(BaseModel):
    """The keyword/phrase patterns of one characteristic (or of the user-facing modifier)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    patterns: tuple[Pattern, ...] = ()


class DetectionRules(BaseModel):
    """The detection file, validated: every characteristic listed, every pattern compilable."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    negation: PatternSet = PatternSet()
    characteristics: dict[Characteristic, PatternSet]
    categories: dict[str, tuple[Characteristic, ...]] = Field(default_factory=dict)
    user_facing: PatternSet = PatternSet()

    @model_validator(mode="after")
    def _complete(self) -> Self:
        missing = [c.value for c in Characteristic if c not in self.characteristics]
        if missing:
            raise ValueError(f"characteristics without an entry: {', '.join(missing)}")
        names = [name.strip().casefold() for name in self.categories]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"categories listed twice (names ignore case): {', '.join(dupes)}")
        return self


@dataclass(frozen=True, slots=True)
class Detection:
    """One characteristic found in a task, with the signals that found it."""

    characteristic: Characteristic
    signals: tuple[str, ...]  # e.g. 'keyword "threat model"', 'agent category "Testing"'


@dataclass(frozen=True, slots=True)
class DetectionResult:
    """Everything :meth:`Detector.detect` found in one task."""

    detections: tuple[Detection, ...]  # in matrix order
    user_facing: bool = False
    user_facing_signals: tuple[str, ...] = ()
    # derived once: routing reads it several times per decision
    characteristics: tuple[Characteristic, ...] = field(init=False)

    def __post_init__(self) -> None:
        chars = tuple(d.characteristic for d in self.detections)
        object.__setattr__(self, "characteristics", chars)

    def __contains__(self, characteristic: object) -> bool:
        return characteristic in self.characteristics

    def signals(self, characteristic: Characteristic) -> tuple[str, ...]:
        """The signals that found ``characteristic`` (empty when it was not detected)."""
        return next((d.signals for d in self.detections if d.characteristic == characteristic), ())


# --- compiling many patterns into one fast alternation ------------------------------------------
#
# Python's regex engine tries the alternatives of a group one by one. With ~400 patterns that is
# ~400 attempts at every word start. Expanding leading groups ("(?:nobody|no one) knows" becomes
# "nobody knows" and "no one knows") and merging literal prefixes into a trie ("threat model",
# "threat actor" -> "threat (?:model|actor)") makes it a handful. The result matches exactly
# what the plain alternation matches.

_LITERAL = frozenset("abcdefghijklmnopqrstuvwxyz0123456789 -'/,:;@%&=<>~!\"")
_QUANTIFIERS = frozenset("?*+{")
_MAX_EXPANSIONS = 64


def _skip(pattern: str, i: int) -> int:
    """The index after the atom that starts at ``pattern[i]`` (escape, class, group or char)."""
    ch = pattern[i]
    if ch == "\\":
        return i + 2
    if ch == "[":
        j = i + 1
        if j < len(pattern) and pattern[j] == "^":
            j += 1
        if j < len(pattern) and pattern[j] == "]":
            j += 1
        while pattern[j] != "]":
            j += 2 if pattern[j] == "\\" else 1
        return j + 1
    if ch == "(":
        depth, j = 0, i
        while True:
            c = pattern[j]
            if c in "\\[":
                j = _skip(pattern, j)
                continue
            depth += (c == "(") - (c == ")")
            j += 1
            if depth == 0:
                return j
    return i + 1


def _branches(pattern: str) -> list[str]:
    """``pattern`` split at its top-level ``|``."""
    out, start, i = [], 0, 0
    while i < len(pattern):
        if pattern[i] == "|":
            out.append(pattern[start:i])
            start = i + 1
            i += 1
        else:
            i = _skip(pattern, i)
    return [*out, pattern[start:]]


def _literal_prefix(pattern: str) -> int:
    """The length of the plain-text start of ``pattern`` (no char that a quantifier applies to)."""
    i = 0
    while i < len(pattern) and pattern[i] in _LITERAL:
        if i + 1 < len(pattern) and pattern[i + 1] in _QUANTIFIERS:
            break
        i += 1
    return i


def _expand(pattern: str) -> list[str]:
    """Alternatives equivalent to ``pattern`` with the groups right after its prefix distributed."""
    branches = _branches(pattern)
    if len(branches) > 1:
        out = [x for b in branches for x in _expand(b)]
        return out if len(out) <= _MAX_EXPANSIONS else [pattern]
    head = _literal_prefix(pattern)
    if not pattern.startswith("(?:", head):
        return [pattern]
    end = _skip(pattern, head)
    inner, rest = pattern[head + 3 : end - 1], pattern[end:]
    optional = rest[:1] == "?"
    if (rest[:1] in _QUANTIFIERS and not optional) or (optional and rest[1:2] in ("?", "+")):
        return [pattern]  # a repeated group, or a lazy / possessive "?": leave it be
    rest = rest[1:] if optional else rest
    alternatives = [pattern[:head] + b + rest for b in _branches(inner)]
    if optional:
        alternatives.append(pattern[:head] + rest)
    out = [x for a in alternatives if a for x in _expand(a)]
    return out if len(out) <= _MAX_EXPANSIONS else [pattern]


def _alternation(patterns: Iterable[str]) -> str:
    """One regex matching what any of ``patterns`` matches, as a trie on their literal prefixes."""
    trie: dict[str, Any] = {}
    for pattern in dict.fromkeys(x for p in patterns for x in _expand(p)):
        head = _literal_prefix(pattern)
        node = trie
        for ch in pattern[:head]:
            node = node.setdefault(ch, {})
        node.setdefault("", []).append(pattern[head:])
    return _emit(trie)


def _emit(node: dict[str, Any]) -> str:
    rests: list[str] = node.get("", [])
    # Longer literal continuations first, the bare end last, so the longest keyword is reported.
    options = [ch + _emit(child) for ch, child in node.items() if ch]
    options += [f"(?:{r})" for r in rests if r]
    if "" in rests:
        options.append("")
    if len(options) == 1:
        return options[0]
    return "(?:" + "|".join(options) + ")"


class Detector:
    """Detection rules compiled once; :meth:`detect` is pure and safe to share.

    Two regular expressions do the work. The first finds, in one pass, every word start where
    any pattern (of any characteristic, of the user-facing modifier or of the negations) matches.
    The second runs at each of those few places and captures, in one group per characteristic,
    what that characteristic's patterns match there, so overlapping keywords all count.
    """

    __slots__ = ("_at", "_find", "_owners", "_priors", "_rules")

    def __init__(self, rules: DetectionRules) -> None:
        self._rules = rules
        sets: list[tuple[Characteristic | None, tuple[str, ...]]] = [
            (c, rules.characteristics[c].patterns) for c in Characteristic
        ]
        sets.append((None, rules.user_facing.patterns))  # None: the user-facing modifier
        sets = [(owner, ps) for owner, ps in sets if ps]
        self._owners = tuple(owner for owner, _ in sets)
        sets.append((None, rules.negation.patterns))  # always the last group, maybe empty
        anywhere = _alternation(p for _, ps in sets for p in ps)
        self._find = re.compile(rf"(?<!\w)(?=(?:{anywhere})(?!\w))" if anywhere else "(?!)")
        self._at = re.compile(
            "".join(rf"(?=({_alternation(ps)})(?!\w)|)" if ps else "()" for _, ps in sets)
        )
        self._priors = {
            name.strip().casefold(): (f'agent category "{name}"', frozenset(chars))
            for name, chars in rules.categories.items()
        }

    @property
    def rules(self) -> DetectionRules:
        """The validated rules this detector was compiled from."""
        return self._rules

    @property
    def categories(self) -> tuple[str, ...]:
        """The agent categories that have priors (possibly empty ones)."""
        return tuple(self._rules.categories)

    def detect(self, task: str, category: str | None = None) -> DetectionResult:
        """The characteristics of ``task`` (and of the agent's ``category``, if known).

        An unknown category adds nothing; it is not an error.
        """
        text = task.lower()
        if "\u2019" in text:  # typographic apostrophe, as in "can’t"
            text = text.replace("\u2019", "'")
        found = self._keywords(text)
        if category:
            prior_signal, prior = self._priors.get(category.strip().casefold(), _NO_PRIOR)
            for characteristic in prior:
                found.setdefault(characteristic, {})[prior_signal] = None
        detections = tuple(Detection(c, tuple(found[c])) for c in _ORDER if c in found)
        user_facing = tuple(found.get(None, ()))
        return DetectionResult(detections, bool(user_facing), user_facing)

    def _keywords(self, text: str) -> dict[Characteristic | None, dict[str, None]]:
        found: dict[Characteristic | None, dict[str, None]] = {}
        owners, at = self._owners, self._at
        ends = [0] * len(owners)  # a match inside an earlier one of the same group is no news
        negated_from = -1  # where a negation word ended
        for candidate in self._find.finditer(text):
            start = candidate.start()
            groups = at.match(text, start)  # never None: every group may be empty
            if groups is None:
                continue
            *keywords, negation = groups.groups()
            if 0 <= negated_from <= start and not text[negated_from:start].strip(" -"):
                continue  # "no security impact", "non-critical"
            if negation:
                negated_from = start + len(negation)
            for i, keyword in enumerate(keywords):
                if keyword is None or start < ends[i]:
                    continue
                ends[i] = start + len(keyword)
                signal = f'keyword "{" ".join(keyword.split())}"'
                found.setdefault(owners[i], {})[signal] = None
        return found


def load_detector(path: Path | str | None = None) -> Detector:
    """Read, validate and compile a detection file; ``None`` reads the one shipped."""
    known = [c.value for c in Characteristic]
    return Detector(load_data_file(path, DETECTION_FILE, DetectionRules, known))
