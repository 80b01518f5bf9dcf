"""Rate limits as Discord enforces and announces them (discord-api.md §4).

Fixed windows: a global one per token, and one per route bucket (route + channel id, the
major parameter). In ``bot`` mode every response of a bucketed route carries the
``X-RateLimit-*`` headers; in ``user`` mode only 429s carry ``Retry-After`` and
``X-RateLimit-Scope`` (plus ``X-RateLimit-Global`` for the global limit), as user tokens see.
"""

from __future__ import annotations

import hashlib
import math
from typing import Literal

import msgspec

from ._faults import FaultPlan, Limit

__all__ = ["Denial", "RateLimiter", "WaitTotals", "Window"]

_BOT_DEFAULT = Limit(50, 1.0)


class Window:
    """``limit.requests`` per fixed window, the window starting at its first request."""

    def __init__(self, limit: Limit) -> None:
        self.limit = limit
        self.reset_at = 0.0
        self.used = 0

    def take(self, now: float) -> float | None:
        """Count a request; None if allowed, else the seconds until the window resets."""
        if now >= self.reset_at:
            self.reset_at = now + self.limit.seconds
            self.used = 0
        if self.used >= self.limit.requests:
            return self.reset_at - now
        self.used += 1
        return None

    @property
    def remaining(self) -> int:
        return self.limit.requests - self.used


class WaitTotals:
    """The waits the emulator imposed, kept across fault-plan changes."""

    def __init__(self) -> None:
        self.retry_after = 0.0
        """Sum of the ``retry_after`` of every 429 sent."""
        self.announced = 0.0
        """Sum of ``Reset-After`` announced with ``Remaining: 0``."""


class Denial(msgspec.Struct, frozen=True, kw_only=True):
    """A 429 the limiter decided on."""

    retry_after: float
    scope: Literal["user", "global"]
    headers: dict[str, str]


def _seconds(value: float) -> str:
    return f"{value:.3f}"


class RateLimiter:
    """Decides 429s and the rate-limit headers, and adds up the waits it imposed."""

    def __init__(self, plan: FaultPlan, waits: WaitTotals) -> None:
        self._plan = plan
        self._global: dict[str, Window] = {}
        self._routes: dict[tuple[str, str], Window] = {}
        self.waits = waits

    def _route_limit(self, route: str) -> Limit | None:
        limits = self._plan.route_limits
        limit = limits.get(route) or limits.get("all")
        return limit or (_BOT_DEFAULT if self._plan.mode == "bot" else None)

    def admit(self, *, token: str, route: str, major: str, now: float) -> Denial | None:
        """Count a request; a ``Denial`` when a limit is exhausted (global first)."""
        if self._plan.global_limit is not None:
            window = self._global.setdefault(token, Window(self._plan.global_limit))
            if (wait := window.take(now)) is not None:
                return self._deny(wait, "global", {"X-RateLimit-Global": "true"})
        limit = self._route_limit(route)
        if limit is None:
            return None
        window = self._routes.setdefault((route, major), Window(limit))
        if (wait := window.take(now)) is not None:
            return self._deny(wait, "user", self._bucket_headers(route, major, now))
        return None

    def _deny(
        self, wait: float, scope: Literal["user", "global"], headers: dict[str, str]
    ) -> Denial:
        self.waits.retry_after += wait
        headers = {**headers, "Retry-After": str(math.ceil(wait)), "X-RateLimit-Scope": scope}
        if self._plan.mode == "user":
            headers = {k: v for k, v in headers.items() if k in _USER_HEADERS}
        return Denial(retry_after=round(wait, 3), scope=scope, headers=headers)

    def announce(self, route: str, major: str, now: float) -> dict[str, str]:
        """Headers of a response that was let through; counts an announced wait at 0 left."""
        headers = self._bucket_headers(route, major, now)
        if headers.get("X-RateLimit-Remaining") == "0":
            self.waits.announced += float(headers["X-RateLimit-Reset-After"])
        return headers

    def _bucket_headers(self, route: str, major: str, now: float) -> dict[str, str]:
        window = self._routes.get((route, major))
        if self._plan.mode != "bot" or window is None:
            return {}
        reset_after = max(0.0, window.reset_at - now)
        bucket = hashlib.sha1(route.encode(), usedforsecurity=False).hexdigest()[:32]
        return {
            "X-RateLimit-Limit": str(window.limit.requests),
            "X-RateLimit-Remaining": str(max(0, window.remaining)),
            "X-RateLimit-Reset": _seconds(now + reset_after),
            "X-RateLimit-Reset-After": _seconds(reset_after),
            "X-RateLimit-Bucket": bucket,
        }


_USER_HEADERS = frozenset({"Retry-After", "X-RateLimit-Global", "X-RateLimit-Scope"})
