"""One pass over a journal file: the intact records, then a torn tail or the first problem.

Readers, the audit and the writer's recovery all use this scan, so they can never disagree
about what a journal holds.

Speed: the file is read in blocks of whole lines, and a block is vouched for in bulk: one
``zlib.crc32`` call checks every line in it (see ``_format``), one ``decode_lines`` call
decodes it, and ``v`` and ``seq`` are compared as lists. The per-record Python work is a
few C-level iterations. A block the bulk checks cannot vouch for is walked line by line
(``_walk``) to upcast old records, or to find and name the first bad line. Memory is one
block plus its events, whatever the file's size.
"""

from __future__ import annotations

import io
import os
import re
import zlib
from collections.abc import Generator, Iterator
from operator import attrgetter

import msgspec
from dmj.machine.errors import JournalError

from ._findings import JournalCheck, TailKind, TornTail, problem
from ._format import MAGIC
from ._records import Unreadable, decode_record
from ._schema import E, Schema

__all__ = ["BLOCK_SIZE", "open_for_reading", "scan", "scan_to_end"]

BLOCK_SIZE = 64 * 1024
"""Bytes read at a time: small enough to stay in the CPU cache (measured faster here than
4 MiB), large enough that the per-block Python overhead vanishes."""

_TORN_NEWLINES = 2
"""At most: a torn write leaves one (its own, when only the middle was lost); a byte of the
last record changed into a newline splits it into two lines.

Why a damaged end is set aside and not refused, although its last record may have been
acknowledged: the end of the file is where a crash leaves its damage (an append whose size
reached the disk before its data, a sector of it lost), and a journal that refused it would
stop every resume after such a crash. Setting it aside loses nothing: the bytes are kept in
``journal.torn-*``, and going back one record costs at most one step done again, which the
journal makes safe (an intent is repeated; an outcome is journaled only after its fact, so
losing it repeats the fact: reopening and closing are idempotent, a repeated export writes a
new folder). Two line breaks bound what one damaged record can become; more, or a sealed
record after the damage, is not a damaged end but damage inside the journal, refused with
the way out (``dmj repair``)."""

_RECORD_START = b'{"type":"'
_RECORD_END = re.compile(rb',"crc":"[@-O]{9}"}\n\Z')
_SNIFF = 64 * 1024
"""How much of a complete tail is searched for zeros (a torn write's lost middle)."""

_seq = attrgetter("seq")
_version = attrgetter("v")
_crc32 = zlib.crc32

Stop = tuple[int, Unreadable | None]
"""Where ``_walk`` stopped: the bad line's number, and what is wrong with it (None for a
checksum mismatch, which may still be a torn tail)."""


def open_for_reading(path: os.PathLike[str] | str) -> io.FileIO:
    """An unbuffered read-only handle (the scan does its own block reads)."""
    try:
        return io.FileIO(path, "r")
    except OSError as exc:
        raise _unreadable(path, exc) from exc


def _read(file: io.FileIO) -> bytes:
    try:
        return file.read(BLOCK_SIZE)
    except OSError as exc:
        raise _unreadable(file.name, exc) from exc


def _unreadable(path: object, exc: OSError) -> JournalError:
    return JournalError(
        f"cannot read {path} ({exc.strerror or exc}); check the file's permissions and the "
        "disk, then try again."
    )


def scan(file: io.FileIO, name: str, schema: Schema[E]) -> Generator[list[E], None, JournalCheck]:
    """Yield the intact records of ``file`` in lists; return the audit of where it stopped.

    ``name`` is how messages name the file. The scan reads from offset 0 and never writes.
    """
    file.seek(0)
    records = intact = 0
    for block in _blocks(file):
        if not block.endswith(b"\n"):
            torn = TornTail(line=records + 1, offset=intact, length=len(block))
            return _end(file, name, records, intact, torn=torn)
        events = _bulk(schema, block, records + 1)
        stop: Stop | None = None
        if events is None:
            lines = block.split(b"\n")
            lines.pop()
            events, stop = _walk(schema, lines, records + 1)
            size = sum(map(len, lines[: len(events)])) + len(events)
        else:
            size = len(block)
        if events:
            yield events
        records, intact = records + len(events), intact + size
        if stop is not None:
            return _stopped(file, name, records, intact, stop)
    return _end(file, name, records, intact)


def scan_to_end(file: io.FileIO, name: str, schema: Schema[E]) -> JournalCheck:
    """Run ``scan`` to its end, dropping the events: where it stopped."""
    blocks = scan(file, name, schema)
    while True:
        try:
            next(blocks)
        except StopIteration as stop:
            end: JournalCheck = stop.value
            return end


