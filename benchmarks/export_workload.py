"""A big archive for the history benchmarks: DCE JSON files as the sandbox writes them, and
the journal of the run that recorded them.

``ensure_archive(root)`` builds it once and reuses it (a ``complete`` marker is written
last): 1,000,000 messages in 2,000 conversations, one of them 200,000 messages long (the
archive browser's deep-scroll case), the rest ~400 each. Messages come from the sandbox's
own generator (``MessageLog``) and are written with its DCE writer (``JsonExport``), two
processes at a time; the journal is a run that exports every conversation (all open at the
start), driven through ``decide`` so it folds like a real one. ``write_archive`` writes a
small one the same way, in one process (the archive browser's tests).
"""

from __future__ import annotations

import multiprocessing
import shutil
import time
from collections.abc import Sequence
from datetime import UTC
from pathlib import Path

import msgspec
from dmj.machine.events import AnyEvent, ChannelExported, ChannelInfo, UserInfo
from dmj.machine.package import PackageDm
from dmj.machine.steps import ExportChannel
from dmj.sandbox import MessageLog, WorldSpec, build_world
from dmj.sandbox._dce_json import DM_GUILD, JsonExport, channel_name, dce_message
from dmj.sandbox._shapes import api_user_by_id
from dmj.sandbox._world import World, WorldChannel

from benchmarks.journal_workload import write_events
from tests.machine.simulate import Simulation, run_started
from tests.machine.simulate import World as SimulatedWorld

__all__ = ["Workload", "ensure_archive", "workload", "write_archive"]

FORMAT = 1
"""Bump when what is generated changes: the cache key includes it."""


class Workload(msgspec.Struct, frozen=True):
    """What to generate: ``messages`` in ``conversations``, the first ``longest`` long."""

    messages: int = 1_000_000
    conversations: int = 2_000
    longest: int = 200_000
    seed: int = 12

    @property
    def key(self) -> str:
        return f"v{FORMAT}-{self.messages}-{self.conversations}-{self.longest}-{self.seed}"


