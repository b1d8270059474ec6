"""Importing transcripts into a real SQLite store: events, idempotency, incremental reads,
files that change under the importer, broken lines, text, and a store that fails mid-import."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from ctxrouter.config import Settings
from ctxrouter.integrations.claude_code.events import event_id
from ctxrouter.integrations.claude_code.importer import TranscriptImporter
from ctxrouter.integrations.claude_code.summary import SOURCE, ImportSummary
from ctxrouter.integrations.claude_code.transcripts import parse_line
from ctxrouter.models import ModelRegistry
from ctxrouter.models.bulk_pricing import Pricer
from ctxrouter.telemetry import Event, SQLiteStore
from ctxrouter.telemetry.imports import ImportedFile, Replacement

from .cc_lines import append, assistant, compact, other, usage, user, write

SESSION = "0afd822c-0efc-4dc6-a9fb-f62527c8fb39"


@pytest.fixture(scope="module")
def pricer() -> Pricer:
    return Pricer(ModelRegistry.load(Settings()))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / ".claude" / "projects"


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    with SQLiteStore(tmp_path / "store.db") as opened:
        yield opened  # type: ignore[misc]


def run(store: object, root: Path, pricer: Pricer, **kw: object) -> ImportSummary:
    importer = TranscriptImporter(store, root, pricer=pricer, **kw)  # type: ignore[arg-type]
    importer.plan()
    return importer.run()


def main_file(root: Path) -> Path:
    return root / "-src-app" / f"{SESSION}.jsonl"


def sub_file(root: Path, agent_id: str = "a3fe") -> Path:
    return root / "-src-app" / SESSION / "subagents" / f"agent-{agent_id}.jsonl"


def session_tree(root: Path) -> None:
    """A main conversation that spawns a subagent, as Claude Code 2.1.328 writes it."""
    s = SESSION
    write(
        main_file(root),
        [
            other("queue-operation"),
            user("Document caching", uuid="u-1", session=s),
            assistant("msg_1", "req_1", session=s, uuid="a-1", parent="u-1",
                      tokens=usage(0, 37, 12233, 0, 0), content=[{"type": "text",
                      "text": "On it."}]),
            assistant("msg_1", "req_1", session=s, uuid="a-2", parent="a-1",
                      tokens=usage(0, 37, 12233, 0, 0), content=[{"type": "tool_use", "id": "t1",
                      "name": "Agent", "input": {}}]),
            user("subagent report", uuid="u-2", parent="a-2", session=s),
            assistant("msg_3", "req_3", session=s, uuid="a-3", parent="u-2",
                      tokens=usage(0, 61, 0, 0, 12443)),
        ],
    )  # fmt: skip
    write(
        sub_file(root),
        [
            user("Write a paragraph", uuid="su-1", session=s),
            assistant("msg_2", "req_2", session=s, side=True, agent="doc-writer",
                      agent_id="a3fe", tokens=usage(0, 6, 1189, 0, 0), model="claude-haiku-5-5"),
        ],
    )  # fmt: skip
    meta = {"agentType": "doc-writer", "spawnDepth": 1, "model": "claude-haiku-5-5"}
    (sub_file(root).with_name("agent-a3fe.meta.json")).write_text(json.dumps(meta))


def by_message(store: SQLiteStore) -> dict[str | None, Event]:
    return {e.message_id: e for e in store.events()}


def test_one_event_per_response_attributed_priced_and_tiered(
    store: SQLiteStore, root: Path, pricer: Pricer
) -> None:
    session_tree(root)
    summary = run(store, root, pricer, categories={"doc-writer": "Documentation"})
    events = by_message(store)
    assert set(events) == {"msg_1", "msg_2", "msg_3"}
    first, sub, last = events["msg_1"], events["msg_2"], events["msg_3"]
    assert (first.agent, sub.agent, last.agent) == ("main", "doc-writer", "main")
    assert (sub.category, first.category) == ("Documentation", None)
    assert (first.model, first.tier, sub.tier) == ("claude-opus-5-5", "opus", "haiku")
    assert (first.output_tokens, first.cache_creation_5m_tokens) == (37, 12233)
    assert (last.cache_read_tokens, sub.cache_creation_5m_tokens) == (12443, 1189)
    assert first.provider == SOURCE and first.session_id == SESSION
    assert (first.request_id, first.run_id, first.attempt) == ("req_1", first.event_id, 1)
    assert first.event_id.startswith("cc-") and first.ts == pytest.approx(1795685069.692)
    quote = pricer.registry.quote(
        "claude-opus-5-5",
        __import__("ctxrouter.models", fromlist=["Usage"]).Usage(
            output_tokens=37, cache_creation_5m_tokens=12233
        ),
        day=__import__("datetime").date(2026, 11, 26),
    )
    assert quote.cost is not None and first.cost_usd == quote.cost.total
    assert first.prompt_text is None and first.output_text is None and first.prompt_chars == 0
    assert summary.files_found == 2 and summary.files_read == 2
    assert (summary.response_lines, summary.duplicate_lines, summary.added) == (4, 1, 3)
    assert summary.other_lines == 4 and summary.problem_count == 0
    assert summary.tokens["output"] == 37 + 61 + 6
    assert dict(summary.agents) == {"main": 2, "doc-writer": 1}
    assert dict(summary.priced) == {"claude-opus-5-5": 2, "claude-haiku-5-5": 1}


def test_running_again_adds_nothing_and_reads_nothing(
    store: SQLiteStore, root: Path, pricer: Pricer
) -> None:
    session_tree(root)
    run(store, root, pricer)
    before = store.events()
    again = run(store, root, pricer)
    assert store.events() == before
    assert (again.files_unchanged, again.files_read, again.lines_read, again.added) == (2, 0, 0, 0)


def test_only_appended_lines_are_read_next_time(
    store: SQLiteStore, root: Path, pricer: Pricer
) -> None:
    session_tree(root)
    run(store, root, pricer)
    append(main_file(root), [user("more", uuid="u-9"), assistant("msg_4", "req_4")])
    summary = run(store, root, pricer)
    assert (summary.files_read, summary.files_unchanged, summary.lines_read) == (1, 1, 2)
    assert summary.added == 1 and set(by_message(store)) == {"msg_1", "msg_2", "msg_3", "msg_4"}
    positions = store.imported_files(SOURCE)
    state = positions[str(main_file(root).resolve())]
    assert (state.size, state.lines) == (main_file(root).stat().st_size, 8)


def test_a_last_line_still_being_written_waits_for_the_next_run(
    store: SQLiteStore, root: Path, pricer: Pricer
) -> None:
    path = write(main_file(root), [assistant("msg_1", "req_1")])
    line = assistant("msg_2", "req_2")
    with path.open("a") as handle:
        handle.write(line[:50])
    first = run(store, root, pricer)
    assert (first.added, first.incomplete_lines, first.problem_count) == (1, 1, 0)
    with path.open("a") as handle:
        handle.write(line[50:] + "\n")
    second = run(store, root, pricer)
    assert (second.added, second.lines_read, second.incomplete_lines) == (1, 1, 0)
    assert set(by_message(store)) == {"msg_1", "msg_2"}


def test_a_complete_last_line_without_its_newline_is_read(
    store: SQLiteStore, root: Path, pricer: Pricer
) -> None:
    write(main_file(root), [assistant("msg_1", "req_1"), assistant("msg_2", "req_2")], end="")
    assert run(store, root, pricer).added == 2
    append(main_file(root), ["", assistant("msg_3", "req_3")])  # the writer adds its newline
    assert run(store, root, pricer).added == 1
    assert set(by_message(store)) == {"msg_1", "msg_2", "msg_3"}


@pytest.mark.parametrize("change", ["truncated", "rewritten", "replaced"])
def test_a_file_that_changed_is_read_again_without_duplicates(
    store: SQLiteStore, root: Path, pricer: Pricer, change: str
) -> None:
    lines = [assistant("msg_1", "req_1"), other(), assistant("msg_2", "req_2")]
    path = write(main_file(root), lines)
    run(store, root, pricer)
    if change == "truncated":  # shorter than what was read
        write(path, lines[:1])
    elif change == "rewritten":  # same size and more, another first line
        write(path, [assistant("msg_0", "req_0", uuid="u-zzz"), *lines[1:], lines[0]])
    else:  # another file moved over it (a new inode)
        write(path.with_name("new.tmp"), [*lines, assistant("msg_9", "req_9")])
        path.with_name("new.tmp").replace(path)
    summary = run(store, root, pricer)
    assert dict(summary.files_reread) == {change: 1}
    expected = {"truncated": set(), "rewritten": {"msg_0"}, "replaced": {"msg_9"}}[change]
    assert {e.message_id for e in store.events()} == {"msg_1", "msg_2"} | expected
    assert summary.added == len(expected) and summary.already_stored == len(lines) - 1 - (
        change == "truncated"
    )


def test_broken_lines_are_reported_with_file_and_line_and_skipped(
    store: SQLiteStore, root: Path, pricer: Pricer
) -> None:
    bad_time = json.loads(assistant("msg_3", "req_3"))
    bad_time["timestamp"] = "yesterday"
    write(
        main_file(root),
        [assistant("msg_1", "req_1"), '{"type":"assistant","message":{"id":"msg_2","usage":{"inp',
         "not json at all", compact(bad_time), assistant("msg_4", "req_4")],
    )  # fmt: skip
    summary = run(store, root, pricer)
    assert set(by_message(store)) == {"msg_1", "msg_4"}
    relative = f"-src-app/{SESSION}.jsonl"
    shown = [str(p) for p in summary.problems]
    assert shown[0].startswith(f"{relative}:2: broken JSON: EOF while parsing")
    assert shown[1:] == [
        f"{relative}:3: broken JSON: not a JSON object",
        f"{relative}:4: bad timestamp: timestamp 'yesterday' is not an RFC 3339 time",
    ]
    assert dict(summary.skipped) == {"broken JSON": 2, "bad timestamp": 1}
    first = summary.to_dict()["problems"][0]
    assert (first["file"], first["line"]) == (relative, 2)
    # line numbers go on after an incremental read
    append(main_file(root), ["{oops"])
    assert [str(p) for p in run(store, root, pricer).problems] == [
        f"{relative}:6: broken JSON: not a JSON object"
    ]


def test_a_better_copy_in_a_later_run_updates_the_stored_event(
    store: SQLiteStore, root: Path, pricer: Pricer
) -> None:
    write(main_file(root), [assistant("msg_1", "req_1", tokens=usage(out=5))])
    run(store, root, pricer)
    append(main_file(root), [assistant("msg_1", "req_1", tokens=usage(out=500))])
    summary = run(store, root, pricer)
    (event,) = store.events()
    assert event.output_tokens == 500 and (summary.added, summary.updated) == (0, 1)
    assert event.cost_usd is not None and summary.tokens["output"] == 500


def test_a_sidechain_replay_in_a_later_run_is_not_counted_again(
    store: SQLiteStore, root: Path, pricer: Pricer
) -> None:
    write(main_file(root), [assistant("msg_1", "req_1", tokens=usage(read=20))])
    run(store, root, pricer)
    replay = assistant("msg_1", "req_btw", side=True, tokens=usage(read=50_000))
    append(main_file(root), [replay, assistant("msg_2", "req_2", side=True)])
    summary = run(store, root, pricer)
    assert {e.message_id: e.cache_read_tokens for e in store.events()} == {
        "msg_1": 20,
        "msg_2": 9000,
    }
    assert (summary.added, summary.already_stored) == (1, 1)


def test_lines_without_a_message_id_are_not_added_twice_when_read_again(
    store: SQLiteStore, root: Path, pricer: Pricer
) -> None:
    lines = [assistant(None, "req_1"), assistant(None, "req_1")]  # no id: two responses
    write(main_file(root), lines)
    assert run(store, root, pricer).added == 2
    assert store.forget_imported_files(SOURCE) == 1  # the next run reads everything again
    again = run(store, root, pricer)
    assert (again.added, again.already_stored, store.count_events()) == (0, 2, 2)


def test_text_only_when_asked(store: SQLiteStore, root: Path, pricer: Pricer) -> None:
    session_tree(root)
    run(store, root, pricer, with_text=True)
    first = by_message(store)["msg_1"]
    assert first.prompt_text == "Document caching" and first.prompt_chars == 16
    assert first.output_text == "On it." and first.output_sha256 is not None
    assert by_message(store)["msg_3"].prompt_text == "subagent report"


def test_models_the_registry_cannot_price_are_unpriced_not_free(
    store: SQLiteStore, root: Path, pricer: Pricer
) -> None:
    write(
        main_file(root),
        [assistant("msg_1", "req_1", model="claude-opus-4-1"), assistant("msg_2", "req_2",
         model=None)],
    )  # fmt: skip
    summary = run(store, root, pricer)
    events = by_message(store)
    assert events["msg_1"].cost_usd is None and events["msg_1"].tier is None
    assert events["msg_2"].model == "unknown" and events["msg_2"].cost_usd is None
    assert dict(summary.unpriced) == {"claude-opus-4-1": 1, "unknown": 1}
    assert summary.cost_usd == 0.0 and not summary.priced


def test_a_subagent_is_named_by_its_meta_file_when_its_lines_do_not(
    store: SQLiteStore, root: Path, pricer: Pricer
) -> None:
    write(sub_file(root, "b1"), [assistant("msg_1", "req_1", side=True)])
    sub_file(root, "b1").with_name("agent-b1.meta.json").write_text('{"agentType": "sql-pro"}')
    write(sub_file(root, "b2"), [assistant("msg_2", "req_2", side=True)])  # no meta file
    write(sub_file(root, "b3"), [assistant("msg_3", "req_3", side=True)])
    sub_file(root, "b3").with_name("agent-b3.meta.json").write_text("{not json")
    summary = run(store, root, pricer)
    agents = {m: e.agent for m, e in by_message(store).items()}
    assert agents == {"msg_1": "sql-pro", "msg_2": "subagent", "msg_3": "subagent"}
    (problem,) = summary.problems
    assert problem.file == f"-src-app/{SESSION}/subagents/agent-b3.meta.json"
    assert problem.line is None and problem.reason.startswith("unreadable meta file")


class FailingStore:
    """A real store that fails the ``fail_at``-th batch, as a full disk would."""

    def __init__(self, inner: SQLiteStore, fail_at: int) -> None:
        self.inner, self.fail_at, self.batches = inner, fail_at, 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def save_import(
        self,
        source: str,
        *,
        events: Sequence[Event],
        replacements: Sequence[Replacement] = (),
        files: Sequence[ImportedFile] = (),
    ) -> int:
        self.batches += 1
        if self.batches == self.fail_at:
            raise OSError("disk full")
        return self.inner.save_import(source, events=events, replacements=replacements, files=files)


def test_a_failed_batch_keeps_what_was_committed_and_the_next_run_finishes(
    store: SQLiteStore, root: Path, pricer: Pricer
) -> None:
    write(main_file(root), [assistant(f"msg_{i}", f"req_{i}") for i in range(7)])
    failing = FailingStore(store, fail_at=2)
    with pytest.raises(OSError, match="disk full"):
        run(failing, root, pricer, batch=3)
    assert store.count_events() == 3  # the first batch, with the file read up to its end
    assert store.imported_files(SOURCE)[str(main_file(root).resolve())].lines == 3
    summary = run(store, root, pricer, batch=3)
    assert (summary.lines_read, summary.added, store.count_events()) == (4, 4, 7)


def test_batches_inside_one_file_save_where_they_stopped(
    store: SQLiteStore, root: Path, pricer: Pricer
) -> None:
    lines = [assistant(f"msg_{i}", f"req_{i}") for i in range(5)]
    write(main_file(root), lines)
    assert run(store, root, pricer, batch=2).added == 5
    append(main_file(root), [assistant("msg_5", "req_5")])
    assert run(store, root, pricer, batch=2).lines_read == 1


def test_event_ids_are_the_same_for_the_same_response_anywhere() -> None:
    def parsed(raw: str, session: str = "s") -> object:
        result = parse_line(raw.encode(), line=1, session_id=session)
        assert isinstance(result, tuple)
        return result[0]

    one = parsed(assistant("msg_1", "req_1", session="a"))
    resumed = parsed(assistant("msg_1", "req_1", session="b", uuid="other"))
    other_request = parsed(assistant("msg_1", "req_2", session="a"))
    ids = [event_id(r, "") for r in (one, resumed, other_request)]  # type: ignore[arg-type]
    assert ids[0] == ids[1] != ids[2]
    no_mid = parsed(assistant(None, "req_1"))
    assert event_id(no_mid, "f:1:x") != event_id(no_mid, "f:2:x")  # type: ignore[arg-type]


def test_worker_processes_read_the_same_as_this_process(
    tmp_path: Path, root: Path, pricer: Pricer
) -> None:
    """Large imports are read by worker processes: the same events, counts and positions."""
    for n in range(6):
        session = f"s{n}"
        lines = [user("go", session=session)]
        for i in range(40):
            mid, rid = f"msg_{n}_{i}", f"req_{n}_{i}"
            lines += [assistant(mid, rid, session=session), assistant(mid, rid, session=session)]
        lines.append("{broken")
        write(root / "-app" / f"{session}.jsonl", lines)
    results = []
    for workers in (0, 2):
        with SQLiteStore(tmp_path / f"w{workers}.db") as store:
            summary = run(store, root, pricer, workers=workers, batch=25)
            results.append(
                (
                    [e.to_dict() for e in store.events()],
                    {p: (f.size, f.lines) for p, f in store.imported_files(SOURCE).items()},
                    summary.to_dict() | {"seconds": 0},
                )
            )
    assert results[0] == results[1]
    assert results[0][2]["responses"]["added"] == 240 and results[0][2]["problem_count"] == 6
