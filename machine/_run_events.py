"""``apply`` for the events that shape a run: start, capture, batches, pause, finish.

Each handler checks its rules first, then changes the working copy (see ``_working``).
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import attrgetter
from typing import NoReturn

from msgspec.structs import replace

from ._model import (
    BatchProgress,
    BatchRecord,
    Chain,
    DmProgress,
    RunState,
    count_outcomes,
)
from ._rules import active_run, broken, open_batch_no
from ._working import Working
from .events import (
    BatchFinished,
    BatchStarted,
    OpenDmsCaptured,
    PlanEntry,
    RunFinished,
    RunPaused,
    RunStarted,
)
from .plan import batch_count

__all__ = [
    "batch_finished",
    "batch_started",
    "open_dms_captured",
    "run_finished",
    "run_paused",
    "run_started",
]


_user_id = attrgetter("user_id")
_channel_id = attrgetter("channel_id")


def run_started(w: Working, event: RunStarted) -> None:
    previous = w.run
    if previous is not None and previous.finished is None:
        raise broken(
            event,
            f"a new run starts only after the previous one finished, and run {previous.id!r} "
            "has not (it is resumed, not restarted)",
        )
    if event.run in w.known_runs():
        raise broken(event, f"run ids are unique in a journal, and {event.run!r} was used")
    if event.retries is not None and (previous is None or previous.id != event.retries):
        raise broken(
            event,
            f"a run retries the failed DMs of the run just before it, not of {event.retries!r}",
        )
    if previous is not None and event.plan == previous.started.plan:
        # An incremental re-run of the same package plans the same DMs: keep one copy (its
        # DMs were found unique when that run started).
        event = replace(event, plan=previous.started.plan)
        _check_plan(event, known_unique=True)
    else:
        _check_plan(event, known_unique=False)
    w.start_run(RunState(started=event, started_seq=event.seq))


def _check_plan(event: RunStarted, *, known_unique: bool) -> None:
    """The plan's sizes add up, and (unless known already) every DM in it appears once."""
    plan, size = event.plan, event.batch_size
    if size < 1 or event.max_attempts < 1:
        raise broken(event, "batch_size and max_attempts are at least 1")
    expected = batch_count(len(plan), size)
    if event.total_batches != expected:
        raise broken(
            event,
            f"{len(plan)} planned DMs in batches of {size} make {expected} batches, "
            f"not {event.total_batches}",
        )
    if known_unique:
        return
    users, channels = set(map(_user_id, plan)), set(map(_channel_id, plan))
    if len(users) != len(plan) or len(channels) != len(plan):
        raise broken(event, "every planned DM appears once, by user id and by channel id")


def open_dms_captured(w: Working, event: OpenDmsCaptured) -> None:
    run = active_run(w, event)
    if run.capture is not None:
        raise broken(event, f"open DMs are captured once per run (seq {run.capture.seq} did)")
    if w.batch is not None or run.last_completed >= 0:
        raise broken(event, "open DMs are captured before the first batch starts")
    open_by_user = {
        channel.recipients[0].id: channel.id
        for channel in event.channels
        if channel.type == 1 and len(channel.recipients) == 1
    }
    open_channels = frozenset(channel.id for channel in event.channels)
    w.set_run(replace(run, capture=event, open_by_user=open_by_user, open_channels=open_channels))


def batch_started(w: Working, event: BatchStarted) -> None:
    run = active_run(w, event)
    b, total = event.batch, run.started.total_batches
    if run.capture is None:
        raise broken(event, "open DMs are captured before the first batch starts")
    if w.batch is not None:
        raise broken(
            event,
            f"batch {w.batch.batch} is still open: a batch starts only after the one before "
            "it finished",
        )
    if b != run.last_completed + 1 or b >= total:
        raise broken(
            event,
            f"the next batch is {run.last_completed + 1} of 0..{total - 1} (batches run in "
            f"order, each once), not {b}",
        )
    entries = run.batch_entries(b)
    if list(event.user_ids) != list(map(_user_id, entries)):
        raise broken(event, f"it lists exactly the plan's users of batch {b}, in plan order")
    header = BatchProgress(batch=b, started_seq=event.seq, started_at=event.at, dms=())
    w.open_batch(header, _fresh_dms(run, entries))


