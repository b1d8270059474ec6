"""Reading transcripts from where the last import stopped: their new lines, parsed. Runs in
the importer's process, or in worker processes for large imports (:func:`worker_pool` decides;
:func:`read_files` is what the workers run: module-level, picklable arguments and results,
nothing imported but the parser).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from multiprocessing.pool import Pool
from operator import attrgetter
from pathlib import Path
from typing import Any, Final

from ctxrouter.integrations.claude_code.responses import COPY, Response, Skip
from ctxrouter.integrations.claude_code.texts import user_turn
from ctxrouter.integrations.claude_code.transcripts import (
    USAGE_MARKER,
    LineParser,
    looks_like_json_object,
    parse_line,
)

HEAD_BYTES: Final = 65536  # the first line is hashed up to this many bytes
PARALLEL_FROM_BYTES: Final = 64 * 1024 * 1024  # worker processes read larger imports
CHUNK_BYTES: Final = 8 * 1024 * 1024  # a worker's task


@dataclass(frozen=True, slots=True)
class ReadJob:
    """One file to read: where, from which byte and line, and up to which byte."""

    path: str
    relative: str  # to the projects folder (names the origin of lines without a message id)
    session_id: str  # the session its path names
    start: int
    first_line: int  # lines before ``start``
    size: int
    head: bool  # hash its first line too (it is read from its start, or was never hashed)
    with_text: bool = False


@dataclass(slots=True)
class FileRead:
    """What reading a :class:`ReadJob` found."""

    error: str | None = None  # could not be read at all
    head: str | None = None  # SHA-256 of the first line (when asked)
    lines: int = 0  # lines read (the next read starts after them)
    consumed: int = 0  # bytes read, from ``start``: always up to a newline or a complete line
    incomplete: bool = False  # a last line still being written was left for next time
    others: int = 0  # lines that report no response
    copies: int = 0  # lines repeating the previous line's response
    response_lines: int = 0
    skips: list[tuple[int, Skip]] = field(default_factory=list)  # (line number, why)
    responses: list[Response] = field(default_factory=list)
    line_of: list[int] = field(default_factory=list)  # per response: the index of its line
    offsets: list[int] = field(default_factory=list)  # per response: its line's offset
    turns: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)

    def __getstate__(self) -> dict[str, Any]:
        """Responses by column (a list per field): a worker's results pickle and unpickle in
        a fraction of the time objects take."""
        state = {name: getattr(self, name) for name in self.__slots__}
        state["responses"] = [_COLUMN(r) for r in self.responses]
        state["responses"] = list(zip(*state["responses"], strict=True))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            setattr(self, name, value)
        self.responses = [Response(*values) for values in zip(*state["responses"], strict=True)]


_COLUMN = attrgetter(*Response.__slots__)


def sha_of_head(data: bytes) -> str | None:
    """SHA-256 of the first line in ``data`` (the first :data:`HEAD_BYTES` of a file)."""
    if not data:
        return None
    return hashlib.sha256(data.split(b"\n", 1)[0]).hexdigest()


def read_files(jobs: Sequence[ReadJob]) -> list[FileRead]:
    """:func:`read_file` for each job, in order (one task of a worker process)."""
    return [read_file(job) for job in jobs]


def read_file(job: ReadJob) -> FileRead:
    """Read a file's bytes from ``start`` to ``size`` and parse its complete lines."""
    found = FileRead()
    try:
        with Path(job.path).open("rb") as handle:
            if job.head:
                found.head = sha_of_head(handle.read(HEAD_BYTES))
            handle.seek(job.start)
            data = handle.read(max(job.size - job.start, 0))
    except OSError as exc:
        found.error = f"cannot read: {exc.strerror or exc}"
        return found
    lines = data.split(b"\n")
    tail = lines.pop()  # after the last newline: empty, or a line still being written
    complete = len(lines)
    picked: Sequence[int] = range(complete) if job.with_text else worth_reading(lines)
    if tail.strip():
        done = parse_line(tail, line=0, session_id=job.session_id)
        if isinstance(done, tuple) or (done is None and looks_like_json_object(tail)):
            lines.append(tail)  # complete, only its newline is missing
            picked = [*picked, complete]
        else:
            found.incomplete = True  # still being written: read next time
    found.lines = len(lines)
    found.consumed = len(data) - (len(tail) if found.lines == complete else 0)
    parser = LineParser(job.session_id, with_text=job.with_text)
    looked = 0
    for index in picked:
        looked += 1
        raw = lines[index]
        number = job.first_line + index + 1
        result = parser.parse(raw, number)
        if result is None:
            found.others += 1
        elif result is COPY:
            found.copies += 1
        elif isinstance(result, Skip):
            found.skips.append((number, result))
        else:
            found.response_lines += 1
            for response in result:  # type: ignore[union-attr]
                if response.message_id is None:
                    digest = hashlib.sha256(raw).hexdigest()
                    response.origin = f"{job.relative}\x1f{number}\x1f{digest}"
                found.responses.append(response)
                found.line_of.append(index)
        if job.with_text:
            turn = user_turn(raw)
            if turn is not None:
                found.turns[turn[0]] = turn[1], turn[2]
    found.others += found.lines - looked  # the lines not worth reading report nothing
    _share(found.responses, job.session_id)
    if found.responses:  # where their lines start, for read positions saved mid-file
        starts = [0, *accumulate(len(raw) + 1 for raw in lines)]
        found.offsets = [starts[index] for index in found.line_of]
    return found


