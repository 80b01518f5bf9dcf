"""The archive's memory across runs: folding runs' channels and outcomes into a ``Memory``.

A channel's ``ChannelStatus`` sums up every outcome that reached it: the latest outcome's kind
and time, the messages of all of them added up, the newest message id any of them archived.
Those sums are gathered per channel first (``gather``, ``add_sums``) and turned into
``ChannelStatus`` values once (``with_runs``): a replay of many incremental runs gathers each
batch's outcomes as the batch finishes, while they are at hand, instead of walking every
run's outcomes again each time a run ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import msgspec

from ._model import BatchProgress, ChannelStatus, Memory, Outcome, RunState

__all__ = ["Sums", "add_sums", "gather", "remember", "with_runs"]


class Sums(msgspec.Struct, gc=False):
    """One channel's outcomes summed up: the latest, the messages of all of them, and the
    newest message id archived (the latest that is not empty, else the first outcome's own).

    Mutable and private to a fold (``Working``), never part of a state. ``gc=False``: a replay
    makes one per channel and run, and they hold no containers, so the garbage collector need
    not track them.
    """

    latest: Outcome
    count: int
    last: str | None


def remember(memory: Memory, run: RunState, batch: BatchProgress | None) -> Memory:
    """``memory`` with ``run`` (and its open ``batch``) folded in.

    O(channels + the run's outcomes): done whenever a projection is built (and by ``apply``
    when a run ends).
    """
    sums: dict[str, Sums] = {}
    gather(sums, (o for record in run.finished_batches() for o in record.outcomes))
    if batch is not None:
        gather(sums, batch.outcomes())
    return with_runs(memory, (run,), sums, batch)


def gather(sums: dict[str, Sums], outcomes: Iterable[Outcome]) -> None:
    """Add ``outcomes`` (later than everything in ``sums``), in order, to ``sums``."""
    get = sums.get
    for outcome in outcomes:
        key = outcome.channel_id
        old = get(key)
        if old is None:
            sums[key] = Sums(outcome, outcome.message_count, outcome.last_message_id)
        else:
            old.latest = outcome
            old.count += outcome.message_count
            old.last = outcome.last_message_id or old.last


def add_sums(sums: dict[str, Sums], later: dict[str, Sums]) -> None:
    """Add the sums of ``later`` outcomes to ``sums`` (as if gathered one after the other);
    ``later`` is used up (its values may now be ``sums``' own)."""
    get = sums.get
    for key, new in later.items():
        old = get(key)
        if old is None:
            sums[key] = new
        else:
            old.latest = new.latest
            old.count += new.count
            old.last = new.last or old.last


def with_runs(
    memory: Memory,
    runs: Sequence[RunState],
    sums: dict[str, Sums],
    batch: BatchProgress | None = None,
) -> Memory:
    """``memory`` with ``runs`` (oldest first; the last one's open ``batch``) folded in, given
    the sums of their outcomes."""
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
    status = dict(memory.status)
    old_status = memory.status.get
    for key, summed in sums.items():
        old = old_status(key)
        latest = summed.latest
        status[key] = ChannelStatus(
            status=latest.kind,
            at=latest.at,
            message_count=summed.count if old is None else summed.count + old.message_count,
            last_message_id=summed.last if old is None else summed.last or old.last_message_id,
        )
    return Memory(first_capture=first, channels=channels, status=status, runs=(*memory.runs, *runs))
