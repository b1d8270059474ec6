"""What one import read and wrote: the summary ``ctxrouter import claude-code`` prints (and
its ``--json``), and the problems it met, each with its file and line."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final

SOURCE: Final = "claude-code"  # the provider of the events, and the importer's name
PROBLEMS_KEPT: Final = 200  # problems listed in the summary (all are counted)


@dataclass(frozen=True, slots=True)
class Problem:
    """A line (or file) that could not be read."""

    file: str  # relative to the projects folder
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.reason}"


@dataclass
class ImportSummary:
    """What one import read and wrote (``to_dict`` is the ``--json`` of the command)."""

    root: str
    files_found: int = 0
    files_read: int = 0  # with lines not read before
    files_unchanged: int = 0
    files_reread: Counter[str] = field(default_factory=Counter)  # why: truncated, rewritten...
    lines_read: int = 0
    response_lines: int = 0  # lines that reported a response (before dedupe)
    other_lines: int = 0  # user turns, attachments, blank lines...
    skipped: Counter[str] = field(default_factory=Counter)  # by reason
    incomplete_lines: int = 0  # a last line still being written: read next time
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    responses: int = 0  # distinct responses in the lines read not stored before (after dedupe)
    duplicate_lines: int = 0  # copies of a response (one line per content block, resumes)
    added: int = 0  # events written
    updated: int = 0  # stored events a better copy replaced
    already_stored: int = 0  # responses found in the store already
    tokens: Counter[str] = field(default_factory=Counter)  # of the events added or updated
    cost_usd: float = 0.0  # of the priced ones
    priced: Counter[str] = field(default_factory=Counter)  # responses per model
    unpriced: Counter[str] = field(default_factory=Counter)
    agents: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def problem(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < PROBLEMS_KEPT:
            self.problems.append(problem)

    def to_dict(self) -> dict[str, Any]:
        tokens = {name: self.tokens[name] for name in TOKEN_NAMES}
        tokens["cache_creation"] = tokens["cache_creation_5m"] + tokens["cache_creation_1h"]
        tokens["total"] = sum(self.tokens[name] for name in TOKEN_NAMES)
        return {
            "source": SOURCE,
            "root": self.root,
            "files": {
                "found": self.files_found,
                "read": self.files_read,
                "unchanged": self.files_unchanged,
                "reread": dict(sorted(self.files_reread.items())),
            },
            "lines": {
                "read": self.lines_read,
                "responses": self.response_lines,
                "other": self.other_lines,
                "skipped": sum(self.skipped.values()),
                "incomplete": self.incomplete_lines,
            },
            "skipped": dict(self.skipped.most_common()),
            "problems": [
                {"file": p.file, "line": p.line, "reason": p.reason} for p in self.problems
            ],
            "problem_count": self.problem_count,
            "responses": {
                "distinct": self.responses + self.already_stored,
                "new": self.responses,
                "duplicate_lines": self.duplicate_lines,
                "added": self.added,
                "updated": self.updated,
                "already_stored": self.already_stored,
            },
            "tokens": tokens,
            "cost_usd": self.cost_usd,
            "models": {
                "priced": dict(self.priced.most_common()),
                "unpriced": dict(self.unpriced.most_common()),
            },
            "agents": dict(self.agents.most_common()),
            "seconds": self.seconds,
        }


TOKEN_NAMES: Final = ("input", "output", "cache_creation_5m", "cache_creation_1h", "cache_read")


__all__ = ["PROBLEMS_KEPT", "TOKEN_NAMES", "ImportSummary", "Problem"]
