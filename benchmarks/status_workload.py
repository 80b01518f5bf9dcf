"""A big data package and an archive holding every message of it, for ``bench_status``.

``ensure_workload(root, conversations, per_conversation)`` builds them once and reuses them (a
``complete`` marker is written last): a 2025-layout package folder whose ``conversations``
1-on-1 DMs hold ``per_conversation`` messages of the owner each (``messages.json``, JSON
number ids), and an archive whose journal records one run exporting every DM, each export
a DCE JSON file holding exactly those messages; its message index is built.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
from dmj.adapters import open_package, read_package
from dmj.machine.events import AnyEvent, ChannelExported, ChannelInfo, UserInfo
from dmj.machine.package import PackageDm
from dmj.machine.steps import ExportChannel
from dmj.projections.history import rebuild_index

from benchmarks.journal_workload import write_events
from tests.machine.simulate import Simulation, run_started
from tests.machine.simulate import World as SimulatedWorld

__all__ = ["Layout", "ensure_workload"]

FORMAT = 1
OWNER = UserInfo(id="111111111111111111", username="owner", global_name="Owner")
_EPOCH_MS = 1420070400000
_START = datetime(2021, 1, 1, tzinfo=UTC)
_WORDS = [
    "sure",
    "see",
    "you",
    "at",
    "the",
    "flat",
    "later",
    "tonight",
    "coffee",
    "tomorrow",
    "thanks",
    "again",
]


class Layout(msgspec.Struct, frozen=True):
    """Where the workload is: ``package`` (a folder), ``archive`` (journal, exports, index)."""

    package: Path
    archive: Path


def ensure_workload(root: Path, conversations: int, per_conversation: int) -> Layout:
    """The package and the archive under ``root`` (built if they are not there yet)."""
    base = root / f"v{FORMAT}-{conversations}-{per_conversation}"
    layout = Layout(package=base / "package", archive=base / "archive")
    if (base / "complete").is_file():
        return layout
    shutil.rmtree(base, ignore_errors=True)
    started = time.perf_counter()
    channels = [str(900_000_000_000_000_000 + i * 7919) for i in range(conversations)]
    users = [str(300_000_000_000_000_000 + i * 104729) for i in range(conversations)]
    _write_package(layout.package, channels, users, per_conversation)
    package = read_package(layout.package)
    events = _journal(channels, users, per_conversation, str(layout.package), package.fingerprint)
    for n, channel in enumerate(channels):
        _write_export(layout.archive / "exports" / channel / "1", channel, n, per_conversation)
        if (n + 1) % 1000 == 0:
            print(f"  wrote {n + 1}/{conversations} conversations", flush=True)
    write_events(layout.archive / "journal.jsonl", events)
    rebuild_index(layout.archive, notice=lambda _: None, packages=open_package)
    (base / "complete").write_text(f"{time.perf_counter() - started:.0f} s\n")
    return layout


def _message(n: int, k: int, per: int) -> tuple[int, datetime, str]:
    """The ``k``-th message of conversation ``n``: id, time, text."""
    moment = _START + timedelta(seconds=(n * per + k) * 37)
    ms = int(moment.timestamp() * 1000)
    text = " ".join(_WORDS[(n + k + i) % len(_WORDS)] for i in range(8 + (n + k) % 7))
    return ((ms - _EPOCH_MS) << 22) | (n % 4096), moment, text.capitalize()


def _write_package(root: Path, channels: list[str], users: list[str], per: int) -> None:
    messages = root / "Messages"
    index = {}
    for n, (channel, user) in enumerate(zip(channels, users, strict=True)):
        folder = messages / f"c{channel}"
        folder.mkdir(parents=True)
        (folder / "channel.json").write_text(
            json.dumps({"id": channel, "type": "DM", "recipients": [OWNER.id, user]})
        )
        rows = []
        for k in range(per):
            message_id, moment, text = _message(n, k, per)
            rows.append({"ID": message_id, "Timestamp": f"{moment:%Y-%m-%d %H:%M:%S}",
                         "Contents": text, "Attachments": ""})  # fmt: skip
        (folder / "messages.json").write_bytes(msgspec.json.encode(rows))
        index[channel] = f"Direct Message with user{n}#0"
    (messages / "index.json").write_text(json.dumps(index))
    (root / "Account").mkdir()
    (root / "Account" / "user.json").write_text(
        json.dumps({"id": OWNER.id, "username": OWNER.username, "global_name": OWNER.global_name})
    )


def _write_export(folder: Path, channel: str, n: int, per: int) -> None:
    """DCE's JSON of the conversation: the owner's messages, the fields the index reads."""
    author = {"id": OWNER.id, "name": OWNER.username, "discriminator": "0000",
              "nickname": OWNER.global_name, "isBot": False}  # fmt: skip
    messages: list[dict[str, object]] = []
    for k in range(per):
        message_id, moment, text = _message(n, k, per)
        messages.append({"id": str(message_id), "type": "Default",
                         "timestamp": moment.isoformat(), "timestampEdited": None,
                         "isPinned": False, "content": text, "author": author,
                         "attachments": [], "embeds": [], "mentions": []})  # fmt: skip
    document = {
        "guild": {"id": "0", "name": "Direct Messages"},
        "channel": {"id": channel, "type": "DirectTextChat", "name": f"user{n}"},
        "messages": messages, "messageCount": per,
    }  # fmt: skip
    folder.mkdir(parents=True)
    (folder / f"Direct Messages - user{n} [{channel}].json").write_bytes(
        msgspec.json.encode(document)
    )


def _journal(
    channels: Sequence[str], users: Sequence[str], per: int, package: str, fingerprint: str
) -> list[AnyEvent]:
    """A run exporting every DM (all open at the start), driven through ``decide``."""
    infos = tuple(
        ChannelInfo(id=c, type=1, recipients=(UserInfo(id=u, username=f"user{n}"),))
        for n, (c, u) in enumerate(zip(channels, users, strict=True))
    )
    dms = [
        PackageDm(channel_id=c, kind="dm", user_id=u, recipient_ids=(u,),
                  name=f"Direct Message with user{n}#0")
        for n, (c, u) in enumerate(zip(channels, users, strict=True))
    ]  # fmt: skip
    exporting = _Exporting(choose=lambda options: options[0], open_at_start=infos)
    exporting.per = per
    sim = Simulation(world=exporting)
    started = run_started(dms, batch_size=20, run="bench-status")
    info = msgspec.structs.replace(
        started.package, path=package, fingerprint=fingerprint, self_id=OWNER.id
    )
    sim.start(msgspec.structs.replace(started, user=OWNER, package=info))
    sim.run_to_end(limit=10_000_000)
    return sim.events


class _Exporting(SimulatedWorld):
    """Every export succeeds, recording the folder the file is written to."""

    per: int

    def _export(self, step: ExportChannel, run: str) -> list[AnyEvent]:
        return [
            ChannelExported(
                run=run, batch=step.batch, channel_id=step.channel_id, user_id=step.user_id,
                path=f"exports/{step.channel_id}/1", message_count=self.per,
                last_message_id=None,
            )
        ]  # fmt: skip
