"""The importers' write path and read positions (``ctxrouter.telemetry.imports``), on each
backend: idempotent batches, replacements, read positions, one transaction per batch."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ctxrouter.telemetry import Event, Outcome
from ctxrouter.telemetry.imports import ImportedFile, ImportStore, Replacement

from .factories import T0, make_event

if TYPE_CHECKING:
    from .conftest import AnyStore, StoreBackend

SOURCE = "claude-code"


def imported(path: str, size: int = 100, **kw: object) -> ImportedFile:
    values: dict[str, object] = {
        "path": path,
        "size": size,
        "lines": 3,
        "inode": 42,
        "head_sha256": "a" * 64,
        "mtime": T0,
        "imported_at": T0 + 1,
    }
    values.update(kw)
    return ImportedFile(**values)  # type: ignore[arg-type]


def cc_event(event_id: str, **kw: object) -> Event:
    return make_event(event_id=event_id, provider=SOURCE, message_id=f"msg_{event_id}", **kw)


def test_stores_implement_the_import_protocol(any_store: AnyStore) -> None:
    assert isinstance(any_store, ImportStore)


def test_saving_a_batch_twice_adds_it_once(any_store: AnyStore) -> None:
    events = [cc_event(f"e{i}", ts=T0 + i) for i in range(5)]
    assert any_store.save_import(SOURCE, events=events) == 5
    assert any_store.save_import(SOURCE, events=events) == 0
    more = [*events[3:], cc_event("e5", ts=T0 + 5)]
    assert any_store.save_import(SOURCE, events=more) == 1
    assert [e.event_id for e in any_store.events()] == [f"e{i}" for i in range(6)]
    assert any_store.events() == [*events, more[-1]]


def test_a_copy_inside_one_batch_is_added_once(any_store: AnyStore) -> None:
    first = cc_event("same", output_tokens=1)
    copy = replace(first, output_tokens=2)
    assert any_store.save_import(SOURCE, events=[first, copy]) == 1
    (stored,) = any_store.events()
    assert stored.output_tokens == 1  # the first one: later copies are left out


def test_plain_writes_of_a_stored_id_are_refused(store_backend: StoreBackend) -> None:
    """event_id is unique (m004): the recorder's path refuses a copy, all or none."""
    with store_backend.open() as store:
        store.write_events([make_event(event_id="x")])
        with pytest.raises(store_backend.errors):
            store.write_events([make_event(event_id="y"), make_event(event_id="x")])
        assert [e.event_id for e in store.events()] == ["x"]


def test_replacements_rewrite_the_stored_event_even_under_a_new_id(any_store: AnyStore) -> None:
    a, b = cc_event("a", output_tokens=5), cc_event("b", output_tokens=7)
    any_store.save_import(SOURCE, events=[a, b])
    better_a = replace(a, output_tokens=50, agent="python-pro")
    new_b = replace(b, event_id="b2", request_id="req_2", outcome=Outcome.REJECTED, stream=True)
    added = any_store.save_import(
        SOURCE,
        events=[],
        replacements=[Replacement("a", better_a), Replacement("b", new_b)],
    )
    assert added == 0
    assert any_store.events() == [better_a, new_b]


def test_read_positions_round_trip_and_are_replaced(any_store: AnyStore) -> None:
    big_inode = 2**64 - 5  # st_ino does not always fit a signed 64-bit integer
    first = imported("/p/a.jsonl", inode=big_inode)
    second = imported("/p/b.jsonl", inode=None, head_sha256=None, mtime=None)
    any_store.save_import(SOURCE, events=[], files=[first, second])
    assert any_store.imported_files(SOURCE) == {first.path: first, second.path: second}
    assert any_store.imported_files("other") == {}
    moved = replace(first, size=500, lines=9, inode=7, imported_at=T0 + 9)
    any_store.save_import(SOURCE, events=[], files=[moved])
    assert any_store.imported_files(SOURCE) == {first.path: moved, second.path: second}
    assert any_store.forget_imported_files(SOURCE) == 2
    assert any_store.imported_files(SOURCE) == {}


def test_a_failing_batch_leaves_nothing_behind(store_backend: StoreBackend) -> None:
    with store_backend.open() as store:
        store.save_import(SOURCE, events=[cc_event("kept")], files=[imported("/p/a")])
        bad = replace(make_event(event_id="bad"), outcome="exploded")  # type: ignore[arg-type]
        with pytest.raises(store_backend.errors):
            store.save_import(
                SOURCE,
                events=[cc_event("new"), bad],
                files=[imported("/p/a", size=999), imported("/p/b")],
            )
        assert [e.event_id for e in store.events()] == ["kept"]
        assert {p: f.size for p, f in store.imported_files(SOURCE).items()} == {"/p/a": 100}


