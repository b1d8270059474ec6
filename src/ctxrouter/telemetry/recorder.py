"""Take telemetry off the hot path: :meth:`Recorder.record` queues, a thread writes.

::

    with Recorder(store) as recorder:
        recorder.record(event)  # O(1), no I/O, safe on the asyncio loop's thread
    # leaving the block flushed everything and stopped the thread

``record`` only appends to an in-memory queue. A daemon thread writes the queue to the store every
``flush_interval`` seconds, or sooner once ``batch_size`` events are waiting. A write that fails
(disk full, database locked) loses nothing: the events stay queued, in order, the error is logged
on the ``ctxrouter.telemetry`` logger, and the write is tried again an interval later.

Nothing is registered globally (no ``atexit``): whoever creates a recorder calls :meth:`close`
(or uses it as a context manager). A process that dies without closing loses at most the events
of the last ``flush_interval`` (plus any still queued behind a failing store).
"""

from __future__ import annotations

import logging
import threading
from collections import deque

from ctxrouter.telemetry.event import Event
from ctxrouter.telemetry.store import Closing, Store

_log = logging.getLogger("ctxrouter.telemetry")


class Recorder(Closing):
    """Queue events in memory and write them to ``store`` in batches, from a background thread.

    The recorder does not own the store: close the store after the recorder.
    ``max_pending`` bounds the queue while the store is failing; past it the oldest events are
    dropped (counted in :attr:`dropped` and logged). ``None``, the default, never drops.
    """

    def __init__(
        self,
        store: Store,
        *,
        flush_interval: float = 1.0,
        batch_size: int = 500,
        max_pending: int | None = None,
    ) -> None:
        if flush_interval <= 0:
            raise ValueError(f"flush_interval must be > 0, got {flush_interval}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if max_pending is not None and max_pending < batch_size:
            raise ValueError(f"max_pending ({max_pending}) must be >= batch_size ({batch_size})")
        self.store = store
        self.flush_interval = flush_interval
        self.batch_size = batch_size
        self.max_pending = max_pending
        self._queue: deque[Event] = deque()
        self._in_flight = 0  # taken off the queue by a flush that has not finished
        self._written = 0
        self._dropped = 0
        self._dropped_logged = 0
        self._lock = threading.Lock()  # guards the queue and the counters; never held for I/O
        self._flush_lock = threading.Lock()  # one flush at a time, so batches keep their order
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="ctxrouter-telemetry", daemon=True)
        self._thread.start()

    # -- the hot path ---------------------------------------------------------------------

    def record(self, event: Event) -> None:
        """Queue ``event`` and return at once: no I/O, no waiting on the writer."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the telemetry recorder is closed; record() before close()")
            self._queue.append(event)
            queued = len(self._queue)
            if self.max_pending is not None and queued + self._in_flight > self.max_pending:
                self._queue.popleft()
                self._dropped += 1
        if queued == self.batch_size:  # exactly: a backlog behind a failing store waits
            self._wake.set()

    # -- counters -------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Events recorded and not yet written (queued, or being written now)."""
        with self._lock:
            return len(self._queue) + self._in_flight

    @property
    def written(self) -> int:
        """Events this recorder has written to the store."""
        return self._written

    @property
    def dropped(self) -> int:
        """Events dropped because more than ``max_pending`` were waiting."""
        return self._dropped

    # -- writing --------------------------------------------------------------------------

    def flush(self) -> int:
        """Write everything queued now, on the caller's thread; return how many were written.

        If the store fails, the events not written stay queued (in order) and the error is
        raised; the next flush tries them again.
        """
        with self._flush_lock:
            return self._flush_locked()

    def _flush_locked(self) -> int:
        with self._lock:
            batch, self._queue = self._queue, deque()
            self._in_flight = len(batch)
        done = 0
        try:
            while batch:
                chunk = [batch.popleft() for _ in range(min(self.batch_size, len(batch)))]
                try:
                    self.store.write_events(chunk)
                except BaseException:
                    batch.extendleft(reversed(chunk))
                    raise
                done += len(chunk)
                with self._lock:
                    self._written += len(chunk)
                    self._in_flight -= len(chunk)
        finally:
            with self._lock:
                self._queue.extendleft(reversed(batch))  # the unwritten go back in front
                self._in_flight = 0
        return done

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            if failures:  # back off: a full queue must not make us hammer a failing store
                self._stop.wait(self.flush_interval)
            else:
                self._wake.wait(self.flush_interval)
            self._wake.clear()
            if self._stop.is_set():
                break
            failures = self._flush_logged(failures)

    def _flush_logged(self, failures: int) -> int:
        """Flush, logging instead of raising; return the count of consecutive failures."""
        self._log_dropped()
        with self._flush_lock:
            try:
                written = self._flush_locked()
            except Exception as exc:
                _log.error(
                    "telemetry: could not write to %r: %s: %s; keeping %d event(s) queued, "
                    "retrying in %.1fs",
                    self.store,
                    type(exc).__name__,
                    exc,
                    self.pending,
                    self.flush_interval,
                )
                return failures + 1
        if failures:
            _log.info("telemetry: wrote %d queued event(s) after %d failure(s)", written, failures)
        return 0

    def _log_dropped(self) -> None:
        with self._lock:
            newly = self._dropped - self._dropped_logged
            self._dropped_logged = self._dropped
        if newly:
            _log.error(
                "telemetry: dropped %d event(s): more than max_pending=%s were waiting",
                newly,
                self.max_pending,
            )

    # -- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the thread and write what is queued; safe to call twice.

        If the final write fails the error is raised and the events stay in :attr:`pending`
        (a later :meth:`flush` may still write them); :meth:`record` is refused from now on.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._stop.set()
        self._wake.set()
        self._thread.join()
        self._log_dropped()
        self.flush()

    def __repr__(self) -> str:
        return f"Recorder(pending={self.pending}, written={self.written}, store={self.store!r})"
