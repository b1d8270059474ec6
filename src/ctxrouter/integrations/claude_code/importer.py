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
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ctxrouter.errors import InputError
from ctxrouter.integrations.claude_code.dedupe import Deduper, Slot, Verdict, exact_key
from ctxrouter.integrations.claude_code.transcripts import (
    COPY,
    LineParser,
    Response,
    Skip,
    TranscriptFile,
    agent_type,
    looks_like_json_object,
    parse_line,
    transcript_file,
    user_turn,
)
from ctxrouter.models.pricer import Pricer
from ctxrouter.telemetry.event import Event, Outcome, sha256
from ctxrouter.telemetry.imports import ImportedFile, ImportStore, ImportWriter, Replacement

SOURCE: Final = "claude-code"  # the provider of the events, and the importer's name
MAIN_AGENT: Final = "main"
SIDECHAIN_AGENT: Final = "sidechain"  # a side conversation in the main transcript (/btw)
SUBAGENT: Final = "subagent"  # a subagent whose name its transcript does not say
UNKNOWN_MODEL: Final = "unknown"  # a response whose line names no model
BATCH: Final = 50_000  # events per transaction (SQLite writes 10k-50k a transaction fastest)
HEAD_BYTES: Final = 65536  # the first line is hashed up to this many bytes
PROBLEMS_KEPT: Final = 200  # problems listed in the summary (all are counted)
_DAY: Final = 86400


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
        tokens = {name: self.tokens[name] for name in _TOKEN_NAMES}
        tokens["cache_creation"] = tokens["cache_creation_5m"] + tokens["cache_creation_1h"]
        tokens["total"] = sum(self.tokens[name] for name in _TOKEN_NAMES)
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


_TOKEN_NAMES: Final = ("input", "output", "cache_creation_5m", "cache_creation_1h", "cache_read")


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
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.root = root
        self.pricer = pricer
        self.categories = dict(categories or {})
        self.with_text = with_text
        self.batch = batch
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
        self._writer = ImportWriter(self.store, SOURCE)
        try:
            for work in self.work:
                self._read(work)
                if progress is not None:
                    progress(work.size - work.start)
            self._flush()
        finally:
            self.summary.added = self._writer.close()
            if collecting:
                gc.enable()
        self._account()
        self.summary.seconds = time.perf_counter() - started
        return self.summary

    def _read(self, work: _Work) -> None:
        file, summary = work.file, self.summary
        try:
            with Path(file.path).open("rb") as handle:
                if work.head is None:
                    work.head = _sha_of_head(handle.read(HEAD_BYTES))
                handle.seek(work.start)
                data = handle.read(max(work.size - work.start, 0))
        except OSError as exc:
            summary.problem(Problem(file.relative, None, f"cannot read: {exc.strerror}"))
            return
        summary.files_read += 1
        if work.reread is not None:
            summary.files_reread[work.reread] += 1
        end = data.rfind(b"\n") + 1
        lines = data[:end].split(b"\n")[:-1] if end else []
        tail = data[end:]
        unterminated = False
        if tail.strip():
            done = parse_line(tail, line=0, session_id=file.session_id)
            if isinstance(done, tuple) or (done is None and looks_like_json_object(tail)):
                lines.append(tail)  # complete, only its newline is missing
                unterminated = True
            else:
                summary.incomplete_lines += 1  # still being written: read next time
        parsed: list[tuple[int, int, Response]] = []  # (line number, its offset, response)
        turns: dict[str, tuple[str | None, str | None]] = {}
        offset, number = work.start, work.first_line
        with_text = self.with_text
        parser = LineParser(file.session_id, with_text=with_text)
        copies = 0
        for raw in lines:
            number += 1
            result = parser.parse(raw, number)
            if result is None:
                summary.other_lines += 1
            elif result is COPY:
                copies += 1
            elif isinstance(result, Skip):
                self._skip(file, number, result)
            else:
                summary.response_lines += 1
                for response in result:  # type: ignore[union-attr]
                    if response.message_id is None:
                        digest = hashlib.sha256(raw).hexdigest()
                        response.origin = f"{file.relative}\x1f{number}\x1f{digest}"
                    parsed.append((number, offset, response))
            if with_text:
                turn = user_turn(raw)
                if turn is not None:
                    turns[turn[0]] = turn[1], turn[2]
            offset += len(raw) + 1
        if unterminated:
            offset -= 1  # the last line had no newline
        summary.lines_read += len(lines)
        summary.response_lines += copies
        summary.duplicate_lines += copies
        self._seed(r for _, _, r in parsed)
        agent = self._agent_of(file)
        for line_number, line_offset, response in parsed:
            if len(self._pending.new) >= self.batch:  # what came before this line is done
                self._pending.files[str(file.path)] = _position(
                    work, line_offset, line_number - 1, self.clock()
                )
                self._flush()
            self._offer(response, agent(response), turns)
        self._pending.files[str(file.path)] = _position(work, offset, number, self.clock())

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
        changed = list(pending.changed.values())
        replacements = [Replacement(stored, self._event(slot)) for slot, stored in changed]
        assert self._writer is not None, "_flush runs inside run()"
        self._writer.submit(events, replacements, list(pending.files.values()))
        self.summary.updated += len(replacements)
        for event, slot in zip(events, pending.new, strict=True):
            slot.stored_id = event.event_id
            self._touched[id(slot)] = slot
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
            for name, count in zip(_TOKEN_NAMES, response.tokens, strict=True):
                summary.tokens[name] += count
            model = response.model or UNKNOWN_MODEL
            if slot.cost is None:
                summary.unpriced[model] += 1
            else:
                summary.cost_usd += slot.cost
                summary.priced[model] += 1
            summary.agents[slot.agent] += 1


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


def _sha_of_head(data: bytes) -> str | None:
    """SHA-256 of the first line in ``data`` (the first :data:`HEAD_BYTES` of a file)."""
    if not data:
        return None
    return hashlib.sha256(data.split(b"\n", 1)[0]).hexdigest()


def _head(path: Path) -> str | None:
    with path.open("rb") as handle:
        return _sha_of_head(handle.read(HEAD_BYTES))


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
