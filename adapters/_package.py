"""Reading a Discord data package into the DM list dmj plans from.

The package tells dmj every DM the user ever wrote in, which Discord's API does not: each
``Messages/c<id>/channel.json`` names a channel and its recipients (the owner included),
``Messages/index.json`` gives display names, ``Account/user.json`` the owner. A bad channel
file, or a channel folder without one, is reported (``PackageContents.problems``: listed
before the run and in its summary) and left out; a package without messages, whose owner
cannot be told, or with a file that does not unpack, is refused with a ``PackageError``
naming the file and what is wrong.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import msgspec
from dmj.machine.errors import PackageError
from dmj.machine.package import (
    ChannelIds,
    ChannelMessages,
    PackageContents,
    PackageDm,
    PackageOwner,
    PackageProblem,
    PackageSnapshot,
)

from ._package_files import decode_channel, decode_index, scan_top_level
from ._package_messages import read_channel_ids, read_channel_messages
from ._package_tree import Layout, Tree, find_layout, open_tree, stamped_names

__all__ = ["DELETED_USER", "Package", "open_package", "read_package"]

DELETED_USER = "Deleted User"
"""What a package writes in place of a deleted account's id in ``recipients``."""

_OWNER_FIELDS = frozenset({"id", "username", "global_name"})


@dataclass(frozen=True)
class _Channel:
    id: str
    kind: Literal["dm", "group"]
    recipients: tuple[str, ...] | None
    name: str | None
    path: str


def read_package(path: Path) -> PackageContents:
    """Read the data package at ``path`` (a folder or the ``.zip``) into its DMs."""
    with open_tree(path) as tree:
        return _read(tree, find_layout(tree, str(path)), str(path))


class Package:
    """An open data package: its DMs (``contents``) and, one channel at a time, the messages
    the owner sent (``messages``, ``message_ids``); ``snapshot``: what was read, to open it
    again without reading it all. Valid inside ``open_package``."""

    def __init__(self, tree: Tree, snapshot: PackageSnapshot) -> None:
        self._tree = tree
        self.snapshot = snapshot
        self.contents = snapshot.contents
        self.label = snapshot.path

    def message_file(self, channel_id: str) -> str | None:
        """The channel's ``messages.json``/``messages.csv`` inside the package, if any."""
        return self.snapshot.message_files.get(channel_id)

    def read(self, name: str) -> bytes:
        return self._tree.read(name)

    def messages(self, channel_id: str) -> ChannelMessages:
        """The owner's messages in one channel (or the problem that kept them unread)."""
        return read_channel_messages(self, channel_id)

    def message_ids(self, channel_id: str) -> ChannelIds:
        """The ids of the owner's messages in one channel: only the ids are decoded."""
        return read_channel_ids(self, channel_id)


@contextmanager
def open_package(path: Path | str, *, known: PackageSnapshot | None = None) -> Iterator[Package]:
    """The data package at ``path`` (a folder or the ``.zip``), read into its DMs and kept
    open so its channels' messages files can be read one at a time: the history's
    ``PackageOpener`` (``dmj.machine.package``). With ``known``, an earlier ``snapshot`` of
    this path whose stamp still holds, the DMs are the snapshot's: nothing is read again."""
    path = Path(path)
    label = str(path)
    with open_tree(path) as tree:
        if known is not None and known.path == label and tree.stamp(known.stamped) == known.stamp:
            yield Package(tree, known)
            return
        layout = find_layout(tree, label)
        stamped = stamped_names(layout)
        stamp = tree.stamp(stamped)  # before reading: a change while reading shows next time
        snapshot = PackageSnapshot(
            path=label, stamp=stamp, contents=_read(tree, layout, label), stamped=stamped,
            message_files=layout.message_files,
        )  # fmt: skip
        yield Package(tree, snapshot)


def _read(tree: Tree, layout: Layout, label: str) -> PackageContents:
    """The package's DMs, from every ``channel.json``, ``index.json`` and ``user.json``."""
    problems: list[PackageProblem] = []
    channels = _read_channels(tree, layout, problems)
    names = _read_index(tree, layout, problems)
    owner = _read_owner(tree, layout, channels, problems, label)
    dms = _dms(channels, owner.id, names, problems)
    return PackageContents(
        owner=owner,
        dms=dms,
        fingerprint=_fingerprint(owner, dms),
        problems=tuple(sorted(problems, key=lambda p: p.path)),
    )


_LEFT_OUT = "its conversation is left out of the plan"


def _read_channels(tree: Tree, layout: Layout, problems: list[PackageProblem]) -> list[_Channel]:
    channels = []
    for folder in layout.folders_without_channel_file:
        message = f"{folder}/ has no channel.json, so {_LEFT_OUT}."
        problems.append(PackageProblem(path=f"{folder}/channel.json", message=message))
    for folder_id, name in sorted(layout.channel_files.items()):
        try:
            content = decode_channel(tree.read(name))
        except (OSError, msgspec.DecodeError) as exc:
            message = f"{name} cannot be read ({exc}), so {_LEFT_OUT}."
            problems.append(PackageProblem(path=name, message=message))
            continue
        if str(content.id) != folder_id:
            problems.append(
                PackageProblem(
                    path=name,
                    message=f"{name} names channel {content.id}, not {folder_id} as its "
                    f"folder does, so {_LEFT_OUT}.",
                )
            )
            continue
        if kind := _dm_kind(content.type):
            recipients = None if content.recipients is None else tuple(content.recipients)
            channels.append(_Channel(folder_id, kind, recipients, content.name, name))
    return channels


