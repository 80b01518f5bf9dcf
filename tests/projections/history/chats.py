"""Small archives for the history tests: a journal driven through ``decide`` plus the DCE
JSON files its ``ChannelExported`` records name, written with the DCE stand-in's writer.

A ``Chat`` is one conversation and how its run ends for it (``fate``): ``exported`` (its
messages are written), ``unreachable`` (Discord forbids it), ``skipped`` (a deleted account:
reopening fails) or ``failed`` (DCE fails transiently until the run gives up).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal

from dmj.adapters import read_package
from dmj.journal import JournalWriter
from dmj.machine.events import (
    AnyEvent,
    ChannelExported,
    ChannelInfo,
    DmKind,
    DmSkipped,
    ExportFailed,
    ExportFile,
    PackageInfo,
    UserInfo,
)
from dmj.machine.package import PackageDm
from dmj.machine.steps import ExportChannel, OpenDm
from dmj.sandbox._dce_json import DM_GUILD, JsonExport, dce_timestamp

from tests.journal.support import TickingClock
from tests.machine.simulate import T0, Simulation, World, run_started

__all__ = [
    "ME",
    "Chat",
    "dce_message",
    "person",
    "snowflake",
    "write_archive",
    "write_package",
]

Fate = Literal["exported", "unreachable", "skipped", "failed"]
ME = UserInfo(id="42", username="me", global_name="Me")
"""The archive's owner (``tests.machine.simulate.run_started`` plans as user 42)."""
_DISCORD_EPOCH_MS = 1420070400000


def person(user_id: str, username: str, display: str | None = None) -> UserInfo:
    return UserInfo(id=user_id, username=username, global_name=display)


def snowflake(when: datetime, n: int = 0) -> int:
    """The id of a message sent at ``when`` (``n`` tells apart several in one millisecond)."""
    ms = int(when.timestamp() * 1000)
    return ((ms - _DISCORD_EPOCH_MS) << 22) | n


def dce_message(
    message_id: int,
    author: UserInfo,
    content: str,
    *,
    edited: datetime | None = None,
    attachments: Sequence[tuple[str, int]] = (),
    kind: str = "Default",
    embeds: int = 0,
    mentions: Sequence[UserInfo] = (),
    reply_to: int | None = None,
    offset: timedelta = timedelta(0),
) -> dict[str, Any]:
    """A message as DCE writes it; its time is its id's, shown at UTC ``offset``."""
    when = datetime.fromtimestamp(((message_id >> 22) + _DISCORD_EPOCH_MS) / 1000, tz=UTC)
    zone = timezone(offset)
    message: dict[str, Any] = {
        "id": str(message_id), "type": kind, "timestamp": dce_timestamp(when, zone),
        "timestampEdited": dce_timestamp(edited, zone), "callEndedTimestamp": None,
        "isPinned": False, "content": content, "author": _user(author),
        "attachments": [
            {"id": str(message_id + k + 1),
             "url": f"https://cdn.discordapp.com/attachments/1/{message_id}/{name}",
             "fileName": name, "fileSizeBytes": size}
            for k, (name, size) in enumerate(attachments)
        ],
        "embeds": [{"title": "t", "url": "https://example.com"} for _ in range(embeds)],
        "stickers": [], "reactions": [], "mentions": [_user(u) for u in mentions],
    }  # fmt: skip
    if reply_to is not None:
        message["reference"] = {"type": "Default", "messageId": str(reply_to),
                                "channelId": None, "guildId": None}  # fmt: skip
    message["inlineEmojis"] = []
    return message


def _user(user: UserInfo) -> dict[str, Any]:
    return {
        "id": user.id, "name": user.username, "discriminator": "0000",
        "nickname": user.global_name or user.username, "color": None, "isBot": False,
        "roles": [], "avatarUrl": "https://cdn.discordapp.com/embed/avatars/0.png",
    }  # fmt: skip


