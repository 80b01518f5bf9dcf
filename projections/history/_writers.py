"""The export formats: a stream of messages + meta → a stream of UTF-8 chunks (pure).

The same functions feed a file, stdout and (later) an HTTP download, so every sink writes
the same bytes. Nothing is held but the message at hand: memory stays flat. Bodies are
written verbatim in all three formats (docs/export-format.md):

- JSON: 2-space indent, LF; the messages are encoded in batches by msgspec.
- Markdown: each body in a fence of backticks one longer than its longest backtick run
  (three at least), so no body can close its fence.
- Text: each body as it is, between a heading line and its attachment lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, tzinfo
from itertools import islice
from typing import Literal

import msgspec

from ._model import Gap, Message, Order

__all__ = [
    "FORMATS",
    "ExportMeta",
    "Format",
    "Writer",
    "fence_for",
    "write_json",
    "write_listing",
    "write_markdown",
    "write_text",
]

Format = Literal["json", "md", "txt"]
SCHEMA_VERSION = "1"
SEPARATOR = "-" * 80
_BATCH = 512
_BACKTICKS = re.compile("`+")


class ExportMeta(msgspec.Struct, frozen=True, kw_only=True):
    """What an export says about itself: the dmj that wrote it (``app``, ``dmj X.Y.Z``),
    when (UTC), the command line it came from, the order and the number of messages."""

    app: str
    generated_at: datetime
    filter_input: str
    order: Order
    count: int

    @property
    def generated(self) -> str:
        return self.generated_at.strftime("%Y-%m-%dT%H:%M:%SZ")


Writer = Callable[[ExportMeta, Iterable[Message], Sequence[Gap], tzinfo], Iterator[bytes]]


# --- JSON -------------------------------------------------------------------------------


class _Head(msgspec.Struct, rename="camel"):
    schema_version: str
    app: str
    generated_at: str
    filter_input: str
    order_applied: str
    count: int


class _Author(msgspec.Struct):
    id: str
    name: str


class _Attachment(msgspec.Struct, rename="camel"):
    file_name: str
    url: str
    size_bytes: int


class _Message(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """A message as the JSON export writes it (fields in this order; ``editedAt`` and
    ``type`` only when they say something)."""

    id: str
    created_at: str
    edited_at: str | None = None
    channel_path: str
    channel_id: str
    author: _Author
    content: str
    attachments: list[_Attachment]
    type: str | None = None


class _Gap(msgspec.Struct, rename="camel"):
    channel_id: str
    channel_path: str
    error_state: bool
    error_message: str
    verdict: str


_ENCODER = msgspec.json.Encoder()


def write_json(
    meta: ExportMeta, messages: Iterable[Message], gaps: Sequence[Gap], zone: tzinfo
) -> Iterator[bytes]:
    """The JSON document: meta, then ``messages``, then ``gaps``."""
    head = _Head(
        schema_version=SCHEMA_VERSION,
        app=meta.app,
        generated_at=meta.generated,
        filter_input=meta.filter_input,
        order_applied=meta.order,
        count=meta.count,
    )
    yield _formatted(head)[: -len(b"\n}")] + b',\n  "messages": ['
    yield from _array(_json_message(m) for m in messages)
    yield b',\n  "gaps": ['
    yield from _array(_json_gap(g) for g in gaps)
    yield b"\n}\n"


def _array(items: Iterator[msgspec.Struct]) -> Iterator[bytes]:
    """A JSON array's elements at depth 2, then its closing bracket."""
    first = True
    while batch := list(islice(items, _BATCH)):
        body = msgspec.json.format(_ENCODER.encode(batch), indent=2)[1:-2]
        yield (b"" if first else b",") + body.replace(b"\n", b"\n  ")
        first = False
    yield b"]" if first else b"\n  ]"


def _formatted(value: object) -> bytes:
    return msgspec.json.format(_ENCODER.encode(value), indent=2)


def _json_message(m: Message) -> _Message:
    return _Message(
        id=str(m.id), created_at=m.created_at, edited_at=m.edited_at, channel_path=m.channel_path,
        channel_id=str(m.channel_id), author=_Author(id=str(m.author_id), name=m.author_display),
        content=m.content,
        attachments=[_Attachment(file_name=a.file_name, url=a.url, size_bytes=a.size_bytes)
                     for a in m.attachments],
        type=m.kind,
    )  # fmt: skip


def _json_gap(g: Gap) -> _Gap:
    return _Gap(channel_id=str(g.channel_id), channel_path=g.channel_path, error_state=True,
                error_message=g.reason or g.verdict, verdict=g.verdict)  # fmt: skip


# --- Markdown ---------------------------------------------------------------------------


def fence_for(content: str) -> str:
    """Backticks one longer than the longest run in ``content``, three at least."""
    if "`" not in content:
        return "```"
    return "`" * max(3, max(len(run) for run in _BACKTICKS.findall(content)) + 1)


