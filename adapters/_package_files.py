"""The three kinds of files dmj reads from a data package, decoded into plain values.

``channel.json`` and ``index.json`` are small and decoded whole. ``user.json`` can exceed
100 MB (it holds every relationship, session and payment), yet only its top-level ``id``,
``username`` and ``global_name`` are needed: it is scanned in chunks, nested values are
skipped without being built, and reading stops as soon as the three are found.
"""

from __future__ import annotations

import re
from typing import Literal, Protocol

import msgspec

__all__ = ["ChannelFile", "Readable", "decode_channel", "decode_index", "scan_top_level"]


class Readable(Protocol):
    """What ``scan_top_level`` reads from: a binary stream (a file, a zip entry, BytesIO)."""

    def read(self, size: int = -1, /) -> bytes: ...


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


_TOKEN = re.compile(rb'\s*(?:"((?:[^"\\]++|\\.)*+)"|([{}\[\]:,])|([^\s{}\[\]:,"]++))', re.S)
_TO_BRACKET = re.compile(rb'(?:[^"{}\[\]]++|"(?:[^"\\]++|\\.)*+")*+', re.S)
_OPENERS = frozenset(b"{[")
_NOT_QUOTES_OR_BRACKETS = bytes(b for b in range(256) if b not in b'"{}[]')
_TokenKind = Literal["string", "punct", "literal"]
_KINDS: tuple[_TokenKind, ...] = ("string", "punct", "literal")


class _Scanner:
    """JSON read from a stream in chunks: top-level tokens, and fast skipping of containers."""

    def __init__(self, stream: Readable, chunk_size: int) -> None:
        self._stream = stream
        self._chunk_size = chunk_size
        self._buffer = b""
        self._position = 0
        self._eof = False

    def _fill(self) -> None:
        more = self._stream.read(self._chunk_size)
        self._eof = not more
        self._buffer, self._position = self._buffer[self._position :] + more, 0

    def _cut_off(self) -> ValueError:
        leftover = self._buffer[self._position : self._position + 20].strip()
        if not leftover:
            return ValueError("it ends before its top-level object is closed")
        return ValueError(f"it is cut off or malformed at {leftover!r}")

    def token(self) -> tuple[_TokenKind, bytes]:
        """The next token; strings come without their quotes. ``ValueError`` at the end."""
        while True:
            match = _TOKEN.match(self._buffer, self._position)
            if match is not None and (match.end() < len(self._buffer) or self._eof):
                self._position = match.end()
                group = match.lastindex or 1
                return _KINDS[group - 1], match[group]
            if self._eof:
                raise self._cut_off()
            self._fill()

    def skip_container(self) -> None:
        """Skip the rest of an object or array whose opening bracket was just read.

        Each stretch of the buffer is first reduced at C speed to its unmatched brackets
        (``_unmatched``): unless its leading closers reach the open depth, the container does
        not close in it and it is skipped whole. Only the stretch where it closes is walked
        bracket by bracket.
        """
        depth = 1
        while True:
            end, unmatched = _unmatched(self._buffer, self._position)
            closers = len(unmatched) - len(unmatched.lstrip(b"]}"))
            if depth > closers:
                depth += len(unmatched) - 2 * closers
                self._position = end
            elif (depth := self._walk(depth, end)) == 0:
                return
            if self._eof:
                raise self._cut_off()
            self._fill()

    def _walk(self, depth: int, end: int) -> int:
        """Follow brackets up to ``end``; the depth left (0: the container closed)."""
        while True:
            position = _TO_BRACKET.match(self._buffer, self._position).end()  # type: ignore[union-attr]
            if position >= end:
                self._position = end
                return depth
            self._position = position + 1
            depth += 1 if self._buffer[position] in _OPENERS else -1
            if depth == 0:
                return 0


def _unmatched(buffer: bytes, start: int) -> tuple[int, bytes]:
    """The end of the longest stretch from ``start`` that cuts no string, and the brackets
    of that stretch (outside strings) left unmatched within it, in order.

    Only C-speed bytes operations: escaped backslashes and quotes are blanked (same length,
    so positions hold), an odd quote count means the stretch ends inside a string (cut
    before it), then everything but quotes and brackets is dropped, the strings' insides
    with it, and matched pairs are removed until none is left.
    """
    text = buffer[start:]
    if b"\\" in text:
        text = text.replace(b"\\\\", b"__").replace(b'\\"', b"__")
    end = text.rfind(b'"') if text.count(b'"') % 2 else len(text)
    brackets = b"".join(text[:end].translate(None, _NOT_QUOTES_OR_BRACKETS).split(b'"')[::2])
    while True:
        reduced = brackets.replace(b"{}", b"").replace(b"[]", b"")
        if len(reduced) == len(brackets):
            return start + end, reduced
        brackets = reduced


def scan_top_level(
    stream: Readable, wanted: frozenset[str], *, chunk_size: int = 1 << 16
) -> dict[str, object]:
    """The scalar values of the ``wanted`` keys of the JSON object in ``stream``.

    Raises ``ValueError`` when the content is not a JSON object. Stops reading once every
    wanted key is found; nested objects and arrays are skipped without being decoded.
    """
    scanner = _Scanner(stream, chunk_size)
    try:
        first = scanner.token()
    except ValueError:
        first = ("literal", b"")
    if first != ("punct", b"{"):
        raise ValueError("it is not a JSON object")
    found: dict[str, object] = {}
    while found.keys() < wanted:
        kind, key = scanner.token()
        if (kind, key) == ("punct", b"}"):
            break
        if (kind, key) == ("punct", b","):
            continue
        if kind != "string" or scanner.token() != ("punct", b":"):
            raise ValueError(f"expected a key, found {key[:20]!r}")
        value_kind, value = scanner.token()
        if value_kind == "punct" and value in (b"{", b"["):
            scanner.skip_container()
        elif (name := key.decode("utf-8", "replace")) in wanted:
            found[name] = _scalar(value_kind, value)
    return found


def _scalar(kind: _TokenKind, raw: bytes) -> object:
    try:
        return msgspec.json.decode(b'"' + raw + b'"' if kind == "string" else raw)
    except msgspec.DecodeError as exc:
        raise ValueError(f"a value is malformed ({exc})") from exc
