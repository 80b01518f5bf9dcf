"""DCE's JSON export (reference/dce.md §3) → the index's rows (pure: bytes in, rows out).

Only the fields the index keeps are decoded (msgspec skips the rest while parsing). A row is
a tuple in the column order of ``_sql.MESSAGE_COLUMNS``; its searchable text is the folded
content (``_text.fold``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from ._model import Attachment, Mention
from ._text import attachment_kind, fold, has_link

__all__ = [
    "FLAGS",
    "DceChannel",
    "DceFile",
    "DceMessage",
    "Extra",
    "MessageRow",
    "Rows",
    "decode_export",
    "decode_messages",
    "microseconds",
    "rows_of",
    "scan_export",
    "searchable",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

FLAGS = {
    "attachment": 1, "image": 2, "video": 4, "file": 8, "link": 16, "embed": 32, "edited": 64,
}  # fmt: skip
"""The bits of a message's ``flags`` column: what ``has:`` and ``is:edited`` test."""
_EMBED, _LINK, _EDITED, _ATTACHMENT = (FLAGS[k] for k in ("embed", "link", "edited", "attachment"))
_iso = datetime.fromisoformat

MessageRow = tuple[int, int, int, int, str, int, str, str, str, int, bytearray | int]
"""row, id, channel_id, ts, created_at, author_id, author_name, author_display, content,
flags, extra (``Extra`` as JSON, or 0 when it would say nothing: ``SQL.messages`` stores
NULL)."""


class Extra(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """What only some messages have, in one column (a JSON array; most messages need none):
    the edit time, DCE's type when not ``Default``, attachments, mentions, the message a
    reply answers."""

    edited_at: str | None = None
    kind: str | None = None
    attachments: tuple[Attachment, ...] = ()
    mentions: tuple[Mention, ...] = ()
    reply_to: int | None = None


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


class DceMessage(msgspec.Struct, rename="camel", gc=False):
    """The fields of a DCE message the index keeps (reference/dce.md §3)."""

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
    messages: list[DceMessage]


class _Scanned(msgspec.Struct, gc=False):
    channel: DceChannel
    messages: list[msgspec.Raw]


_DECODER = msgspec.json.Decoder(DceFile)
_SCANNER = msgspec.json.Decoder(_Scanned)
_MESSAGES = msgspec.json.Decoder(list[DceMessage])
_ENCODER = msgspec.json.Encoder()


class Rows(msgspec.Struct, gc=False):
    """What one DCE file adds to the index: message rows, and the (folded name or id, user
    id) pairs ``from:`` looks up for authors not met before. Their searchable text
    (``words``) is made where the rows are inserted: a worker need not send every body twice."""

    messages: list[MessageRow]
    people: list[tuple[str, int]]

    def words(self) -> list[tuple[int, str]]:
        """Each row's number and ``searchable`` text, for the full-text index."""
        return [(row[0], text if (text := row[8]).isascii() else fold(text))
                for row in self.messages]  # fmt: skip


def decode_export(data: bytes) -> DceFile:
    """A DCE JSON file's channel and messages (``msgspec.DecodeError`` if it is not one)."""
    return _DECODER.decode(data)


def scan_export(data: bytes) -> tuple[DceChannel, list[msgspec.Raw]]:
    """A DCE JSON file's channel and its messages still undecoded (their JSON, which stays
    in ``data``); the file's JSON is checked whole (``msgspec.DecodeError``)."""
    scanned = _SCANNER.decode(data)
    return scanned.channel, scanned.messages


def decode_messages(raw: list[msgspec.Raw]) -> list[DceMessage]:
    """Messages ``scan_export`` left undecoded (``msgspec.DecodeError`` if one is not DCE's)."""
    return _MESSAGES.decode(b"[" + b",".join(raw) + b"]")


def microseconds(timestamp: str) -> int:
    """An ISO 8601 time with offset → UTC microseconds since the epoch."""
    return (datetime.fromisoformat(timestamp) - _EPOCH) // _MICROSECOND


def searchable(content: str) -> str:
    """The text the full-text index holds for ``content``: ASCII as it is (the tokenizer
    ignores its case), anything else folded (``_text.fold``)."""
    return content if content.isascii() else fold(content)


def rows_of(
    messages: list[DceMessage], channel: int, first_row: int, authors: set[tuple[str, str, str]]
) -> Rows:
    """The rows of ``messages`` of ``channel``, numbered from ``first_row``; ``authors``
    (id, name, display) already looked up by ``from:`` are skipped, new ones added.
    ``ValueError`` if a message's time is not ISO 8601 with an offset."""
    rows: list[MessageRow] = []
    people: list[tuple[str, int]] = []
    add_row = rows.append
    met: dict[tuple[str, str, str | None], tuple[int, str, str]] = {}
    for number, message in enumerate(messages, start=first_row):
        content = message.content
        flags = _EMBED if message.embeds else 0
        if "://" in content and has_link(content):
            flags |= _LINK
        extra: bytearray | int = 0
        if (message.timestamp_edited is not None or message.type != "Default"
                or message.attachments or message.mentions):  # fmt: skip
            flags, extra = _extra(message, flags)
        author = message.author
        key = (author.id, author.name, author.nickname)
        if (known := met.get(key)) is None:
            known = met[key] = _author(author, authors, people)
        author_id, name, display = known
        stamp = message.timestamp
        try:
            ts = (_iso(stamp) - _EPOCH) // _MICROSECOND
        except (ValueError, TypeError):  # not ISO 8601, or without offset
            raise ValueError(f"message {message.id!r} has a time that is not ISO 8601 "
                             f"with a UTC offset ({stamp!r})") from None  # fmt: skip
        add_row((number, int(message.id), channel, ts, stamp, author_id, name, display,
                 content, flags, extra))  # fmt: skip
    return Rows(messages=rows, people=people)


def _author(
    author: _User, authors: set[tuple[str, str, str]], people: list[tuple[str, int]]
) -> tuple[int, str, str]:
    """``author``'s id, username and display name; the keys ``from:`` finds them by, added to
    ``people`` unless ``authors`` (id, name, display) already has them."""
    name, author_id = author.name, int(author.id)
    display = author.nickname or name
    if (author.id, name, display) not in authors:
        authors.add((author.id, name, display))
        people += [(fold(name), author_id), (fold(display), author_id), (author.id, author_id)]
    return author_id, name, display


def _extra(message: DceMessage, flags: int) -> tuple[int, bytearray]:
    """``flags`` with the edit and attachment bits, and the ``Extra`` of ``message``."""
    edited, kind, reference = message.timestamp_edited, message.type, message.reference
    if edited is not None:
        flags |= _EDITED
    for item in message.attachments:
        flags |= _ATTACHMENT | FLAGS[attachment_kind(item.file_name)]
    reply_to = reference.message_id if reference is not None else None
    extra = bytearray()
    _ENCODER.encode_into(Extra(
        edited_at=edited, kind=None if kind == "Default" else kind,
        attachments=tuple([
            Attachment(file_name=a.file_name, url=a.url, size_bytes=a.file_size_bytes)
            for a in message.attachments
        ]),
        mentions=tuple([Mention(id=u.id, name=u.nickname or u.name) for u in message.mentions]),
        reply_to=int(reply_to) if reply_to and reply_to.isdigit() else None,
    ), extra)  # fmt: skip
    return flags, extra
