"""A realistic stream of dmj events for journal benchmarks (and the tests' big journals).

Batches of 20 DMs, each reopened, exported and closed: the event mix of a real run, with
snowflake-sized ids and ~150-500-byte lines.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path

import msgspec
from dmj.journal import DMJ_SCHEMA, encode_line
from dmj.machine.events import (
    AnyEvent,
    BatchFinished,
    BatchStarted,
    ChannelExported,
    DmClosed,
    DmCloseRequested,
    DmOpened,
    DmOpenRequested,
    ExportRequested,
)

__all__ = ["run_events", "stamped", "write_events", "write_journal"]

RUN = "run-20260101T000000Z-4f2a"
_START = datetime(2026, 1, 1, tzinfo=UTC)


def run_events(seed: int = 1) -> Iterator[AnyEvent]:
    """An endless run, batch after batch (unstamped events)."""
    rnd = random.Random(seed)

    def snowflake() -> str:
        return str(rnd.randrange(10**17, 10**19))

    for batch in range(10**9):
        users = tuple(snowflake() for _ in range(20))
        yield BatchStarted(run=RUN, batch=batch, user_ids=users)
        for user in users:
            channel = snowflake()
            yield DmOpenRequested(run=RUN, batch=batch, user_id=user)
            yield DmOpened(
                run=RUN,
                batch=batch,
                user_id=user,
                channel_id=channel,
                package_channel_id=snowflake(),
            )
            yield ExportRequested(run=RUN, batch=batch, channel_id=channel, attempt=1, user_id=user)
            yield ChannelExported(
                run=RUN,
                batch=batch,
                channel_id=channel,
                user_id=user,
                path=f"exports/{channel}/{rnd.randrange(16**8):08x}",
                message_count=rnd.randrange(5000),
                last_message_id=snowflake(),
            )
            yield DmCloseRequested(run=RUN, batch=batch, channel_id=channel)
            yield DmClosed(run=RUN, batch=batch, channel_id=channel)
        yield BatchFinished(run=RUN, batch=batch, exported=20, skipped=0, failed=0)


def stamped(count: int, seed: int = 1) -> Iterator[AnyEvent]:
    """The first ``count`` events, stamped as the journal would (seq 1.., 137 ms apart)."""
    for index, event in zip(range(count), run_events(seed), strict=False):
        yield msgspec.structs.replace(
            event, seq=index + 1, at=_START + timedelta(milliseconds=137 * index)
        )


def write_journal(path: Path, count: int, seed: int = 1) -> int:
    """Write a valid ``count``-record journal quickly (no fsync per line); returns its size."""
    return write_events(path, stamped(count, seed))


def write_events(path: Path, events: Iterable[AnyEvent]) -> int:
    """Write already stamped ``events`` as journal lines, 10,000 per write, no fsync; the size."""
    encoder = DMJ_SCHEMA.encoder
    size = 0
    stream = iter(events)
    with path.open("wb") as out:
        while chunk := b"".join(encode_line(encoder, event) for event in islice(stream, 10_000)):
            size += out.write(chunk)
    return size