def _dm_kind(channel_type: str | int) -> Literal["dm", "group"] | None:
    """``"DM"``/``1`` and ``"GROUP_DM"``/``3``; None for guild channels and threads."""
    match str(channel_type).upper():
        case "DM" | "1":
            return "dm"
        case "GROUP_DM" | "3":
            return "group"
        case _:
            return None


def _read_index(
    tree: Tree, layout: Layout, problems: list[PackageProblem]
) -> dict[str, str | None]:
    where = layout.index_file or f"{layout.messages_root}/index.json".lstrip("/")
    if layout.index_file is None:
        message = f"{where} is missing; DM names are made up from ids."
        problems.append(PackageProblem(path=where, message=message))
        return {}
    try:
        return decode_index(tree.read(layout.index_file))
    except (OSError, msgspec.DecodeError) as exc:
        message = f"{where} cannot be read ({exc}); DM names are made up from ids."
        problems.append(PackageProblem(path=where, message=message))
        return {}


def _read_owner(
    tree: Tree,
    layout: Layout,
    channels: list[_Channel],
    problems: list[PackageProblem],
    label: str,
) -> PackageOwner:
    if layout.account_file is None:
        owner = _infer_owner(channels, label)
        message = f"The account's user.json is missing; the owner {owner.id} was inferred."
        problems.append(PackageProblem(path="Account/user.json", message=message))
        return owner
    where = f"{label}: {layout.account_file}"
    try:
        with tree.open(layout.account_file) as stream:
            fields = scan_top_level(stream, _OWNER_FIELDS)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise PackageError(f"{where} is not a readable account file: {exc}.") from exc
    owner_id, username, global_name = (fields.get(k) for k in ("id", "username", "global_name"))
    if not isinstance(owner_id, str) or not owner_id.isdigit():
        raise PackageError(f"{where} has no account id (top-level 'id'); it cannot be used.")
    return PackageOwner(
        id=owner_id,
        username=username if isinstance(username, str) else "",
        global_name=global_name if isinstance(global_name, str) else None,
    )


def _infer_owner(channels: list[_Channel], label: str) -> PackageOwner:
    """The one id in every 1-on-1 DM: without ``user.json``, that is the owner."""
    counts = Counter(
        r for c in channels if c.kind == "dm" and c.recipients for r in set(c.recipients)
    )
    dm_count = sum(1 for c in channels if c.kind == "dm" and c.recipients)
    everywhere = [r for r, n in counts.items() if n == dm_count and r.isdigit()]
    if dm_count < 2 or len(everywhere) != 1:
        raise PackageError(
            f"{label} has no account/user.json and its DMs do not show whose package it is. "
            "Request a package that includes Account."
        )
    return PackageOwner(id=everywhere[0])


def _dms(
    channels: list[_Channel],
    owner_id: str,
    names: dict[str, str | None],
    problems: list[PackageProblem],
) -> tuple[PackageDm, ...]:
    """The package's DMs, one per user (an old Discord bug left some users several)."""
    dms: list[PackageDm] = []
    by_user: dict[str, list[_Channel]] = {}
    for channel in channels:
        others = tuple(r for r in channel.recipients or () if r != owner_id)
        name = _name_hint(names, channel.id)
        if channel.kind == "group":
            ids = tuple(sorted(r for r in others if r.isdigit()))
            name = name or channel.name or f"group {channel.id}"
            dms.append(
                PackageDm(
                    channel_id=channel.id, kind="group", user_id=None, recipient_ids=ids, name=name
                )
            )
        elif others == (DELETED_USER,):
            name = name or DELETED_USER
            dms.append(PackageDm(channel_id=channel.id, kind="deleted", user_id=None, name=name))
        elif len(others) == 1 and others[0].isdigit():
            by_user.setdefault(others[0], []).append(channel)
        else:
            message = (
                f"{channel.path} lists recipients {list(channel.recipients or ())}; a DM needs "
                f"the owner {owner_id} and one other user, so {_LEFT_OUT}."
            )
            problems.append(PackageProblem(path=channel.path, message=message))
    dms += (_one_per_user(user_id, same, names) for user_id, same in by_user.items())
    return tuple(sorted(dms, key=lambda d: int(d.channel_id)))


def _one_per_user(
    user_id: str, channels: list[_Channel], names: dict[str, str | None]
) -> PackageDm:
    """The DM with ``user_id``: the newest channel, the older ones listed with it."""
    channels = sorted(channels, key=lambda c: int(c.id))
    hints = (_name_hint(names, c.id) for c in reversed(channels))
    return PackageDm(
        channel_id=channels[-1].id,
        kind="dm",
        user_id=user_id,
        recipient_ids=(user_id,),
        name=next((h for h in hints if h), f"user {user_id}"),
        other_channel_ids=tuple(c.id for c in channels[:-1]),
    )


def _name_hint(names: dict[str, str | None], channel_id: str) -> str | None:
    hint = names.get(channel_id)
    return hint if hint and hint != "None" else None


def _fingerprint(owner: PackageOwner, dms: tuple[PackageDm, ...]) -> str:
    """Identifies the package by what dmj read from it, whether zipped or extracted."""
    digest = hashlib.sha256(msgspec.json.encode([owner.id, dms])).hexdigest()
    return f"sha256:{digest}"
