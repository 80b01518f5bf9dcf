"""What the browser reads: messages and conversations, shaped as the message index holds them.

These Structs repeat, field for field, the reader values of the message index (issue 12:
``dmj.projections.history``'s ``Message``, ``Conversation``, ``Attachment``, ``Mention``,
``Person``) so that the index-backed source can hand its own values to the browser
unchanged. When the index lands, this module becomes an import of those names.

Ids are integers (snowflakes); the JSON endpoints write them as strings, since JavaScript's
numbers cannot hold them. ``ts`` is UTC microseconds since the epoch (order and ranges);
``created_at``/``edited_at`` are the archived ISO 8601 strings with their offset.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec
from dmj.machine.events import DmKind
from dmj.machine.state import Verdict

__all__ = [
    "GAP_VERDICTS",
    "Attachment",
    "Conversation",
    "Mention",
    "Message",
    "Person",
    "Source",
    "channel_path",
    "is_gap",
]

Source = Literal["discord", "package"]
"""Where a message came from: a DCE export (``discord``), or the user's data package."""

GAP_VERDICTS: tuple[Verdict, ...] = ("skipped", "unreachable", "failed")
"""Verdicts that leave a conversation without messages when nothing was archived before."""


class Attachment(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A file attached to a message; ``url`` is DCE's (a CDN URL, or a path with --media)."""

    file_name: str
    url: str
    size_bytes: int


class Mention(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A user a message mentions (``<@id>`` in its content) and the name shown for them."""

    id: str
    name: str


class Message(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One archived message and its conversation.

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

    ``verdict`` is None for a conversation no run has finished with; ``reason`` is the
    journaled reason of a verdict other than ``exported``, in words. ``dm_key`` is the plan's
    key for its DM and ``package_channel_id`` the package's channel for it. ``messages`` and
    ``last_ts`` describe what the index holds.
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

    @property
    def path(self) -> str:
        return channel_path(self.kind, self.name)


def is_gap(conversation: Conversation) -> bool:
    """No messages, because its export failed or Discord refused it."""
    return conversation.messages == 0 and conversation.verdict in GAP_VERDICTS


def channel_path(kind: DmKind, name: str) -> str:
    """``Direct Messages > alice``, or ``Group DMs > Trip crew`` for a group DM."""
    return f"{'Group DMs' if kind == 'group' else 'Direct Messages'} > {name}"
