"""``decide(state) -> Step``: the single source of "what next".

Given the state folded from the journal, ``decide`` names the one step to take next. Resume is
``decide(fold(journal))``, so the rules below are what makes a crash anywhere harmless:

- an intent journaled without its outcome is repeated (opening and closing are idempotent; a
  repeated export is a new attempt);
- a channel dmj opened is closed as soon as its DM has an outcome, and before anything else;
- an interrupted batch is finished (DMs with an outcome are not touched again) before
  ``lastCompletedBatch + 1`` starts; after ``RunFinished`` there is nothing to do.

Per DM (design.md §2): a DM open at the start, a group DM and a deleted user's DM are exported
by channel id only; a closed 1-on-1 DM is tried directly first (strategy ``direct-first``) and
reopened only after a permanent failure, or reopened first (strategy ``reopen``). Exports of a
channel an earlier run archived ask only for messages ``after`` the last one archived, unless
the run found that channel's archived exports damaged (``RunStarted.from_scratch``). An export
of a channel that was neither open at the start nor opened by dmj is probed first (``probe``):
one request says whether DCE can read it at all.
"""

from __future__ import annotations

from ._model import BatchProgress, DmProgress, Memory, RunState, State, count_outcomes
from .plan import failed_entries
from .steps import (
    AnyStep,
    CaptureOpenDms,
    CloseDm,
    ExportChannel,
    FinishBatch,
    FinishRun,
    Idle,
    OpenDm,
    StartBatch,
)

__all__ = ["closes_before_stopping", "decide"]


def decide(state: State) -> AnyStep:
    """The next step for the archive whose journal folds into ``state``."""
    run = state.run
    if run is None:
        return Idle(reason="no-run")
    if run.finished is not None:
        return Idle(reason="run-finished", retry=len(failed_entries(run)))
    if run.capture is None:
        return CaptureOpenDms()
    batch = state.batch
    if batch is not None:
        return _within_batch(run, state.memory, batch)
    following = run.last_completed + 1
    if following < run.started.total_batches:
        users = tuple(entry.user_id for entry in run.batch_entries(following))
        return StartBatch(batch=following, user_ids=users)
    return FinishRun(exported=run.exported, skipped=run.skipped, failed=run.failed)


def closes_before_stopping(state: State) -> tuple[CloseDm, ...]:
    """The closes a driver does before it stops early (Ctrl-C).

    Every channel dmj opened in the open batch and is not exporting right now; a DM closed
    this way before its outcome is reopened on resume.
    """
    batch = state.batch
    if batch is None:
        return ()
    return tuple(
        _close(batch, dm, dm.opened)
        for dm in batch.dms
        if dm.opened is not None and dm.exporting is None
    )


def _within_batch(run: RunState, memory: Memory, batch: BatchProgress) -> AnyStep:
    for dm in batch.dms:
        if dm.opened is not None and (dm.closing or dm.outcome is not None):
            return _close(batch, dm, dm.opened)
    for dm in batch.dms:
        if dm.outcome is None:
            return _next_for_dm(run, memory, batch.batch, dm)
    exported, skipped, failed = count_outcomes(batch.outcomes())
    return FinishBatch(batch=batch.batch, exported=exported, skipped=skipped, failed=failed)


def _next_for_dm(run: RunState, memory: Memory, batch: int, dm: DmProgress) -> AnyStep:
    entry = dm.entry
    if dm.opening:
        return _open(batch, dm)
    target = dm.exporting or dm.opened or dm.open_at_start
    if target is None:
        if entry.kind == "dm" and (run.started.strategy == "reopen" or dm.direct_failed):
            return _open(batch, dm)
        target = entry.channel_id
    status = memory.status.get(target)
    if target in run.started.from_scratch:
        status = None  # its archived exports are damaged: export it whole
    return ExportChannel(
        batch=batch,
        user_id=entry.user_id,
        channel_id=target,
        attempt=dm.attempt + 1,
        checks=dm.checks,
        name=entry.name,
        after=status.last_message_id if status is not None else None,
        probe=dm.opened is None and dm.open_at_start is None,
    )


def _open(batch: int, dm: DmProgress) -> OpenDm:
    entry = dm.entry
    return OpenDm(
        batch=batch, user_id=entry.user_id, package_channel_id=entry.channel_id, name=entry.name
    )


def _close(batch: BatchProgress, dm: DmProgress, channel: str) -> CloseDm:
    entry = dm.entry
    return CloseDm(batch=batch.batch, user_id=entry.user_id, channel_id=channel, name=entry.name)
