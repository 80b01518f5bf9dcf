"""The steps ``decide`` can ask for: the vocabulary between the pure core and the driver.

A step names one thing to do next. ``intent(run)`` is the event the driver journals (and
fsyncs) *before* doing it; after doing it, the driver journals the outcome:

=================  =======================  ===============================================
step               intent                   outcome events
=================  =======================  ===============================================
``CaptureOpenDms`` (none: only a GET)       ``OpenDmsCaptured``
``StartBatch``     ``BatchStarted``         (none)
``OpenDm``         ``DmOpenRequested``      ``DmOpened`` or ``DmSkipped``
``ExportChannel``  ``ExportRequested``      ``ChannelExported`` or ``ExportFailed``
``CloseDm``        ``DmCloseRequested``     ``DmClosed``
``FinishBatch``    ``BatchFinished``        (none; then write the projections)
``FinishRun``      ``RunFinished``          (none; then archive batch-state.json)
``Idle``           (none)                   (nothing to do)
=================  =======================  ===============================================

Steps are tagged Structs, so ``dmj replay --inspect --json`` prints them as they are.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from .events import (
    AnyEvent,
    BatchFinished,
    BatchStarted,
    DmCloseRequested,
    DmOpenRequested,
    ExportRequested,
    RunFinished,
)
from .plan import display_name

__all__ = [
    "AnyStep",
    "CaptureOpenDms",
    "CloseDm",
    "ExportChannel",
    "FinishBatch",
    "FinishRun",
    "Idle",
    "IdleReason",
    "OpenDm",
    "StartBatch",
    "Step",
]

IdleReason = Literal["no-run", "run-finished"]


class Step(msgspec.Struct, frozen=True, kw_only=True, tag_field="step"):
    """Base of the steps. ``tag_field="step"``: JSON names the step; frozen, kw-only values."""

    def intent(self, run: str) -> AnyEvent | None:
        """The event to journal before doing this step in run ``run`` (None: none)."""
        return None

    def describe(self) -> str:
        """One line for people: what this step does."""
        raise NotImplementedError


class Idle(Step, tag="idle", frozen=True, kw_only=True):
    """Nothing to do: no run has started, or the last run finished. ``retry``: DMs of that
    run that failed for a passing reason (``dmj resume`` starts a run that retries them)."""

    reason: IdleReason
    retry: int = 0

    def describe(self) -> str:
        if self.reason == "no-run":
            return "nothing to do: no run has started here (`dmj run --package PATH` starts one)"
        if self.retry:
            dms = f"{self.retry} DM{'' if self.retry == 1 else 's'}"
            return (
                f"the last run finished, but {dms} failed: `dmj resume` retries "
                f"{'it' if self.retry == 1 else 'them'} (`dmj run --package PATH` starts an "
                "incremental run)"
            )
        return (
            "nothing to do: the last run finished (`dmj run --package PATH` starts an "
            "incremental one)"
        )


class CaptureOpenDms(Step, tag="capture-open-dms", frozen=True, kw_only=True):
    """List the DMs open right now, before the first batch touches anything."""

    def describe(self) -> str:
        return "capture the DMs that are open now, before the first batch"


class StartBatch(Step, tag="start-batch", frozen=True, kw_only=True):
    batch: int
    user_ids: tuple[str, ...]

    def intent(self, run: str) -> AnyEvent:
        return BatchStarted(run=run, batch=self.batch, user_ids=self.user_ids)

    def describe(self) -> str:
        return f"start batch {self.batch + 1} ({len(self.user_ids)} DMs)"


class OpenDm(Step, tag="open-dm", frozen=True, kw_only=True):
    """Reopen a closed 1-on-1 DM (``POST /users/@me/channels``)."""

    batch: int
    user_id: str
    package_channel_id: str
    name: str

    def intent(self, run: str) -> AnyEvent:
        return DmOpenRequested(run=run, batch=self.batch, user_id=self.user_id)

    def describe(self) -> str:
        return f"reopen the DM with {display_name(self.name)} (user {self.user_id})"


class ExportChannel(Step, tag="export-channel", frozen=True, kw_only=True):
    """Export one channel with DCE; ``after``: only messages newer than this id.

    ``probe``: first ask Discord, with one request, whether the account may read the channel
    (a channel neither open at the start nor opened by dmj: a closed DM by its package id, a
    left group); DCE runs only if it may, else the attempt fails as DCE's own *forbidden* or
    *not found* would, without the cost of starting DCE. ``checks``: the DM's earlier
    attempts the read probe ended (DCE never ran), left out of the attempt people read.
    """

    batch: int
    user_id: str
    channel_id: str
    attempt: int
    name: str
    after: str | None = None
    probe: bool = False
    checks: int = 0

    def intent(self, run: str) -> AnyEvent:
        return ExportRequested(
            run=run,
            batch=self.batch,
            channel_id=self.channel_id,
            attempt=self.attempt,
            user_id=self.user_id,
            after=self.after,
        )

    def describe(self) -> str:
        """The step in words; the attempt counts DCE runs (``checks`` left out)."""
        after = f", after message {self.after}" if self.after else ""
        channel = f"{self.name} (channel {self.channel_id})"
        if self.probe:
            what = f"check that {channel} is readable, then export it"
        else:
            what = f"export {channel}"
        return f"{what}, attempt {self.attempt - self.checks}{after}"


class CloseDm(Step, tag="close-dm", frozen=True, kw_only=True):
    """Close a DM dmj opened (``DELETE /channels/{id}``): never a group, never one it found open."""

    batch: int
    user_id: str
    channel_id: str
    name: str

    def intent(self, run: str) -> AnyEvent:
        return DmCloseRequested(run=run, batch=self.batch, channel_id=self.channel_id)

    def describe(self) -> str:
        return f"close the DM with {self.name} (channel {self.channel_id}) that dmj opened"


class FinishBatch(Step, tag="finish-batch", frozen=True, kw_only=True):
    batch: int
    exported: int
    skipped: int
    failed: int

    def intent(self, run: str) -> AnyEvent:
        return BatchFinished(
            run=run,
            batch=self.batch,
            exported=self.exported,
            skipped=self.skipped,
            failed=self.failed,
        )

    def describe(self) -> str:
        done = self.exported + self.skipped + self.failed
        return f"finish batch {self.batch + 1} (each of its {done} DMs has its outcome)"


class FinishRun(Step, tag="finish-run", frozen=True, kw_only=True):
    exported: int
    skipped: int
    failed: int

    def intent(self, run: str) -> AnyEvent:
        return RunFinished(
            run=run, exported=self.exported, skipped=self.skipped, failed=self.failed
        )

    def describe(self) -> str:
        done = self.exported + self.skipped + self.failed
        return f"finish the run (each of its {done} DMs has its outcome)"


AnyStep = (
    Idle | CaptureOpenDms | StartBatch | OpenDm | ExportChannel | CloseDm | FinishBatch | FinishRun
)
"""Every step ``decide`` can return."""
