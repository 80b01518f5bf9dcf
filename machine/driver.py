"""The async driver: decide → journal the intent → act through a port → journal the outcome.

The loop is the whole of dmj's reliability story (docs/run.md). Before any outside effect
(a reopen, a close, a DCE export) its intent is journaled and fsynced; after it, its outcome.
The state is the journal folded (``apply``), and ``decide`` names the next step from it, so
a driver started on a replayed journal carries on exactly where the last one stopped: an
intent without its outcome is repeated, a finished step never is.

Every event is checked against the run's rules (``apply``) *before* it is journaled, so a
bug raises ``RuleBroken`` with nothing written. The driver stops in three ways (``RunEnd``):

- ``finished``: ``RunFinished`` is journaled (or the run had finished already);
- ``paused``: Discord or DCE said stop (captcha, token rejected, Cloudflare, rate limits, DCE
  failing too often in a row); ``RunPaused`` is journaled and nothing more is sent;
- ``interrupted``: ``stop`` was set (the first Ctrl-C). The step in progress finishes (but a
  DCE export is stopped at once: it is repeated on resume anyway), every DM this batch opened
  is closed, and ``RunPaused("interrupted")`` is journaled.

Cancelling the driver (the second Ctrl-C) stops it at once: the journal then ends in an
intent or an outcome, which is just as resumable.

The driver reaches the world only through ``Ports`` (``dmj.machine.ports``) and imports
none of the layers above ``machine``; it is the one machine module that may use anyio.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Literal

import anyio
import msgspec

from .decide import closes_before_stopping, decide
from .errors import (
    ChannelExportError,
    DiscordPaused,
    InvariantBroken,
    Paused,
    RemoteUnavailable,
    SkipDm,
)
from .events import (
    AnyEvent,
    ChannelExported,
    ChannelInfo,
    DmClosed,
    DmOpened,
    DmSkipped,
    ErrorClass,
    ExportFailed,
    OpenDmsCaptured,
    RunPaused,
    RunStarted,
)
from .ports import ExportedChannel, Ports, export_id
from .state import State, apply
from .steps import (
    AnyStep,
    CaptureOpenDms,
    CloseDm,
    ExportChannel,
    FinishBatch,
    FinishRun,
    Idle,
    OpenDm,
)

__all__ = ["DriverSettings", "EndKind", "Ports", "RunEnd", "drive"]

EndKind = Literal["finished", "paused", "interrupted"]

SKIP_REASONS = {
    "invalid-recipient": "the account is deleted or cannot be reached (Discord 400/50033)",
    "not-found": "Discord does not know this user (404)",
}
"""``DmSkipped.reason``, a short sentence for the run's summary, by ``SkipDm.reason``."""


class RunEnd(msgspec.Struct, frozen=True, kw_only=True):
    """How a drive ended. ``reason`` is the ``RunPaused`` reason; ``message`` says what
    happened and what to do, for people."""

    kind: EndKind
    state: State
    reason: str = ""
    message: str = ""


@dataclass(frozen=True)
class DriverSettings:
    """``retry_wait(n)``: seconds to wait before trying a DM again after its n-th transient
    export failure. ``failure_streak``: transient export failures in a row (no export
    succeeding between them) after which the run pauses instead of burning through the plan."""

    retry_wait: Callable[[int], float]
    failure_streak: int = 5


async def drive(
    state: State,
    ports: Ports,
    *,
    settings: DriverSettings,
    stop: anyio.Event,
    start: RunStarted | None = None,
) -> RunEnd:
    """Work from ``state`` (the journal replayed) until the run finishes, pauses or stops.

    ``start``: journal this ``RunStarted`` first (a new run). ``stop``: set it to stop after
    the current step (Ctrl-C).
    """
    driver = _Driver(state, ports, settings, stop)
    if start is not None:
        driver.journal(start)
        ports.checkpoint(driver.state)
    return await driver.run()


