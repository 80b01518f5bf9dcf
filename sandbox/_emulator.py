"""The API emulator: an ASGI app that answers like Discord, logs every request, and misbehaves
exactly as its fault plan says.

A request passes two stages. The *network* stage (before routing) applies the faults a
proxy or a flaky network would cause: slow answers, dropped connections, 5xx bursts,
Cloudflare's HTML 400 and its 1015 ban (also once too many 401/403/429 piled up). The
*app* stage routes, checks the token, applies rate limits and the app-level faults
(captcha, 40003, 10008, 40002, revoked token, 429 storms), then answers from the world.
Everything under ``/_sandbox/`` is the sandbox's own control surface (not Discord's) and is
neither logged nor faulted.
"""

from __future__ import annotations

from collections import Counter, deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from . import _responses as r
from ._clock import Clock, LoopClock
from ._control import control_app
from ._faults import FaultCounters, FaultPlan, FaultRule
from ._ratelimit import RateLimiter, WaitTotals
from ._routes import METHOD_NOT_ALLOWED, DiscordApi, classify
from ._state import ChannelBook
from ._world import World

__all__ = ["ConnectionDropped", "Emulator", "EmulatorStats", "RequestRecord"]

SANDBOX_CLIENT_HEADER = "x-sandbox-client"
"""Sent by the DCE stand-in (value ``dce``) so fault scopes and stats can tell it from dmj."""
_INVALID_WINDOW = 600.0


class ConnectionDropped(Exception):
    """Raised in-process where a real server would cut the connection without an answer."""


class RequestRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One API request as the emulator saw it (``GET /_sandbox/requests``)."""

    method: str
    path: str
    query: str
    status: int | None
    """None: the connection was dropped without an answer."""
    at: str
    """UTC, ISO 8601 with milliseconds and ``Z``."""
    t: float
    """The emulator clock's reading (Unix seconds), for computing gaps."""
    client: str
    """``dce`` for the DCE stand-in, ``dmj`` for anything else."""
    route: str | None = None


class EmulatorStats(msgspec.Struct, frozen=True, kw_only=True):
    """Counts and waits (``GET /_sandbox/stats``)."""

    requests: int
    by_status: dict[str, int]
    by_route: dict[str, int]
    by_client: dict[str, int]
    rate_limited: int
    dropped: int
    retry_after_seconds: float
    """Sum of the ``retry_after`` of every 429 sent (the waits it imposed on clients)."""
    announced_wait_seconds: float
    """Sum of ``Reset-After`` announced with ``Remaining: 0`` (bot mode)."""
    enforced_wait_seconds: float
    """``retry_after_seconds + announced_wait_seconds``."""