def test_stored_events_by_message_or_event_id_of_one_provider(any_store: AnyStore) -> None:
    ours = [cc_event(f"m{i}") for i in range(4)]
    theirs = make_event(event_id="g", provider="gateway", message_id="msg_m1")
    any_store.save_import(SOURCE, events=[*ours, theirs])
    found = any_store.stored_events(SOURCE, message_ids=["msg_m2", "msg_m1", "msg_m2", "nope"])
    assert [e.event_id for e in found] == ["m1", "m2"]  # in the order they were stored
    both = any_store.stored_events(SOURCE, message_ids=["msg_m3"], event_ids=["m0", "m3", "g"])
    assert [e.event_id for e in both] == ["m0", "m3"]
    many = [f"msg_x{i}" for i in range(1200)] + ["msg_m0"]  # more than one IN list
    assert [e.event_id for e in any_store.stored_events(SOURCE, message_ids=many)] == ["m0"]
    assert any_store.stored_events(SOURCE) == []


def test_upgrading_to_m004_drops_copies_of_an_event_id(store_backend: StoreBackend) -> None:
    with store_backend.open() as store:
        store.write_events([make_event(event_id="one", ts=T0), make_event(event_id="two")])
    # roll the store back to what ctxrouter wrote before m004, with a copy of "one"
    for statement in (
        "DROP INDEX events_event_id",
        "DROP INDEX events_message_id",
        "ALTER TABLE events DROP COLUMN message_id",
        "DROP TABLE imported_files",
        "DELETE FROM _migrations WHERE name = 'm004_imports'",
    ):
        store_backend.raw(statement)
    store_backend.raw(
        "INSERT INTO events (event_id, ts, run_id, model, outcome, attempt, input_tokens,"
        " output_tokens, cache_creation_5m_tokens, cache_creation_1h_tokens, cache_read_tokens,"
        " stream, batch, prompt_chars, output_chars, agent)"
        f" VALUES ('one', {T0 + 5}, 'r', 'm', 'success', 1, 0, 0, 0, 0, 0, FALSE, FALSE, 0, 0,"
        " 'copy')"
    )
    assert store_backend.raw("SELECT COUNT(*) FROM events") == [(3,)]
    with store_backend.open() as store:
        assert "m004_imports" in store.migrations()
        found = store.events()
        assert [(e.event_id, e.agent) for e in found] == [
            ("one", "code-reviewer"),
            ("two", "code-reviewer"),
        ]
        assert store.save_import(SOURCE, events=[make_event(event_id="one")]) == 0


# -- a Claude Code import on each backend --------------------------------------------------


def transcript_line(mid: str, rid: str, out: int, *, side: bool = False) -> str:
    usage = {
        "input_tokens": 2,
        "output_tokens": out,
        "cache_read_input_tokens": 100,
        "cache_creation": {"ephemeral_5m_input_tokens": 30, "ephemeral_1h_input_tokens": 0},
    }
    line = {"type": "assistant", "isSidechain": side, "requestId": rid, "sessionId": "s-1",
            "timestamp": "2026-11-26T09:24:29.692Z", "version": "2.1.328",
            "message": {"id": mid, "model": "claude-sonnet-5-5", "usage": usage}}  # fmt: skip
    return json.dumps(line, separators=(",", ":")) + "\n"


def test_a_claude_code_import_is_idempotent_and_incremental(
    store_backend: StoreBackend, tmp_path: Path
) -> None:
    from ctxrouter.config import Settings
    from ctxrouter.integrations.claude_code.importer import TranscriptImporter
    from ctxrouter.models import ModelRegistry
    from ctxrouter.models.bulk_pricing import Pricer

    pricer = Pricer(ModelRegistry.load(Settings()))
    root = tmp_path / "projects"
    path = root / "-app" / "s-1.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text(transcript_line("msg_1", "req_1", 5) * 2 + transcript_line("msg_2", "req_2", 7))

    def run() -> dict[str, object]:
        with store_backend.open() as store:
            importer = TranscriptImporter(store, root, pricer=pricer)
            importer.plan()
            return importer.run().to_dict()["responses"]  # type: ignore[no-any-return]

    assert run() == {"distinct": 2, "new": 2, "duplicate_lines": 1, "added": 2, "updated": 0,
                     "already_stored": 0}  # fmt: skip
    assert run()["added"] == 0
    with path.open("a") as handle:  # a better copy of msg_1, a replay of msg_2, a new one
        handle.write(transcript_line("msg_1", "req_1", 50))
        handle.write(transcript_line("msg_2", "req_btw", 900, side=True))
        handle.write(transcript_line("msg_3", "req_3", 9))
    assert run() == {"distinct": 3, "new": 1, "duplicate_lines": 0, "added": 1, "updated": 1,
                     "already_stored": 2}  # fmt: skip
    with store_backend.open() as store:
        found = {e.message_id: (e.output_tokens, e.request_id) for e in store.events()}
        assert found == {"msg_1": (50, "req_1"), "msg_2": (7, "req_2"), "msg_3": (9, "req_3")}
        assert [f.lines for f in store.imported_files(SOURCE).values()] == [6]
