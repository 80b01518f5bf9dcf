"""The one journal writer: lock, recover a torn tail, then append durable records.

``append`` writes the whole line with one ``write``, syncs it, and only then returns the
stamped event: the acknowledgement that lets the caller act. A failed write or sync is
fatal (PostgreSQL's fsync lesson, durability.md A3): the record is not acknowledged, the
writer refuses every later append, and it cuts the file back to its acknowledged end. After
a failed sync the kernel may have dropped the line's page while still serving it from
memory: a next writer that took it for a record and appended after it could leave a hole in
the middle of the journal once the page is gone. If the cut itself fails, the writer leaves
a note in the lock file and the next ``open`` sets everything after the acknowledged end
aside, as it does a torn tail.
"""

from __future__ import annotations

import os
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, NoReturn, Self, overload

import msgspec
from dmj.machine.errors import InvariantBroken, JournalWriteFailed
from dmj.machine.events import AnyEvent
from msgspec.structs import replace as _replace

from ._failpoints import Failpoints
from ._findings import Recovery
from ._format import encode_line
from ._lock import LockHolder, Unacknowledged, WriterLock, probe_lock
from ._open import Clock, open_journal
from ._paths import lock_path, require_directory
from ._schema import DMJ_SCHEMA, E, Schema
from ._storage import OsStorage, Storage, close_quietly

__all__ = ["Clock", "JournalWriter", "probe_writer", "utc_now"]


def utc_now() -> datetime:
    """The wall clock in UTC: the default ``Clock``."""
    return datetime.now(UTC)


def probe_writer(path: Path | str) -> LockHolder | None:
    """The process writing the journal at ``path`` now (its pid if known), or None.

    Read-only and instant (see ``probe_lock``): how readers tell a run that is running from
    one that was interrupted. A writer in this very process counts too.
    """
    return probe_lock(lock_path(Path(path)))


