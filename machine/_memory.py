"""The archive's memory across runs: folding runs' channels and outcomes into a ``Memory``.

A channel's ``ChannelStatus`` sums up every outcome that reached it: the latest outcome's kind
and time, the messages of all of them added up, the newest message id any of them archived.
A replay of many incremental runs remembers the finished runs once, when it freezes: it sums
up each channel's outcomes over all of them (``gather``) and builds one ``ChannelStatus`` per
channel (``with_runs``), instead of a new status per outcome each time a run ends. A channel
reached once is summed up by its one ``Outcome``; a ``Sums`` is made only when a second
outcome reaches it. ``remember`` folds one run in directly (projections).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import msgspec

from ._model import BatchProgress, ChannelStatus, Memory, Outcome, RunState
from .events import ChannelInfo

__all__ = ["Summed", "Sums", "gather", "remember", "with_runs"]


class Sums(msgspec.Struct, gc=False):
    """Two or more outcomes of one channel summed up: the latest, the messages of all of them,
    and the newest message id archived (the latest that is not empty, else the first one's).

    Mutable and private to a fold (``Working``) or a ``remember``, never part of a state.
    ``gc=False``: they hold no containers, so the garbage collector need not track them.
    """

    latest: Outcome
    count: int
    last: str | None


Summed = Outcome | Sums
"""What is known of a channel's outcomes so far: its only one, or their ``Sums``."""


def remember(memory: Memory, run: RunState, batch: BatchProgress | None) -> Memory:
    """``memory`` with ``run`` (and its open ``batch``) folded in.

    O(channels + the run's outcomes): done whenever a projection is built. The outcomes are
    merged into the statuses in one pass (one ``ChannelStatus`` per outcome): a run reaches
    most channels once, and its outcomes are far apart in memory, so a second pass over them
    would cost more than the statuses it saves.
    """
    status = dict(memory.status)
    get = status.get
    outcomes = [o for record in run.finished_batches() for o in record.outcomes]
    if batch is not None:
        outcomes.extend(batch.outcomes())
    make = ChannelStatus
    for outcome in outcomes:  # ``_status`` inlined: this is a projection's hot loop
        key = outcome.channel_id
        old = get(key)
        if old is None:
            status[key] = make(
                status=outcome.kind,
                at=outcome.at,
                message_count=outcome.message_count,
                last_message_id=outcome.last_message_id,
            )
        else:
            status[key] = make(
                status=outcome.kind,
                at=outcome.at,
                message_count=outcome.message_count + old.message_count,
                last_message_id=outcome.last_message_id or old.last_message_id,
            )
    channels, first = _channels(memory, (run,), batch)
    return Memory(first_capture=first, channels=channels, status=status, runs=(*memory.runs, run))


def gather(sums: dict[str, Summed], outcomes: Iterable[Outcome]) -> None:
    """Add ``outcomes`` (later than everything in ``sums``), in order, to ``sums``."""
    get = sums.get
    for outcome in outcomes:
        key = outcome.channel_id
        old = get(key)
        if old is None:
            sums[key] = outcome
        elif isinstance(old, Sums):
            old.latest = outcome
            old.count += outcome.message_count
            old.last = outcome.last_message_id or old.last
        else:
            count = old.message_count + outcome.message_count
            sums[key] = Sums(outcome, count, outcome.last_message_id or old.last_message_id)


def with_runs(memory: Memory, runs: Sequence[RunState], sums: dict[str, Summed]) -> Memory:
    """``memory`` with the finished ``runs`` (oldest first) folded in, given the sums of their
    outcomes: one ``ChannelStatus`` per channel."""
    status = dict(memory.status)
    get = memory.status.get
    for key, summed in sums.items():
        if isinstance(summed, Sums):
            status[key] = _status(summed.latest, summed.count, summed.last, get(key))
        else:
            status[key] = _status(summed, summed.message_count, summed.last_message_id, get(key))
    channels, first = _channels(memory, runs, None)
    return Memory(first_capture=first, channels=channels, status=status, runs=(*memory.runs, *runs))


def _status(
    latest: Outcome, count: int, last: str | None, old: ChannelStatus | None
) -> ChannelStatus:
    """A channel's status: ``old`` (if any), then outcomes up to ``latest`` that archived
    ``count`` messages, the newest being ``last``."""
    if old is not None:
        count += old.message_count
        last = last or old.last_message_id
    return ChannelStatus(
        status=latest.kind, at=latest.at, message_count=count, last_message_id=last
    )


def _channels(
    memory: Memory, runs: Sequence[RunState], batch: BatchProgress | None
) -> tuple[dict[str, ChannelInfo], tuple[ChannelInfo, ...] | None]:
    """Every channel seen, after ``runs`` (and the last one's open ``batch``); and the first
    capture ever."""
    channels = dict(memory.channels)
    first = memory.first_capture
    for run in runs:
        if run.capture is not None:
            captured = run.capture.channels
            channels.update({channel.id: channel for channel in captured})
            if first is None:
                first = captured
        records = run.finished_batches()
        channels.update({c.id: c for record in records for c in record.seen})
    if batch is not None:
        channels.update({channel.id: channel for channel in batch.seen})
    return channels, first
