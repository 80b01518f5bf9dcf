"""``apply`` for the events of one DM inside the open batch: open, export, skip, close."""

from __future__ import annotations

from msgspec.structs import replace

from ._model import BatchProgress, DmProgress, Outcome, RunState, State
from ._rules import broken, dm_by_channel, dm_by_user, open_batch, undecided, with_dm
from .events import (
    ChannelExported,
    ChannelInfo,
    DmClosed,
    DmCloseRequested,
    DmOpened,
    DmOpenRequested,
    DmSkipped,
    Event,
    ExportFailed,
    ExportRequested,
    UserInfo,
)

__all__ = [
    "channel_exported",
    "dm_close_requested",
    "dm_closed",
    "dm_open_requested",
    "dm_opened",
    "dm_skipped",
    "export_failed",
    "export_requested",
]


def export_requested(state: State, event: ExportRequested) -> State:
    run, batch = open_batch(state, event, event.batch)
    if event.user_id:
        i, dm = dm_by_user(run, batch, event, event.user_id)
    else:
        i, dm = dm_by_channel(batch, event, event.channel_id)
    user = dm.entry.user_id
    undecided(event, dm)
    if dm.opening or dm.closing:
        doing = "opened" if dm.opening else "closed"
        raise broken(event, f"user {user}'s DM is being {doing}: an export waits for that")
    if event.channel_id not in (dm.opened, dm.open_at_start, dm.entry.channel_id):
        raise broken(event, f"channel {event.channel_id} is not user {user}'s DM")
    if event.attempt != dm.attempt + 1:
        raise broken(
            event,
            f"it is attempt {event.attempt} for user {user}, whose last was {dm.attempt}: "
            "attempts count up by one",
        )
    return with_dm(
        state, event, batch, i, replace(dm, exporting=event.channel_id, attempt=event.attempt)
    )


def channel_exported(state: State, event: ChannelExported) -> State:
    _, batch, i, dm = _pending_export(state, event, event.user_id, event.channel_id)
    outcome = Outcome(
        user_id=dm.entry.user_id,
        kind="exported",
        channel_id=event.channel_id,
        seq=event.seq,
        at=event.at,
        message_count=event.message_count,
        last_message_id=event.last_message_id,
        path=event.path,
    )
    return with_dm(state, event, batch, i, replace(dm, exporting=None, outcome=outcome))


def export_failed(state: State, event: ExportFailed) -> State:
    """A failure ends the DM unless it can be tried again (see ``ExportFailed``)."""
    run, batch, i, dm = _pending_export(state, event, event.user_id, event.channel_id)
    dm = replace(dm, exporting=None)
    if event.error_class == "transient":
        failures = dm.transient_failures + 1
        if failures < run.started.max_attempts:
            return with_dm(state, event, batch, i, replace(dm, transient_failures=failures))
        dm = replace(dm, transient_failures=failures)
    elif event.error_class == "permanent":
        direct = dm.opened is None and dm.open_at_start is None and not dm.direct_failed
        if dm.entry.kind == "dm" and direct:
            return with_dm(state, event, batch, i, replace(dm, direct_failed=True))
    else:  # fatal: the run pauses; resume tries again
        return with_dm(state, event, batch, i, dm)
    outcome = Outcome(
        user_id=dm.entry.user_id,
        kind="failed",
        channel_id=event.channel_id,
        seq=event.seq,
        at=event.at,
        reason=event.message,
        error_class=event.error_class,
    )
    return with_dm(state, event, batch, i, replace(dm, outcome=outcome))


def dm_open_requested(state: State, event: DmOpenRequested) -> State:
    run, batch = open_batch(state, event, event.batch)
    i, dm = dm_by_user(run, batch, event, event.user_id)
    undecided(event, dm)
    user = event.user_id
    if dm.entry.kind != "dm":
        raise broken(
            event,
            "only a 1-on-1 DM with a known user is reopened, never a group DM "
            f"or a deleted user's DM (user {user}'s is {dm.entry.kind!r})",
        )
    if dm.open_at_start is not None:
        raise broken(
            event,
            f"user {user}'s DM was open at the start: it is exported as it is, never reopened",
        )
    if dm.opened is not None or dm.exporting is not None:
        raise broken(event, f"user {user}'s DM is already open or being exported")
    return with_dm(state, event, batch, i, replace(dm, opening=True))


def dm_opened(state: State, event: DmOpened) -> State:
    run, batch = open_batch(state, event, event.batch)
    i, dm = dm_by_user(run, batch, event, event.user_id)
    if not dm.opening:
        raise broken(event, f"it answers no DmOpenRequested for user {event.user_id}")
    channel = event.channel or ChannelInfo(
        id=event.channel_id, type=1, recipients=(UserInfo(id=event.user_id),)
    )
    batch = replace(batch, seen=(*batch.seen, channel))
    return with_dm(state, event, batch, i, replace(dm, opening=False, opened=event.channel_id))


def dm_skipped(state: State, event: DmSkipped) -> State:
    run, batch = open_batch(state, event, event.batch)
    i, dm = dm_by_user(run, batch, event, event.user_id)
    undecided(event, dm)
    if dm.exporting is not None:
        raise broken(event, f"user {event.user_id}'s DM is being exported: wait for the outcome")
    outcome = Outcome(
        user_id=event.user_id,
        kind="skipped",
        channel_id=dm.entry.channel_id,
        seq=event.seq,
        at=event.at,
        reason=event.reason,
    )
    return with_dm(state, event, batch, i, replace(dm, opening=False, outcome=outcome))


def dm_close_requested(state: State, event: DmCloseRequested) -> State:
    _, batch = open_batch(state, event, event.batch)
    i, dm = _opened(batch, event, event.channel_id)
    if dm.exporting is not None:
        raise broken(event, f"channel {event.channel_id} is being exported: close it after")
    return with_dm(state, event, batch, i, replace(dm, closing=True))


def dm_closed(state: State, event: DmClosed) -> State:
    _, batch = open_batch(state, event, event.batch)
    i, dm = _opened(batch, event, event.channel_id)
    if not dm.closing:
        raise broken(event, f"it answers no DmCloseRequested for channel {event.channel_id}")
    return with_dm(state, event, batch, i, replace(dm, opened=None, closing=False))


def _opened(batch: BatchProgress, event: Event, channel_id: str) -> tuple[int, DmProgress]:
    for i, dm in enumerate(batch.dms):
        if dm.opened == channel_id:
            return i, dm
    raise broken(
        event,
        f"dmj closes only a channel it opened in this batch and has not closed yet, never a "
        f"group DM or a DM that was open at the start (channel {channel_id} is none of those)",
    )


def _pending_export(
    state: State, event: ChannelExported | ExportFailed, user_id: str, channel_id: str
) -> tuple[RunState, BatchProgress, int, DmProgress]:
    run, batch = open_batch(state, event, event.batch)
    i, dm = dm_by_user(run, batch, event, user_id)
    if dm.exporting != channel_id:
        raise broken(
            event,
            f"it answers no ExportRequested: no export of channel {channel_id} "
            f"is pending for user {user_id}",
        )
    return run, batch, i, dm
