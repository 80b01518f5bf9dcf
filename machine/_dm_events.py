"""``apply`` for the events of one DM inside the open batch: open, export, skip, close.

Each handler checks its rules first, then changes the working copy (see ``_working``).
"""

from __future__ import annotations

from msgspec.structs import replace

from ._model import DmProgress, Outcome
from ._rules import broken, dm_by_channel, dm_of, open_batch_no, undecided
from ._working import Working
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


def export_requested(w: Working, event: ExportRequested) -> None:
    dm = w.dms.get(event.user_id)
    if dm is None or event.batch != w.batch_no or event.run != w.run_id:
        dm = _requesting(w, event)
    entry = dm.entry
    if dm.outcome is not None or dm.opening or dm.closing:
        _not_now(event, dm)
    channel = entry.channel_id  # the state keeps the plan's string, not one more copy
    if event.channel_id != channel:
        channel = _other_channel(dm, event)
    attempt = event.attempt
    if attempt != dm.attempt + 1:
        raise broken(
            event,
            f"it is attempt {attempt} for user {entry.user_id}, whose last was {dm.attempt}: "
            "attempts count up by one",
        )
    w.dms[entry.user_id] = replace(dm, exporting=channel, export_seq=event.seq, attempt=attempt)


def _other_channel(dm: DmProgress, event: ExportRequested) -> str:
    """The DM's channel ``event`` names when it is not the package's: the one dmj opened, or
    the one open at the start (the DM's own copy of the id)."""
    channel = event.channel_id
    if dm.opened is not None and channel == dm.opened:
        return dm.opened
    if dm.open_at_start is not None and channel == dm.open_at_start:
        return dm.open_at_start
    raise broken(event, f"channel {channel} is not user {dm.entry.user_id}'s DM")


def _requesting(w: Working, event: ExportRequested) -> DmProgress:
    """The DM an export is asked for: by user, or (older records) by channel."""
    if event.user_id:
        return dm_of(w, event, event.batch, event.user_id)
    return dm_by_channel(w, event, event.batch, event.channel_id)


def _not_now(event: ExportRequested, dm: DmProgress) -> None:
    undecided(event, dm)
    doing = "opened" if dm.opening else "closed"
    raise broken(event, f"user {dm.entry.user_id}'s DM is being {doing}: an export waits for that")


def channel_exported(w: Working, event: ChannelExported) -> None:
    dm = w.dms.get(event.user_id)
    if (  # _pending_export's common case, inlined: the hottest handler of replay
        dm is None
        or dm.exporting != event.channel_id
        or event.batch != w.batch_no
        or event.run != w.run_id
    ):
        dm = _pending_export(w, event)
    user = dm.entry.user_id
    channel = dm.exporting or event.channel_id
    package = dm.entry.channel_id
    outcome = Outcome(
        user_id=user,
        kind="exported",
        channel_id=channel,
        seq=event.seq,
        at=event.at,
        message_count=event.message_count,
        last_message_id=event.last_message_id,
        path=event.path,
        files=event.files,
        refused_channel_id=package if dm.direct_failed and channel != package else None,
    )
    w.dms[user] = replace(dm, exporting=None, outcome=outcome)


def export_failed(w: Working, event: ExportFailed) -> None:
    """A failure ends the DM unless it can be tried again (see ``ExportFailed``)."""
    dm = _pending_export(w, event)
    user = dm.entry.user_id
    failures = dm.transient_failures
    if event.error_class == "transient":
        failures += 1
        if w.run is not None and failures < w.run.started.max_attempts:
            w.dms[user] = replace(dm, exporting=None, transient_failures=failures)
            return
    elif event.error_class == "permanent":
        direct = dm.opened is None and dm.open_at_start is None and not dm.direct_failed
        if dm.entry.kind == "dm" and direct:
            checks = dm.checks + event.read_check
            w.dms[user] = replace(dm, exporting=None, direct_failed=True, checks=checks)
            return
    else:  # fatal: the run pauses; resume tries again
        w.dms[user] = replace(dm, exporting=None)
        return
    outcome = Outcome(
        user_id=user,
        kind="failed",
        channel_id=dm.exporting or event.channel_id,
        seq=event.seq,
        at=event.at,
        reason=event.message,
        error_class=event.error_class,
    )
    w.dms[user] = replace(dm, exporting=None, transient_failures=failures, outcome=outcome)


def dm_open_requested(w: Working, event: DmOpenRequested) -> None:
    user = event.user_id
    dm = dm_of(w, event, event.batch, user)
    undecided(event, dm)
    if dm.entry.kind != "dm":
        raise broken(
            event,
            "only a 1-on-1 DM with a known user is reopened, never a group DM or a deleted "
            f"user's DM (user {user}'s is {dm.entry.kind!r})",
        )
    if dm.open_at_start is not None:
        raise broken(
            event,
            f"user {user}'s DM was open at the start: it is exported as it is, never reopened",
        )
    if dm.opened is not None or dm.exporting is not None:
        raise broken(event, f"user {user}'s DM is already open or being exported")
    w.dms[user] = replace(dm, opening=True)


def dm_opened(w: Working, event: DmOpened) -> None:
    user = event.user_id
    dm = dm_of(w, event, event.batch, user)
    if not dm.opening:
        raise broken(event, f"it answers no DmOpenRequested for user {user}")
    channel = event.channel or ChannelInfo(
        id=event.channel_id, type=1, recipients=(UserInfo(id=user),)
    )
    w.seen.append(channel)
    w.dms[user] = replace(dm, opening=False, opened=event.channel_id)


def dm_skipped(w: Working, event: DmSkipped) -> None:
    user = event.user_id
    dm = dm_of(w, event, event.batch, user)
    undecided(event, dm)
    if dm.exporting is not None:
        raise broken(event, f"user {user}'s DM is being exported: wait for the outcome")
    outcome = Outcome(
        user_id=dm.entry.user_id,
        kind="skipped",
        channel_id=dm.entry.channel_id,
        seq=event.seq,
        at=event.at,
        reason=event.reason,
    )
    w.dms[user] = replace(dm, opening=False, outcome=outcome)


def dm_close_requested(w: Working, event: DmCloseRequested) -> None:
    dm = _opened(w, event, event.batch, event.channel_id)
    if dm.exporting is not None:
        raise broken(event, f"channel {event.channel_id} is being exported: close it after")
    w.dms[dm.entry.user_id] = replace(dm, closing=True)


def dm_closed(w: Working, event: DmClosed) -> None:
    dm = _opened(w, event, event.batch, event.channel_id)
    if not dm.closing:
        raise broken(event, f"it answers no DmCloseRequested for channel {event.channel_id}")
    w.dms[dm.entry.user_id] = replace(dm, opened=None, closing=False)


def _opened(w: Working, event: Event, batch_no: int, channel: str) -> DmProgress:
    open_batch_no(w, event, batch_no)
    for dm in w.dms.values():
        if dm.opened == channel:
            return dm
    raise broken(
        event,
        "dmj closes only a channel it opened in this batch and has not closed yet, never a "
        f"group DM or a DM that was open at the start (channel {channel} is none of those)",
    )


def _pending_export(w: Working, event: ChannelExported | ExportFailed) -> DmProgress:
    """The DM whose export ``event`` answers."""
    dm = dm_of(w, event, event.batch, event.user_id)
    if dm.exporting != event.channel_id:
        raise broken(
            event,
            f"it answers no ExportRequested: no export of channel {event.channel_id} is "
            f"pending for user {event.user_id}",
        )
    return dm
