"""What every Store must do, run against each backend (SQLite file, PostgreSQL schema); then what
only the PostgreSQL store does (its schema, its URL, its server)."""

from __future__ import annotations

import math
import random
import subprocess
import sys
import threading
from dataclasses import fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ctxrouter.config import Settings
from ctxrouter.errors import ConfigError
from ctxrouter.telemetry import Event, EventQuery, Feedback, Outcome, SQLiteStore, Store, open_store
from ctxrouter.telemetry.migrations import MIGRATIONS as ALL_MIGRATIONS

if TYPE_CHECKING:
    from .conftest import AnyStore, StoreBackend

from .factories import T0, full_event, make_event

# -- the Store contract ----------------------------------------------------------------------


def test_implements_the_store_protocol(any_store: AnyStore) -> None:
    assert isinstance(any_store, Store)


def test_full_and_sparse_events_round_trip_exactly(store_backend: StoreBackend) -> None:
    full, sparse = full_event(), make_event(ts=T0 + 1, agent=None, tier=None)
    with store_backend.open() as store:
        store.write_events([full, sparse])
        assert store.events() == [full, sparse]
    with store_backend.open() as store:  # and after reopening
        got_full, got_sparse = store.events()
    assert (got_full, got_sparse) == (full, sparse)
    for got, want in ((got_full, full), (got_sparse, sparse)):
        for f in fields(Event):  # the same types too: None vs 0, bool vs int, enum vs str
            assert type(getattr(got, f.name)) is type(getattr(want, f.name)), f.name
    assert got_full.outcome is Outcome.REJECTED
    assert got_full.stream is True and got_sparse.batch is False
    assert got_full.confidence == 0.0 and got_full.ttft_ms == 0.0
    assert got_sparse.cost_usd is None and got_sparse.latency_ms is None
    assert got_sparse.input_tokens == 0
    assert got_full.output_text == "" and got_sparse.output_text is None


# (not -0.0: SQLite keeps a whole REAL as an integer on disk, so it reads back as 0.0, equal to
# -0.0 anyway; not NaN: SQLite stores it as NULL)
@pytest.mark.parametrize(
    "value", [0.1 + 0.2, 1e-300, 5e-324, 1.7976931348623157e308, math.inf, -math.inf]
)
def test_floats_round_trip_bit_for_bit(any_store: AnyStore, value: float) -> None:
    event = make_event(ts=value, cost_usd=value, latency_ms=value, confidence=value)
    any_store.write_events([event])
    (got,) = any_store.events()
    for name in ("ts", "cost_usd", "latency_ms", "confidence"):
        assert getattr(got, name).hex() == value.hex(), name


def test_large_integers_round_trip(any_store: AnyStore) -> None:
    event = make_event(input_tokens=2**62, output_tokens=2**63 - 1, status_code=-(2**63))
    any_store.write_events([event])
    assert any_store.events() == [event]


def test_random_null_patterns_round_trip_in_insertion_order(any_store: AnyStore) -> None:
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
    any_store.write_events(events[:150])
    any_store.write_events(events[150:])
    assert any_store.events() == events
    assert any_store.events(EventQuery(newest_first=True)) == events[::-1]


@pytest.mark.parametrize(
    "broken",
    [{"run_id": None}, {"model": None}, {"outcome": "bogus"}, {"agent": ["not", "bindable"]}],
    ids=["null-run-id", "null-model", "bad-outcome", "unbindable"],
)
def test_a_failing_batch_writes_nothing(
    store_backend: StoreBackend, any_store: AnyStore, broken: dict[str, object]
) -> None:
    before = [make_event(ts=T0 + i) for i in range(3)]
    any_store.write_events(before)
    batch = [make_event(ts=T0 + 10 + i) for i in range(5)]
    batch[3] = make_event(ts=T0 + 13, **broken)
    with pytest.raises(store_backend.errors):
        any_store.write_events(batch)
    assert any_store.events() == before
    any_store.write_events(batch[:3])  # the store is still usable
    assert any_store.count_events() == 6


def test_writing_nothing_is_fine(any_store: AnyStore) -> None:
    any_store.write_events([])
    assert any_store.count_events() == 0
    assert any_store.events() == []