class JournalWriter(Generic[E]):
    """The single writer of one journal file. Build it with ``open``; use it as a context.

    ``last_seq`` is the seq of the last durable record (0 for an empty journal);
    ``recovery`` says what ``open`` did about a torn tail, or is None.
    """

    def __init__(
        self,
        *,
        path: Path,
        schema: Schema[E],
        storage: Storage,
        fd: int,
        lock: WriterLock,
        last_seq: int,
        size: int,
        recovery: Recovery | None,
        clock: Clock,
        failpoints: Failpoints,
    ) -> None:
        self.path = path
        self.last_seq = last_seq
        self.recovery = recovery
        self._version = schema.version
        self._encoder = schema.encoder
        self._storage = storage
        self._write = storage.write
        self._sync = storage.sync
        self._fd: int | None = fd
        self._size = size  # bytes acknowledged: where a failed append cuts the file back to
        self._lock = lock
        self._clock = clock
        self._failpoints = failpoints
        self._crash_after = failpoints.after_record
        self._failed: str | None = None

    @overload
    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        clock: Clock = ...,
        storage: Storage | None = ...,
        failpoints: Failpoints = ...,
    ) -> JournalWriter[AnyEvent]: ...

    @overload
    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        schema: Schema[E],
        clock: Clock = ...,
        storage: Storage | None = ...,
        failpoints: Failpoints = ...,
    ) -> JournalWriter[E]: ...

    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        schema: Schema[Any] = DMJ_SCHEMA,
        clock: Clock = utc_now,
        storage: Storage | None = None,
        failpoints: Failpoints = Failpoints(),  # noqa: B008 - a frozen value
    ) -> JournalWriter[Any]:
        """Lock, open (creating the file, never the directory), check and recover the journal.

        Raises ``JournalNotFound`` when the directory is missing, ``JournalLocked`` when
        another process writes it, ``JournalCorrupt``/``SequenceGap`` for damage before the
        tail (nothing is modified then), ``JournalWriteFailed`` when recovery cannot write.
        """
        path = Path(path)
        require_directory(path)
        lock = WriterLock.acquire(lock_path(path), locking=str(path))
        io_storage = failpoints.storage(storage or OsStorage())
        try:
            opened = open_journal(io_storage, path, schema, clock, lock.note)
            lock.clear_note()
        except BaseException:
            lock.release()
            raise
        return cls(
            path=path,
            schema=schema,
            storage=io_storage,
            fd=opened.fd,
            lock=lock,
            last_seq=opened.last_seq,
            size=opened.size,
            recovery=opened.recovery,
            clock=clock,
            failpoints=failpoints,
        )

    def append(self, event: E) -> E:
        """Journal ``event`` durably; return it stamped with ``v``, ``seq`` and ``at``.

        Returns only after the record's sync returned. Raises ``JournalWriteFailed`` if the
        write or sync fails, and for every append after such a failure.
        """
        # Kept lean on purpose: this runs right after the previous fdatasync, with cold caches,
        # so every avoidable call shows against the raw write+sync loop (benchmarks/).
        fd = self._fd
        if fd is None or self._failed is not None:
            self._refuse()
        seq = self.last_seq + 1
        stamped = _replace(event, v=self._version, seq=seq, at=self._now())
        try:
            line = encode_line(self._encoder, stamped)
        except (msgspec.EncodeError, UnicodeEncodeError) as exc:
            raise InvariantBroken(
                f"a {type(event).__name__} event cannot be journaled ({exc}); nothing was "
                "written. The code that built it must pass only valid Unicode text."
            ) from exc
        try:
            written = self._write(fd, line)
            if written != len(line):
                raise OSError(f"short write: {written} of {len(line)} bytes")
            self._sync(fd)
        except OSError as exc:
            self._cut_back(fd)
            raise self._fail(f"writing record {seq}", exc) from exc
        self.last_seq = seq
        self._size += len(line)
        if seq == self._crash_after:
            self._failpoints.acknowledged(seq)
        return stamped

    def close(self) -> None:
        """Close the file and release the lock; idempotent."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                close_quietly(self._storage, fd)
            finally:
                self._lock.release()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._fd is None else f"last_seq={self.last_seq}"
        return f"JournalWriter({str(self.path)!r}, {state})"

    def _refuse(self) -> NoReturn:
        if self._failed is not None:
            raise JournalWriteFailed(
                f"{self.path} is not written to any more: {self._failed}. Nothing after that "
                "failure was journaled; run `dmj resume` once the disk is healthy."
            )
        raise InvariantBroken(f"the journal writer for {self.path} was used after close()")

    def _now(self) -> datetime:
        at = self._clock()
        if at.tzinfo is UTC:
            return at
        if at.tzinfo is None or at.utcoffset() is None:
            raise InvariantBroken(f"the journal clock returned a naive datetime ({at!r})")
        return at.astimezone(UTC)

    def _cut_back(self, fd: int) -> None:
        """After a failed append: cut the file back to its acknowledged end and sync it (best
        effort), or, if that fails too, leave the next writer a note of where that end is."""
        try:
            self._storage.truncate(fd, self._size)
            self._storage.sync(fd)
        except OSError:
            with suppress(OSError):
                inode = os.fstat(fd).st_ino
                self._lock.leave_note(
                    Unacknowledged(seq=self.last_seq, offset=self._size, inode=inode)
                )

    def _fail(self, action: str, exc: OSError) -> JournalWriteFailed:
        """Poison the writer for good and say why: a failed write or sync is never retried."""
        reason = exc.strerror or str(exc)
        self._failed = f"{action} failed ({reason})"
        return JournalWriteFailed(
            f"{action} to {self.path} failed ({reason}); the record was not acknowledged "
            "and dmj stops writing. Check the disk (free space, errors in the system log), "
            "then run `dmj resume`: the journal continues from its last good record."
        )
