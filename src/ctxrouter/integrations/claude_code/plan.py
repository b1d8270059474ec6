"""Which transcripts to read, and from where: the incremental part of the import.

The store keeps, per file, how far it was read (``imported_files``: bytes, lines, inode, a
SHA-256 of its first line). Only the bytes after that are read again; a file that shrank,
changed its first line or its inode is read again from its start (``reread``), and a file
that was only touched (same size, new mtime) is not read, its new mtime remembered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ctxrouter.integrations.claude_code.projects import TranscriptFile, transcript_file
from ctxrouter.integrations.claude_code.reader import HEAD_BYTES, ReadJob, sha_of_head
from ctxrouter.integrations.claude_code.summary import ImportSummary, Problem
from ctxrouter.telemetry.imports import ImportedFile


@dataclass(slots=True)
class Work:
    """One file to read: from where, and what to record once it is read."""

    file: TranscriptFile
    start: int  # byte offset
    first_line: int  # lines before ``start``
    size: int  # bytes on disk when planned: read up to here
    inode: int | None
    mtime: float
    head: str | None
    reread: str | None = None  # why it is read from its start again

    def job(self, *, with_text: bool) -> ReadJob:
        """What a reader needs to read it (picklable, for worker processes)."""
        file = self.file
        return ReadJob(
            path=str(file.path),
            relative=file.relative,
            session_id=file.session_id,
            start=self.start,
            first_line=self.first_line,
            size=self.size,
            head=self.head is None,
            with_text=with_text,
        )

    def position(self, size: int, lines: int, now: float) -> ImportedFile:
        """The read position to store once ``size`` bytes, ``lines`` lines, are read."""
        return ImportedFile(
            path=str(self.file.path),
            size=size,
            lines=lines,
            inode=self.inode,
            head_sha256=self.head,
            mtime=self.mtime,
            imported_at=now,
        )


@dataclass(slots=True)
class Plan:
    """What planning found."""

    work: list[Work] = field(default_factory=list)  # the files to read, sorted by path
    touched: list[ImportedFile] = field(default_factory=list)  # not read: their new mtime


def plan_reads(
    root: Path,
    states: Mapping[str, ImportedFile],
    summary: ImportSummary,
    clock: Callable[[], float],
) -> Plan:
    """List the transcripts under ``root`` (sorted by path, as ccusage reads them) and decide
    where to start reading each one, given the stored read positions (``states``, by path).
    Counts the files found and unchanged in ``summary``, and the ones it cannot read."""
    paths = sorted((str(p), p) for p in root.rglob("*.jsonl") if p.is_file())
    summary.files_found = len(paths)
    found = Plan()
    for _, path in paths:
        work = _plan_file(path, root, states.get(str(path)), summary, clock)
        if isinstance(work, Work):
            found.work.append(work)
        elif work is not None:
            found.touched.append(work)
    return found


def _plan_file(
    path: Path,
    root: Path,
    state: ImportedFile | None,
    summary: ImportSummary,
    clock: Callable[[], float],
) -> Work | ImportedFile | None:
    """The file's work; its new read position when it was only touched; ``None`` when it
    is unchanged or cannot be read."""
    file = transcript_file(path, root)
    try:
        st = path.stat()
    except OSError as exc:
        summary.problem(Problem(file.relative, None, f"cannot read: {exc.strerror}"))
        return None
    inode = st.st_ino or None
    work = Work(file, 0, 0, st.st_size, inode, st.st_mtime, None)
    if state is None:
        return work
    if state.inode is not None and inode is not None and state.inode != inode:
        work.reread = "replaced"  # another file under the same name
    elif st.st_size < state.size:
        work.reread = "truncated"
    elif st.st_size == state.size and st.st_mtime == state.mtime:
        summary.files_unchanged += 1
        return None
    else:
        try:
            head, before = _head(path), _byte_before(path, state.size)
        except OSError as exc:
            summary.problem(Problem(file.relative, None, f"cannot read: {exc.strerror}"))
            return None
        if head != state.head_sha256 or before not in (None, b"\n"):
            work.reread = "rewritten"
        elif st.st_size == state.size:  # touched, not changed: remember the new mtime
            summary.files_unchanged += 1
            work.head = head
            return work.position(state.size, state.lines, clock())
        else:
            work.start, work.first_line, work.head = state.size, state.lines, head
    return work


def _head(path: Path) -> str | None:
    with path.open("rb") as handle:
        return sha_of_head(handle.read(HEAD_BYTES))


def _byte_before(path: Path, offset: int) -> bytes | None:
    """The byte just before ``offset`` (``None`` at the start): a newline where a read ended."""
    if offset <= 0:
        return None
    with path.open("rb") as handle:
        handle.seek(offset - 1)
        return handle.read(1)


__all__ = ["Plan", "Work", "plan_reads"]
