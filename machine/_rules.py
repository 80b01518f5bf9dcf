"""What every ``apply`` handler shares: the rule error and finding the run, batch and DM.

Each finder checks the common case inline and takes a slow path only to name a broken rule.
"""

from __future__ import annotations

from ._model import BatchProgress, DmProgress, RunState
from ._working import Working
from .errors import RuleBroken
from .events import Event

__all__ = ["active_run", "broken", "dm_by_channel", "dm_of", "open_batch_no", "undecided"]


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


def active_run(w: Working, event: Event) -> RunState:
    """The run in progress, which ``event`` must belong to."""
    run = w.run
    if run is None or run.finished is not None:
        raise broken(event, "every event but RunStarted belongs to a run in progress")
    if event.run != run.started.run:
        raise broken(event, f"it names run {event.run!r}, but run {run.id!r} is in progress")
    return run


def open_batch_no(w: Working, event: Event, batch_no: int) -> tuple[RunState, BatchProgress]:
    """The run and its open batch, which must be ``batch_no``."""
    run = active_run(w, event)
    batch = w.batch
    if batch is None:
        raise broken(event, f"it belongs to batch {batch_no}, but no batch is open")
    if batch.batch != batch_no:
        raise broken(event, f"it belongs to batch {batch_no}, but batch {batch.batch} is open")
    return run, batch


def dm_of(w: Working, event: Event, batch_no: int, user_id: str) -> DmProgress:
    """The progress of ``user_id``'s DM in the open batch ``batch_no``.

    The hot handlers inline the first three lines and call this only when they fail, to raise.
    """
    dm = w.dms.get(user_id)
    if dm is not None and batch_no == w.batch_no and event.run == w.run_id:
        return dm
    open_batch_no(w, event, batch_no)
    raise broken(event, f"user {user_id} is not in batch {batch_no}")


def dm_by_channel(w: Working, event: Event, batch_no: int, channel: str) -> DmProgress:
    """The DM of the open batch ``batch_no`` that ``channel`` belongs to."""
    open_batch_no(w, event, batch_no)
    for dm in w.dms.values():
        if channel in (dm.opened, dm.open_at_start, dm.entry.channel_id):
            return dm
    raise broken(event, f"channel {channel} belongs to no DM of batch {batch_no}")


def undecided(event: Event, dm: DmProgress) -> None:
    """``dm`` must not have its outcome yet."""
    if dm.outcome is not None:
        raise broken(
            event,
            f"user {dm.entry.user_id} already has its outcome ({dm.outcome.kind}, "
            f"seq {dm.outcome.seq}): a DM ends exactly once per run",
        )
