"""What every ``apply`` handler shares: the rule error, stamping, and finding things.

A handler checks its rules with these helpers, then builds the next state with ``advance``.
"""

from __future__ import annotations

from msgspec.structs import replace

from ._model import BatchProgress, DmProgress, RunState, State
from .errors import RuleBroken
from .events import Event

__all__ = [
    "active_run",
    "advance",
    "broken",
    "dm_by_channel",
    "dm_by_user",
    "open_batch",
    "undecided",
    "with_dm",
]


def broken(event: Event, rule: str) -> RuleBroken:
    """The error for ``event`` breaking ``rule`` (a clause that reads after "the rule: ")."""
    name = type(event).__name__
    if event.seq:
        message = (
            f"journal record seq {event.seq} ({name}) breaks a rule of the run: {rule}. The "
            "record passed the journal's integrity checks, so the dmj that wrote it has a bug "
            "(or the file was edited by hand); `dmj replay --inspect` shows the records before "
            "it. Please report this."
        )
    else:
        message = (
            f"dmj was about to journal {name}, which breaks a rule of the run: {rule}. "
            "Nothing was written; this is a bug in dmj, please report it."
        )
    return RuleBroken(message, seq=event.seq, rule=rule)


def advance(
    state: State,
    event: Event,
    *,
    run: RunState | None = None,
    batch: BatchProgress | None = None,
    close_batch: bool = False,
) -> State:
    """``state`` after ``event``, with the parts that changed (unjournaled: seq unchanged)."""
    seq = event.seq
    return State(
        through_seq=seq or state.through_seq,
        at=event.at if seq else state.at,
        run=run if run is not None else state.run,
        batch=None if close_batch else (batch if batch is not None else state.batch),
        memory=state.memory,
    )


def active_run(state: State, event: Event) -> RunState:
    """The run in progress, which ``event`` must belong to."""
    run = state.run
    if run is None or run.finished is not None:
        raise broken(event, "every event but RunStarted belongs to a run in progress")
    if event.run != run.started.run:
        raise broken(event, f"it names run {event.run!r}, but run {run.id!r} is in progress")
    return run


def open_batch(state: State, event: Event, batch_no: int) -> tuple[RunState, BatchProgress]:
    """The run and its open batch, which must be ``batch_no``."""
    run = active_run(state, event)
    batch = state.batch
    if batch is None:
        raise broken(event, f"it belongs to batch {batch_no}, but no batch is open")
    if batch.batch != batch_no:
        raise broken(event, f"it belongs to batch {batch_no}, but batch {batch.batch} is open")
    return run, batch


def dm_by_user(
    run: RunState, batch: BatchProgress, event: Event, user_id: str
) -> tuple[int, DmProgress]:
    """The position and progress of ``user_id``'s DM in the open batch."""
    position = run.index.get(user_id)
    if position is not None:
        i = position - batch.batch * run.started.batch_size
        if 0 <= i < len(batch.dms):
            return i, batch.dms[i]
    raise broken(event, f"user {user_id} is not in batch {batch.batch}")


def dm_by_channel(batch: BatchProgress, event: Event, channel_id: str) -> tuple[int, DmProgress]:
    """The DM of the open batch that ``channel_id`` belongs to."""
    for i, dm in enumerate(batch.dms):
        if channel_id in (dm.opened, dm.open_at_start, dm.entry.channel_id):
            return i, dm
    raise broken(event, f"channel {channel_id} belongs to no DM of batch {batch.batch}")


def with_dm(state: State, event: Event, batch: BatchProgress, i: int, dm: DmProgress) -> State:
    """``state`` after ``event`` changed the ``i``-th DM of the open batch to ``dm``."""
    dms = batch.dms
    return advance(state, event, batch=replace(batch, dms=(*dms[:i], dm, *dms[i + 1 :])))


def undecided(event: Event, dm: DmProgress) -> None:
    """``dm`` must not have its outcome yet."""
    if dm.outcome is not None:
        raise broken(
            event,
            f"user {dm.entry.user_id} already has its outcome ({dm.outcome.kind}, "
            f"seq {dm.outcome.seq}): a DM ends exactly once per run",
        )
