"""How fast and how carefully dmj talks to Discord: the pacing policy and its presets.

Discord documents no safe speed for user accounts; the numbers of the ``careful`` preset are
the community's folk limits (a 0-2 s jittered gap per call, a 5-20 s pause every 40-50
calls) plus dmj's own conservative choices (a cap on reopens per hour, a small budget of
401/403/429 answers). ``fast`` is for the sandbox and tests, never for a real account.

Waiting goes through anyio's clock (``anyio.sleep``/``current_time``), so trio's
``MockClock`` turns every wait into virtual time in tests. Jitter comes from an injected
``random.Random``.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping
from random import Random

import anyio
import msgspec
from dmj.machine.events import Pace

__all__ = ["CAREFUL", "FAST", "Pacer", "Pacing", "pacing_preset"]

HOUR = 3600.0
INVALID_REQUEST_WINDOW = 600.0
"""Discord counts 401/403/429 answers per 10 minutes (it bans an IP at 10,000)."""
ANNOUNCED_WAIT_CAP = 60.0


class Pacing(msgspec.Struct, frozen=True, kw_only=True):
    """A pacing policy: every wait dmj makes between and around its requests to Discord.

    Ranges are ``(low, high)`` and drawn uniformly for each use.
    """

    name: str
    gap: tuple[float, float]
    """Seconds from the end of one request to the start of the next."""
    pause_every: tuple[int, int] | None
    """After this many requests (drawn anew after each pause) comes a longer pause."""
    pause: tuple[float, float] = (0.0, 0.0)
    """Seconds of that longer pause (it replaces the gap)."""
    reopens_per_hour: int | None = None
    """At most this many reopens in any hour; more wait. None: no cap."""
    max_retries: int = 5
    """Retries of a request after a 5xx or a connection error."""
    backoff: tuple[float, float] = (1.0, 60.0)
    """First retry wait and its cap; the wait doubles with each retry."""
    max_rate_limit_wait: float = 600.0
    """A 429 asking for a longer wait pauses the run instead."""
    max_rate_limits: int = 10
    """Consecutive 429s for one request before the run pauses."""
    invalid_request_budget: int = 50
    """401/403/429 answers in 10 minutes before the run pauses (Discord's own limit: 10,000)."""

    def backoff_wait(self, retry: int) -> float:
        """The wait before retry number ``retry`` (1, 2, …): doubling, capped."""
        first, cap = self.backoff
        return float(min(cap, first * 2 ** (retry - 1)))


CAREFUL = Pacing(
    name="careful",
    gap=(0.0, 2.0),
    pause_every=(40, 50),
    pause=(5.0, 20.0),
    reopens_per_hour=60,
)
"""The default: close to what the community uses with user accounts."""

FAST = Pacing(
    name="fast",
    gap=(0.0, 0.0),
    pause_every=None,
    max_retries=5,
    backoff=(0.05, 1.0),
    invalid_request_budget=1000,
)
"""For the sandbox and tests: no gaps, short backoff. Never against Discord."""


def pacing_preset(name: Pace) -> Pacing:
    """The preset called ``name`` (the ``--pace`` a run journals)."""
    match name:
        case "careful":
            return CAREFUL
        case "fast":
            return FAST


class Pacer:
    """Applies a ``Pacing`` to one client's stream of requests (one at a time)."""

    def __init__(self, pacing: Pacing, random: Random, logger: logging.Logger) -> None:
        self.pacing = pacing
        self._random = random
        self._logger = logger
        self._last_end: float | None = None
        self._since_pause = 0
        self._pause_after = self._draw_pause_after()
        self._reopens: deque[float] = deque()
        self._invalid: deque[float] = deque()
        self._exhausted: dict[str, float] = {}

    def __repr__(self) -> str:
        return f"Pacer({self.pacing.name})"

    async def wait_turn(self) -> None:
        """Wait until the next request may start: the gap, or the longer pause when due."""
        if self._pause_after is not None and self._since_pause >= self._pause_after:
            wait = self._random.uniform(*self.pacing.pause)
            self._logger.debug("pacing: pausing %.1f s after %d requests", wait, self._since_pause)
            self._since_pause, self._pause_after = 0, self._draw_pause_after()
        else:
            wait = self._random.uniform(*self.pacing.gap)
        self._since_pause += 1
        if self._last_end is not None:
            await anyio.sleep(max(0.0, self._last_end + wait - anyio.current_time()))

    def request_ended(self) -> None:
        """Note the end of a request: the next gap counts from here."""
        self._last_end = anyio.current_time()

    async def wait_for_reopen(self) -> None:
        """Wait until a reopen fits under the hourly cap, then count it."""
        cap = self.pacing.reopens_per_hour
        if cap is None:
            return
        now = anyio.current_time()
        while self._reopens and self._reopens[0] <= now - HOUR:
            self._reopens.popleft()
        if len(self._reopens) >= cap:
            wait = self._reopens[0] + HOUR - now
            self._logger.info("pacing: %d reopens this hour; waiting %.0f s", cap, wait)
            await anyio.sleep(wait)
            self._reopens.popleft()
        self._reopens.append(anyio.current_time())

    async def wait_for_bucket(self, route: str) -> None:
        """Wait until a limit Discord announced as used up for ``route`` has reset."""
        reset = self._exhausted.pop(route, None)
        if reset is not None:
            wait = max(0.0, reset - anyio.current_time())
            if wait > 0:
                self._logger.debug("pacing: waiting %.3f s for the limit of %s", wait, route)
            await anyio.sleep(wait)

    def note_limit(self, route: str, headers: Mapping[str, str]) -> None:
        """Remember ``X-RateLimit-Remaining: 0`` with its ``Reset-After`` for ``route``.

        Discord sends these to bots (user tokens usually get none); waiting them out avoids
        a 429. The wait is capped at a minute, as DCE does: Discord sometimes announces
        absurd values, and a real limit still shows as a 429 with its ``retry_after``.
        """
        if headers.get("x-ratelimit-remaining") != "0":
            return
        try:
            reset_after = float(headers.get("x-ratelimit-reset-after", ""))
        except ValueError:
            return
        wait = min(max(0.0, reset_after), ANNOUNCED_WAIT_CAP)
        self._exhausted[route] = anyio.current_time() + wait

    def count_invalid(self) -> bool:
        """Count a 401/403/429 answer; True when the budget for the window is used up."""
        now = anyio.current_time()
        self._invalid.append(now)
        while self._invalid[0] <= now - INVALID_REQUEST_WINDOW:
            self._invalid.popleft()
        return len(self._invalid) >= self.pacing.invalid_request_budget

    def _draw_pause_after(self) -> int | None:
        every = self.pacing.pause_every
        return None if every is None else self._random.randint(*every)