def _blocks(file: io.FileIO) -> Iterator[bytes]:
    """Runs of whole lines, each ending in ``\\n``; the last may be an unterminated tail.

    A read that ends mid-line seeks back, so the next block starts at that line. A line
    longer than a block is read until its newline (or the end of the file).
    """
    while data := _read(file):
        cut = data.rfind(b"\n") + 1
        if cut == len(data):
            yield data
            continue
        if cut:
            file.seek(cut - len(data), os.SEEK_CUR)
            yield data[:cut]
            continue
        parts = [data]
        while more := _read(file):
            cut = more.rfind(b"\n") + 1
            if cut:
                file.seek(cut - len(more), os.SEEK_CUR)
                parts.append(more[:cut])
                break
            parts.append(more)
        yield b"".join(parts)


def _bulk(schema: Schema[E], block: bytes, first_seq: int) -> list[E] | None:
    """The block's events if every line is sealed, current and in sequence; else None."""
    if _crc32(block, MAGIC) != MAGIC:
        return None
    try:
        events = schema.decoder.decode_lines(block)
    except msgspec.MsgspecError:
        return None
    count = len(events)
    if list(map(_version, events)).count(schema.version) != count:
        return None
    if list(map(_seq, events)) != list(range(first_seq, first_seq + count)):
        return None
    return events


def _walk(schema: Schema[E], lines: list[bytes], first_seq: int) -> tuple[list[E], Stop | None]:
    """Line by line: the events before the first bad line, and where and why it stopped."""
    events: list[E] = []
    for index, line in enumerate(lines):
        number = first_seq + index
        if not _sealed(line):
            return events, (number, None)
        try:
            event = decode_record(schema, line)
        except Unreadable as exc:
            return events, (number, exc)
        if event.seq != number:
            detail = f"seq {event.seq} where seq {number} was expected: records are missing"
            return events, (number, Unreadable("sequence-gap", detail + " or out of order"))
        events.append(event)
    return events, None


def _sealed(line: bytes) -> bool:
    """Whether ``line`` (its newline stripped) is as a writer sealed it."""
    return _crc32(b"\n", _crc32(line, MAGIC)) == MAGIC


def _end(
    file: io.FileIO, name: str, records: int, intact: int, *, torn: TornTail | None = None
) -> JournalCheck:
    size = os.fstat(file.fileno()).st_size
    return JournalCheck(
        path=name,
        size=size,
        records=records,
        last_seq=records,
        intact_bytes=intact,
        torn=torn,
        problem=None,
    )


def _stopped(file: io.FileIO, name: str, records: int, intact: int, stop: Stop) -> JournalCheck:
    """The scan's end at a bad line: a problem, or a torn tail if nothing intact follows."""
    line, unreadable = stop
    end = _end(file, name, records, intact)
    if unreadable is not None:
        found = problem(name, line, unreadable.kind, unreadable.detail)
    elif _is_torn_tail(file, intact):
        kind = _tail_kind(file, intact, end.size)
        torn = TornTail(line=line, offset=intact, length=end.size - intact, kind=kind)
        return msgspec.structs.replace(end, torn=torn)
    else:
        found = problem(name, line, "checksum", "checksum mismatch")
    return msgspec.structs.replace(end, problem=found)


def _is_torn_tail(file: io.FileIO, offset: int) -> bool:
    """Whether the bytes from ``offset`` on can be one interrupted (or damaged) last record.

    No: if a sealed record starts a line in them (the damage lies before intact records;
    each complete line is tried whole and cut after every ``"}`` in it, which finds a record
    whose newline was damaged and glued it to the next line). No: if they hold more than
    ``_TORN_NEWLINES`` line breaks, which no single torn write or damaged record produces
    (an editor that rewrote every line must not get the whole journal set aside). An
    unterminated last line is never a record: it was never acknowledged.
    """
    file.seek(offset)
    newlines = 0
    for block in _blocks(file):
        newlines += block.count(b"\n")
        if newlines > _TORN_NEWLINES:
            return False
        lines = block.split(b"\n")
        lines.pop()  # b"" after the final newline, or the unterminated tail
        if any(map(_sealed_prefix, lines)):
            return False
    return True


def _sealed_prefix(line: bytes) -> bool:
    """Whether ``line``, or a prefix of it ending in ``"}``, is a sealed record."""
    crc, start = MAGIC, 0
    end = line.find(b'"}') + 2
    while end > 1:
        crc = _crc32(line[start:end], crc)
        if _crc32(b"\n", crc) == MAGIC:
            return True
        start, end = end, line.find(b'"}', end) + 2
    return _sealed(line)


def _tail_kind(file: io.FileIO, offset: int, size: int) -> TailKind:
    """What a tail that starts with a complete, unsealed line is.

    Framed as a dmj record (starting ``{"type":"`` or ending ``,"crc":"XXXXXXXXX"}``: a
    changed byte cannot undo both): a record whose bytes changed. Holding zeros: a torn write
    whose middle never reached the disk. Anything else: complete lines no dmj wrote (a hand
    edit, another program appending).
    """
    file.seek(offset)
    head = file.read(min(size - offset, _SNIFF))
    file.seek(max(offset, size - 32))
    last = file.read(32)
    if head.startswith(_RECORD_START) or _RECORD_END.search(last):
        return "damaged"
    if not last.endswith(b"\n") or b"\x00" in head:
        return "torn"
    return "foreign"
