"""The values the history index hands its readers: messages, conversations, gaps.

Ids are integers here (snowflakes fit in SQLite's 64-bit integers); the export formats write
them as strings, as DCE does. Times: ``ts`` is UTC microseconds since the epoch, for order
and ranges; ``created_at``/``edited_at`` are the strings as archived (DCE's ISO 8601 with its
offset), written out verbatim.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal, overload

import msgspec
from dmj.machine.events import DmKind
from dmj.machine.state import Verdict

__all__ = [
    "GAP_VERDICTS",
    "REFUSED_VERDICTS",
    "Attachment",
    "Conversation",
    "Gap",
    "Mention",
    "Message",
    "Order",
    "Person",
    "Source",
    "channel_path",
    "id_ts",
    "moment",
]

_DISCORD_EPOCH_MS = 1420070400000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Order = Literal["time", "channel"]
"""``time``: chronological across conversations (ties by id); ``channel``: conversations by
name (case-insensitive, ties by id), chronological inside each."""

Source = Literal["discord", "package"]
"""Where a message came from: a DCE export (``discord``), or the user's data package."""

GAP_VERDICTS: tuple[Verdict, ...] = ("skipped", "unreachable", "failed")
"""Verdicts that leave a conversation without messages when nothing was archived before."""

REFUSED_VERDICTS: tuple[Verdict, ...] = ("skipped", "unreachable")
"""The verdicts of a conversation Discord refuses for good (a deleted account, a channel that
no longer exists or may not be read): only these get the owner's messages from the package."""


class Attachment(msgspec.Struct, frozen=True, kw_only=True, rename="camel", gc=False):
    """A file attached to a message; ``url`` is DCE's (a CDN URL, or a path with --media)."""

    file_name: str
    url: str
    size_bytes: int


class Mention(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A user a message mentions (``<@id>`` in its content) and the name shown for them."""

    id: str
    name: str


class Message(msgspec.Struct, frozen=True, gc=False):
    """One archived message and its conversation, as readers get it.

    Not keyword-only: the reader builds a million of these positionally (10x faster).

    ``author_name`` is the username, ``author_display`` the display name at the time of the
    export. ``kind`` is DCE's message type when it is not ``Default`` (``Reply``, ``Call``…).
    ``reply_to`` is the id of the message this one answers, if any.
    """

    id: int
    channel_id: int
    channel_name: str
    channel_kind: DmKind
    ts: int
    created_at: str
    edited_at: str | None
    author_id: int
    author_name: str
    author_display: str
    content: str
    kind: str | None = None
    attachments: tuple[Attachment, ...] = ()
    mentions: tuple[Mention, ...] = ()
    reply_to: int | None = None
    source: Source = "discord"

    @property
    def channel_path(self) -> str:
        return channel_path(self.channel_kind, self.channel_name)


class Person(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A conversation's participant other than the owner, as the journal last saw them."""

    id: str
    username: str = ""
    global_name: str | None = None


class Conversation(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A conversation the archive remembers, with its latest verdict and why.

    ``verdict`` is None for a conversation no run has finished with (planned, in progress, or
    only seen open); ``reason`` is the journaled reason of a verdict other than
    ``exported``, in words. ``dm_key`` is the plan's key for its DM (the user id of a 1-on-1
    DM, else the channel id) and ``package_channel_id`` the package's channel for that DM,
    when a run planned it. ``messages`` and ``last_ts`` describe what the index holds:
    ``from_package`` of those messages are the owner's own from the data package (a
    conversation Discord refuses), the rest were archived from Discord, the newest of them
    at ``archived_last_ts``. ``refused_channel_id``: the DM's package channel Discord refused
    (not found, forbidden) before reopening it handed back this one (``Outcome``): the
    owner's messages there are kept from the package too.
    """

    id: int
    kind: DmKind
    name: str
    recipients: tuple[Person, ...] = ()
    verdict: Verdict | None = None
    reason: str = ""
    at: datetime | None = None
    dm_key: str | None = None
    package_channel_id: str | None = None
    messages: int = 0
    last_ts: int | None = None
    from_package: int = 0
    archived_last_ts: int | None = None
    refused_channel_id: str | None = None

    @property
    def archived(self) -> int:
        """How many of the conversation's messages the index holds from Discord."""
        return self.messages - self.from_package

    @property
    def path(self) -> str:
        return channel_path(self.kind, self.name)


class Gap(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A conversation in a query's scope with no message archived from Discord: its export
    failed or Discord refused it (``verdict``), for ``reason``. ``partial``: the index holds
    the owner's own messages there, from the data package (one-sided)."""

    channel_id: int
    channel_kind: DmKind
    channel_name: str
    verdict: Verdict
    reason: str
    partial: bool = False

    @property
    def channel_path(self) -> str:
        return channel_path(self.channel_kind, self.channel_name)


def channel_path(kind: DmKind, name: str) -> str:
    """``Direct Messages > alice``, or ``Group DMs > Trip crew`` for a group DM."""
    return f"{'Group DMs' if kind == 'group' else 'Direct Messages'} > {name}"


def id_ts(message_id: int) -> int:
    """A message's time from its id (a snowflake), as a ``ts``: exact to the millisecond."""
    return ((message_id >> 22) + _DISCORD_EPOCH_MS) * 1000


@overload
def moment(ts: int) -> datetime: ...
@overload
def moment(ts: int | None) -> datetime | None: ...
def moment(ts: int | None) -> datetime | None:
    """A ``ts`` (UTC microseconds since the epoch) as a UTC time; None stays None."""
    return None if ts is None else _EPOCH + timedelta(microseconds=ts)
