"""Import Claude Code transcripts into the event store: one event per API response.

::

    importer = TranscriptImporter(store, Path("~/.claude/projects").expanduser(), pricer=...)
    importer.plan()                   # which files have lines not read yet (importer.pending_bytes)
    summary = importer.run()          # reads them, writes events in batches

- **Idempotent.** Each event's id is derived from the response's message id and request id
  (:func:`.events.event_id`); the store adds an id once. Running twice adds nothing.
- **Incremental.** Only the lines a file gained since the last import are read (see
  :mod:`.plan`); a file read again from its start is recognised as stored (same ids). A last
  line without its newline (Claude Code still writing it) is left for the next run.
- **Tolerant.** Unknown fields are ignored; a broken line is counted, reported with its file
  and line number, and skipped; each batch is one transaction, so a crash loses nothing that
  was committed and never leaves half a batch.
- **The same counting as ccusage**: see :mod:`.transcripts` (which lines) and :mod:`.dedupe`
  (which copy of a response counts); responses already stored take part in the dedupe.

The parts: :mod:`.plan` (which files, from where), :mod:`.reader` (their new lines, parsed, in
worker processes for large imports), :mod:`.dedupe` (which copy counts), :mod:`.events` (what
an event holds), :mod:`.summary` (what the import reports). This module runs them in order
and matches what it reads against the store.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from operator import attrgetter
from pathlib import Path
from typing import Final

from ctxrouter.integrations.claude_code.dedupe import Deduper, Slot, Verdict
from ctxrouter.integrations.claude_code.events import (
    MAIN_AGENT,
    SUBAGENT,
    UNKNOWN_MODEL,
    event_id,
    response_cost,
    slot_event,
    stored_slot,
)
from ctxrouter.integrations.claude_code.plan import Work, plan_reads
from ctxrouter.integrations.claude_code.projects import TranscriptFile, agent_type
from ctxrouter.integrations.claude_code.reader import FileRead, read_all, worker_pool
from ctxrouter.integrations.claude_code.responses import Response, Skip
from ctxrouter.integrations.claude_code.summary import (
    SOURCE,
    TOKEN_NAMES,
    ImportSummary,
    Problem,
)
from ctxrouter.integrations.claude_code.texts import Turns, prompt
from ctxrouter.models.bulk_pricing import Pricer
from ctxrouter.telemetry.event import Event
from ctxrouter.telemetry.imports import ImportedFile, ImportStore, ImportWriter, Replacement

BATCH: Final = 25_000  # events per transaction (SQLite writes 10k-50k a transaction fastest)
_TS: Final = attrgetter("ts")


@dataclass(slots=True)
class _Pending:
    """Slots and read positions waiting for the next batch."""

    new: list[Slot] = field(default_factory=list)
    changed: dict[int, tuple[Slot, str]] = field(default_factory=dict)  # id(slot) -> stored id
    files: dict[str, ImportedFile] = field(default_factory=dict)


class TranscriptImporter:
    """One import of the transcripts under ``root`` (a ``projects`` folder) into ``store``."""

    def __init__(
        self,
        store: ImportStore,
        root: Path,
        *,
        pricer: Pricer,
        categories: Mapping[str, str] | None = None,
        with_text: bool = False,
        batch: int = BATCH,
        workers: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``workers``: processes that read and parse (``None``: one less than the CPUs, up to
        four, for imports above :data:`.reader.PARALLEL_FROM_BYTES`; ``0``: none)."""
        self.store = store
        self.root = root
        self.pricer = pricer
        self.categories = dict(categories or {})
        self.with_text = with_text
        self.batch = batch
        self.workers = workers
        self.clock = clock
        self.summary = ImportSummary(root=str(root))
        self.work: list[Work] = []
        self._deduper = Deduper(partial(response_cost, pricer))
        self._pending = _Pending()
        self._touched: dict[int, Slot] = {}  # slots this run added or updated
        self._looked_up: set[str] = set()
        self._stored_ids: set[str] = set()  # ids of stored events without a message id
        self._seeded: set[int] = set()  # id() of slots that came from the store
        self._matched: set[int] = set()  # ... and were met in the lines read
        self._agent_types: dict[str, str | None] = {}
        self._lookups = True
        self._writer: ImportWriter | None = None

    @property
    def pending_bytes(self) -> int:
        """Bytes to read (after :meth:`plan`)."""
        return sum(w.size - w.start for w in self.work)

    # -- planning ------------------------------------------------------------------------

    def plan(self) -> list[Work]:
        """List the transcripts (sorted by path, as ccusage reads them) and decide where to
        start reading each one."""
        found = plan_reads(self.root, self.store.imported_files(SOURCE), self.summary, self.clock)
        for touched in found.touched:
            self._pending.files[touched.path] = touched
        self.work = found.work
        return self.work

    # -- running -------------------------------------------------------------------------

    def run(self, progress: Callable[[int], None] | None = None) -> ImportSummary:
        """Read what :meth:`plan` found (planning first if it was not), write the events;
        ``progress`` is told each time some bytes were read."""
        started = time.perf_counter()
        if not self.work and not self.summary.files_found:
            self.plan()
        # A store without any event of ours has nothing to match against but this run's.
        self._lookups = bool(
            self.store.query("SELECT 1 FROM events WHERE provider = ? LIMIT 1", (SOURCE,))
        )
        collecting = gc.isenabled()
        gc.disable()  # hundreds of thousands of objects that live until the end: no cycles
        jobs = [work.job(with_text=self.with_text) for work in self.work]
        pool = worker_pool(jobs, self.workers)
        self._writer = ImportWriter(self.store, SOURCE)
        try:
            for work, found in zip(self.work, read_all(jobs, pool), strict=True):
                self._ingest(work, found)
                if progress is not None:
                    progress(work.size - work.start)
            self._flush()
        finally:
            if pool is not None:
                pool.terminate()  # done, or failed: nothing more to read
                pool.join()
            self.summary.added = self._writer.close()
            if collecting:
                gc.enable()
        self._account()
        self.summary.seconds = time.perf_counter() - started
        return self.summary

    def _ingest(self, work: Work, found: FileRead) -> None:
        """Count what a file's read found, match its responses, flush when a batch is full."""
        file, summary = work.file, self.summary
        if found.error is not None:
            summary.problem(Problem(file.relative, None, found.error))
            return
        if found.head is not None or work.head is None:
            work.head = found.head
        summary.files_read += 1
        if work.reread is not None:
            summary.files_reread[work.reread] += 1
        summary.lines_read += found.lines
        summary.other_lines += found.others
        summary.response_lines += found.response_lines + found.copies
        summary.duplicate_lines += found.copies
        summary.incomplete_lines += found.incomplete
        for number, skip in found.skips:
            self._skip(file, number, skip)
        self._seed(found.responses)
        agent = self._agent_of(file)
        path = str(file.path)
        for response, index, offset in zip(
            found.responses, found.line_of, found.offsets, strict=True
        ):
            if len(self._pending.new) >= self.batch:  # the lines before this one are done
                self._pending.files[path] = work.position(
                    work.start + offset, work.first_line + index, self.clock()
                )
                self._flush()
            self._offer(response, agent(response), found.turns)
        self._pending.files[path] = work.position(
            work.start + found.consumed, work.first_line + found.lines, self.clock()
        )

    def _skip(self, file: TranscriptFile, line: int, skip: Skip) -> None:
        self.summary.skipped[skip.reason] += 1
        if skip.problem:
            reason = f"{skip.reason}: {skip.detail}" if skip.detail else skip.reason
            self.summary.problem(Problem(file.relative, line, reason))

    def _agent_of(self, file: TranscriptFile) -> Callable[[Response], str]:
        """Who made a response of this file: ``main``, or a subagent's name."""
        meta = self._meta_agent(file)
        subagent_file = file.agent_id is not None

        def agent(response: Response) -> str:
            if subagent_file or response.sidechain:
                return response.agent or meta or SUBAGENT
            return MAIN_AGENT

        return agent

    def _meta_agent(self, file: TranscriptFile) -> str | None:
        """``agentType`` from the subagent's meta file, when there is one."""
        meta = file.meta_path
        if meta is None:
            return None
        key = str(meta)
        if key not in self._agent_types:
            found: str | None = None
            try:
                found = agent_type(Path(meta).read_bytes())
            except FileNotFoundError:
                pass
            except (OSError, ValueError) as exc:
                relative = file.relative.rsplit("/", 1)[0] + "/" + meta.name
                self.summary.problem(Problem(relative, None, f"unreadable meta file: {exc}"))
            self._agent_types[key] = found
        return self._agent_types[key]

    # -- dedupe against the store ----------------------------------------------------------

    def _seed(self, responses: Iterable[Response]) -> None:
        """Bring the stored copies of these responses into the dedupe (one query a file)."""
        if not self._lookups:
            return
        mids: list[str] = []
        origins: list[str] = []
        for response in responses:
            mid = response.message_id
            if mid is None:
                origins.append(event_id(response, response.origin or ""))
            elif mid not in self._looked_up:
                self._looked_up.add(mid)
                mids.append(mid)
        if not mids and not origins:
            return
        for event in self.store.stored_events(SOURCE, message_ids=mids, event_ids=origins):
            if event.message_id is None:
                self._stored_ids.add(event.event_id)
                continue
            slot = stored_slot(event)
            self._seeded.add(id(slot))
            self._deduper.seed(slot)

    def _offer(self, response: Response, agent: str, turns: Turns) -> None:
        summary = self.summary
        if response.message_id is None and event_id(response, response.origin or "") in (
            self._stored_ids
        ):
            summary.already_stored += 1
            return
        verdict, slot = self._deduper.offer(response, agent)
        if verdict is Verdict.NEW:
            summary.responses += 1
            if self.with_text:
                slot.prompt = prompt(response.parent_uuid, turns)
            self._pending.new.append(slot)
            return
        if id(slot) in self._seeded and id(slot) not in self._matched:
            self._matched.add(id(slot))  # the first line of a response stored before
            summary.already_stored += 1
        else:
            summary.duplicate_lines += 1
        written = slot.stored_id
        if written is not None and (
            verdict is Verdict.REPLACES or (self.with_text and response.texts)
        ):
            self._pending.changed.setdefault(id(slot), (slot, written))

    def _flush(self) -> None:
        pending = self._pending
        if not (pending.new or pending.changed or pending.files):
            return
        events = [self._event(slot) for slot in pending.new]
        for event, slot in zip(events, pending.new, strict=True):
            slot.stored_id = event.event_id
            self._touched[id(slot)] = slot
        events.sort(key=_TS)  # the store's time-ordered indexes take them faster in order
        changed = list(pending.changed.values())
        replacements = [Replacement(stored, self._event(slot)) for slot, stored in changed]
        assert self._writer is not None, "_flush runs inside run()"
        self._writer.submit(events, replacements, list(pending.files.values()))
        self.summary.updated += len(replacements)
        for replacement, (slot, _) in zip(replacements, changed, strict=True):
            slot.stored_id = replacement.event.event_id
            self._touched[id(slot)] = slot
        self._pending = _Pending()

    # -- events ----------------------------------------------------------------------------

    def _event(self, slot: Slot) -> Event:
        return slot_event(
            slot, pricer=self.pricer, categories=self.categories, with_text=self.with_text
        )

    def _account(self) -> None:
        """Tokens, cost, models and agents of the events this run added or updated."""
        summary = self.summary
        for slot in self._touched.values():
            response = slot.response
            for name, count in zip(TOKEN_NAMES, response.tokens, strict=True):
                summary.tokens[name] += count
            model = response.model or UNKNOWN_MODEL
            if slot.cost is None:
                summary.unpriced[model] += 1
            else:
                summary.cost_usd += slot.cost
                summary.priced[model] += 1
            summary.agents[slot.agent] += 1


__all__ = ["BATCH", "ImportSummary", "TranscriptImporter"]