def _share(responses: list[Response], session: str) -> None:
    """One string object per distinct session, model and agent, one empty text list: a
    worker's results pickle each once (repeats are references)."""
    strings: dict[str, str] = {session: session}
    empty: list[str] = []
    for r in responses:
        r.session_id = strings.setdefault(r.session_id, r.session_id)
        if r.model is not None:
            r.model = strings.setdefault(r.model, r.model)
        if r.agent is not None:
            r.agent = strings.setdefault(r.agent, r.agent)
        if not r.texts:
            r.texts = empty


def worth_reading(lines: list[bytes]) -> list[int]:
    """The lines to look at: those that may report usage (they hold :data:`USAGE_MARKER`) and
    those that are not plainly one JSON object (``{`` ... ``}``: may be broken). Most lines of
    a transcript, user turns, tool results, attachments and request records, are neither."""
    marker = USAGE_MARKER
    return [
        index
        for index, raw in enumerate(lines)
        if marker in raw or raw[:1] != b"{" or raw[-1:] != b"}"
    ]


def worker_pool(jobs: Sequence[ReadJob], workers: int | None) -> Pool | None:
    """Worker processes that read and parse while this process matches and writes, when
    there is much to read (``workers``: ``None``, one less than the CPUs, up to four, for
    reads above :data:`PARALLEL_FROM_BYTES`; ``0``, none). Make it before any thread starts
    (they are forked), and terminate it once done."""
    if workers is None:
        cpus = os.cpu_count() or 1
        pending = sum(job.size - job.start for job in jobs)
        workers = min(cpus - 1, 4) if pending >= PARALLEL_FROM_BYTES else 0
    if workers < 1 or len(jobs) < 2:
        return None
    method = "fork" if sys.platform == "linux" else "spawn"  # fork: nothing re-imported
    return multiprocessing.get_context(method).Pool(workers)


def read_all(jobs: list[ReadJob], pool: Pool | None) -> Iterator[FileRead]:
    """What each job's file holds, in order: read here, or by ``pool``'s workers."""
    if pool is None:
        yield from map(read_file, jobs)
        return
    for found in pool.imap(read_files, _chunks(jobs, CHUNK_BYTES)):
        yield from found


def _chunks(jobs: list[ReadJob], size: int) -> Iterator[list[ReadJob]]:
    """Consecutive jobs in groups of about ``size`` bytes to read (a worker's task)."""
    group: list[ReadJob] = []
    weight = 0
    for job in jobs:
        group.append(job)
        weight += job.size - job.start
        if weight >= size:
            yield group
            group, weight = [], 0
    if group:
        yield group


__all__ = [
    "HEAD_BYTES",
    "FileRead",
    "ReadJob",
    "read_all",
    "read_file",
    "read_files",
    "sha_of_head",
    "worker_pool",
]
