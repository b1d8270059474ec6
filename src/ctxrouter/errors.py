"""The exceptions ctxrouter raises, as one tree.

::

    CtxRouterError                    base of everything ctxrouter raises on purpose
    ├── ConfigError                   a setting or config file is wrong
    ├── InputError                    a value given on the command line / API is wrong
    ├── CatalogError                  agent definitions could not be loaded (carries Problems)
    ├── UnknownAgentError             an agent name that the catalog does not have
    ├── UnknownModelError             a model id that the model registry does not have
    ├── PricingError                  usage could not be priced (e.g. no price in force that day)
    ├── ProviderError                 a model provider failed (one subclass per upstream status)
    ├── FallbackExhausted             every model option failed; carries every attempt's error
    └── BudgetExceeded                a cost budget would be exceeded

Every message says what was wrong, where, and what to do about it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path


def did_you_mean(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The closest of ``choices`` to ``word`` or ``None``; used for "did you mean" hints."""
    matches = difflib.get_close_matches(word.lower(), [c.lower() for c in choices], 1, cutoff)
    if not matches:
        return None
    lowered = {c.lower(): c for c in choices}
    return lowered[matches[0]]


def _hint(word: str, choices: Iterable[str]) -> str:
    guess = did_you_mean(word, choices)
    return f" (did you mean {guess!r}?)" if guess else ""


class CtxRouterError(Exception):
    """Base class of every error ctxrouter raises on purpose."""


class ConfigError(CtxRouterError):
    """A setting, config file or data file is wrong."""


class InputError(CtxRouterError):
    """A value passed by the user (CLI flag, API argument, input file line) is wrong."""


@dataclass(frozen=True)
class Problem:
    """One validation problem, located as precisely as we can."""

    path: Path | None
    line: int | None
    field: str | None
    message: str
    severity: str = "error"  # "error" | "warning"

    def __str__(self) -> str:
        where = str(self.path) if self.path else "<input>"
        if self.line is not None:
            where += f":{self.line}"
        field = f" [{self.field}]" if self.field else ""
        return f"{where}:{field} {self.severity}: {self.message}"


class CatalogError(CtxRouterError):
    """Agent definitions could not be loaded. ``problems`` lists every one found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        head = f"{len(errors)} error(s) in agent definitions:"
        super().__init__("\n".join([head, *(f"  {p}" for p in errors)]))


class UnknownAgentError(CtxRouterError, KeyError):
    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        super().__init__(
            f"unknown agent {name!r}{_hint(name, known)}; `ctxrouter agents list` shows them"
        )

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class UnknownModelError(CtxRouterError, KeyError):
    def __init__(self, model: str, known: Iterable[str]) -> None:
        self.model = model
        super().__init__(
            f"unknown model {model!r}{_hint(model, known)}; `ctxrouter models list` shows them"
        )

    def __str__(self) -> str:
        return str(self.args[0])


class PricingError(CtxRouterError):
    """Usage could not be priced."""


class BudgetExceeded(CtxRouterError):
    """A cost budget would be exceeded."""
