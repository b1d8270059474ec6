"""What a transcript line reports: an API response (:class:`Response`), a copy of the previous
line's (:data:`COPY`), or why it reports none although it looks like it should (:class:`Skip`).
:mod:`.transcripts` reads lines into these; :mod:`.dedupe` and the importer take them from there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final


@dataclass(slots=True)
class Response:
    """One line's report of one API response (copies of it follow, one per content block)."""

    line: int  # 1-based
    message_id: str | None
    request_id: str | None
    session_id: str  # the line's sessionId, else the session its file's path names
    ts: float  # epoch seconds
    ts_ms: int  # epoch milliseconds (what identity compares)
    model: str | None
    sidechain: bool
    input_tokens: int
    output_tokens: int
    cache_creation_5m_tokens: int
    cache_creation_1h_tokens: int
    cache_read_tokens: int
    fast: bool = False  # usage.speed == "fast"
    us_only: bool = False  # usage.inference_geo == "us"
    agent: str | None = None  # attributionAgent
    texts: list[str] = field(default_factory=list)  # its text blocks (only when asked for)
    parent_uuid: str | None = None  # only when text is asked for
    origin: str | None = None  # file, line and hash: what identifies it without a message id

    @property
    def tokens(self) -> tuple[int, int, int, int, int]:
        """Input, output, cache writes 5m and 1h, cache reads."""
        return (
            self.input_tokens,
            self.output_tokens,
            self.cache_creation_5m_tokens,
            self.cache_creation_1h_tokens,
            self.cache_read_tokens,
        )

    @property
    def total_tokens(self) -> int:
        return sum(self.tokens)


@dataclass(frozen=True, slots=True)
class Skip:
    """A line that looked like a response and is not counted, and why."""

    reason: str  # short, for counting: "broken JSON", "synthetic", "bad timestamp", ...
    detail: str = ""  # for the report
    problem: bool = True  # worth showing with its file and line (synthetic lines are not)


SYNTHETIC: Final = Skip("synthetic", problem=False)


class Copy:
    """What :meth:`~.transcripts.LineParser.parse` returns for a line that repeats the previous
    line's response exactly (the next content block of the same answer)."""

    __slots__ = ()


COPY: Final = Copy()


__all__ = ["COPY", "SYNTHETIC", "Copy", "Response", "Skip"]
