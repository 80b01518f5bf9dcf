"""What dmj knows of a Discord data package: its owner and its DMs.

The package reader (``dmj.adapters``) produces a ``PackageContents``; the planner turns its
``dms`` into the run's plan. These are plain values so the pure core never touches the
package's files. They hold no cycles, so they are not tracked by the garbage collector
(``gc=False``): a package holds thousands of DMs, and a check thousands of channels' ids.

``PackageReader`` and ``PackageOpener`` are the port the history (``dmj.projections.history``:
``dmj status``'s check, your own messages where Discord says no) reads a package through:
``dmj.adapters.open_package`` is the real one, passed in by ``dmj.cli``, so the projections
never import the adapters (docs/architecture.md). A ``PackageSnapshot`` is what a reader
found, which the history keeps in its index so the next check need not read every
``channel.json`` again while the package is as it was.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

import msgspec

from .events import DmKind, PackageProblem

__all__ = [
    "ChannelIds",
    "ChannelMessages",
    "PackageContents",
    "PackageDm",
    "PackageMessage",
    "PackageOpener",
    "PackageOwner",
    "PackageProblem",
    "PackageReader",
    "PackageSnapshot",
]


class PackageOwner(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The account the package belongs to (``account/user.json``)."""

    id: str
    username: str = ""
    global_name: str | None = None


class PackageDm(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One DM conversation found in the package.

    ``user_id`` is the other participant of a 1-on-1 DM (``kind == "dm"``), else None.
    ``recipient_ids`` are the participants other than the owner (``"Deleted User"`` is not an
    id and is left out). Several package channels with the same user (an old Discord bug)
    are merged: ``channel_id`` is the newest, ``other_channel_ids`` the rest.
    ``name`` is the display hint from ``index.json`` (or derived when it has none).
    """

    channel_id: str
    kind: DmKind
    user_id: str | None
    recipient_ids: tuple[str, ...] = ()
    name: str = ""
    other_channel_ids: tuple[str, ...] = ()


class PackageContents(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Everything the planner needs from a package, plus what could not be read."""

    owner: PackageOwner
    dms: tuple[PackageDm, ...]
    fingerprint: str
    problems: tuple[PackageProblem, ...] = ()


class PackageMessage(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One message the owner sent, as the package's messages file holds it.

    ``id`` is an integer (the package writes JSON numbers; dmj compares ids as integers);
    ``timestamp`` is the package's text (UTC: ``2023-12-11 02:01:09``, or older CSVs'
    ``2020-10-10 12:34:56.789000+00:00``); ``attachments`` the space-separated URLs.
    """

    id: int
    timestamp: str
    contents: str = ""
    attachments: str = ""


class ChannelMessages(msgspec.Struct, frozen=True, kw_only=True):
    """The messages file of one package channel: ``path`` inside the package, and either
    its ``messages`` or the ``problem`` that kept it from being read (a full sentence)."""

    channel_id: str
    path: str
    messages: tuple[PackageMessage, ...] = ()
    problem: str | None = None


class ChannelIds(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The message ids of one package channel's messages file (or why it cannot be read)."""

    channel_id: str
    path: str
    ids: tuple[int, ...] = ()
    problem: str | None = None


class PackageSnapshot(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """What reading the package at ``path`` found, and the stamp of what it was read from.

    ``stamp`` digests the size, modification and change times and inode of each of
    ``stamped`` (paths inside the package: for a folder, the folder itself, the messages
    folder, every channel folder and its ``channel.json``, ``index.json`` and ``user.json``;
    for a zip, nothing but
    the zip itself), taken before they were read. ``message_files``: each channel's
    messages file. Opening the package again with it (``PackageOpener``'s ``known``) reads
    none of those files again while the stamp holds; the messages files are always read.
    """

    path: str
    stamp: str
    contents: PackageContents
    stamped: tuple[str, ...] = ()
    message_files: dict[str, str] = msgspec.field(default_factory=dict)


class PackageReader(Protocol):
    """An open data package: its DMs, and the messages the owner sent, one channel's file at
    a time (a file that cannot be read is the channel's ``problem``, never an exception)."""

    @property
    def contents(self) -> PackageContents: ...

    @property
    def snapshot(self) -> PackageSnapshot:
        """What was read, to open the package again without reading it all (``known``)."""
        ...

    def messages(self, channel_id: str) -> ChannelMessages:
        """The owner's messages in one channel (or the problem that kept them unread)."""
        ...

    def message_ids(self, channel_id: str) -> ChannelIds:
        """The ids of the owner's messages in one channel: only the ids are decoded."""
        ...


class PackageOpener(Protocol):
    """Opens the data package at ``path`` (a folder or the ``.zip``) for reading, read into its
    DMs; one it cannot read at all is a ``PackageError`` naming what is wrong. With ``known``
    (an earlier reader's ``snapshot``), a package whose stamp still matches is not read again:
    its DMs are the snapshot's."""

    def __call__(
        self, path: str, /, *, known: PackageSnapshot | None = None
    ) -> AbstractContextManager[PackageReader]: ...