@dataclass
class Chat:
    """One conversation of the archive and its fate in the run."""

    channel: str
    people: tuple[UserInfo, ...]
    messages: list[dict[str, Any]] = field(default_factory=list)
    fate: Fate = "exported"
    kind: DmKind = "dm"
    name: str | None = None
    """A group's name (DCE names a DM after its other person)."""
    per_part: int = 2
    """Messages in each JSON part of its exports."""
    deleted_later: list[dict[str, Any]] = field(default_factory=list)
    """The owner's messages the package holds that Discord no longer serves (DCE's shape);
    with the owner's ``messages`` they are the chat's package file."""
    own: list[dict[str, Any]] = field(default_factory=list)
    """The owner's messages in the package of a chat Discord refuses (DCE's shape)."""

    def package_rows(self) -> list[dict[str, Any]]:
        """The chat's ``messages.json`` rows: the owner's messages, as the package writes
        them (a JSON number id, a UTC time without offset)."""
        mine = [m for m in [*self.messages, *self.own, *self.deleted_later]
                if m["author"]["id"] == ME.id]  # fmt: skip
        return [
            {"ID": int(m["id"]), "Timestamp": _package_time(m["timestamp"]),
             "Contents": m["content"],
             "Attachments": " ".join(a["url"] for a in m["attachments"])}
            for m in sorted(mine, key=lambda m: int(m["id"]))
        ]  # fmt: skip

    @property
    def title(self) -> str:
        if self.name:
            return self.name
        return ", ".join(p.global_name or p.username for p in self.people)

    @property
    def key(self) -> str:
        return self.people[0].id if self.kind == "dm" else self.channel


def write_archive(
    root: Path, chats: Sequence[Chat], *, runs: Sequence[Sequence[Chat]] = ()
) -> Path:
    """An archive at ``root`` whose first run ends each of ``chats`` by its fate; each of
    ``runs`` is a later run over the same DMs (its chats' messages exported again)."""
    sim: Simulation | None = None
    package = write_package(root / "package", [*chats, *(c for run in runs for c in run)])
    for number, run_chats in enumerate([chats, *runs], start=1):
        world = _ChatWorld(root, run_chats)
        sim = Simulation.resumed(world, sim.events) if sim is not None else Simulation(world=world)
        dms = [_package_dm(chat) for chat in run_chats]
        sim.start(run_started(dms, batch_size=3, run=f"run-{number}", package=package))
        sim.run_to_end()
    assert sim is not None
    write_events(root, sim.events)
    return root


PACKAGE_CHANNEL = re.compile(r"\d{15,21}")
"""Chats with such a channel id are in the package (the reader knows no shorter ids)."""


def write_package(folder: Path, chats: Sequence[Chat]) -> PackageInfo:
    """The archive's data package: the owner's messages of every chat with a channel id of
    snowflake length (a later chat's rows win), a server channel (every package has one),
    and the owner's account. Returns what a run records of it."""
    rows: dict[str, tuple[Chat, list[dict[str, Any]]]] = {}
    for chat in chats:
        if PACKAGE_CHANNEL.fullmatch(chat.channel):
            known = rows.get(chat.channel, (chat, []))[1]
            merged = {r["ID"]: r for r in [*known, *chat.package_rows()]}
            rows[chat.channel] = (chat, [merged[k] for k in sorted(merged)])
    server = "900000000000000000"
    files: dict[str, object] = {
        "Account/user.json": {"id": ME.id, "username": ME.username, "global_name": ME.global_name},
        "Messages/index.json": {server: "general in Test Server"}
        | {
            c: chat.name or f"Direct Message with {chat.people[0].username}#0"
            for c, (chat, _) in rows.items()
        },
        f"Messages/c{server}/channel.json": {"id": server, "type": "GUILD_TEXT"},
    }
    for channel, (chat, package_rows) in rows.items():
        others = ["Deleted User"] if chat.kind == "deleted" else [p.id for p in chat.people]
        files[f"Messages/c{channel}/channel.json"] = {
            "id": channel, "type": "GROUP_DM" if chat.kind == "group" else "DM",
            "recipients": [ME.id, *others], **({"name": chat.name} if chat.name else {}),
        }  # fmt: skip
        files[f"Messages/c{channel}/messages.json"] = package_rows
    for name, value in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    fingerprint = read_package(folder).fingerprint
    return PackageInfo(path=str(folder), fingerprint=fingerprint, self_id=ME.id)