class Emulator:
    """Discord's API for one world. Call it as an ASGI app; see ``run_emulator``."""

    def __init__(
        self,
        world: World,
        *,
        faults: FaultPlan | None = None,
        clock: Clock | None = None,
        state_file: Path | None = None,
    ) -> None:
        self.world = world
        self.clock: Clock = clock or LoopClock()
        self.book = ChannelBook(world, state_file)
        self.api = DiscordApi(world, self.book, self.clock)
        self._log: list[RequestRecord] = []
        self._invalid: deque[float] = deque()
        self._waits = WaitTotals()
        self.set_faults(faults or FaultPlan())
        self._control = control_app(self)

    def set_faults(self, plan: FaultPlan) -> None:
        """Replace the fault plan; its counters and rate-limit windows start afresh (the
        request log and the wait totals carry on)."""
        self.faults = FaultCounters(plan)
        self.limiter = RateLimiter(plan, self._waits)

    def add_messages(self, channel_id: str, count: int) -> int:
        """Let ``count`` new messages arrive in ``channel_id`` (time passing, for incremental
        runs); returns the channel's message count now. Persisted like opens and closes."""
        if channel_id not in self.book.channels:
            raise KeyError(channel_id)
        self.book.grow(channel_id, count, int(self.clock.now() * 1000))
        self.api.forget(channel_id)
        return self.message_count(channel_id)

    def message_count(self, channel_id: str) -> int:
        """How many messages ``channel_id`` holds now (the world's plus those added)."""
        return len(self.api.log(self.book.channels[channel_id]))

    def requests(self) -> list[RequestRecord]:
        """Every API request so far, oldest first."""
        return list(self._log)

    def stats(self) -> EmulatorStats:
        log = list(self._log)
        statuses = Counter("dropped" if e.status is None else str(e.status) for e in log)
        retry, announced = self._waits.retry_after, self._waits.announced
        return EmulatorStats(
            requests=len(log),
            by_status=dict(sorted(statuses.items())),
            by_route=dict(sorted(Counter(e.route or "unknown" for e in log).items())),
            by_client=dict(sorted(Counter(e.client for e in log).items())),
            rate_limited=statuses["429"],
            dropped=statuses["dropped"],
            retry_after_seconds=round(retry, 3),
            announced_wait_seconds=round(announced, 3),
            enforced_wait_seconds=round(retry + announced, 3),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["path"].startswith("/_sandbox/"):
            await self._control(scope, receive, send)
            return
        request = Request(scope, receive)
        client = "dce" if request.headers.get(SANDBOX_CLIENT_HEADER) == "dce" else "dmj"
        route, major = classify(request.method, scope["path"])
        scope_name = None if route in (None, METHOD_NOT_ALLOWED) else route
        started = self.clock.now()
        terminal: FaultRule | None = None
        for rule in self.faults.fire(app=False, route=scope_name, client=client):
            if rule.kind == "slow":
                await self.clock.sleep(1.0 if rule.value is None else rule.value)
            terminal = terminal or (None if rule.kind == "slow" else rule)
        if terminal is not None and terminal.kind == "drop":
            self._record(request, None, started, client, scope_name)
            await _drop(receive, send)
            return
        if self._banned(started):
            response = r.cloudflare_ban()
        elif terminal is not None:
            response = _network_fault(terminal)
        else:
            response = await self._answer(request, route, major, client)
        self._count_invalid(response, started)
        self._record(request, response.status_code, started, client, scope_name)
        await response(scope, receive, send)

    async def _answer(
        self, request: Request, route: str | None, major: str, client: str
    ) -> Response:
        if route is None:
            return r.route_not_found()
        if route == METHOD_NOT_ALLOWED:
            return r.method_not_allowed()
        rules = self.faults.fire(app=True, route=route, client=client)
        token = request.headers.get("authorization", "")
        if token != self.world.token or any(rule.kind == "revoked" for rule in rules):
            return r.unauthorized()
        now = self.clock.now()
        denial = self.limiter.admit(token=token, route=route, major=major, now=now)
        if denial is not None:
            return r.rate_limited(denial.retry_after, scope=denial.scope, headers=denial.headers)
        if rules:
            return self._app_fault(rules[0], route, major, now)
        response = await self.api.handlers[route](request, major)
        response.headers.update(self.limiter.announce(route, major, now))
        return response

    def _app_fault(self, rule: FaultRule, route: str, major: str, now: float) -> Response:
        if rule.kind in ("429", "429-global"):
            wait = 1.0 if rule.value is None else rule.value
            self._waits.retry_after += wait
            scope = "global" if rule.kind == "429-global" else "user"
            headers = {"Retry-After": str(-int(-wait // 1)), "X-RateLimit-Scope": scope}
            if scope == "global":
                headers["X-RateLimit-Global"] = "true"
            else:
                headers = self.limiter.announce(route, major, now) | headers
            return r.rate_limited(wait, scope=scope, headers=headers)
        if rule.kind == "202":
            return r.not_ready(5.0 if rule.value is None else rule.value)
        return {
            "captcha": r.captcha_required,
            "too-fast": r.opening_too_fast,
            "anti-abuse": r.anti_abuse,
            "verify": r.verify_account,
        }[rule.kind]()

    def _banned(self, now: float) -> bool:
        while self._invalid and self._invalid[0] < now - _INVALID_WINDOW:
            self._invalid.popleft()
        return len(self._invalid) >= self.faults.plan.invalid_limit

    def _count_invalid(self, response: Response, now: float) -> None:
        if response.status_code in (401, 403, 429):
            self._invalid.append(now)

    def _record(
        self, request: Request, status: int | None, t: float, client: str, route: str | None
    ) -> None:
        at = datetime.fromtimestamp(t, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        self._log.append(
            RequestRecord(
                method=request.method,
                path=request.url.path,
                query=request.url.query,
                status=status,
                at=at,
                t=t,
                client=client,
                route=route,
            )
        )


def _network_fault(rule: FaultRule) -> Response:
    if rule.kind == "5xx":
        return r.server_error(502 if rule.value is None else int(rule.value))
    if rule.kind == "cloudflare":
        return r.cloudflare_bad_request()
    if rule.kind == "40333":
        return r.internal_network_error()
    return r.cloudflare_ban()


async def _drop(receive: Receive, send: Send) -> None:
    """Cut the connection without an answer.

    Under uvicorn the ASGI ``send`` is bound to the request cycle that owns the socket; abort
    that, then wait for the server to see the disconnect (so it does not answer 500).
    In-process there is no socket: raise ``ConnectionDropped`` for the transport to map.
    """
    transport: Any = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise ConnectionDropped
    transport.abort()
    while (await receive())["type"] != "http.disconnect":
        pass
