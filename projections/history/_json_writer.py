"""The JSON export (docs/export-format.md): 2-space indent, LF, bodies verbatim (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import tzinfo
from itertools import islice

import msgspec

from ._model import Gap, Message
from ._render import BATCH, ExportMeta

__all__ = ["SCHEMA_VERSION", "write_json"]

SCHEMA_VERSION = "1"
"""Adding a field keeps it; renaming one or changing what one means bumps it."""


class _Head(msgspec.Struct, rename="camel"):
    schema_version: str
    app: str
    generated_at: str
    filter_input: str
    order_applied: str
    count: int


class _Gap(msgspec.Struct, rename="camel"):
    channel_id: str
    channel_path: str
    error_state: bool
    error_message: str
    verdict: str
    partial: bool


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
_JSON_FIRST, _JSON_OTHER = _JSON_HEAD + _JSON_BODY, _JSON_NEXT + _JSON_BODY
"""A message not edited (most are), laid out in one formatting."""
_JSON_ATTACHMENT = (
    b'\n        {\n          "fileName": %s,\n          "url": %s,\n          "sizeBytes": %d'
    b"\n        }"
)


def _json_messages(messages: Iterable[Message]) -> Iterator[bytes]:
    """The messages array's elements and its closing bracket, in batches.

    Each message is laid out here, field by field, exactly as ``msgspec.json.format``
    indents it (the tests compare the two): building a struct per message to encode and
    re-indent cost twice as much."""
    encode = _ENCODER.encode
    paths: dict[int, bytes] = {}
    parts: list[bytes] = []
    add = parts.append
    head, whole = _JSON_HEAD, _JSON_FIRST
    for count, m in enumerate(messages, start=1):
        path = paths.get(m.channel_id)
        if path is None:
            path = paths[m.channel_id] = encode(m.channel_path)
        attachments = _attachments(m) if m.attachments else b"[]"
        if m.edited_at is None:
            add(whole % (m.id, encode(m.created_at), path, m.channel_id, m.author_id,
                         encode(m.author_display), encode(m.content), attachments))  # fmt: skip
        else:
            add(head % (m.id, encode(m.created_at)))
            add(b',\n      "editedAt": ' + encode(m.edited_at))
            add(_JSON_BODY % (path, m.channel_id, m.author_id, encode(m.author_display),
                              encode(m.content), attachments))  # fmt: skip
        head, whole = _JSON_NEXT, _JSON_OTHER
        if m.kind is not None:
            add(b',\n      "type": ' + encode(m.kind))
        if m.source != "discord":
            add(b',\n      "source": ' + encode(m.source))
        add(b"\n    }")
        if count % BATCH == 0:
            yield b"".join(parts)
            parts.clear()
    yield b"".join(parts) + (b"]" if head is _JSON_HEAD else b"\n  ]")


def _attachments(m: Message) -> bytes:
    """The attachments array at depth 3, laid out as ``msgspec.json.format`` does it."""
    encode = _ENCODER.encode
    items = [_JSON_ATTACHMENT % (encode(a.file_name), encode(a.url), a.size_bytes)
             for a in m.attachments]  # fmt: skip
    return b"[" + b",".join(items) + b"\n      ]"


def _array(items: Iterator[msgspec.Struct]) -> Iterator[bytes]:
    """A JSON array's elements at depth 2, then its closing bracket."""
    first = True
    while batch := list(islice(items, BATCH)):
        body = msgspec.json.format(_ENCODER.encode(batch), indent=2)[1:-2]
        yield (b"" if first else b",") + body.replace(b"\n", b"\n  ")
        first = False
    yield b"]" if first else b"\n  ]"


def _formatted(value: object) -> bytes:
    return msgspec.json.format(_ENCODER.encode(value), indent=2)


def _json_gap(g: Gap) -> _Gap:
    return _Gap(channel_id=str(g.channel_id), channel_path=g.channel_path, error_state=True,
                error_message=g.reason or g.verdict, verdict=g.verdict,
                partial=g.partial)  # fmt: skip