def _filter_fixture(store: AnyStore) -> None:
    store.write_events(
        [
            make_event(event_id="a1", ts=T0 + 0, run_id="r1", agent="a", model="m1"),
            make_event(
                event_id="a2",
                ts=T0 + 1,
                run_id="r1",
                agent="a",
                model="m2",
                outcome=Outcome.ERROR,
                error_type="overloaded",
                attempt=2,
            ),
            make_event(
                event_id="b1",
                ts=T0 + 2,
                run_id="r2",
                agent="b",
                model="m1",
                outcome=Outcome.REJECTED,
            ),
            make_event(event_id="n1", ts=T0 + 3, run_id="r3", agent=None, model="m2"),
            make_event(event_id="b2", ts=T0 + 4, run_id="r4", agent="b", model="m2"),
        ]
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (EventQuery(), ["a1", "a2", "b1", "n1", "b2"]),
        (EventQuery(run_id="r1"), ["a1", "a2"]),
        (EventQuery(agent="b"), ["b1", "b2"]),
        (EventQuery(model="m2"), ["a2", "n1", "b2"]),
        (EventQuery(outcome="error"), ["a2"]),
        (EventQuery(outcome=Outcome.REJECTED), ["b1"]),
        (EventQuery(since=T0 + 2), ["b1", "n1", "b2"]),  # inclusive
        (EventQuery(until=T0 + 2), ["a1", "a2"]),  # exclusive
        (EventQuery(since=T0 + 1, until=T0 + 4), ["a2", "b1", "n1"]),
        (EventQuery(limit=2), ["a1", "a2"]),
        (EventQuery(limit=2, newest_first=True), ["b2", "n1"]),
        (EventQuery(newest_first=True), ["b2", "n1", "b1", "a2", "a1"]),
        (EventQuery(model="m2", agent="b", outcome="success"), ["b2"]),
        (EventQuery(model="m2", limit=2), ["a2", "n1"]),
        (EventQuery(agent="nobody"), []),
        (EventQuery(limit=0), []),
    ],
)
def test_filters_order_and_limits(
    any_store: AnyStore, query: EventQuery, expected: list[str]
) -> None:
    _filter_fixture(any_store)
    assert [e.event_id for e in any_store.events(query)] == expected
    assert any_store.count_events(query) == len(expected)


def test_ties_in_ts_keep_insertion_order_across_batches(any_store: AnyStore) -> None:
    events = [make_event(event_id=f"e{i}", ts=T0) for i in range(6)]
    for i in range(0, 6, 2):
        any_store.write_events(events[i : i + 2])
    assert [e.event_id for e in any_store.events()] == [f"e{i}" for i in range(6)]
    newest = any_store.events(EventQuery(newest_first=True, limit=3))
    assert [e.event_id for e in newest] == ["e5", "e4", "e3"]


def test_feedback_round_trips_filters_and_upserts(any_store: AnyStore) -> None:
    first = Feedback(
        "f1",
        T0,
        "r1",
        agent="a",
        correction="use the v2 API; 100% sure?",
        rating=2,
        extra={"source": "cli", "n": [1, 2.5, None], "ünï": True, "nested": {"b": 1, "a": 0.1}},
    )
    second = Feedback("f2", T0 + 1, "r2", agent="b", rating=5)
    third = Feedback("f3", T0 + 2, "r1", agent=None)
    for fb in (first, second, third):
        any_store.add_feedback(fb)
    assert any_store.feedback() == [first, second, third]
    assert any_store.feedback(run_id="r1") == [first, third]
    assert any_store.feedback(agent="b") == [second]
    assert any_store.feedback(run_id="r1", agent="a") == [first]
    assert any_store.feedback(run_id="nope") == []
    changed = replace(second, rating=4, correction="shorter")
    any_store.add_feedback(changed)  # the same id replaces
    assert any_store.feedback(agent="b") == [changed]
    assert len(any_store.feedback()) == 3


def test_a_replaced_feedback_moves_last_among_equal_timestamps(any_store: AnyStore) -> None:
    a, b = Feedback("fa", T0, "r1", rating=1), Feedback("fb", T0, "r1", rating=2)
    any_store.add_feedback(a)
    any_store.add_feedback(b)
    assert any_store.feedback() == [a, b]
    any_store.add_feedback(replace(a, rating=3))
    assert any_store.feedback() == [b, replace(a, rating=3)]