def workload(messages: int, conversations: int) -> Workload:
    """The workload of ``messages`` in ``conversations`` (the longest a fifth of them)."""
    return Workload(messages=messages, conversations=conversations, longest=messages // 5)


def _world(work: Workload) -> tuple[World, list[WorldChannel]]:
    """The world and its ``conversations`` channels with their message counts set."""
    users = work.conversations
    spec = WorldSpec(seed=work.seed, users=users, groups=users // 20, messages=10,
                     duplicates=0, empty=0)  # fmt: skip
    world = build_world(spec)
    one_each: dict[tuple[str, ...], WorldChannel] = {}
    for channel in world.channels:  # one DM per user, as a plan has it
        if channel.type == 3 or len(channel.recipients) == 1:
            one_each.setdefault(channel.recipients if channel.type == 1 else (channel.id,), channel)
    chosen = sorted(one_each.values(), key=lambda c: int(c.id))[: work.conversations]
    if len(chosen) < work.conversations:
        raise ValueError(f"the world has only {len(chosen)} usable conversations")
    rest = work.messages - work.longest
    counts = [work.longest] + [
        rest // (work.conversations - 1) + (i < rest % (work.conversations - 1))
        for i in range(work.conversations - 1)
    ]
    channels = [
        msgspec.structs.replace(c, message_count=n, last_ms=max(c.last_ms, c.first_ms + 2000 * n))
        for c, n in zip(chosen, counts, strict=True)
    ]
    return world, channels


_FORKED: dict[str, object] = {}
"""What the forked writer processes inherit: the world, its channels, the archive."""


JOURNAL_FORMAT = 2
"""Bump when the journal changes: it is rewritten (in a second) without the messages."""


def ensure_archive(root: Path, work: Workload) -> Path:
    """The archive for ``work`` under ``root`` (built if it is not there yet)."""
    archive = root / work.key
    if (archive / "complete").is_file():
        marker = archive / f"journal-v{JOURNAL_FORMAT}"
        if not marker.is_file():
            write_events(archive / "journal.jsonl", _journal(*_world(work)))
            marker.write_text("")
        return archive
    shutil.rmtree(archive, ignore_errors=True)
    archive.mkdir(parents=True)
    started = time.perf_counter()
    world, channels = _world(work)
    events = _journal(world, channels)
    exported = {e.channel_id: e.path for e in events if isinstance(e, ChannelExported)}
    _FORKED.update(world=world, channels=channels, archive=archive)
    tasks = [(i, exported[c.id]) for i, c in enumerate(channels)]
    with multiprocessing.get_context("fork").Pool(2) as pool:
        for done, _ in enumerate(pool.imap_unordered(_write_channel, tasks, chunksize=4), 1):
            if done % 200 == 0:
                print(f"  generated {done}/{len(tasks)} conversations", flush=True)
    write_events(archive / "journal.jsonl", events)
    (archive / f"journal-v{JOURNAL_FORMAT}").write_text("")
    (archive / "complete").write_text(f"{time.perf_counter() - started:.0f} s\n")
    return archive


def write_archive(archive: Path, work: Workload) -> Path:
    """The archive for ``work`` at ``archive``, written in this process (a small one, for
    tests: 20,000 messages take a few seconds)."""
    world, channels = _world(work)
    events = _journal(world, channels)
    exported = {e.channel_id: e.path for e in events if isinstance(e, ChannelExported)}
    for channel in channels:
        write_dce_export(world, channel, archive / exported[channel.id])
    write_events(archive / "journal.jsonl", events)
    return archive


def _write_channel(task: tuple[int, str]) -> None:
    index, path = task
    world = _FORKED["world"]
    channels = _FORKED["channels"]
    archive = _FORKED["archive"]
    assert isinstance(world, World)
    assert isinstance(channels, list)
    assert isinstance(archive, Path)
    channel: WorldChannel = channels[index]
    write_dce_export(world, channel, archive / path)


def write_dce_export(world: World, channel: WorldChannel, folder: Path) -> Path:
    """``channel``'s messages as the DCE stand-in writes them (``--utc``), into ``folder``."""
    log = MessageLog(world, channel)
    name = channel_name(_api_channel(world, channel))
    head = {
        "guild": DM_GUILD,
        "channel": {
            "id": channel.id,
            "type": "DirectGroupTextChat" if channel.type == 3 else "DirectTextChat",
            "categoryId": None, "category": None, "name": name, "topic": None,
        },
        "dateRange": {"after": None, "before": None},
        "exportedAt": "2026-01-01T00:00:00+00:00",
    }  # fmt: skip
    path = folder / f"Direct Messages - {name} [{channel.id}].json".replace("/", "_")
    export = JsonExport(path, head, limit_messages=None, limit_bytes=None)
    export.begin()
    for i in range(channel.message_count):
        export.add(dce_message(log.message(i), UTC, lambda url, _size: url))
    export.close()
    return path


def _api_channel(world: World, channel: WorldChannel) -> dict[str, object]:
    recipients = [api_user_by_id(world, uid) for uid in channel.recipients]
    return {"id": channel.id, "name": channel.name, "recipients": recipients}


def _journal(world: World, channels: Sequence[WorldChannel]) -> list[AnyEvent]:
    """A run exporting every channel (all open at the start), through ``decide``."""
    infos = tuple(
        ChannelInfo(
            id=c.id, type=c.type, recipients=tuple(_user_info(world, u) for u in c.recipients)
        )
        for c in channels
    )
    dms = [
        PackageDm(channel_id=c.id, kind="group", user_id=None, recipient_ids=c.recipients,
                  name=c.name or "")
        if c.type == 3
        else PackageDm(channel_id=c.id, kind="dm", user_id=c.recipients[0],
                       recipient_ids=c.recipients, name=f"Direct Message with {c.recipients[0]}")
        for c in channels
    ]  # fmt: skip
    exporting = _Exporting(choose=lambda options: options[0], open_at_start=infos)
    exporting.world, exporting.channels = world, {c.id: c for c in channels}
    sim = Simulation(world=exporting)
    me = world.self_user
    started = run_started(dms, batch_size=20, run="bench-export")
    owner = UserInfo(id=me.id, username=me.username, global_name=me.global_name)
    package = msgspec.structs.replace(started.package, self_id=me.id)
    sim.start(msgspec.structs.replace(started, user=owner, package=package))
    sim.run_to_end(limit=10_000_000)
    return sim.events


def _user_info(world: World, user_id: str) -> UserInfo:
    user = world.user(user_id)
    if user is None:
        return UserInfo(id=user_id)
    return UserInfo(id=user.id, username=user.username, global_name=user.global_name)


class _Exporting(SimulatedWorld):
    """Every export succeeds, recording the folder the files are written to."""

    world: World
    channels: dict[str, WorldChannel]

    def _export(self, step: ExportChannel, run: str) -> list[AnyEvent]:
        channel = self.channels[step.channel_id]
        last = MessageLog(self.world, channel).last_id
        return [
            ChannelExported(
                run=run, batch=step.batch, channel_id=step.channel_id, user_id=step.user_id,
                path=f"exports/{step.channel_id}/1", message_count=channel.message_count,
                last_message_id=str(last) if last is not None else None,
            )
        ]  # fmt: skip
