"""Opening a journal for writing: create it durably, check it, set a torn tail aside.

The order of the recovery steps is the point (``tests/journal/test_crash.py`` kills a real
process before each of them): copy the torn bytes, sync the copy and the directory, and
only then cut them off the journal and sync it. A crash anywhere loses neither an
acknowledged record nor the torn bytes; the next open simply does the rest again.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from itertools import count
from pathlib import Path

import msgspec
from dmj.machine.errors import JournalError, JournalWriteFailed

from ._findings import Recovery, TornTail, recovery
from ._paths import torn_path
from ._scan import open_for_reading, scan_to_end
from ._schema import E, Schema
from ._storage import Storage, close_quietly

__all__ = ["Clock", "OpenedJournal", "copy_aside", "open_journal", "stamp"]

Clock = Callable[[], datetime]
"""Returns the current time as an aware datetime; the journal stamps it, in UTC, as ``at``."""

_COPY_SIZE = 1 << 20


class OpenedJournal(msgspec.Struct, frozen=True, kw_only=True):
    """A journal open for appending, checked and recovered."""

    fd: int
    last_seq: int
    recovery: Recovery | None


def open_journal(storage: Storage, path: Path, schema: Schema[E], clock: Clock) -> OpenedJournal:
    """Open (or durably create) the journal, refuse damage, set a torn tail aside.

    The caller holds the lock. On any error the descriptor is closed again.
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
        if end.problem is not None:
            raise end.problem.error()
        found = None if end.torn is None else _set_aside(storage, fd, path, end.torn, clock)
    except BaseException:
        close_quietly(storage, fd)
        raise
    return OpenedJournal(fd=fd, last_seq=end.last_seq, recovery=found)


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
    """A new file ``name(path, when, attempt)`` (attempt 1, 2, ... while taken), open for writing."""
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
