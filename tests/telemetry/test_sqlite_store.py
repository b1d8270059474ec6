"""SQLiteStore-specific checks on real SQLite files. What every store must do is in
test_store_suite.py, which runs on SQLite too; this file keeps what is particular to SQLite."""

from __future__ import annotations

import random
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import fields, replace
from pathlib import Path

import pytest

from ctxrouter.config import Settings
from ctxrouter.errors import ConfigError
from ctxrouter.telemetry import (
    Event,
    EventQuery,
    Outcome,
    SQLiteStore,
    Store,
    open_store,
)
from ctxrouter.telemetry.event import EVENT_FIELDS
from ctxrouter.telemetry.migrations import MIGRATIONS

from .factories import T0, full_event, make_event


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    with SQLiteStore(tmp_path / "t.db") as s:
        yield s


def test_implements_the_store_protocol(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "p.db") as s:
        assert isinstance(s, Store)


def test_full_and_sparse_events_round_trip_exactly(tmp_path: Path) -> None:
    full, sparse = full_event(), make_event(ts=T0 + 1, agent=None, tier=None)
    with SQLiteStore(tmp_path / "t.db") as s:
        s.write_events([full, sparse])
        assert s.events() == [full, sparse]
    with SQLiteStore(tmp_path / "t.db") as s:  # and after reopening
        got_full, got_sparse = s.events()
    assert (got_full, got_sparse) == (full, sparse)
    assert type(got_full.outcome) is Outcome and got_full.outcome is Outcome.REJECTED
    assert got_full.stream is True and got_full.batch is True
    assert got_sparse.stream is False and got_sparse.batch is False
    assert got_full.confidence == 0.0 and got_full.ttft_ms == 0.0
    assert got_sparse.cost_usd is None and got_sparse.latency_ms is None  # None stays None
    assert got_sparse.input_tokens == 0 and type(got_sparse.input_tokens) is int
    assert got_full.output_text == "" and got_sparse.output_text is None


def test_random_null_patterns_round_trip_in_insertion_order(tmp_path: Path) -> None:
    """Every field randomly None or set; one ts for all, so only insertion order orders them."""
    rng = random.Random(7)
    template = full_event()
    optional = [f.name for f in fields(Event) if f.default is None]
    events = []
    for i in range(400):
        changes: dict[str, object] = {n: None for n in optional if rng.random() < 0.5}
        changes.update(
            event_id=f"e{i}",
            ts=T0,
            outcome=rng.choice(list(Outcome)),
            stream=rng.random() < 0.5,
            batch=rng.random() < 0.5,
            attempt=rng.randint(1, 5),
        )
        events.append(replace(template, **changes))  # type: ignore[arg-type]
    with SQLiteStore(tmp_path / "t.db") as s:
        s.write_events(events[:150])
        s.write_events(events[150:])
        assert s.events() == events
        assert s.events(EventQuery(newest_first=True)) == events[::-1]


def test_database_is_in_wal_mode_with_parents_created(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "t.db"
    with SQLiteStore(path):
        pass
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        conn.close()


def test_schema_has_a_column_per_event_field_and_the_indexes(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "t.db"):
        pass
    conn = sqlite3.connect(tmp_path / "t.db")
    try:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(events)")}
        indexes = {
            row[0]: [c[2] for c in conn.execute(f"PRAGMA index_info({row[0]})")]
            for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
            if not row[0].startswith("sqlite_")
        }
        feedback = {row[1] for row in conn.execute("PRAGMA table_info(feedback)")}
    finally:
        conn.close()
    assert set(EVENT_FIELDS) <= columns
    assert {tuple(cols) for cols in indexes.values()} >= {
        ("ts",),
        ("run_id",),
        ("agent", "ts"),
        ("model", "ts"),
    }
    assert {"feedback_id", "ts", "run_id", "agent", "correction", "rating", "extra"} <= feedback


def test_a_database_from_a_newer_ctxrouter_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    with SQLiteStore(path) as s:
        s.write_events([make_event()])
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO _migrations VALUES (99, 'm099_from_the_future', 0)")
    conn.execute("CREATE TABLE future (x)")
    conn.commit()
    conn.close()
    with pytest.raises(ConfigError, match="newer ctxrouter") as info:
        SQLiteStore(path)
    assert "m099_from_the_future" in str(info.value)
    assert "Upgrade ctxrouter" in str(info.value)
    assert str(path) in str(info.value)
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT COUNT(*) FROM events").fetchone() == (1,)
        # the known migrations and the one from the future
        (count,) = conn.execute("SELECT COUNT(*) FROM _migrations").fetchone()
        assert count == len(MIGRATIONS) + 1
    finally:
        conn.close()


def test_a_file_that_is_not_a_database_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    path.write_bytes(b"this is not sqlite, just some text that is long enough " * 20)
    with pytest.raises(ConfigError, match="cannot open the telemetry database"):
        SQLiteStore(path)


def test_one_store_shared_by_threads(store: SQLiteStore) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for b in range(25):
                store.write_events([make_event(run_id=f"t{n}", ts=T0 + b) for _ in range(20)])
                store.count_events(EventQuery(run_id=f"t{n}"))
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.count_events() == 8 * 25 * 20
    assert store.count_events(EventQuery(run_id="t3")) == 500


def test_two_stores_on_one_file(tmp_path: Path) -> None:
    """Like the CLI reading while a router writes (two connections, as two processes have)."""
    with SQLiteStore(tmp_path / "t.db") as writer, SQLiteStore(tmp_path / "t.db") as reader:
        writer.write_events([make_event(ts=T0 + i) for i in range(10)])
        assert reader.count_events() == 10


def test_open_store_from_settings_or_path(tmp_path: Path) -> None:
    settings = Settings.load(data_dir=tmp_path / "data")
    with open_store(settings) as s:
        assert s.path == settings.database_path
        assert s.path.exists()
    with open_store(tmp_path / "x" / "y.db") as s:
        assert s.path == tmp_path / "x" / "y.db"
    with open_store(str(tmp_path / "z.db")) as s:
        assert s.path == tmp_path / "z.db"