def test_escalation_signals_count_corrections_and_runs_per_agent(any_store: AnyStore) -> None:
    any_store.write_events(
        [
            make_event(ts=T0 - 100, run_id="old", agent="a"),  # before the window
            make_event(ts=T0, run_id="r1", agent="a"),
            make_event(ts=T0 + 1, run_id="r1", agent="a", attempt=2),  # same run
            make_event(ts=T0 + 2, run_id="r2", agent="a"),
            make_event(ts=T0 + 3, run_id="r3", agent="b"),
            make_event(ts=T0 + 4, run_id="r4", agent=None),
        ]
    )
    assert any_store.runs_by_agent(T0) == {"a": 2, "b": 1}
    assert any_store.runs_by_agent() == {"a": 3, "b": 1}
    assert any_store.runs_by_agent(T0 + 100) == {}
    for i, (ts, agent, correction, rating) in enumerate(
        [
            (T0 - 100, "a", "old correction", None),
            (T0, "a", "wrong file", None),
            (T0 + 1, "a", "still wrong", 1),
            (T0 + 2, "a", None, 5),  # a rating is not a correction
            (T0 + 3, "a", "", 3),  # nor is an empty one
            (T0 + 4, "b", "typo", None),
            (T0 + 5, None, "who?", None),
        ]
    ):
        any_store.add_feedback(Feedback(f"f{i}", ts, "r1", agent, correction, rating))
    assert any_store.corrections_by_agent(T0) == {"a": 2, "b": 1}
    assert any_store.corrections_by_agent() == {"a": 3, "b": 1}
    assert any_store.corrections_by_agent(T0 + 100) == {}


def test_runs_ending_with(any_store: AnyStore) -> None:
    runs = ["0195aa11bb22cc33", "0195ff00ee99cc33", "0195aa11bb22dd44", "run_100%", "runX100%"]
    any_store.write_events([make_event(run_id=r, ts=T0 + i) for i, r in enumerate(runs)])
    any_store.write_events([make_event(run_id=runs[0], ts=T0 + 9, attempt=2)])  # once per run
    assert sorted(any_store.runs_ending_with("cc33", limit=5)) == sorted(runs[:2])
    assert any_store.runs_ending_with("22dd44") == [runs[2]]
    assert any_store.runs_ending_with("22DD44") == [runs[2]]  # ASCII case ignored (as SQLite)
    assert len(any_store.runs_ending_with("cc33", limit=1)) == 1
    assert any_store.runs_ending_with("nothing") == []
    assert any_store.runs_ending_with("_100%") == ["run_100%"]  # LIKE wildcards are literal
    assert sorted(any_store.runs_ending_with("%", limit=5)) == ["runX100%", "run_100%"]


def test_query_takes_question_mark_placeholders(any_store: AnyStore) -> None:
    _filter_fixture(any_store)
    rows = any_store.query(
        "SELECT agent, COUNT(*) FROM events WHERE ts >= ? AND model = ?"
        " GROUP BY agent ORDER BY agent",
        (T0 + 1, "m2"),
    )
    assert set(rows) == {("a", 1), ("b", 1), (None, 1)}  # (NULL sorts first in one, last in one)
    assert any_store.query("SELECT COUNT(*) FROM events") == [(5,)]


def test_query_leaves_literals_alone(any_store: AnyStore) -> None:
    any_store.write_events([make_event(agent="100% sure?", user="ana"), make_event(agent="b")])
    sql = (
        "SELECT COUNT(*), 'what?', '50%' FROM events -- a comment? with 10%\n"
        " WHERE agent LIKE '%sure?' AND agent <> ? AND \"user\" = ?"
        " /* ? and % */"
    )
    assert any_store.query(sql, ("x", "ana")) == [(1, "what?", "50%")]


