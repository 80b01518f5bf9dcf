"""The Discord client on the sandbox emulator, in-process (virtual time under MockClock)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from random import Random

import httpx
from dmj.adapters import FAST, DiscordClient, Pacing
from dmj.sandbox import IN_PROCESS_BASE, Emulator, World, emulator_transport


@asynccontextmanager
async def emulated_client(
    emulator: Emulator, *, pacing: Pacing = FAST, seed: int = 7, token: str | None = None
) -> AsyncIterator[DiscordClient]:
    """A ``DiscordClient`` whose requests the emulator answers on the test's own event loop."""
    async with httpx.AsyncClient(transport=emulator_transport(emulator)) as http:
        yield DiscordClient(
            http,
            emulator.world.token if token is None else token,
            random=Random(seed),
            pacing=pacing,
            api_base=IN_PROCESS_BASE,
        )


def gaps(emulator: Emulator) -> list[float]:
    """Seconds between consecutive requests, as the emulator's clock saw them arrive."""
    times = [record.t for record in emulator.requests()]
    return [round(b - a, 3) for a, b in itertools.pairwise(times)]


def user_with_fate(world: World, fate: str) -> str:
    """The recipient of the first 1-on-1 DM of that fate."""
    return next(c.recipients[0] for c in world.channels if c.fate == fate and c.type == 1)


def channel_with_fate(world: World, fate: str) -> str:
    return next(c.id for c in world.channels if c.fate == fate)
