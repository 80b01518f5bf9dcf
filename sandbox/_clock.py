"""The emulator's notion of time, injectable so tests can run rate limits in virtual time."""

from __future__ import annotations

import time
from typing import Protocol

import anyio

__all__ = ["Clock", "LoopClock"]


class Clock(Protocol):
    """Time as the emulator sees it: rate-limit windows, ``Reset`` headers, slow responses."""

    def now(self) -> float:
        """Seconds since the Unix epoch."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""
        ...


class LoopClock:
    """The running event loop's clock, anchored to the wall clock at its first reading.

    Under uvicorn that is real time. Under a test's trio ``MockClock`` (with the emulator
    served in-process through ``emulator_transport``) it is virtual: a 30-second
    ``retry_after`` passes instantly, and the wait shows in ``now()`` all the same.
    Read from outside any event loop (a test thread poking a threaded server), it is the
    wall clock.
    """

    def __init__(self) -> None:
        self._anchor: tuple[float, float] | None = None

    def now(self) -> float:
        try:
            loop_time = anyio.current_time()
        except anyio.NoEventLoopError:
            return time.time()
        if self._anchor is None:
            self._anchor = (time.time(), loop_time)
        wall, loop = self._anchor
        return wall + (loop_time - loop)

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)