def _package_time(timestamp: str) -> str:
    """DCE's time as the package writes it: UTC, ``YYYY-MM-DD HH:MM:SS``."""
    return datetime.fromisoformat(timestamp).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def write_events(root: Path, events: Sequence[AnyEvent]) -> Path:
    """``root/journal.jsonl`` holding ``events`` (appended after what it already holds)."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / "journal.jsonl"
    written = len(path.read_bytes().splitlines()) if path.exists() else 0
    clock = TickingClock(T0 + timedelta(seconds=written + 1))  # record N at T0 + N seconds
    with JournalWriter.open(path, clock=clock) as journal:
        for event in events[journal.last_seq :]:
            journal.append(event)
    return path


def _package_dm(chat: Chat) -> PackageDm:
    if chat.kind == "dm":
        name = f"Direct Message with {chat.people[0].username}"
        return PackageDm(
            channel_id=chat.channel,
            kind="dm",
            user_id=chat.key,
            recipient_ids=(chat.key,),
            name=name,
        )
    return PackageDm(channel_id=chat.channel, kind=chat.kind, user_id=None, name=chat.name or "")


class _ChatWorld(World):
    """Answers the run's steps by each chat's fate; writes the exported chats' files."""

    def __init__(self, root: Path, chats: Sequence[Chat]) -> None:
        open_now = tuple(
            ChannelInfo(id=c.channel, type=3 if c.kind == "group" else 1, recipients=c.people)
            for c in chats
            if c.fate != "skipped"
        )
        super().__init__(choose=lambda options: options[0], open_at_start=open_now)
        self.root = root
        self.chats = {c.channel: c for c in chats}
        self.by_key = {c.key: c for c in chats}

    def _open(self, step: OpenDm, run: str) -> AnyEvent:
        return DmSkipped(run=run, batch=step.batch, user_id=step.user_id,
                         reason="the account is deleted or cannot be reached (Discord 400/50033)",
                         status=400, code=50033)  # fmt: skip

    def _export(self, step: ExportChannel, run: str) -> list[AnyEvent]:
        chat = self.chats[step.channel_id]
        if chat.fate == "exported":
            ids = [int(m["id"]) for m in chat.messages]
            path = ""
            files: tuple[ExportFile, ...] = ()
            if ids or step.after is None:  # an incremental export of nothing keeps no folder
                path = f"exports/{chat.channel}/{run}-{step.attempt}"
                files = self._write(chat, self.root / path)
            return [ChannelExported(
                run=run, batch=step.batch, channel_id=chat.channel, user_id=step.user_id,
                path=path, message_count=len(ids), files=files,
                last_message_id=str(max(ids)) if ids else None,
            )]  # fmt: skip
        permanent = chat.fate in ("unreachable", "skipped")
        message = (
            f"DiscordChatExporter could not export channel {chat.channel}: Discord forbids "
            "reading this channel (exit code 1). The channel cannot be read as it is. DCE's "
            "last output:\n    Export failed."
            if permanent
            else f"DiscordChatExporter could not export channel {chat.channel}: DCE crashed "
            "(exit code 134). dmj will try again. DCE's last output:\n    Aborted."
        )
        return [ExportFailed(
            run=run, batch=step.batch, channel_id=chat.channel, user_id=step.user_id,
            error_class="permanent" if permanent else "transient", message=message,
            attempts=step.attempt,
        )]  # fmt: skip

    def _write(self, chat: Chat, folder: Path) -> tuple[ExportFile, ...]:
        """The chat's DCE files in ``folder`` (``per_part`` messages a part), as the journal
        lists them."""
        head = {
            "guild": DM_GUILD,
            "channel": {"id": chat.channel, "type": "DirectGroupTextChat" if chat.kind == "group"
                        else "DirectTextChat", "categoryId": None, "category": None,
                        "name": chat.title, "topic": None},
            "dateRange": {"after": None, "before": None},
            "exportedAt": "2024-05-05T08:00:01.4821937+00:00",
        }  # fmt: skip
        export = JsonExport(folder / f"Direct Messages - {chat.title} [{chat.channel}].json",
                            head, limit_messages=chat.per_part, limit_bytes=None)  # fmt: skip
        for message in chat.messages:
            export.add(message)
        export.close()
        return tuple(
            ExportFile(name=p.name, size=p.stat().st_size,
                       digest="sha256:" + hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(folder.iterdir())
        )  # fmt: skip
