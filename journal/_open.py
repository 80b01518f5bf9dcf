"""Opening a journal for writing: create it durably, check it, set a torn tail aside.

The order of the recovery steps is the point (``tests/journal/test_crash.py`` kills a real
process before each of them): copy the torn bytes, sync the copy and the directory, and
only then cut them off the journal and sync it. A crash anywhere loses neither an
acknowledged record nor the torn bytes; the next open simply does the rest again.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from itertools import count
from pathlib import Path

import msgspec
from dmj.machine.errors import JournalError, JournalWriteFailed

from ._findings import JournalCheck, Recovery, TornTail, recovery
from ._lock import Unacknowledged
from ._paths import torn_path
from ._scan import open_for_reading, scan_to_end
from ._schema import E, Schema
from ._storage import Storage, close_quietly

__all__ = ["Clock", "OpenedJournal", "copy_aside", "open_journal", "stamp"]

Clock = Callable[[], datetime]
"""Returns the current time as an aware datetime; the journal stamps it, in UTC, as ``at``."""

_COPY_SIZE = 1 << 20


class OpenedJournal(msgspec.Struct, frozen=True, kw_only=True):
    """A journal open for appending, checked and recovered: ``size`` bytes, all acknowledged."""

    fd: int
    last_seq: int
    size: int
    recovery: Recovery | None


def open_journal(
    storage: Storage,
    path: Path,
    schema: Schema[E],
    clock: Clock,
    unacknowledged: Unacknowledged | None = None,
) -> OpenedJournal:
    """Open (or durably create) the journal, refuse damage, set a torn tail aside.

    ``unacknowledged`` is a failed writer's note (``WriterLock.note``): what follows its
    offset is set aside as never acknowledged, whatever it holds. The caller holds the lock.
    On any error the descriptor is closed again.
    """
    try:
        fd, created = storage.open_append(path)
    except OSError as exc:
        raise JournalError(
            f"cannot open {path} for writing ({exc.strerror}); check that it is a file you "
            "can write, then try again."
        ) from exc
    try:
        if created:
            _sync_new(storage, fd, path)
        with open_for_reading(path) as file:
            end = scan_to_end(file, str(path), schema)
            tail = _noted_tail(file, end, unacknowledged) or end.torn
        if end.problem is not None and (tail is None or tail.kind != "unacknowledged"):
            raise end.problem.error()
        found = None if tail is None else _set_aside(storage, fd, path, tail, clock)
    except BaseException:
        close_quietly(storage, fd)
        raise
    if tail is None:
        return OpenedJournal(fd=fd, last_seq=end.last_seq, size=end.size, recovery=None)
    return OpenedJournal(fd=fd, last_seq=tail.line - 1, size=tail.offset, recovery=found)


def _noted_tail(file: io.FileIO, end: JournalCheck, note: Unacknowledged | None) -> TornTail | None:
    """The bytes after a failed writer's acknowledged end, if the note is about this file.

    It is not when the file was replaced since (another inode), holds fewer intact records
    than were acknowledged (then the scan's own verdict stands), ends at the noted offset
    (the writer did cut it back), or has no line break just before that offset.
    """
    if note is None or os.fstat(file.fileno()).st_ino != note.inode:
        return None
    if end.records < note.seq or end.size <= note.offset:
        return None
    if note.offset > 0:
        file.seek(note.offset - 1)
        if file.read(1) != b"\n":
            return None
    return TornTail(
        line=note.seq + 1,
        offset=note.offset,
        length=end.size - note.offset,
        kind="unacknowledged",
    )


def _sync_new(storage: Storage, fd: int, path: Path) -> None:
    try:
        storage.sync(fd)
        storage.sync_dir(path.parent)
    except OSError as exc:
        raise JournalWriteFailed(
            f"creating {path} failed ({exc.strerror}); nothing was journaled. Check the disk, "
            "then try again."
        ) from exc


def _set_aside(storage: Storage, fd: int, path: Path, torn: TornTail, clock: Clock) -> Recovery:
    """Copy the torn tail to ``<name>.torn-<UTC time>``, durably, then cut it off the journal."""
    try:
        saved_to = copy_aside(storage, path, torn.offset, stamp(clock), torn_path)
        storage.truncate(fd, torn.offset)
        storage.sync(fd)
    except OSError as exc:
        raise JournalWriteFailed(
            f"{path} ends in {torn.what} (line {torn.line}) that could not be set aside "
            f"({exc.strerror or exc}); nothing acknowledged was touched. Check the disk, then "
            "try again."
        ) from exc
    return recovery(str(path), torn, str(saved_to))


def stamp(clock: Clock) -> str:
    """The UTC time in the names of set-aside files: ``20260314T150926Z``."""
    return clock().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def copy_aside(
    storage: Storage, path: Path, offset: int, when: str, name: Callable[[Path, str, int], Path]
) -> Path:
    """Copy ``path`` from ``offset`` on into a new file ``name(path, when, attempt)``, durably
    (the copy, then its directory); the copy's path.

    ``attempt`` counts up while a name is taken. A failure removes the copy again: it leaves
    a complete, synced copy or none (a full disk must not leave an empty or partial one).
    """
    saved_to, out = _create_new(storage, path, when, name)
    try:
        try:
            _copy_from(storage, path, offset, out)
            storage.sync(out)
        finally:
            storage.close(out)
    except BaseException:
        with suppress(OSError):
            storage.remove(saved_to)
        raise
    storage.sync_dir(path.parent)
    return saved_to


def _create_new(
    storage: Storage, path: Path, when: str, name: Callable[[Path, str, int], Path]
) -> tuple[Path, int]:
    """A new file ``name(path, when, attempt)`` (attempt 1, 2, ... while taken), to write."""
    for attempt in count(1):
        candidate = name(path, when, attempt)
        try:
            return candidate, storage.create_new(candidate)
        except FileExistsError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover - count() never ends


def _copy_from(storage: Storage, path: Path, offset: int, out: int) -> None:
    """Copy ``path`` from ``offset`` to its end into ``out`` (short writes continue)."""
    with io.FileIO(path, "r") as source:
        source.seek(offset)
        while chunk := source.read(_COPY_SIZE):
            done = 0
            while done < len(chunk):
                written = storage.write(out, chunk[done:])
                if written <= 0:
                    raise OSError(f"no progress copying the journal's end to descriptor {out}")
                done += written
