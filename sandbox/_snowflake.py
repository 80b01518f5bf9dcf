"""Snowflakes, Discord's timestamps and the deterministic hash the sandbox draws from.

Stdlib only: the DCE stand-in imports this module once per exported DM, so it must stay
cheap to import.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = [
    "DISCORD_EPOCH_MS",
    "api_timestamp",
    "mix",
    "snowflake_at",
    "snowflake_ms",
]

DISCORD_EPOCH_MS = 1420070400000
"""Milliseconds from the Unix epoch to Discord's (2015-01-01T00:00:00Z)."""

_MASK = (1 << 64) - 1
_LOW_BITS = (1 << 22) - 1


def snowflake_at(ms: int, low: int = 0) -> int:
    """The snowflake created at Unix time ``ms``; ``low`` fills worker, process and increment."""
    return ((ms - DISCORD_EPOCH_MS) << 22) | (low & _LOW_BITS)


def snowflake_ms(snowflake: int) -> int:
    """The Unix time in milliseconds a snowflake was created at."""
    return (snowflake >> 22) + DISCORD_EPOCH_MS


def api_timestamp(ms: int) -> str:
    """A time as Discord's API writes it: ``2024-05-04T18:02:11.337000+00:00``."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}000+00:00"


def _splitmix(value: int) -> int:
    value = (value + 0x9E3779B97F4A7C15) & _MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return value ^ (value >> 31)


def mix(*parts: int) -> int:
    """A 64-bit hash of ``parts`` (SplitMix64 folded): the same parts give the same number.

    Every random-looking choice of a world is ``mix(seed, thing, index, …)``, so any message
    can be generated on its own, in any order, without holding the others in memory.
    """
    value = 0
    for part in parts:
        value = _splitmix(value ^ (part & _MASK))
    return value
