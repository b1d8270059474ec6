"""Time, as a seam: the real clock, or a virtual one so a simulated month runs in seconds."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch (UTC)."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class RealClock:
    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            await asyncio.sleep(seconds)


class VirtualClock:
    """A clock that only moves when told to: ``sleep`` advances it instantly.

    Each asyncio task sees its own timeline offset from a shared base (``advance`` moves the
    base, e.g. to the next simulated task's start). Deterministic: no wall time is read.
    """

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._now = start

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._now += seconds
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        self._now += max(0.0, seconds)

    def set(self, timestamp: float) -> None:
        self._now = timestamp
