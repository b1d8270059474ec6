"""Recorder: queue on the caller's thread, write from its own, lose nothing on a clean exit."""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from ctxrouter.telemetry import Event, EventQuery, Feedback, Outcome, Recorder, SQLiteStore, Store

T0 = 1_800_000_000.0


def make_event(i: int = 0, **overrides: object) -> Event:
    values: dict[str, object] = {
        "event_id": uuid.uuid4().hex,
        "ts": T0 + i,
        "run_id": f"run-{i}",
        "agent": "python-pro",
        "model": "claude-haiku-5-5",
        "tier": "haiku",
        "outcome": Outcome.SUCCESS,
    }
    values.update(overrides)
    return Event(**values)  # type: ignore[arg-type]


class FlakyStore:
    """A real Store (SQLite underneath) whose writes fail as a full disk would: the first
    ``failures`` writes, and the writes numbered in ``fail_calls`` (from 1). ``gate``, when
    given, holds every write until it is set; ``entered``, ``failed`` and ``wrote`` tell the test
    what the writer is doing."""

    def __init__(
        self,
        inner: SQLiteStore,
        failures: int = 0,
        *,
        fail_calls: frozenset[int] = frozenset(),
        gate: threading.Event | None = None,
    ) -> None:
        self.inner = inner
        self.failures_left = failures
        self.fail_calls = fail_calls
        self.gate = gate
        self.attempts = 0
        self.entered = threading.Event()
        self.failed = threading.Event()
        self.wrote = threading.Event()

    def write_events(self, events: Sequence[Event]) -> None:
        self.entered.set()
        if self.gate is not None:
            self.gate.wait()
        self.attempts += 1
        if self.failures_left > 0 or self.attempts in self.fail_calls:
            self.failures_left = max(0, self.failures_left - 1)
            self.failed.set()
            raise OSError(28, "No space left on device")
        self.inner.write_events(events)
        self.wrote.set()

    def events(self, query: EventQuery = EventQuery()) -> list[Event]:
        return self.inner.events(query)

    def count_events(self, query: EventQuery = EventQuery()) -> int:
        return self.inner.count_events(query)

    def query(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        return self.inner.query(sql, params)

    def corrections_by_agent(self, since: float | None = None) -> dict[str, int]:
        return self.inner.corrections_by_agent(since)

    def runs_by_agent(self, since: float | None = None) -> dict[str, int]:
        return self.inner.runs_by_agent(since)

    def runs_ending_with(self, fragment: str, limit: int = 2) -> list[str]:
        return self.inner.runs_ending_with(fragment, limit)

    def add_feedback(self, feedback: Feedback) -> None:
        self.inner.add_feedback(feedback)

    def feedback(self, *, run_id: str | None = None, agent: str | None = None) -> list[Feedback]:
        return self.inner.feedback(run_id=run_id, agent=agent)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    with SQLiteStore(tmp_path / "t.db") as s:
        yield s


def test_the_flaky_store_is_a_store(store: SQLiteStore) -> None:
    assert isinstance(FlakyStore(store), Store)


def test_close_writes_everything_in_order(store: SQLiteStore) -> None:
    events = [make_event(i, ts=T0) for i in range(1234)]  # one ts: the store keeps the order
    recorder = Recorder(store, flush_interval=3600)
    for event in events:
        recorder.record(event)
    recorder.close()
    assert store.events() == events
    assert (recorder.written, recorder.pending, recorder.dropped) == (1234, 0, 0)


def test_context_manager_closes(store: SQLiteStore) -> None:
    with Recorder(store, flush_interval=3600) as recorder:
        recorder.record(make_event())
    assert store.count_events() == 1
    with pytest.raises(RuntimeError, match="closed"):
        recorder.record(make_event())
    recorder.close()  # idempotent


def test_flush_writes_now_and_returns_the_count(store: SQLiteStore) -> None:
    with Recorder(store, flush_interval=3600, batch_size=10_000) as recorder:
        for i in range(10):
            recorder.record(make_event(i))
        assert recorder.flush() == 10
        assert store.count_events() == 10
        assert recorder.pending == 0
        assert recorder.flush() == 0


def test_a_batch_size_of_events_wakes_the_writer(store: SQLiteStore) -> None:
    flaky = FlakyStore(store)
    with Recorder(flaky, flush_interval=3600, batch_size=5) as recorder:
        for i in range(5):
            recorder.record(make_event(i))
        assert flaky.wrote.wait(timeout=60), "the writer was not woken by a full batch"
        assert store.count_events() >= 5


def test_the_writer_flushes_every_interval(store: SQLiteStore) -> None:
    flaky = FlakyStore(store)
    with Recorder(flaky, flush_interval=0.01, batch_size=10_000) as recorder:
        recorder.record(make_event())
        assert flaky.wrote.wait(timeout=60), "the writer never flushed on its interval"


def test_a_failing_flush_keeps_the_events_queued_in_order(store: SQLiteStore) -> None:
    flaky = FlakyStore(store, failures=2)
    recorder = Recorder(flaky, flush_interval=3600, batch_size=10_000)
    first = [make_event(i) for i in range(5)]
    for event in first:
        recorder.record(event)
    for _ in range(2):
        with pytest.raises(OSError, match="No space left"):
            recorder.flush()
        assert (recorder.pending, recorder.written) == (5, 0)
    later = [make_event(i) for i in range(5, 8)]
    for event in later:
        recorder.record(event)
    assert recorder.flush() == 8
    assert store.events() == first + later
    recorder.close()
    assert recorder.written == 8


def test_a_failure_midway_through_a_flush_keeps_the_rest_in_order(
    store: SQLiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    gate = threading.Event()
    flaky = FlakyStore(store, fail_calls=frozenset({3}), gate=gate)
    recorder = Recorder(flaky, flush_interval=3600, batch_size=3)
    first = [make_event(i, ts=T0) for i in range(3)]
    for event in first:  # a full batch wakes the writer, which takes these three ...
        recorder.record(event)
    assert flaky.entered.wait(timeout=60)  # ... and is held at the gate (write 1)
    rest = [make_event(i, ts=T0) for i in range(3, 10)]
    for event in rest:
        recorder.record(event)
    gate.set()  # write 1 = first; then one flush of rest: write 2 ok, write 3 fails
    assert flaky.failed.wait(timeout=60)
    assert recorder.flush() == 4  # waits for the writer's flush to finish; writes what is left
    assert store.events() == first + rest
    assert (recorder.written, recorder.pending, flaky.attempts) == (10, 0, 5)
    recorder.close()
    assert "keeping 4 event(s) queued" in caplog.text


def test_the_writer_retries_a_failing_store_and_logs(
    store: SQLiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ctxrouter.telemetry")
    flaky = FlakyStore(store, failures=2)
    events = [make_event(i) for i in range(5)]
    with Recorder(flaky, flush_interval=0.01) as recorder:
        for event in events:
            recorder.record(event)
        assert flaky.wrote.wait(timeout=60), "the writer gave up on the store"
    assert store.events() == events
    assert flaky.attempts >= 3
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failures) >= 2
    assert all(r.name == "ctxrouter.telemetry" for r in failures)
    assert "No space left on device" in failures[0].getMessage()
    assert "FlakyStore" in failures[0].getMessage()  # which store
    assert "event(s) queued, retrying" in failures[0].getMessage()


def test_close_with_a_failing_store_raises_and_keeps_the_events(store: SQLiteStore) -> None:
    flaky = FlakyStore(store, failures=1_000)
    recorder = Recorder(flaky, flush_interval=3600)
    recorder.record(make_event())
    with pytest.raises(OSError):
        recorder.close()
    assert recorder.pending == 1
    flaky.failures_left = 0
    assert recorder.flush() == 1  # the owner may still save them
    assert store.count_events() == 1
    recorder.close()


def test_max_pending_drops_the_oldest_and_counts_them(
    store: SQLiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    gate = threading.Event()
    flaky = FlakyStore(store, gate=gate)
    recorder = Recorder(flaky, flush_interval=3600, batch_size=2, max_pending=5)
    held = [make_event(i, ts=T0) for i in range(2)]
    for event in held:
        recorder.record(event)
    assert flaky.entered.wait(timeout=60)  # the writer holds these two, stuck in the store
    later = [make_event(i, ts=T0) for i in range(2, 8)]
    for event in later:
        recorder.record(event)
    assert (recorder.pending, recorder.dropped) == (5, 3)
    gate.set()
    recorder.close()
    assert store.events() == held + later[3:]
    assert "dropped 3 event(s)" in caplog.text


def test_record_never_waits_for_the_writer(store: SQLiteStore) -> None:
    """The writer is stuck inside the store; recording must still return at once."""
    gate = threading.Event()
    flaky = FlakyStore(store, gate=gate)
    recorder = Recorder(flaky, flush_interval=0.01, batch_size=1)
    for i in range(1000):  # would hang (and time out) if record waited on the store
        recorder.record(make_event(i))
    assert recorder.pending == 1000
    gate.set()
    recorder.close()
    assert store.count_events() == 1000


async def test_record_from_the_event_loop(store: SQLiteStore) -> None:
    gate = threading.Event()
    recorder = Recorder(FlakyStore(store, gate=gate), flush_interval=0.01, batch_size=1)

    async def agent_call(i: int) -> None:
        await asyncio.sleep(0)
        recorder.record(make_event(i))

    await asyncio.gather(*(agent_call(i) for i in range(200)))
    gate.set()
    recorder.close()
    assert store.count_events() == 200


def test_many_threads_recording(store: SQLiteStore) -> None:
    recorder = Recorder(store, flush_interval=0.005, batch_size=100)
    start = threading.Barrier(8)
    recorded: dict[int, list[str]] = {n: [] for n in range(8)}

    def work(n: int) -> None:
        start.wait()
        for i in range(2000):
            event = make_event(i, ts=T0, run_id=f"t{n}")
            recorder.record(event)
            recorded[n].append(event.event_id)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    recorder.close()
    assert store.count_events() == 16_000
    assert (recorder.written, recorder.pending) == (16_000, 0)
    for n in range(8):  # each thread's events are stored in the order it recorded them
        assert [e.event_id for e in store.events(EventQuery(run_id=f"t{n}"))] == recorded[n]


@pytest.mark.parametrize(
    "kwargs",
    [{"flush_interval": 0}, {"batch_size": 0}, {"batch_size": 10, "max_pending": 5}],
)
def test_bad_arguments(store: SQLiteStore, kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Recorder(store, **kwargs)  # type: ignore[arg-type]
