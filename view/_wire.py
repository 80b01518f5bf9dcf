"""The JSON the browser's endpoints answer with (docs/view.md), built from records (pure).

Ids and cursors are strings (JavaScript's numbers cannot hold a snowflake); ``ts`` is UTC
microseconds. Every name and file name is plain text for the page to set with
``textContent``; ``html`` (a message's content) is the one field of markup, and only
``render_markdown`` writes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Literal
from urllib.parse import quote

import msgspec

from ._markdown import Highlighter, render_markdown
from ._media import is_image
from ._pages import Page
from ._records import Attachment, Conversation, Message, is_gap

__all__ = [
    "ConversationList",
    "ErrorBody",
    "MediaName",
    "MessagePage",
    "SearchPage",
    "WireConversation",
    "WireMessage",
    "conversation_list",
    "message_page",
    "search_page",
    "wire_message",
]

MediaName = Callable[[str], str | None]
"""An attachment's URL → its file name in the archive's media folder, or None."""

_EXCERPT = 120


class _Wire(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """Base of the JSON bodies: camelCase keys, as in the export formats."""


class WireAuthor(_Wire, frozen=True):
    id: str
    name: str
    username: str
    initial: str
    hue: int


class WireAttachment(_Wire, frozen=True):
    file_name: str
    size_bytes: int
    href: str | None
    image: bool
    external: bool


class WireReply(_Wire, frozen=True):
    id: str
    author: str | None
    excerpt: str | None


class WireMessage(_Wire, frozen=True):
    id: str
    channel_id: str
    channel_path: str
    cursor: str
    ts: int
    created_at: str
    edited_at: str | None
    kind: str | None
    author: WireAuthor
    html: str
    attachments: tuple[WireAttachment, ...]
    reply: WireReply | None
    source: str


class MessagePage(_Wire, frozen=True):
    channel_id: str
    messages: tuple[WireMessage, ...]
    older: str | None
    newer: str | None
    focus: str | None


class SearchPage(_Wire, frozen=True):
    query: str
    count: int
    at_least: bool
    messages: tuple[WireMessage, ...]
    next: str | None


class WireConversation(_Wire, frozen=True):
    id: str
    name: str
    path: str
    kind: str
    messages: int
    last_ts: int | None
    status: str
    verdict: Literal["exported", "skipped", "unreachable", "failed"] | None
    reason: str
    gap: bool


class ConversationList(_Wire, frozen=True):
    conversations: tuple[WireConversation, ...]
    notices: tuple[str, ...]


class ErrorBody(_Wire, frozen=True):
    """A refused request: ``error`` says why; for a query, ``start``/``end`` mark the part."""

    error: str
    start: int | None = None
    end: int | None = None


def wire_message(
    message: Message,
    media: MediaName,
    replies: Mapping[int, Message],
    highlight: Highlighter | None = None,
) -> WireMessage:
    names = {m.id: m.name for m in message.mentions}
    return WireMessage(
        id=str(message.id), channel_id=str(message.channel_id), channel_path=message.channel_path,
        cursor=f"{message.ts}_{message.id}", ts=message.ts, created_at=message.created_at,
        edited_at=message.edited_at, kind=message.kind, author=_author(message),
        html=render_markdown(message.content, names, highlight=highlight),
        attachments=tuple(_attachment(a, media) for a in message.attachments),
        reply=_reply(message.reply_to, replies), source=message.source,
    )  # fmt: skip


def message_page(channel_id: int, page: Page, media: MediaName) -> MessagePage:
    return MessagePage(
        channel_id=str(channel_id),
        messages=tuple(wire_message(m, media, page.replies) for m in page.messages),
        older=str(page.older) if page.older else None,
        newer=str(page.newer) if page.newer else None,
        focus=str(page.focus) if page.focus is not None else None,
    )


def search_page(
    query: str, count: int, hits: Sequence[Message], *, next_cursor: str | None,
    media: MediaName, highlight: Highlighter | None, replies: Mapping[int, Message],
    at_least: bool = False,
) -> SearchPage:  # fmt: skip
    return SearchPage(
        query=query, count=count, at_least=at_least, next=next_cursor,
        messages=tuple(wire_message(m, media, replies, highlight) for m in hits),
    )  # fmt: skip


def conversation_list(
    conversations: Sequence[Conversation], notices: Sequence[str]
) -> ConversationList:
    return ConversationList(
        conversations=tuple(wire_conversation(c) for c in conversations), notices=tuple(notices)
    )


def wire_conversation(conversation: Conversation) -> WireConversation:
    return WireConversation(
        id=str(conversation.id), name=conversation.name, path=conversation.path,
        kind=conversation.kind, messages=conversation.messages, last_ts=conversation.last_ts,
        status=status_of(conversation), verdict=conversation.verdict,
        reason=conversation.reason, gap=is_gap(conversation),
    )  # fmt: skip


def status_of(conversation: Conversation) -> str:
    """The status in words: ``archived``, ``not archived yet``, or the verdict."""
    if conversation.verdict is None:
        return "archived" if conversation.messages else "not archived yet"
    return "archived" if conversation.verdict == "exported" else conversation.verdict


def _author(message: Message) -> WireAuthor:
    name = message.author_display or message.author_name or str(message.author_id)
    return WireAuthor(
        id=str(message.author_id), name=name, username=message.author_name,
        initial=name[:1].upper() or "?", hue=message.author_id % 8,
    )  # fmt: skip


def _attachment(attachment: Attachment, media: MediaName) -> WireAttachment:
    local = media(attachment.url)
    external = local is None and attachment.url.startswith(("https://", "http://"))
    href = f"/media/{quote(local)}" if local is not None else (attachment.url if external else None)
    return WireAttachment(
        file_name=attachment.file_name, size_bytes=attachment.size_bytes, href=href,
        image=local is not None and is_image(local), external=external,
    )  # fmt: skip


def _reply(reply_to: int | None, replies: Mapping[int, Message]) -> WireReply | None:
    if reply_to is None:
        return None
    answered = replies.get(reply_to)
    if answered is None:
        return WireReply(id=str(reply_to), author=None, excerpt=None)
    excerpt = " ".join(answered.content.split())
    if len(excerpt) > _EXCERPT:
        excerpt = excerpt[: _EXCERPT - 1] + "…"
    author = answered.author_display or answered.author_name
    return WireReply(id=str(answered.id), author=author, excerpt=excerpt)
