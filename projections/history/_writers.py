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
from datetime import UTC, datetime, tzinfo
from itertools import islice
from typing import Literal

import msgspec

from ._model import Gap, Message, Order

__all__ = [
    "FORMATS",
    "ExportMeta",
    "Format",
    "LocalClock",
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


class _Attachment(msgspec.Struct, rename="camel"):
    file_name: str
    url: str
    size_bytes: int


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
    yield from _json_messages(messages)
    yield b',\n  "gaps": ['
    yield from _array(_json_gap(g) for g in gaps)
    yield b"\n}\n"


_JSON_HEAD = b'\n    {\n      "id": "%d",\n      "createdAt": %s'
_JSON_NEXT = b"," + _JSON_HEAD
_JSON_BODY = (
    b',\n      "channelPath": %s,\n      "channelId": "%d",\n      "author": {\n        '
    b'"id": "%d",\n        "name": %s\n      },\n      "content": %s,\n      "attachments": %s'
)


def _json_messages(messages: Iterable[Message]) -> Iterator[bytes]:
    """The messages array's elements and its closing bracket, in batches.

    Each message is laid out here, field by field, exactly as ``msgspec.json.format``
    indents it (the tests compare the two): building a struct per message to encode and
    re-indent cost twice as much."""
    encode = _ENCODER.encode
    paths: dict[int, bytes] = {}
    parts: list[bytes] = []
    head = _JSON_HEAD
    for count, m in enumerate(messages, start=1):
        path = paths.get(m.channel_id)
        if path is None:
            path = paths[m.channel_id] = encode(m.channel_path)
        parts.append(head % (m.id, encode(m.created_at)))
        head = _JSON_NEXT
        if m.edited_at is not None:
            parts.append(b',\n      "editedAt": ' + encode(m.edited_at))
        attachments = _attachments(m) if m.attachments else b"[]"
        parts.append(_JSON_BODY % (path, m.channel_id, m.author_id, encode(m.author_display),
                                   encode(m.content), attachments))  # fmt: skip
        if m.kind is not None:
            parts.append(b',\n      "type": ' + encode(m.kind))
        parts.append(b"\n    }")
        if count % _BATCH == 0:
            yield b"".join(parts)
            parts.clear()
    yield b"".join(parts) + (b"]" if head is _JSON_HEAD else b"\n  ]")


def _attachments(m: Message) -> bytes:
    items = [_Attachment(file_name=a.file_name, url=a.url, size_bytes=a.size_bytes)
             for a in m.attachments]  # fmt: skip
    return _formatted(items).replace(b"\n", b"\n      ")


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
    clock, names = LocalClock(zone), _Names()
    parts: list[str] = []
    ordinal = 0
    for ordinal, m in enumerate(messages, start=1):
        fence = fence_for(m.content)
        parts += ("\n## ", str(ordinal), ". ", names.path(m), " — ", names.author(m), " — ",
                  clock(m.ts), "\n\n")  # fmt: skip
        if m.attachments:
            links = ", ".join(
                f"[{_md_name(a.file_name)}]({_md_url(a.url)}) ({_size(a.size_bytes)})"
                for a in m.attachments
            )
            parts += ("Attachments: ", links, "\n\n")
        parts += (fence, "\n", m.content, "\n", fence, "\n")
        if ordinal % _BATCH == 0:
            yield "".join(parts).encode()
            parts.clear()
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
    clock, names = LocalClock(zone), _Names()
    rule = SEPARATOR + "\n"
    parts: list[str] = []
    ordinal = 0
    for ordinal, m in enumerate(messages, start=1):
        if ordinal > 1:
            parts.append(rule)
        parts += ("#", str(ordinal), " ", names.path(m), " — ", names.author(m), " — ",
                  clock(m.ts), "\n", m.content, "\n")  # fmt: skip
        for a in m.attachments:
            parts.append(f"Attachment: {_line(a.file_name)} ({_size(a.size_bytes)}) {a.url}\n")
        if ordinal % _BATCH == 0:
            yield "".join(parts).encode()
            parts.clear()
    yield "".join(parts).encode()
    for number, gap in enumerate(gaps, start=ordinal + 1):
        reason = _line(gap.reason or gap.verdict)
        between = rule if number > 1 else ""
        yield f"{between}#{number} {_line(gap.channel_path)} [error]\nError: {reason}\n".encode()


# --- shared -----------------------------------------------------------------------------

FORMATS: dict[Format, Writer] = {"json": write_json, "md": write_markdown, "txt": write_text}
"""Each format's writer, by the name ``dmj export`` takes."""


class LocalClock:
    """``YYYY-MM-DD HH:MM`` in a zone, for a UTC time in microseconds, fast.

    The zone's offset is looked up once per hour of UTC time (and used for the whole hour
    when it is the same at both ends of it), the date text once per local day."""

    def __init__(self, zone: tzinfo) -> None:
        self._zone = zone
        self._offsets: dict[int, int | None] = {}
        self._days: dict[int, str] = {}

    def __call__(self, ts: int) -> str:
        seconds = ts // 1_000_000
        hour = seconds // 3600
        offset = self._offsets.get(hour, -1)
        if offset == -1:
            offset = self._offsets[hour] = self._steady_offset(hour)
        if offset is None:
            moment = datetime.fromtimestamp(seconds, self._zone)
            return f"{moment:%Y-%m-%d %H:%M}"
        local = seconds + offset
        day, rest = divmod(local, 86400)
        date = self._days.get(day)
        if date is None:
            date = self._days[day] = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%d")
        return f"{date} {rest // 3600:02d}:{rest // 60 % 60:02d}"

    def _steady_offset(self, hour: int) -> int | None:
        """The zone's offset in seconds all through ``hour``, or None if it changes in it."""
        ends = (datetime.fromtimestamp(hour * 3600 + s, UTC) for s in (0, 3599))
        first, last = (self._zone.utcoffset(end.astimezone(self._zone)) for end in ends)
        if first is None or first != last:
            return None
        return int(first.total_seconds())


class _Names:
    """Channel paths and author names on one line, remembered per channel and author."""

    def __init__(self) -> None:
        self._paths: dict[int, str] = {}

    def path(self, m: Message) -> str:
        path = self._paths.get(m.channel_id)
        if path is None:
            path = self._paths[m.channel_id] = _line(m.channel_path)
        return path

    @staticmethod
    def author(m: Message) -> str:
        name = m.author_display
        return name if "\n" not in name and "\r" not in name else _line(name)


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
