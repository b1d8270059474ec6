"""Time, as a seam: the real clock, or a virtual one so a simulated month runs in seconds."""

from __future__ import annotations

import asyncio
import contextvars
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch (UTC)."""
        ...

    async def sleep(self, seconds: float) -> None: ...

    def advance_to(self, timestamp: float) -> None:
        """Continue (in this task) no earlier than ``timestamp``: a step starts when its
        inputs are ready. Real time has already passed; virtual time jumps."""
        ...


class RealClock:
    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            await asyncio.sleep(seconds)

    def advance_to(self, timestamp: float) -> None:
        return None  # the awaited inputs took real time: nothing to do


class VirtualClock:
    """A clock that only moves when told to. Deterministic: no wall time is read.

    Every asyncio task has its own timeline (kept in a context variable, which each task copies
    when it is created): ``sleep`` moves the calling task's time forward instantly, and
    concurrent tasks do not add up their waits. ``set``/``advance`` move the shared base (for
    example to the next simulated day); ``advance_to`` moves only the calling task.
    """

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._base = start
        self._offset: contextvars.ContextVar[float] = contextvars.ContextVar(
            f"virtual_clock_{id(self)}", default=0.0
        )

    def now(self) -> float:
        return self._base + self._offset.get()

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._offset.set(self._offset.get() + seconds)
        await asyncio.sleep(0)

    def advance_to(self, timestamp: float) -> None:
        if timestamp > self.now():
            self._offset.set(timestamp - self._base)

    def advance(self, seconds: float) -> None:
        """Move the shared base forward (every task's time moves with it)."""
        self._base += max(0.0, seconds)

    def set(self, timestamp: float) -> None:
        """Put the shared base at ``timestamp`` and this task's own offset back to zero."""
        self._base = timestamp
        self._offset.set(0.0)
