"""The one journal writer: lock, recover a torn tail, then append durable records.

``append`` writes the whole line with one ``write``, syncs it, and only then returns the
stamped event: the acknowledgement that lets the caller act. A failed write or sync is
fatal (PostgreSQL's fsync lesson, durability.md A3): the record is not acknowledged, the
writer refuses every later append, and the next ``open`` recovers from the file as it is.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, NoReturn, Self, overload

from dmj.machine.errors import InvariantBroken, JournalError, JournalWriteFailed
from dmj.machine.events import AnyEvent
from msgspec.structs import replace as _replace

from ._failpoints import Failpoints
from ._findings import JournalCheck, Recovery, TornTail, recovery
from ._format import encode_line
from ._lock import WriterLock
from ._paths import lock_path, require_directory, torn_path
from ._scan import open_for_reading, scan_to_end
from ._schema import DMJ_SCHEMA, E, Schema
from ._storage import OsStorage, Storage

__all__ = ["Clock", "JournalWriter", "utc_now"]

Clock = Callable[[], datetime]
"""Returns the current time as an aware datetime; the journal stamps it, in UTC, as ``at``."""

_COPY_SIZE = 1 << 20


def utc_now() -> datetime:
    """The wall clock in UTC: the default ``Clock``."""
    return datetime.now(UTC)


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
        try:
            io_storage = failpoints.storage(storage or OsStorage())
            fd, end = _open_and_check(io_storage, path, schema)
        except BaseException:
            lock.release()
            raise
        found: Recovery | None = None
        try:
            if end.torn is not None:
                found = _set_aside(io_storage, fd, path, end.torn, clock)
        except BaseException:
            _close_quietly(io_storage, fd)
            lock.release()
            raise
        return cls(
            path=path,
            schema=schema,
            storage=io_storage,
            fd=fd,
            lock=lock,
            last_seq=end.last_seq,
            recovery=found,
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
        line = encode_line(self._encoder, stamped)
        try:
            written = self._write(fd, line)
            if written != len(line):
                raise OSError(f"short write: {written} of {len(line)} bytes")
            self._sync(fd)
        except OSError as exc:
            raise self._fail(f"writing record {seq}", exc) from exc
        self.last_seq = seq
        if seq == self._crash_after:
            self._failpoints.acknowledged(seq)
        return stamped

    def close(self) -> None:
        """Close the file and release the lock; idempotent."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                _close_quietly(self._storage, fd)
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

    def _fail(self, action: str, exc: OSError) -> JournalWriteFailed:
        """Poison the writer for good and say why: a failed write or sync is never retried."""
        reason = exc.strerror or str(exc)
        self._failed = f"{action} failed ({reason})"
        return JournalWriteFailed(
            f"{action} to {self.path} failed ({reason}); the record was not acknowledged "
            "and dmj stops writing. Check the disk (free space, errors in the system log), "
            "then run `dmj resume`: the journal continues from its last good record."
        )


def _open_and_check(storage: Storage, path: Path, schema: Schema[E]) -> tuple[int, JournalCheck]:
    """Open (or create, durably) the journal and scan it; refuse a damaged one."""
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
    except BaseException:
        _close_quietly(storage, fd)
        raise
    return fd, end


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
    stamp = clock().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        for attempt in count(1):
            saved_to = torn_path(path, stamp, attempt)
            try:
                out = storage.create_new(saved_to)
            except FileExistsError:
                continue
            break
        try:
            _copy_from(storage, path, torn.offset, out)
            storage.sync(out)
        finally:
            storage.close(out)
        storage.sync_dir(path.parent)
        storage.truncate(fd, torn.offset)
        storage.sync(fd)
    except OSError as exc:
        raise JournalWriteFailed(
            f"{path} ends in a torn write (line {torn.line}) that could not be set aside "
            f"({exc.strerror or exc}); nothing acknowledged was touched. Check the disk, then "
            "try again."
        ) from exc
    return recovery(str(path), torn, str(saved_to))


def _copy_from(storage: Storage, path: Path, offset: int, out: int) -> None:
    with io.FileIO(path, "r") as source:
        source.seek(offset)
        while chunk := source.read(_COPY_SIZE):
            view = memoryview(chunk)
            while view:
                view = view[storage.write(out, bytes(view)) :]


def _close_quietly(storage: Storage, fd: int) -> None:
    """Close ``fd``; a failing close cannot un-acknowledge anything, so it is not an error."""
    with suppress(OSError):
        storage.close(fd)