class _Driver:
    def __init__(
        self, state: State, ports: Ports, settings: DriverSettings, stop: anyio.Event
    ) -> None:
        self.state = state
        self.ports = ports
        self.settings = settings
        self.stop = stop
        self.streak = 0

    @property
    def run_id(self) -> str:
        return self.state.run.id if self.state.run is not None else ""

    def journal(self, event: AnyEvent) -> AnyEvent:
        """Check ``event`` against the rules, journal it, and fold it into the state."""
        apply(self.state, event)  # raises RuleBroken before anything is written
        stamped = self.ports.log.append(event)
        self.state = apply(self.state, stamped)
        self.ports.progress.recorded(self.state, stamped)
        return stamped

    async def run(self) -> RunEnd:
        while True:
            step = decide(self.state)
            if isinstance(step, Idle):
                return RunEnd(kind="finished", state=self.state)
            if self.stop.is_set():
                return await self.interrupt()
            self.ports.progress.step(self.state, step)
            try:
                end = await self.take(step)
            except DiscordPaused as error:
                return self.pause(error.reason, str(error))
            except Paused as error:
                return self.pause("paused", str(error))
            except RemoteUnavailable as error:
                return self.pause("discord-unavailable", str(error))
            if end is not None:
                return end

    async def take(self, step: AnyStep) -> RunEnd | None:
        """Journal ``step``'s intent, do it, journal its outcome; a ``RunEnd`` stops the run."""
        intent = step.intent(self.run_id)
        seq = self.journal(intent).seq if intent is not None else 0
        match step:
            case CaptureOpenDms():
                channels = await self.ports.discord.open_dms()
                self.journal(OpenDmsCaptured(run=self.run_id, channels=channels))
            case OpenDm():
                await self.open(step)
            case ExportChannel():
                return await self.export(step, export_id=export_id(self.run_id, seq))
            case CloseDm():
                await self.close(step)
            case FinishBatch() | FinishRun():
                self.ports.checkpoint(self.state)
        return None

    async def open(self, step: OpenDm) -> None:
        try:
            channel = await self.ports.discord.reopen_dm(step.user_id)
        except SkipDm as skip:
            reason = SKIP_REASONS.get(skip.reason, skip.reason)
            self.journal(
                DmSkipped(
                    run=self.run_id, batch=step.batch, user_id=step.user_id, reason=reason,
                    status=skip.status, code=skip.code,
                )
            )  # fmt: skip
            return
        self.journal(
            DmOpened(
                run=self.run_id, batch=step.batch, user_id=step.user_id, channel_id=channel.id,
                package_channel_id=step.package_channel_id, channel=channel,
            )
        )  # fmt: skip

    async def close(self, step: CloseDm) -> None:
        channel = self.channel(step.channel_id)
        with contextlib.suppress(SkipDm):  # Discord does not know it: nothing is left open
            await self.ports.discord.close_dm(channel)
        self.journal(DmClosed(run=self.run_id, batch=step.batch, channel_id=step.channel_id))

    def channel(self, channel_id: str) -> ChannelInfo:
        """The channel as Discord handed it back when dmj opened it. Unknown means never
        close (guessing "a DM" could leave a group for good): a bug, which stops the run with
        nothing sent, the channel as it is and the close's intent last in the journal."""
        seen = self.state.batch.seen if self.state.batch is not None else ()
        found = next((channel for channel in seen if channel.id == channel_id), None)
        if found is None:
            raise InvariantBroken(
                f"dmj was about to close channel {channel_id}, which this batch has no record "
                "of opening; dmj never closes a channel it cannot tell from a group DM. Nothing "
                "was sent and the channel is left as it is; this is a bug in dmj."
            )
        return found

    async def export(self, step: ExportChannel, *, export_id: str) -> RunEnd | None:
        channel = step.channel_id
        try:
            if step.probe and (refused := await self.ports.discord.check_readable(channel)):
                # what DCE's own "forbidden"/"not found" would say, without starting DCE
                self.journal(self.failure(step, "permanent", refused.message, read_check=True))
                return None
            done = await self.until_stopped(
                partial(self.ports.exporter.export, channel, after=step.after, export_id=export_id)
            )
        except ChannelExportError as error:
            return await self.export_failed(step, error)
        if done is None:  # "fatal" pauses without using up an attempt; the loop then stops
            message = (
                f"Stopped at your request (Ctrl-C) while DiscordChatExporter exported channel "
                f"{channel}; `dmj resume` exports it again."
            )
            self.journal(self.failure(step, "fatal", message))
            return None
        self.streak = 0
        self.journal(
            ChannelExported(
                run=self.run_id, batch=step.batch, channel_id=step.channel_id,
                user_id=step.user_id, path=done.path, message_count=done.message_count,
                last_message_id=done.last_message_id, files=done.files,
            )
        )  # fmt: skip
        return None

    async def until_stopped(
        self, export: Callable[[], Awaitable[ExportedChannel]]
    ) -> ExportedChannel | None:
        """``export()``, cut short when ``stop`` is set (the first Ctrl-C): None then. A DCE
        export can take many minutes and resume repeats it anyway; cancelled, the exporter
        kills and reaps DCE."""
        done: ExportedChannel | None = None
        if self.stop.is_set():
            return done
        try:
            async with anyio.create_task_group() as tasks:

                async def cancel_on_stop() -> None:
                    await self.stop.wait()
                    tasks.cancel_scope.cancel()

                tasks.start_soon(cancel_on_stop)
                done = await export()
                tasks.cancel_scope.cancel()
        except BaseExceptionGroup as group:  # the export's own error, as if called directly
            raise group.exceptions[0] if len(group.exceptions) == 1 else group from None
        return done

    def failure(
        self, step: ExportChannel, error: ErrorClass, message: str, *, read_check: bool = False
    ) -> ExportFailed:
        return ExportFailed(
            run=self.run_id, batch=step.batch, channel_id=step.channel_id, user_id=step.user_id,
            error_class=error, message=message, attempts=step.attempt, read_check=read_check,
        )  # fmt: skip

    async def export_failed(self, step: ExportChannel, error: ChannelExportError) -> RunEnd | None:
        self.journal(self.failure(step, error.error_class, str(error)))
        if error.error_class == "fatal":
            return self.pause("exporter-fatal", str(error))
        if error.error_class == "permanent":
            return None
        self.streak += 1
        if self.streak >= self.settings.failure_streak:
            return self.pause(
                "export-failures",
                f"DiscordChatExporter failed {self.streak} times in a row, so dmj stops "
                "instead of marking DM after DM as failed. Check DCE (--dce) and the network, "
                f"then run `dmj resume`. The last failure: {error}",
            )
        await self.back_off(step.user_id)
        return None

    async def back_off(self, user_id: str) -> None:
        """Before a DM's next attempt, wait (a Ctrl-C cuts the wait short)."""
        batch = self.state.batch
        dm = batch.dm(user_id) if batch else None
        if dm is None or dm.outcome is not None:
            return
        with anyio.move_on_after(self.settings.retry_wait(dm.transient_failures)):
            await self.stop.wait()

    def pause(self, reason: str, message: str, kind: EndKind = "paused") -> RunEnd:
        self.journal(RunPaused(run=self.run_id, reason=reason))
        self.ports.checkpoint(self.state)
        return RunEnd(kind=kind, state=self.state, reason=reason, message=message)

    async def interrupt(self) -> RunEnd:
        """Close what this batch opened, journal the stop, write the projections."""
        for close in closes_before_stopping(self.state):
            self.ports.progress.step(self.state, close)
            try:
                await self.take(close)
            except (Paused, RemoteUnavailable):
                break  # journaled as open: resume closes it
        return self.pause(
            "interrupted", "Stopped at your request; resume with `dmj resume`.", "interrupted"
        )
