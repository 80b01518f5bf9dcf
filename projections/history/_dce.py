"""DCE's JSON export (reference/dce.md §3) → the index's rows (pure: bytes in, rows out).

Only the fields the index keeps are decoded (msgspec skips the rest while parsing). A row is
a tuple in the column order of ``_sql.MESSAGE_COLUMNS``; its searchable text is the folded
content (``_text.fold``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import msgspec

from ._model import Attachment, Mention
from ._text import attachment_kind, fold, has_link

__all__ = [
    "FLAGS",
    "DceChannel",
    "DceFile",
    "MessageRow",
    "Rows",
    "decode_export",
    "microseconds",
    "rows_of",
]

FLAGS = {
    "attachment": 1, "image": 2, "video": 4, "file": 8, "link": 16, "embed": 32, "edited": 64,
}  # fmt: skip
"""The bits of a message's ``flags`` column: what ``has:`` and ``is:edited`` test."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

MessageRow = tuple[
    int, int, int, str, str | None, int, str, str, str, str | None, int, str | None,
    str | None, int | None, str, int,
]  # fmt: skip
"""id, channel_id, ts, created_at, edited_at, author_id, author_name, author_display,
content, kind, flags, attachments (JSON), mentions (JSON), reply_to, source, seq."""


class _User(msgspec.Struct, gc=False):
    id: str
    name: str
    nickname: str | None = None


class _Attachment(msgspec.Struct, rename="camel", gc=False):
    url: str
    file_name: str
    file_size_bytes: int = 0


class _Embed(msgspec.Struct, gc=False):
    url: str | None = None


class _Reference(msgspec.Struct, rename="camel", gc=False):
    message_id: str | None = None


class _Message(msgspec.Struct, rename="camel", gc=False):
    id: str
    timestamp: str
    author: _User
    type: str = "Default"
    timestamp_edited: str | None = None
    content: str = ""
    attachments: list[_Attachment] = []
    embeds: list[_Embed] = []
    mentions: list[_User] = []
    reference: _Reference | None = None


class DceChannel(msgspec.Struct, gc=False):
    id: str
    type: str = ""
    name: str = ""


class DceFile(msgspec.Struct, gc=False):
    """One JSON part of a DCE export: its channel and messages."""

    channel: DceChannel
    messages: list[_Message]


_DECODER = msgspec.json.Decoder(DceFile)
_ENCODER = msgspec.json.Encoder()


class Rows(msgspec.Struct, gc=False):
    """What one DCE file adds to the index: message rows, their searchable text, and the
    (folded name or id, user id) pairs ``from:`` looks up."""

    messages: list[MessageRow]
    words: list[tuple[int, str]]
    people: set[tuple[str, int]]


def decode_export(data: bytes) -> DceFile:
    """A DCE JSON file's channel and messages (``msgspec.DecodeError`` if it is not one)."""
    return _DECODER.decode(data)


def microseconds(timestamp: str) -> int:
    """An ISO 8601 time with offset → UTC microseconds since the epoch."""
    return (datetime.fromisoformat(timestamp) - _EPOCH) // _MICROSECOND


def rows_of(export: DceFile, seq: int) -> Rows:
    """The rows of every message of ``export``, recorded by journal record ``seq``."""
    channel = int(export.channel.id)
    rows: list[MessageRow] = []
    words: list[tuple[int, str]] = []
    people: set[tuple[str, int]] = set()
    for message in export.messages:
        row = _row(message, channel, seq)
        rows.append(row)
        words.append((row[0], fold(message.content)))
        people.update(_names(message.author, row[5]))
    return Rows(messages=rows, words=words, people=people)


def _row(message: _Message, channel: int, seq: int) -> MessageRow:
    author = message.author
    content = message.content
    flags = (FLAGS["link"] if has_link(content) else 0) | (FLAGS["embed"] if message.embeds else 0)
    if message.timestamp_edited is not None:
        flags |= FLAGS["edited"]
    attachments = None
    if message.attachments:
        flags |= FLAGS["attachment"]
        for item in message.attachments:
            flags |= FLAGS[attachment_kind(item.file_name)]
        attachments = _ENCODER.encode(
            [Attachment(file_name=a.file_name, url=a.url, size_bytes=a.file_size_bytes)
             for a in message.attachments]
        ).decode()  # fmt: skip
    mentions = None
    if message.mentions:
        mentions = _ENCODER.encode(
            [Mention(id=u.id, name=u.nickname or u.name) for u in message.mentions]
        ).decode()
    reference = message.reference
    reply_to = reference.message_id if reference is not None else None
    return (
        int(message.id), channel, microseconds(message.timestamp), message.timestamp,
        message.timestamp_edited, int(author.id), author.name, author.nickname or author.name,
        content, None if message.type == "Default" else message.type, flags, attachments,
        mentions, int(reply_to) if reply_to and reply_to.isdigit() else None, "discord", seq,
    )  # fmt: skip


def _names(author: _User, author_id: int) -> Iterator[tuple[str, int]]:
    yield fold(author.name), author_id
    if author.nickname:
        yield fold(author.nickname), author_id
    yield author.id, author_id
