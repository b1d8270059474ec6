"""Import Claude Code transcripts into the event store: one event per API response.

::

    importer = TranscriptImporter(store, Path("~/.claude/projects").expanduser(), pricer=...)
    importer.plan()                   # which files have lines not read yet (importer.pending_bytes)
    summary = importer.run()          # reads them, writes events in batches

- **Idempotent.** Each event's id is derived from the response's message id and request id
  (:func:`event_id`); the store adds an id once. Running twice adds nothing.
- **Incremental.** The store keeps, per file, how far it was read (``imported_files``: bytes,
  lines, inode, a SHA-256 of its first line). Next time only the bytes after that are read; a
  file that shrank, changed its first line or its inode is read again from its start, and
  what it still holds is recognised as stored (same ids). A last line without its newline
  (Claude Code still writing it) is left for the next run.
- **Tolerant.** Unknown fields are ignored; a broken line is counted, reported with its file
  and line number, and skipped; each batch is one transaction, so a crash loses nothing that
  was committed and never leaves half a batch.
- **The same counting as ccusage**: see :mod:`.transcripts` (which lines) and :mod:`.dedupe`
  (which copy of a response counts); responses already stored take part in the dedupe.

An event: provider ``claude-code``; agent ``main`` for the main conversation, the subagent's
name (``attributionAgent``, else its meta file's ``agentType``) for a subagent's; model, tier
(from the registry), tokens, cost priced on the UTC day of the response (``None`` for a model
the registry cannot price: listed as unpriced, never counted as $0), session, request and
message ids, time. Prompt and answer text only with ``with_text`` (the text of the user turn
that led to the response, and of the response's text blocks).
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from multiprocessing.pool import Pool
from operator import attrgetter
from pathlib import Path
from typing import Any, Final

from ctxrouter.errors import InputError
from ctxrouter.integrations.claude_code.dedupe import Deduper, Slot, Verdict, exact_key
from ctxrouter.integrations.claude_code.reader import (
    HEAD_BYTES,
    FileRead,
    ReadJob,
    read_file,
    read_files,
    sha_of_head,
)
from ctxrouter.integrations.claude_code.summary import (
    SOURCE,
    TOKEN_NAMES,
    ImportSummary,
    Problem,
)
from ctxrouter.integrations.claude_code.transcripts import (
    Response,
    Skip,
    TranscriptFile,
    agent_type,
    transcript_file,
)
from ctxrouter.models.bulk_pricing import Pricer
from ctxrouter.telemetry.event import Event, Outcome, sha256
from ctxrouter.telemetry.imports import ImportedFile, ImportStore, ImportWriter, Replacement

MAIN_AGENT: Final = "main"
SIDECHAIN_AGENT: Final = "sidechain"  # a side conversation in the main transcript (/btw)
SUBAGENT: Final = "subagent"  # a subagent whose name its transcript does not say
UNKNOWN_MODEL: Final = "unknown"  # a response whose line names no model
PARALLEL_FROM_BYTES: Final = 64 * 1024 * 1024  # worker processes read larger imports
CHUNK_BYTES: Final = 8 * 1024 * 1024  # a worker's task
BATCH: Final = 25_000  # events per transaction (SQLite writes 10k-50k a transaction fastest)
_DAY: Final = 86400
_TS: Final = attrgetter("ts")


def default_root() -> Path:
    """Where Claude Code keeps transcripts: ``$CLAUDE_CONFIG_DIR/projects``, else
    ``~/.claude/projects``."""
    config = os.environ.get("CLAUDE_CONFIG_DIR", "").split(",")[0].strip()
    base = Path(config).expanduser() if config else Path.home() / ".claude"
    return base / "projects"


def projects_folder(path: Path) -> Path:
    """The ``projects`` folder ``path`` names: itself, or ``<path>/projects`` when ``path`` is
    a Claude config folder. Raises :class:`InputError` when there is none."""
    path = path.expanduser()
    if not path.exists():
        raise InputError(
            f"{path}: no such folder; give the folder Claude Code keeps its transcripts in"
            " (default ~/.claude/projects)"
        )
    if not path.is_dir():
        raise InputError(f"{path}: not a folder; give the folder that holds the projects")
    nested = path / "projects"
    return (nested if nested.is_dir() else path).resolve()


def event_id(response: Response, origin: str) -> str:
    """The id of a response's event: from its message and request ids (the same response in a
    resumed session's copy gets the same id); ``origin`` (file, line, hash) for a line that
    has no message id."""
    key = exact_key(response)
    basis = "\x1f".join(key) if key is not None else "origin\x1f" + origin
    return "cc-" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]


@dataclass(slots=True)
class _Work:
    """One file to read: from where, and what to record once it is read."""

    file: TranscriptFile
    start: int  # byte offset
    first_line: int  # lines before ``start``
    size: int  # bytes on disk when planned: read up to here
    inode: int | None
    mtime: float
    head: str | None
    reread: str | None = None  # why it is read from its start again


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
        four, for imports above :data:`PARALLEL_FROM_BYTES`; ``0``: none)."""
        self.store = store
        self.root = root
        self.pricer = pricer
        self.categories = dict(categories or {})
        self.with_text = with_text
        self.batch = batch
        self.workers = workers
        self.clock = clock
        self.summary = ImportSummary(root=str(root))
        self.work: list[_Work] = []
        self._deduper = Deduper(self._cost)
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

    def plan(self) -> list[_Work]:
        """List the transcripts (sorted by path, as ccusage reads them) and decide where to
        start reading each one."""
        states = self.store.imported_files(SOURCE)
        paths = sorted((str(p), p) for p in self.root.rglob("*.jsonl") if p.is_file())
        self.summary.files_found = len(paths)
        self.work = []
        for _, path in paths:
            work = self._plan_file(path, states.get(str(path)))
            if work is not None:
                self.work.append(work)
        return self.work

    def _plan_file(self, path: Path, state: ImportedFile | None) -> _Work | None:
        file = transcript_file(path, self.root)
        try:
            st = path.stat()
        except OSError as exc:
            self.summary.problem(Problem(file.relative, None, f"cannot read: {exc.strerror}"))
            return None
        inode = st.st_ino or None
        work = _Work(file, 0, 0, st.st_size, inode, st.st_mtime, None)
        if state is None:
            return work
        if state.inode is not None and inode is not None and state.inode != inode:
            work.reread = "replaced"  # another file under the same name
        elif st.st_size < state.size:
            work.reread = "truncated"
        elif st.st_size == state.size and st.st_mtime == state.mtime:
            self.summary.files_unchanged += 1
            return None
        else:
            try:
                head, before = _head(path), _byte_before(path, state.size)
            except OSError as exc:
                self.summary.problem(Problem(file.relative, None, f"cannot read: {exc.strerror}"))
                return None
            if head != state.head_sha256 or before not in (None, b"\n"):
                work.reread = "rewritten"
            elif st.st_size == state.size:  # touched, not changed: remember the new mtime
                self.summary.files_unchanged += 1
                work.head = head
                self._pending.files[str(path)] = _position(
                    work, state.size, state.lines, self.clock()
                )
                return None
            else:
                work.start, work.first_line, work.head = state.size, state.lines, head
        return work

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
        pool = self._pool()
        self._writer = ImportWriter(self.store, SOURCE)
        try:
            for work, found in zip(self.work, self._reads(pool), strict=True):
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

    def _job(self, work: _Work) -> ReadJob:
        file = work.file
        return ReadJob(
            path=str(file.path),
            relative=file.relative,
            session_id=file.session_id,
            start=work.start,
            first_line=work.first_line,
            size=work.size,
            head=work.head is None,
            with_text=self.with_text,
        )

    def _ingest(self, work: _Work, found: FileRead) -> None:
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
                self._pending.files[path] = _position(
                    work, work.start + offset, work.first_line + index, self.clock()
                )
                self._flush()
            self._offer(response, agent(response), found.turns)
        self._pending.files[path] = _position(
            work, work.start + found.consumed, work.first_line + found.lines, self.clock()
        )

    def _pool(self) -> Pool | None:
        """Worker processes that read and parse while this process matches and writes, when
        there is much to read. Made before any thread of ours starts (they are forked)."""
        workers = self.workers
        if workers is None:
            cpus = os.cpu_count() or 1
            workers = min(cpus - 1, 4) if self.pending_bytes >= PARALLEL_FROM_BYTES else 0
        if workers < 1 or len(self.work) < 2:
            return None
        method = "fork" if sys.platform == "linux" else "spawn"  # fork: nothing re-imported
        return multiprocessing.get_context(method).Pool(workers)

    def _reads(self, pool: Pool | None) -> Iterator[FileRead]:
        """What each planned file holds, in order."""
        jobs = [self._job(work) for work in self.work]
        if pool is None:
            yield from map(read_file, jobs)
            return
        for found in pool.imap(read_files, _chunks(jobs, CHUNK_BYTES)):
            yield from found

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
            slot = _stored_slot(event)
            self._seeded.add(id(slot))
            self._deduper.seed(slot)

    def _offer(
        self,
        response: Response,
        agent: str,
        turns: Mapping[str, tuple[str | None, str | None]],
    ) -> None:
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
                slot.prompt = _prompt(response.parent_uuid, turns)
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

    def _cost(self, response: Response) -> float | None:
        if response.model is None:
            return None
        return self.pricer.cost(
            response.model,
            int(response.ts // _DAY),
            response.tokens,
            fast=response.fast,
            us_only=response.us_only,
        )

    def _event(self, slot: Slot) -> Event:
        response = slot.response
        eid = event_id(response, response.origin or "")
        model = response.model or UNKNOWN_MODEL
        text: dict[str, Any] = {}
        if self.with_text:
            answer = "\n".join(slot.texts)
            text = {
                "output_text": answer,
                "output_chars": len(answer),
                "output_sha256": sha256(answer),
            }
            if slot.prompt is not None:
                text.update(
                    prompt_text=slot.prompt,
                    prompt_chars=len(slot.prompt),
                    prompt_sha256=sha256(slot.prompt),
                )
        return Event(
            event_id=eid,
            ts=response.ts,
            run_id=eid,
            agent=slot.agent,
            model=model,
            tier=self.pricer.tier(model),
            outcome=Outcome.SUCCESS,
            category=self.categories.get(slot.agent),
            provider=SOURCE,
            session_id=response.session_id,
            input_tokens=response.input_tokens,
            output_tokens=response.output_tokens,
            cache_creation_5m_tokens=response.cache_creation_5m_tokens,
            cache_creation_1h_tokens=response.cache_creation_1h_tokens,
            cache_read_tokens=response.cache_read_tokens,
            cost_usd=slot.cost,
            request_id=response.request_id,
            message_id=response.message_id,
            **text,
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


def _stored_slot(event: Event) -> Slot:
    """A stored event as the first copy of its response."""
    response = Response(
        line=0,
        message_id=event.message_id,
        request_id=event.request_id,
        session_id=event.session_id or "",
        ts=event.ts,
        ts_ms=round(event.ts * 1000),
        model=None if event.model == UNKNOWN_MODEL else event.model,
        sidechain=event.agent != MAIN_AGENT,
        input_tokens=event.input_tokens,
        output_tokens=event.output_tokens,
        cache_creation_5m_tokens=event.cache_creation_5m_tokens,
        cache_creation_1h_tokens=event.cache_creation_1h_tokens,
        cache_read_tokens=event.cache_read_tokens,
    )
    agent = event.agent or SUBAGENT
    slot = Slot(response, agent, event.cost_usd, stored_id=event.event_id)
    if event.output_text:
        slot.texts = event.output_text.split("\n")
    slot.prompt = event.prompt_text
    return slot


def _prompt(parent: str | None, turns: Mapping[str, tuple[str | None, str | None]]) -> str | None:
    """The text of the nearest user turn up the chain of ``parentUuid`` (among the lines read)."""
    for _ in range(1000):  # a chain, not a cycle
        if parent is None or parent not in turns:
            return None
        parent, text = turns[parent]
        if text is not None:
            return text
    return None


def _position(work: _Work, size: int, lines: int, now: float) -> ImportedFile:
    return ImportedFile(
        path=str(work.file.path),
        size=size,
        lines=lines,
        inode=work.inode,
        head_sha256=work.head,
        mtime=work.mtime,
        imported_at=now,
    )


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


__all__ = [
    "SOURCE",
    "ImportSummary",
    "Problem",
    "TranscriptImporter",
    "default_root",
    "event_id",
    "projects_folder",
]