def test_query_aggregates_are_plain_numbers(any_store: AnyStore) -> None:
    any_store.write_events(
        [make_event(input_tokens=n, cost_usd=n / 4) for n in (1, 2, 4)]
        + [make_event(input_tokens=5, cost_usd=None)]
    )
    ((total, mean, cost, answered),) = any_store.query(
        "SELECT SUM(input_tokens), AVG(input_tokens), SUM(cost_usd),"
        " SUM(CASE WHEN outcome = ? THEN 1 ELSE 0 END) FROM events",
        ("success",),
    )
    assert (total, mean, cost, answered) == (12, 3.0, 1.75, 4)
    assert (type(total), type(mean), type(cost), type(answered)) == (int, float, float, int)


def test_feedback_and_events_share_one_schema_for_query(any_store: AnyStore) -> None:
    any_store.write_events([make_event(run_id="r1", agent="a")])
    any_store.add_feedback(Feedback("f1", T0, "r1", agent="a", correction="no", extra={"k": 1}))
    rows = any_store.query(
        "SELECT e.agent, f.correction, f.extra FROM events e JOIN feedback f"
        " ON f.run_id = e.run_id WHERE f.rating IS NULL"
    )
    assert rows == [("a", "no", '{"k": 1}')]


MIGRATIONS = [migration.name for migration in ALL_MIGRATIONS]


def test_migrations_run_once_and_reopening_is_idempotent(store_backend: StoreBackend) -> None:
    with store_backend.open() as store:
        assert store.migrations() == MIGRATIONS
        store.write_events([make_event()])
    for _ in range(2):
        with store_backend.open() as store:
            assert store.migrations() == MIGRATIONS
            assert store.count_events() == 1
    assert store_backend.raw("SELECT version, name FROM _migrations ORDER BY version") == [
        (i, name) for i, name in enumerate(MIGRATIONS, 1)
    ]


def test_a_store_of_an_older_version_is_upgraded_keeping_its_events(
    store_backend: StoreBackend,
) -> None:
    with store_backend.open() as store:
        store.write_events([make_event(event_id="old")])
    # roll the store back to what ctxrouter wrote before m003
    store_backend.raw("ALTER TABLE events DROP COLUMN requested_model")
    store_backend.raw("ALTER TABLE events DROP COLUMN route_reason")
    store_backend.raw("DELETE FROM _migrations WHERE name = 'm003_route_columns'")
    with store_backend.open() as store:
        assert store.migrations() == MIGRATIONS
        store.write_events(
            [make_event(event_id="new", requested_model="claude-opus-5-5", route_reason="why")]
        )
        found = {e.event_id: e for e in store.events()}
    assert found["old"].requested_model is None and found["old"].agent == make_event().agent
    assert (found["new"].requested_model, found["new"].route_reason) == ("claude-opus-5-5", "why")


def test_a_store_from_a_newer_ctxrouter_is_refused_untouched(
    store_backend: StoreBackend,
) -> None:
    with store_backend.open() as store:
        store.write_events([make_event()])
    store_backend.raw("INSERT INTO _migrations VALUES (99, 'm099_from_the_future', 0)")
    store_backend.raw("CREATE TABLE future (x TEXT)")
    with pytest.raises(ConfigError, match="newer ctxrouter") as info:
        store_backend.open()
    assert "m099_from_the_future" in str(info.value)
    assert "Upgrade ctxrouter" in str(info.value)
    assert store_backend.raw("SELECT COUNT(*) FROM events") == [(1,)]
    assert store_backend.raw("SELECT COUNT(*) FROM _migrations") == [(len(MIGRATIONS) + 1,)]


def test_one_store_shared_by_threads(any_store: AnyStore) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for b in range(10):
                any_store.write_events([make_event(run_id=f"t{n}", ts=T0 + b) for _ in range(20)])
                any_store.count_events(EventQuery(run_id=f"t{n}"))
                any_store.add_feedback(Feedback(f"f{n}-{b}", T0, f"t{n}", agent="a", rating=1))
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert any_store.count_events() == 6 * 10 * 20
    assert any_store.count_events(EventQuery(run_id="t3")) == 200
    assert len(any_store.feedback()) == 60


def test_two_stores_on_one_location(store_backend: StoreBackend) -> None:
    """Like the CLI reading while a router writes (two connections, as two processes have)."""
    with store_backend.open() as writer, store_backend.open() as reader:
        writer.write_events([make_event(ts=T0 + i) for i in range(10)])
        assert reader.count_events() == 10