def write_markdown(
    meta: ExportMeta, messages: Iterable[Message], gaps: Sequence[Gap], zone: tzinfo
) -> Iterator[bytes]:
    """The Markdown document: a ```` ```json meta ```` block, the messages, the gaps."""
    head = {"generatedAt": meta.generated, "app": meta.app, "filterInput": meta.filter_input,
            "orderApplied": meta.order, "count": meta.count}  # fmt: skip
    yield b"```json meta\n" + _formatted(head) + b"\n```\n"
    ordinal = 0
    for ordinal, message in enumerate(messages, start=1):
        fence = fence_for(message.content)
        heading = f"## {ordinal}. {_line(message.channel_path)} — {_line(message.author_display)}"
        parts = [f"\n{heading} — {_local(message.ts, zone)}\n\n"]
        if message.attachments:
            links = ", ".join(
                f"[{_md_name(a.file_name)}]({_md_url(a.url)}) ({_size(a.size_bytes)})"
                for a in message.attachments
            )
            parts.append(f"Attachments: {links}\n\n")
        parts.append(f"{fence}\n{message.content}\n{fence}\n")
        yield "".join(parts).encode()
    for number, gap in enumerate(gaps, start=ordinal + 1):
        reason = _line(gap.reason or gap.verdict)
        yield f"\n## {number}. {_line(gap.channel_path)} — error\n\n> Error: {reason}\n".encode()


def _md_name(name: str) -> str:
    return re.sub(r"([\\\[\]`*_<>])", r"\\\1", _line(name))


def _md_url(url: str) -> str:
    """A link destination: in angle brackets when it holds spaces or parentheses."""
    if re.search(r"[\s()<>]", url):
        return "<" + url.replace("<", "%3C").replace(">", "%3E") + ">"
    return url


# --- Text -------------------------------------------------------------------------------


def write_text(
    meta: ExportMeta, messages: Iterable[Message], gaps: Sequence[Gap], zone: tzinfo
) -> Iterator[bytes]:
    """The plain-text document: ``Meta:``, ``---``, then messages and gaps between rules."""
    head = (
        f"Meta:\n  generatedAt: {meta.generated}\n  app: {meta.app}\n"
        f"  filterInput: {_line(meta.filter_input)}\n  orderApplied: {meta.order}\n"
        f"  count: {meta.count}\n\n---\n"
    )
    yield head.encode()
    yield from _entries(messages, gaps, zone)


def write_listing(
    messages: Iterable[Message], gaps: Sequence[Gap], *, query: str, order: Order, count: int,
    zone: tzinfo,
) -> Iterator[bytes]:  # fmt: skip
    """What ``dmj show`` prints: the query and the count, then the text format's entries."""
    noun = "message" if count == 1 else "messages"
    gap_note = f", {len(gaps)} without messages" if gaps else ""
    head = f"Query: {_line(query) or '(everything)'}\n{count:,} {noun}{gap_note}, order: {order}"
    yield f"{head}\n\n".encode()
    yield from _entries(messages, gaps, zone)


def _entries(messages: Iterable[Message], gaps: Sequence[Gap], zone: tzinfo) -> Iterator[bytes]:
    """Each message (heading, verbatim body, attachment lines), then each gap, between rules."""
    between = ""
    ordinal = 0
    for ordinal, message in enumerate(messages, start=1):
        lines = [
            f"{between}#{ordinal} {_line(message.channel_path)} — "
            f"{_line(message.author_display)} — {_local(message.ts, zone)}\n{message.content}\n"
        ]
        lines.extend(
            f"Attachment: {_line(a.file_name)} ({_size(a.size_bytes)}) {a.url}\n"
            for a in message.attachments
        )
        yield "".join(lines).encode()
        between = SEPARATOR + "\n"
    for number, gap in enumerate(gaps, start=ordinal + 1):
        reason = _line(gap.reason or gap.verdict)
        yield f"{between}#{number} {_line(gap.channel_path)} [error]\nError: {reason}\n".encode()
        between = SEPARATOR + "\n"


# --- shared -----------------------------------------------------------------------------

FORMATS: dict[Format, Writer] = {"json": write_json, "md": write_markdown, "txt": write_text}
"""Each format's writer, by the name ``dmj export`` takes."""


def _local(ts: int, zone: tzinfo) -> str:
    """``YYYY-MM-DD HH:MM`` in ``zone``."""
    return datetime.fromtimestamp(ts // 1_000_000, zone).strftime("%Y-%m-%d %H:%M")


def _line(text: str) -> str:
    """``text`` on one line (names and reasons never break a heading)."""
    return " ".join(text.splitlines()) if "\n" in text or "\r" in text else text


def _size(size: int) -> str:
    """``812 bytes``, ``2.5 MB``: decimal units, one decimal."""
    if size < 1000:
        return f"{size} bytes"
    value, unit = float(size), "bytes"
    for unit in ("kB", "MB", "GB", "TB"):  # noqa: B007 (the last unit is the answer)
        value /= 1000
        if value < 1000:
            break
    return f"{value:.1f} {unit}"
