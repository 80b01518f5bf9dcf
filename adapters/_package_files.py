"""The three kinds of files dmj reads from a data package, decoded into plain values.

``channel.json`` and ``index.json`` are small and decoded whole. ``user.json`` can exceed
100 MB (it holds every relationship, session and payment), yet only its top-level ``id``,
``username`` and ``global_name`` are needed: it is scanned in chunks, nested values are
skipped without being built, and reading stops as soon as the three are found.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO, Literal

import msgspec

__all__ = ["ChannelFile", "decode_channel", "decode_index", "scan_top_level"]

_CHUNK = 1 << 16


class ChannelFile(msgspec.Struct, kw_only=True):
    """The parts of ``channel.json`` dmj uses. ``type`` is ``"DM"`` today and ``1`` in
    packages from before ~2021; ``recipients`` include the owner and may hold the literal
    ``"Deleted User"``; group DMs may lack them."""

    id: str | int
    type: str | int
    recipients: list[str] | None = None
    name: str | None = None


_CHANNEL = msgspec.json.Decoder(ChannelFile)
_INDEX = msgspec.json.Decoder(dict[str, str | None])


def decode_channel(content: bytes) -> ChannelFile:
    """Decode one ``channel.json``; raises ``msgspec.DecodeError`` naming what is wrong."""
    return _CHANNEL.decode(content)


def decode_index(content: bytes) -> dict[str, str | None]:
    """Decode ``index.json`` (channel id → display name or null)."""
    return _INDEX.decode(content)


_TOKEN = re.compile(rb'\s*(?:"((?:[^"\\]|\\.)*)"|([{}\[\]:,])|([^\s{}\[\]:,"]+))', re.S)
_TokenKind = Literal["string", "punct", "literal"]
_KINDS: tuple[_TokenKind, ...] = ("string", "punct", "literal")


def _tokens(stream: IO[bytes]) -> Iterator[tuple[_TokenKind, bytes]]:
    """JSON tokens read from ``stream`` in chunks; strings come without their quotes."""
    buffer, position, eof = b"", 0, False
    while True:
        match = _TOKEN.match(buffer, position)
        if match is None or (match.end() == len(buffer) and not eof):
            if eof:
                if buffer[position:].strip():
                    leftover = buffer[position : position + 20].strip()
                    raise ValueError(f"it is cut off or malformed at {leftover!r}")
                return
            more = stream.read(_CHUNK)
            eof = not more
            buffer, position = buffer[position:] + more, 0
            continue
        position = match.end()
        group = match.lastindex or 1
        yield _KINDS[group - 1], match[group]


def scan_top_level(stream: IO[bytes], wanted: frozenset[str]) -> dict[str, object]:
    """The scalar values of the ``wanted`` keys of the JSON object in ``stream``.

    Raises ``ValueError`` when the content is not a JSON object. Stops reading once every
    wanted key is found; nested objects and arrays are skipped token by token.
    """
    tokens = _tokens(stream)
    if next(tokens, None) != ("punct", b"{"):
        raise ValueError("it is not a JSON object")
    found: dict[str, object] = {}
    try:
        while found.keys() < wanted:
            kind, key = next(tokens)
            if (kind, key) == ("punct", b"}"):
                break
            if (kind, key) == ("punct", b","):
                continue
            if kind != "string" or next(tokens) != ("punct", b":"):
                raise ValueError(f"expected a key, found {key[:20]!r}")
            value_kind, value = next(tokens)
            if value in (b"{", b"[") and value_kind == "punct":
                _skip_container(tokens)
            elif key.decode("utf-8", "replace") in wanted:
                found[key.decode()] = _scalar(value_kind, value)
    except StopIteration:
        raise ValueError("it ends before its top-level object is closed") from None
    return found


def _skip_container(tokens: Iterator[tuple[_TokenKind, bytes]]) -> None:
    depth = 1
    while depth:
        kind, value = next(tokens)
        if kind == "punct" and value in (b"{", b"["):
            depth += 1
        elif kind == "punct" and value in (b"}", b"]"):
            depth -= 1


def _scalar(kind: _TokenKind, raw: bytes) -> object:
    try:
        return msgspec.json.decode(b'"' + raw + b'"' if kind == "string" else raw)
    except msgspec.DecodeError as exc:
        raise ValueError(f"a value is malformed ({exc})") from exc