def _fresh_dms(run: RunState, entries: tuple[PlanEntry, ...]) -> dict[str, DmProgress]:
    """The DMs of a batch that starts: nothing done yet, each DM's channel if it was open.

    A 1-on-1 DM whose user had a DM open is exported through that channel; any other DM whose
    package channel was open, through that one. Few DMs are open, so the batch's users and
    channels are matched against them as sets, and only a match costs a second look.
    """
    dms = {entry.user_id: DmProgress(entry=entry) for entry in entries}
    open_by_user, open_channels = run.open_by_user, run.open_channels
    if not open_channels.isdisjoint(map(_channel_id, entries)) or not (
        open_by_user.keys().isdisjoint(dms)
    ):
        for entry in entries:
            channel = (entry.kind == "dm" and open_by_user.get(entry.user_id)) or (
                entry.channel_id if entry.channel_id in open_channels else None
            )
            if channel is not None:
                dms[entry.user_id] = DmProgress(entry=entry, open_at_start=channel)
    return dms


def batch_finished(w: Working, event: BatchFinished) -> None:
    run, batch = open_batch_no(w, event, event.batch)
    dms = w.dms.values()
    outcomes = tuple([dm.outcome for dm in dms if dm.outcome is not None])
    if len(outcomes) != len(dms) or [dm.opened for dm in dms].count(None) != len(dms):
        _unfinished(event, dms)
    counts = count_outcomes(outcomes)
    if (event.exported, event.skipped, event.failed) != counts:
        raise broken(event, _count_rule("batch", event, counts))
    record = BatchRecord(
        batch=event.batch,
        started_seq=batch.started_seq,
        started_at=batch.started_at,
        finished_seq=event.seq,
        finished_at=event.at,
        outcomes=outcomes,
        seen=tuple(w.seen),
    )
    w.set_run(
        replace(
            run,
            last_completed=event.batch,
            done=Chain(head=record, rest=run.done),
            exported=run.exported + counts[0],
            skipped=run.skipped + counts[1],
            failed=run.failed + counts[2],
        )
    )
    w.open_batch(None, {})


def _unfinished(event: BatchFinished, dms: Iterable[DmProgress]) -> NoReturn:
    """Raise for the first DM that keeps the batch from finishing."""
    for dm in dms:
        if dm.outcome is None:
            raise broken(
                event,
                f"user {dm.entry.user_id} has no outcome yet: a batch finishes only when "
                "every DM in it has one",
            )
        if dm.opened is not None:
            raise broken(
                event,
                f"channel {dm.opened}, which dmj opened, is still open: a batch finishes "
                "only when everything it opened is closed",
            )
    raise AssertionError("unreachable: a DM without an outcome or with an open channel")


def run_paused(w: Working, event: RunPaused) -> None:
    run = active_run(w, event)
    w.set_run(replace(run, last_pause=event, pauses=run.pauses + 1))


def run_finished(w: Working, event: RunFinished) -> None:
    run = active_run(w, event)
    total = run.started.total_batches
    if w.batch is not None:
        raise broken(event, f"batch {w.batch.batch} is still open: a run finishes after it")
    if run.last_completed != total - 1:
        raise broken(
            event,
            f"a run finishes after its last batch ({total - 1}), and the last finished is "
            f"{run.last_completed}",
        )
    counts = (run.exported, run.skipped, run.failed)
    if (event.exported, event.skipped, event.failed) != counts:
        raise broken(event, _count_rule("run", event, counts))
    w.set_run(replace(run, finished=event))


def _count_rule(what: str, event: BatchFinished | RunFinished, counts: tuple[int, ...]) -> str:
    said = (event.exported, event.skipped, event.failed)
    return (
        f"its counts (exported, skipped, failed) = {said} match the {what}'s outcomes, "
        f"which are {counts}"
    )
