"""Ports for driving the real driver in-process: the emulator's Discord, a DCE-lite exporter
that reads the emulator, an in-memory journal that can crash after record k, and a recorder.

Everything runs on the test's event loop (trio, virtual time), so a run of a whole world takes
milliseconds; the real DCE and journal are exercised by ``tests/e2e``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from random import Random

import anyio
import httpx
from dmj.adapters import FAST, DiscordClient
from dmj.machine.driver import DriverSettings, Ports, RunEnd, drive
from dmj.machine.errors import ChannelExportError
from dmj.machine.events import (
    AnyEvent,
    ChannelInfo,
    DceInfo,
    ErrorClass,
    PackageInfo,
    RunStarted,
    UserInfo,
)
from dmj.machine.package import PackageDm
from dmj.machine.plan import start_run
from dmj.machine.ports import ExportedChannel, Unreadable
from dmj.machine.state import State, fold
from dmj.machine.steps import AnyStep
from dmj.sandbox import IN_PROCESS_BASE, Emulator, World, emulator_transport

from tests.machine.simulate import stamp

__all__ = [
    "Crashed",
    "Driving",
    "EmulatorExporter",
    "MemoryLog",
    "Recorder",
    "RecordingDiscord",
    "driving",
    "world_run",
]


class Crashed(BaseException):
    """The journal 'died' right after a record was made durable (SIGKILL, in-process)."""


@dataclass
class Recorder:
    """One timeline of what happened: journal appends and effects, in order (and the
    driver's ``Progress`` port, which it ignores)."""

    timeline: list[str] = field(default_factory=list)

    def step(self, state: State, step: AnyStep) -> None:
        pass

    def recorded(self, state: State, event: AnyEvent) -> None:
        pass


class MemoryLog:
    """A journal in a list: stamps seq and at as ``JournalWriter`` does."""

    def __init__(
        self, recorder: Recorder, events: list[AnyEvent] | None = None, crash_after: int = 0
    ) -> None:
        self.events = list(events or [])
        self.recorder = recorder
        self.crash_after = crash_after

    def append(self, event: AnyEvent) -> AnyEvent:
        stamped = stamp(event, len(self.events) + 1)
        self.events.append(stamped)
        self.recorder.timeline.append(f"journal {type(event).__name__}")
        if stamped.seq == self.crash_after:
            raise Crashed
        return stamped


class RecordingDiscord:
    """The real ``DiscordClient``, noting each effect on the recorder's timeline."""

    def __init__(self, client: DiscordClient, recorder: Recorder) -> None:
        self.client = client
        self.recorder = recorder

    async def open_dms(self) -> tuple[ChannelInfo, ...]:
        return await self.client.open_dms()

    async def reopen_dm(self, user_id: str) -> ChannelInfo:
        self.recorder.timeline.append(f"reopen {user_id}")
        return await self.client.reopen_dm(user_id)

    async def close_dm(self, channel: ChannelInfo) -> ChannelInfo:
        self.recorder.timeline.append(f"close {channel.id}")
        return await self.client.close_dm(channel)

    async def check_readable(self, channel_id: str) -> Unreadable | None:
        self.recorder.timeline.append(f"probe {channel_id}")
        return await self.client.check_readable(channel_id)


class EmulatorExporter:
    """DCE-lite: a channel exports when the emulator lets its messages be read.

    ``script`` maps a channel id to error classes its next attempts fail with (then it
    works); ``on_export`` runs before each export (to press Ctrl-C mid-step, say).
    """

    def __init__(self, emulator: Emulator, http: httpx.AsyncClient, recorder: Recorder) -> None:
        self.emulator = emulator
        self.http = http
        self.recorder = recorder
        self.script: dict[str, list[ErrorClass]] = {}
        self.on_export: Callable[[str], None] = lambda channel: None
        self.calls: list[tuple[str, float]] = []

    async def export(
        self, channel_id: str, *, after: str | None, export_id: str
    ) -> ExportedChannel:
        self.recorder.timeline.append(f"export {channel_id}")
        self.calls.append((channel_id, anyio.current_time()))
        self.on_export(channel_id)
        await anyio.sleep(1.0)  # DCE takes its time
        if failures := self.script.get(channel_id):
            error_class = failures.pop(0)
            raise ChannelExportError(
                f"DCE failed ({error_class})", channel_id=channel_id, error_class=error_class
            )
        answer = await self.http.get(f"/channels/{channel_id}/messages", params={"limit": 1})
        if answer.status_code in (403, 404):
            why = "forbids reading" if answer.status_code == 403 else "does not find"
            raise ChannelExportError(
                f"DiscordChatExporter could not export channel {channel_id}: Discord {why} "
                "this channel (exit code 1). The channel cannot be read as it is.",
                channel_id=channel_id,
                error_class="permanent",
            )
        channel = self.emulator.book.channels[channel_id]
        last = self.emulator.api.log(channel).last_id
        return ExportedChannel(
            path=f"exports/{channel_id}/{export_id}",
            message_count=self.emulator.message_count(channel_id),
            last_message_id=None if last is None else str(last),
        )


def world_run(
    world: World, dms: tuple[PackageDm, ...], *, batch_size: int = 4, run: str = "run-1"
) -> RunStarted:
    """The ``RunStarted`` of a run over ``dms`` of ``world``."""
    me = world.self_user
    return start_run(
        run=run,
        dms=dms,
        batch_size=batch_size,
        strategy="direct-first",
        package=PackageInfo(path="/pkg", fingerprint="sha256:00", self_id=me.id),
        dce=DceInfo(path="/dce", version="2.47.0"),
        user=UserInfo(id=me.id, username=me.username, global_name=me.global_name),
        pace="fast",
    )


@dataclass
class Driving:
    """Drives runs of one world against one emulator; ``log`` is the journal so far."""

    emulator: Emulator
    recorder: Recorder
    log: MemoryLog
    discord: RecordingDiscord
    exporter: EmulatorExporter
    stop: anyio.Event
    checkpoints: list[int] = field(default_factory=list)
    failure_streak: int = 5

    def ports(self) -> Ports:
        return Ports(
            log=self.log,
            discord=self.discord,
            exporter=self.exporter,
            checkpoint=lambda state: self.checkpoints.append(state.through_seq),
            progress=self.recorder,
        )

    async def go(self, start: RunStarted | None = None, *, crash_after: int = 0) -> RunEnd:
        """Drive from the journal so far (``start``: a new run first)."""
        self.log.crash_after = crash_after
        settings = DriverSettings(retry_wait=FAST.backoff_wait, failure_streak=self.failure_streak)
        state = fold(self.log.events)
        return await drive(state, self.ports(), settings=settings, stop=self.stop, start=start)


@asynccontextmanager
async def driving(emulator: Emulator) -> AsyncIterator[Driving]:
    recorder = Recorder()
    transport = emulator_transport(emulator)
    headers = {"Authorization": emulator.world.token}
    async with httpx.AsyncClient(
        transport=transport, base_url=IN_PROCESS_BASE, headers=headers
    ) as http:
        client = DiscordClient(
            http, emulator.world.token, random=Random(1), pacing=FAST, api_base=IN_PROCESS_BASE
        )
        yield Driving(
            emulator=emulator,
            recorder=recorder,
            log=MemoryLog(recorder),
            discord=RecordingDiscord(client, recorder),
            exporter=EmulatorExporter(emulator, http, recorder),
            stop=anyio.Event(),
        )
