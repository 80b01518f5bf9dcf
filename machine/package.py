"""What dmj knows of a Discord data package: its owner and its DMs.

The package reader (``dmj.adapters``) produces a ``PackageContents``; the planner turns its
``dms`` into the run's plan. These are plain values so the pure core never touches the
package's files.

``PackageReader`` and ``PackageOpener`` are the port the history (``dmj.projections.history``:
``dmj status``'s check, your own messages where Discord says no) reads a package through:
``dmj.adapters.open_package`` is the real one, passed in by ``dmj.cli``, so the projections
never import the adapters (docs/architecture.md).
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
]


class PackageOwner(msgspec.Struct, frozen=True, kw_only=True):
    """The account the package belongs to (``account/user.json``)."""

    id: str
    username: str = ""
    global_name: str | None = None


class PackageDm(msgspec.Struct, frozen=True, kw_only=True):
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


class PackageContents(msgspec.Struct, frozen=True, kw_only=True):
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


class ChannelIds(msgspec.Struct, frozen=True, kw_only=True):
    """The message ids of one package channel's messages file (or why it cannot be read)."""

    channel_id: str
    path: str
    ids: tuple[int, ...] = ()
    problem: str | None = None


class PackageReader(Protocol):
    """An open data package: its DMs, and the messages the owner sent, one channel's file at
    a time (a file that cannot be read is the channel's ``problem``, never an exception)."""

    @property
    def contents(self) -> PackageContents: ...

    def messages(self, channel_id: str) -> ChannelMessages:
        """The owner's messages in one channel (or the problem that kept them unread)."""
        ...

    def message_ids(self, channel_id: str) -> ChannelIds:
        """The ids of the owner's messages in one channel: only the ids are decoded."""
        ...


class PackageOpener(Protocol):
    """Opens the data package at ``path`` (a folder or the ``.zip``) for reading, read into its
    DMs; one it cannot read at all is a ``PackageError`` naming what is wrong."""

    def __call__(self, path: str, /) -> AbstractContextManager[PackageReader]: ...
