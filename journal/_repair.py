"""The way out of a damaged journal, at the file's level: read what follows the damage, and
cut the journal back to its valid prefix with the rest kept in ``journal.damaged-<UTC>``.

What the rest held is read as far as it can be (``read_rest``): a sealed record is decoded
as it is; a damaged line is read as JSON if it still parses, so a person can be told what
was probably lost. ``set_rest_aside`` takes the writer lock, checks that the journal is
still the one that was planned for, copies the rest durably, then truncates (the order of
the torn-tail recovery, ``_open``: a crash at any point loses nothing).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
from dmj.machine.errors import JournalError

from ._format import lines_ok
from ._lock import WriterLock
from ._open import Clock, copy_aside, stamp
from ._paths import damaged_path, lock_path
from ._records import Unreadable, decode_record
from ._scan import BLOCK_SIZE, open_for_reading
from ._schema import DMJ_SCHEMA, Schema
from ._storage import OsStorage, Storage, close_quietly

__all__ = ["RestLine", "line_offset", "read_rest", "set_rest_aside"]

_GUESSED = ("type", "seq", "run", "batch", "user_id", "channel_id", "path")
"""The fields of a damaged line worth telling a person about, if it still reads as JSON."""

_TYPE = re.compile(rb'"type":"([A-Za-z]+)"')


class RestLine(msgspec.Struct, frozen=True, kw_only=True):
    """One line of what a repair sets aside.

    ``event`` is the record when the line is sealed and valid; otherwise ``problem`` says
    why it is not one and ``guess`` holds what the line still says (its type, seq, batch,
    user and channel, as far as they can be read: nothing vouches for them).
    """

    line: int
    length: int
    event: Any = None
    problem: str | None = None
    guess: dict[str, Any] = {}


def read_rest(
    path: Path, offset: int, first_line: int, schema: Schema[Any] = DMJ_SCHEMA
) -> list[RestLine]:
    """The lines of ``path`` from byte ``offset`` on (line ``first_line``), read leniently.

    Loads the rest into memory: it is what follows the damage, read once to tell a person
    what a repair sets aside.
    """
    with open_for_reading(path) as file:
        file.seek(offset)
        data = file.read()
    parts = data.split(b"\n")
    last = parts.pop()  # b"" when the file ends with a newline
    lines = [part + b"\n" for part in parts] + ([last] if last else [])
    return [_read_line(schema, number, line) for number, line in enumerate(lines, first_line)]


def _read_line(schema: Schema[Any], number: int, line: bytes) -> RestLine:
    length, text = len(line), line.rstrip(b"\n")
    if not line.endswith(b"\n"):
        return RestLine(line=number, length=length, problem="cut short", guess=_guess(text))
    if not lines_ok(line):
        return RestLine(line=number, length=length, problem="checksum mismatch", guess=_guess(text))
    try:
        event = decode_record(schema, line)
    except Unreadable as exc:
        return RestLine(line=number, length=length, problem=exc.detail, guess=_guess(text))
    if event.seq != number:
        problem = f"seq {event.seq} on line {number}"
        return RestLine(line=number, length=length, problem=problem, guess=_guess(text))
    return RestLine(line=number, length=length, event=event)


def _guess(raw: bytes) -> dict[str, Any]:
    """What a line that is not a valid record still says, if anything."""
    try:
        obj = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        found = _TYPE.search(raw)
        return {"type": found.group(1).decode()} if found else {}
    if not isinstance(obj, dict):
        return {}
    return {key: obj[key] for key in _GUESSED if isinstance(obj.get(key), str | int)}


def line_offset(path: Path, line: int) -> int:
    """The byte offset where 1-based ``line`` of ``path`` starts (the file's size if past it)."""
    offset, newlines = 0, 0
    with open_for_reading(path) as file:
        while newlines < line - 1 and (block := file.read(BLOCK_SIZE)):
            start = 0
            while newlines < line - 1 and (found := block.find(b"\n", start)) >= 0:
                newlines, start = newlines + 1, found + 1
            offset += start if newlines == line - 1 else len(block)
    return offset


def set_rest_aside(
    path: Path,
    *,
    offset: int,
    size: int,
    clock: Clock,
    storage: Storage | None = None,
    first: Callable[[str], object] | None = None,
) -> Path:
    """Under the writer lock: copy ``path`` from ``offset`` to ``journal.damaged-<UTC>``,
    durably, then cut the journal to ``offset``; the copy's path.

    ``size`` is the journal's size when the repair was planned: if it differs now, another
    dmj wrote since, and nothing is done (``JournalError``). ``JournalLocked`` when another
    dmj holds the journal. ``first``, if given, runs under the lock after that check and
    before the journal is touched, with the UTC stamp the copy's name carries (the caller
    sets its own files aside under the same stamp).
    """
    storage = storage or OsStorage()
    lock = WriterLock.acquire(lock_path(path), locking=str(path))
    try:
        if not path.is_file() or path.stat().st_size != size:
            raise JournalError(
                f"{path} changed since it was checked (another dmj wrote to it); nothing was "
                "set aside. Run `dmj repair` again to see what a repair would do now."
            )
        when = stamp(clock)
        if first is not None:
            first(when)
        try:
            fd, _ = storage.open_append(path)
        except OSError as exc:
            raise _failed(path, exc) from exc
        try:
            saved_to = copy_aside(storage, path, offset, when, damaged_path)
            storage.truncate(fd, offset)
            storage.sync(fd)
        except OSError as exc:
            raise _failed(path, exc) from exc
        finally:
            close_quietly(storage, fd)
        if lock.note is not None and lock.note.offset >= offset:
            lock.clear_note()  # what the note was about is in the copy now
    finally:
        lock.release()
    return saved_to


def _failed(path: Path, exc: OSError) -> JournalError:
    return JournalError(
        f"the damaged end of {path} could not be set aside ({exc.strerror or exc}); the "
        "journal is as it was. Check the disk (free space, errors in the system log), then "
        "run `dmj repair --apply` again."
    )
