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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

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


__all__ = ["ImportStore", "ImportedFile", "Replacement"]
