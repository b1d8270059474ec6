"""What a store keeps for importers: where each imported file was read up to, and an idempotent
write path that applies a batch of imported events and those read positions in one transaction.

An importer (``ctxrouter import claude-code``) reads usage that another tool recorded, turns it
into :class:`~ctxrouter.telemetry.event.Event` s with deterministic ids, and calls
:meth:`ImportStore.save_import`. Writing the same event twice adds nothing (the store has a
unique index on ``event_id``: SQLite ``ON CONFLICT DO NOTHING``, PostgreSQL the same after a
``COPY`` into a temporary table), so a crash between two batches, or a file read again from
its start, never counts anything twice. The read positions (:class:`ImportedFile`) live in the
table ``imported_files`` (migration ``m004_imports``), so incremental imports work on every
backend.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from ctxrouter.telemetry.event import Event
from ctxrouter.telemetry.store import Store


@dataclass(frozen=True, slots=True)
class ImportedFile:
    """How far an importer has read one file, and how to tell that it is still the same file."""

    path: str  # absolute
    size: int  # bytes read: the offset of the first byte not read yet (always after a newline)
    lines: int  # lines read: the next line is number ``lines + 1``
    inode: int | None  # st_ino when it was read (None where the platform has none)
    head_sha256: str | None  # SHA-256 of its first line (None: the file was empty)
    mtime: float | None  # st_mtime when it was read
    imported_at: float  # epoch seconds


@dataclass(frozen=True, slots=True)
class Replacement:
    """A stored event that a better copy of the same response replaces (same or new id)."""

    event_id: str  # the id stored now
    event: Event  # what to store instead


# Both stores' ``imported_files`` table, written once (``?`` placeholders; the PostgreSQL
# store translates them).
FILE_COLUMNS = "path, size, lines, inode, head_sha256, mtime, imported_at"
UPSERT_FILE = (
    f"INSERT INTO imported_files (source, {FILE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (source, path) DO UPDATE SET size = excluded.size, lines = excluded.lines,"
    " inode = excluded.inode, head_sha256 = excluded.head_sha256, mtime = excluded.mtime,"
    " imported_at = excluded.imported_at"
)
SELECT_FILES = f"SELECT {FILE_COLUMNS} FROM imported_files WHERE source = ?"


def file_row(source: str, file: ImportedFile) -> tuple[Any, ...]:
    """The row :data:`UPSERT_FILE` writes (the inode as text: it may not fit a signed int64)."""
    inode = None if file.inode is None else str(file.inode)
    return (source, file.path, file.size, file.lines, inode, file.head_sha256, file.mtime,
            file.imported_at)  # fmt: skip


def imported_file(row: Sequence[Any]) -> ImportedFile:
    """An :class:`ImportedFile` from a row of :data:`SELECT_FILES`."""
    path, size, lines, inode, head, mtime, imported_at = row
    return ImportedFile(
        path, int(size), int(lines), None if inode is None else int(inode), head, mtime,
        float(imported_at),
    )  # fmt: skip


@runtime_checkable
class ImportStore(Store, Protocol):
    def imported_files(self, source: str) -> dict[str, ImportedFile]:
        """The read positions of ``source`` (``"claude-code"``), by path."""
        ...

    def stored_events(
        self, source: str, *, message_ids: Sequence[str] = (), event_ids: Sequence[str] = ()
    ) -> list[Event]:
        """The events of provider ``source`` whose ``message_id`` is one of ``message_ids``
        or whose ``event_id`` is one of ``event_ids``, in the order they were stored."""
        ...

    def save_import(
        self,
        source: str,
        *,
        events: Sequence[Event],
        replacements: Sequence[Replacement] = (),
        files: Sequence[ImportedFile] = (),
    ) -> int:
        """In one transaction: add ``events`` (those whose ``event_id`` is stored already are
        left alone), apply ``replacements``, and record ``files``' read positions. Returns how
        many events were added."""
        ...

    def forget_imported_files(self, source: str) -> int:
        """Drop the read positions of ``source`` (the next import reads every file again; its
        events stay, and re-reading them adds nothing). Returns how many were dropped."""
        ...


_Batch = tuple[Sequence[Event], Sequence[Replacement], Sequence[ImportedFile]]


class ImportWriter:
    """Applies import batches with :meth:`ImportStore.save_import` on a background thread, in
    the order given, while the importer reads on: SQLite and psycopg do their work with the
    GIL released, so reading and writing overlap. At most ``depth`` batches wait (the reader
    blocks beyond that). A failed batch stops the writing: the error is raised by the next
    :meth:`submit` or by :meth:`close`; the batches before it stay committed.
    """

    def __init__(self, store: ImportStore, source: str, *, depth: int = 1) -> None:
        self.store = store
        self.source = source
        self.added = 0  # events added so far
        self._queue: queue.Queue[_Batch | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="ctxrouter-import", daemon=True)
        self._thread.start()

    def submit(
        self,
        events: Sequence[Event],
        replacements: Sequence[Replacement] = (),
        files: Sequence[ImportedFile] = (),
    ) -> None:
        self._raise()
        self._queue.put((events, replacements, files))

    def close(self) -> int:
        """Wait for every batch to be written; returns how many events were added. Raises the
        error of a batch that failed."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        self._raise()
        return self.added

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _run(self) -> None:
        failed = False
        while (batch := self._queue.get()) is not None:
            if failed:
                continue  # drain what the reader still submits until it sees the error
            events, replacements, files = batch
            try:
                self.added += self.store.save_import(
                    self.source, events=events, replacements=replacements, files=files
                )
            except BaseException as exc:  # handed to the reader's thread
                self._error, failed = exc, True


__all__ = ["ImportStore", "ImportWriter", "ImportedFile", "Replacement"]
