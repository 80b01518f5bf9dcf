"""Recorded exports read into what the index adds, in order: frames (I/O: reads files).

``export_frames`` gives, export by export: ``Title`` (DCE's name of the channel), ``Batch``
(up to ``_CHUNK`` messages as rows, numbered in ingest order), ``Problem`` (the export cannot
be read). An export adds all of its messages or none:

- below ``STREAM_BYTES`` of JSON, every part is decoded, checked and made rows before
  anything of it is given (no savepoint: FTS5 writes a segment at each one);
- from ``STREAM_BYTES`` on, it is given as it is read, between ``Begin`` and ``End`` (a
  savepoint): a part read whole only as JSON, its messages decoded ``_CHUNK`` at a time, so
  memory holds the part's bytes and one chunk, not every message decoded, and the first
  rows are ready at once. A ``Problem`` after ``Begin`` undoes what the export added; the
  reading goes on with the rows' numbers and the authors met as they were before it.

``_ingest.Loader`` adds the frames; ``_worker`` reads them in a second process.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
from dmj.machine.state import Outcome

from ._dce import DceMessage, Rows, decode_export, decode_messages, rows_of, scan_export

__all__ = [
    "STREAM_BYTES",
    "Batch",
    "Begin",
    "End",
    "Frame",
    "Problem",
    "Title",
    "export_files",
    "export_frames",
]

STREAM_BYTES = 8 << 20
"""From this much JSON on, an export is given as it is read, inside a savepoint."""
_CHUNK = 5_000
_PART = re.compile(r" \[part (\d+)\]\.json$")
_UNREADABLE = (OSError, ValueError, msgspec.DecodeError)


class Title(msgspec.Struct, frozen=True, array_like=True, tag=True, gc=False):
    """DCE's name of ``channel`` in the export recorded at ``seq``."""

    seq: int
    channel: int
    name: str


class Batch(msgspec.Struct, frozen=True, array_like=True, tag=True, gc=False):
    """Up to ``_CHUNK`` messages of ``channel``, as rows."""

    channel: int
    rows: Rows


class Problem(msgspec.Struct, frozen=True, array_like=True, tag=True, gc=False):
    """The export recorded at ``seq`` (in ``path``) cannot be read, and why; after ``Begin``,
    what it added is undone."""

    seq: int
    path: str
    reason: str


class Begin(msgspec.Struct, frozen=True, array_like=True, tag=True, gc=False):
    """An export given as it is read starts (a savepoint)."""


class End(msgspec.Struct, frozen=True, array_like=True, tag=True, gc=False):
    """The export begun was read whole (the savepoint is released)."""


Frame = Title | Batch | Problem | Begin | End
"""What reading the exports gives the ``Loader``, in order."""


@dataclass
class _Numbering:
    """The next row's number and the authors already given (``from:`` keys)."""

    row: int
    authors: set[tuple[str, str, str]] = field(default_factory=set)

    def batch(self, messages: list[DceMessage], channel: int) -> Batch:
        rows = rows_of(messages, channel, self.row, self.authors)
        self.row += len(rows.messages)
        return Batch(channel=channel, rows=rows)


def export_frames(
    archive: Path, outcomes: Iterable[Outcome], first_row: int, *, stream_bytes: int
) -> Iterator[Frame]:
    """What ``outcomes``' exports add, rows numbered from ``first_row``; exports of
    ``stream_bytes`` of JSON and more are given as they are read. An export with no folder
    (an incremental one that found nothing new) adds nothing."""
    numbering = _Numbering(row=first_row)
    for outcome in outcomes:
        if not outcome.path:
            continue
        try:
            files = export_files(archive, outcome)
            size = sum(file.stat().st_size for file in files)
        except OSError as exc:
            yield _problem(outcome, exc)
            continue
        read = _streamed if size >= stream_bytes else _whole
        yield from read(files, outcome, numbering)


def _whole(files: list[Path], outcome: Outcome, numbering: _Numbering) -> Iterator[Frame]:
    """Every part decoded, checked and made rows, then given (or a ``Problem``, and the
    numbering as before)."""
    before = _Numbering(row=numbering.row, authors=set(numbering.authors))
    frames: list[Frame] = []
    try:
        parts = [decode_export(file.read_bytes()) for file in files]
        for part in parts:
            _check_channel(part.channel.id)
            _check_messages(part.messages)
        for part in parts:
            channel = int(part.channel.id)
            frames.append(Title(seq=outcome.seq, channel=channel, name=part.channel.name))
            for start in range(0, len(part.messages), _CHUNK):
                frames.append(numbering.batch(part.messages[start : start + _CHUNK], channel))
    except _UNREADABLE as exc:
        numbering.row, numbering.authors = before.row, before.authors
        yield _problem(outcome, exc)
        return
    yield from frames


def _streamed(files: list[Path], outcome: Outcome, numbering: _Numbering) -> Iterator[Frame]:
    """Each part given as its messages are decoded, between ``Begin`` and ``End``; if one
    cannot be read, ``Problem`` (which undoes the export), and the numbering as before."""
    before = _Numbering(row=numbering.row, authors=set(numbering.authors))
    yield Begin()
    try:
        for file in files:
            channel, raw = scan_export(data := file.read_bytes())
            _check_channel(channel.id)
            yield Title(seq=outcome.seq, channel=int(channel.id), name=channel.name)
            for start in range(0, len(raw), _CHUNK):
                messages = _decoded(raw[start : start + _CHUNK], data)
                _check_messages(messages)
                yield numbering.batch(messages, int(channel.id))
    except _UNREADABLE as exc:
        numbering.row, numbering.authors = before.row, before.authors
        yield _problem(outcome, exc)
        return
    yield End()


def _decoded(raw: list[msgspec.Raw], data: bytes) -> list[DceMessage]:
    """``decode_messages(raw)``; if one is not DCE's, the error decoding the file whole
    (``data``) gives: the same message, at its place in the file (not in ``raw``)."""
    try:
        return decode_messages(raw)
    except msgspec.ValidationError:
        decode_export(data)
        raise


def _problem(outcome: Outcome, exc: Exception) -> Problem:
    return Problem(seq=outcome.seq, path=outcome.path, reason=str(exc))


def _check_channel(channel_id: str) -> None:
    if not channel_id.isdigit():
        raise ValueError(f"its channel id {channel_id!r} is not a number")


def _check_messages(messages: list[DceMessage]) -> None:
    for message in messages:
        if not (message.id.isdigit() and message.author.id.isdigit()):
            raise ValueError(f"message {message.id!r} has an id that is not a number")


def export_files(archive: Path, outcome: Outcome) -> list[Path]:
    """The JSON parts of an export in part order: the files its record lists (``files``),
    or, for records older than that list, the JSON files in its folder."""
    folder = archive / outcome.path
    names = [f.name for f in outcome.files if f.name.endswith(".json")]
    files = [folder / name for name in names] if names else list(folder.glob("*.json"))
    if not files:
        raise OSError(f"{outcome.path} holds no JSON file")
    return sorted(files, key=_part_number)


def _part_number(path: Path) -> int:
    match = _PART.search(path.name)
    return int(match[1]) if match else 1
