"""A scripted Discord for the client's pure logic (``httpx.MockTransport``, virtual time).

Only for what the sandbox emulator cannot be made to answer on demand (rare codes, exact
sequences); everything else is tested against the emulator itself.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from random import Random
from typing import Any

import anyio
import httpx
from dmj.adapters import FAST, DiscordClient, Pacing

TOKEN = "MTExMTExMTExMTExMTExMTEx.GaBcDe.s3cr3t-t0ken-never-shown"
API = "https://discord.test/api/v9"
ME = {"id": "111111111111111111", "username": "me", "global_name": "Me", "email": "x@y.z"}
DM_CHANNEL = {
    "id": "900000000000000001",
    "type": 1,
    "last_message_id": None,
    "flags": 0,
    "recipients": [{"id": "222222222222222222", "username": "alice", "global_name": "Alice"}],
}
DISCORD_HEADERS = {"content-type": "application/json", "via": "1.1 google"}


def no_gaps(**changes: Any) -> Pacing:
    """A pacing without gaps or pauses; every other setting as ``Pacing``'s, or ``changes``."""
    return Pacing(name="test", gap=(0, 0), pause_every=None, **changes)


def answer(status: int, body: object = None, **headers: str) -> httpx.Response:
    """A response as Discord writes it: JSON body, ``Via: 1.1 google``."""
    content = b"" if body is None else json.dumps(body).encode()
    return httpx.Response(status, content=content, headers={**DISCORD_HEADERS, **headers})


def rate_limited(
    retry_after: float, *, is_global: bool = False, scope: str = "user"
) -> httpx.Response:
    """Discord's own 429: JSON body with ``retry_after`` and ``global``, ``Via`` header."""
    body = {"message": "You are being rate limited.", "retry_after": retry_after}
    return answer(429, {**body, "global": is_global}, **{"x-ratelimit-scope": scope})


@dataclass
class Seen:
    """One request the fake received, with the virtual time it arrived."""

    method: str
    path: str
    at: float
    headers: httpx.Headers
    body: bytes


@dataclass
class Script:
    """Answers in order (the last one repeats); an exception in the list is raised instead."""

    answers: list[httpx.Response | Exception]
    seen: list[Seen] = field(default_factory=list)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(
            Seen(
                request.method,
                request.url.path.removeprefix("/api/v9"),
                anyio.current_time(),
                request.headers,
                request.content,
            )
        )
        item = self.answers[min(len(self.seen), len(self.answers)) - 1]
        if isinstance(item, Exception):
            raise item
        return item

    def waits(self) -> list[float]:
        """Virtual seconds between the arrivals of consecutive requests."""
        return [round(b.at - a.at, 6) for a, b in zip(self.seen, self.seen[1:], strict=False)]


@asynccontextmanager
async def discord(
    handler: Script | Callable[[httpx.Request], object], *, pacing: Pacing = FAST, seed: int = 7
) -> AsyncIterator[DiscordClient]:
    transport = httpx.MockTransport(handler)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport) as http:
        yield DiscordClient(http, TOKEN, random=Random(seed), pacing=pacing, api_base=API)