def test_close_is_idempotent_and_a_closed_store_says_so(store_backend: StoreBackend) -> None:
    store = store_backend.open()
    store.close()
    store.close()
    with pytest.raises(RuntimeError, match="closed"):
        store.events()
    with pytest.raises(RuntimeError, match="closed"):
        store.write_events([make_event()])


# -- PostgreSQL only -------------------------------------------------------------------------


def test_postgres_keeps_to_its_schema(pg_schema: tuple[str, str]) -> None:
    import psycopg

    from ctxrouter.telemetry.postgres import PostgresStore

    url, schema = pg_schema
    other = schema + "_b"
    try:
        with PostgresStore(url, schema=schema) as a, PostgresStore(url, schema=other) as b:
            a.write_events([make_event(run_id="in-a")])
            assert b.count_events() == 0
            assert [e.run_id for e in a.events()] == ["in-a"]
        with psycopg.connect(url) as conn:
            tables = conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename",
                (schema,),
            ).fetchall()
        assert tables == [("_migrations",), ("events",), ("feedback",), ("imported_files",)]
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{other}" CASCADE')


def test_postgres_query_is_read_only(pg_backend: StoreBackend) -> None:
    import psycopg

    with pg_backend.open() as store:
        store.write_events([make_event()])
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            store.query("DELETE FROM events")
        assert store.count_events() == 1
        assert store.query("SELECT COUNT(*) FROM events") == [(1,)]  # still usable


def test_postgres_text_with_nul_is_written_with_a_replacement(pg_backend: StoreBackend) -> None:
    """PostgreSQL text cannot hold U+0000; refusing the batch would wedge the recorder."""
    event = make_event(output_text="a\x00b", user="x\x00")
    with pg_backend.open() as store:
        store.write_events([make_event(ts=T0 - 1), event])
        assert [e.output_text for e in store.events()] == [None, "a\ufffdb"]
        assert store.events()[1].user == "x\ufffd"
        store.add_feedback(Feedback("f\x00", T0, "r1", correction="c\x00"))
        assert store.feedback()[0].correction == "c\ufffd"


def test_postgres_reconnects_after_the_server_drops_it(pg_backend: StoreBackend) -> None:
    import psycopg

    with pg_backend.open() as store:
        store.write_events([make_event()])
        (pid,) = store.query("SELECT pg_backend_pid()")[0]
        pg_backend.raw(f"SELECT pg_terminate_backend({int(pid)}, 10000)")
        with pytest.raises(psycopg.OperationalError):
            store.write_events([make_event()])  # the call that finds it dropped fails ...
        store.write_events([make_event()])  # ... and the next one reconnects
        assert store.count_events() == 2


def test_open_store_picks_the_backend(pg_schema: tuple[str, str], tmp_path: Path) -> None:
    from ctxrouter.telemetry import PostgresStore

    url, schema = pg_schema
    settings = Settings.load(data_dir=tmp_path, store_url=url)
    with open_store(settings, schema=schema) as store:
        assert isinstance(store, PostgresStore)
        assert store.schema == schema and store.migrations() == MIGRATIONS
        store.write_events([make_event()])
    with open_store(url.replace("postgresql://", "postgres://"), schema=schema) as store:
        assert isinstance(store, PostgresStore) and store.count_events() == 1
    with open_store(Settings.load(data_dir=tmp_path)) as store:
        assert isinstance(store, SQLiteStore) and store.count_events() == 0


def test_open_store_refuses_a_store_url_it_does_not_know(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="store_url"):
        open_store(Settings.load(data_dir=tmp_path, store_url="mysql://localhost/x"))


@pytest.mark.usefixtures("psycopg_installed")
def test_an_unreachable_server_is_a_config_error() -> None:
    from ctxrouter.telemetry.postgres import PostgresStore

    with pytest.raises(ConfigError, match="cannot connect to the telemetry store") as info:
        PostgresStore("postgresql://nobody:secret@127.0.0.1:1/db")
    assert "secret" not in str(info.value)  # the password is not repeated
    assert "127.0.0.1:1" in str(info.value)


def test_importing_telemetry_does_not_import_psycopg() -> None:
    code = "import sys, ctxrouter.telemetry; assert 'psycopg' not in sys.modules, 'imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
