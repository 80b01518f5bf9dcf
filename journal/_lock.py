"""The single-writer lock: ``flock`` on ``journal.lock``, held for the writer's life.

The lock file holds the holder's pid so that a second dmj can say who is writing. The kernel
releases a ``flock`` when its holder dies, however it dies, so a stale lock file is harmless:
only the lock counts, never the file's existence (the file is never removed, which would
let two writers lock two different files).

The lock file also carries one note from a writer to the next: where the acknowledged
journal ended when a write or sync failed and the writer could not cut the file back
(``Unacknowledged``). The next writer reads it under the lock and sets the rest aside.
"""

from __future__ import annotations

import fcntl
import os
import re
import time
from contextlib import suppress
from pathlib import Path

import msgspec
from dmj.machine.errors import JournalError, JournalLocked

from ._storage import FILE_MODE

__all__ = ["LockHolder", "Unacknowledged", "WriterLock", "probe_lock"]

_PID_WAIT = 0.5
"""How long a loser waits for a winner that has the lock but has not written its pid yet."""


_NOTE = re.compile(rb"^unacknowledged after seq=(\d+) offset=(\d+) inode=(\d+)$", re.MULTILINE)


class Unacknowledged(msgspec.Struct, frozen=True, kw_only=True):
    """A failed writer's note: the journal (``inode``) was acknowledged up to record ``seq``,
    which ends at byte ``offset``; whatever follows was never acknowledged."""

    seq: int
    offset: int
    inode: int

    def line(self) -> bytes:
        text = f"unacknowledged after seq={self.seq} offset={self.offset} inode={self.inode}\n"
        return text.encode()

    @classmethod
    def find(cls, text: bytes) -> Unacknowledged | None:
        """The note in a lock file's ``text``, if it holds one."""
        match = _NOTE.search(text)
        if match is None:
            return None
        seq, offset, inode = map(int, match.groups())
        return cls(seq=seq, offset=offset, inode=inode)


class WriterLock:
    """An exclusive, non-blocking ``flock`` on a lock file; ``release`` (or death) ends it.

    ``note`` is what the previous writer left (``Unacknowledged``), kept in the file until
    ``clear_note``; ``leave_note`` leaves one for the next writer.
    """

    def __init__(self, fd: int, note: Unacknowledged | None = None) -> None:
        self._fd: int | None = fd
        self.note = note

    @classmethod
    def acquire(cls, path: Path, *, locking: str) -> WriterLock:
        """Lock ``path`` for writing ``locking`` (the journal, named in messages).

        Raises ``JournalLocked`` naming the holder's pid when another process holds it.
        """
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
        except OSError as exc:
            raise JournalError(
                f"cannot open the lock file {path} ({exc.strerror}); check that the archive "
                "directory is writable by you, then try again."
            ) from exc
        try:
            _lock_exclusively(fd)
        except JournalLocked as locked:
            os.close(fd)
            who = f"another dmj (pid {locked.pid})" if locked.pid else "another dmj"
            raise JournalLocked(
                f"{who} is writing to {locking}; wait for it to finish or stop it, then try again.",
                pid=locked.pid,
            ) from None
        except OSError as exc:
            os.close(fd)
            raise JournalError(
                f"cannot lock {path} ({exc.strerror}); dmj needs a local file system that "
                "supports flock for its archive."
            ) from exc
        lock = cls(fd, Unacknowledged.find(os.pread(fd, 4096, 0)))
        lock._record(pid=True)
        return lock

    def leave_note(self, note: Unacknowledged) -> None:
        """Tell the next writer where the acknowledged journal ends (best effort: the disk is
        failing when this is called, and the note is a second line of defence)."""
        self.note = note
        with suppress(OSError):
            self._record(pid=True)

    def clear_note(self) -> None:
        """Forget the previous writer's note (its tail was dealt with)."""
        if self.note is not None:
            self.note = None
            self._record(pid=True)

    def release(self) -> None:
        """Give up the lock (closing the descriptor releases the ``flock``); idempotent.

        A clean exit leaves no pid behind, only a note for the next writer if there is one.
        """
        if self._fd is not None:
            try:
                self._record(pid=False)
            finally:
                fd, self._fd = self._fd, None
                os.close(fd)

    def _record(self, *, pid: bool) -> None:
        """Write the pid line (if ``pid``) and the note, then cut the file after them."""
        if self._fd is None:
            return
        record = (f"{os.getpid()}\n".encode() if pid else b"") + (
            self.note.line() if self.note is not None else b""
        )
        os.pwrite(self._fd, record, 0)  # then cut: a reader sees the old pid or the new
        os.ftruncate(self._fd, len(record))


class LockHolder(msgspec.Struct, frozen=True, kw_only=True):
    """A process holding a journal's writer lock: ``pid`` if it recorded one that is alive."""

    pid: int | None


def probe_lock(path: Path) -> LockHolder | None:
    """Who holds the writer lock ``path`` now, or None: read-only, it never waits.

    A shared ``flock`` taken and dropped at once: it never disturbs a holder, and a writer
    that tries to lock during that instant tries again (``_lock_exclusively``). A missing lock
    file means no writer ever ran; a file system without ``flock`` gives None (unknown).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return LockHolder(pid=_holder_pid(fd))
    except OSError:
        return None
    finally:
        os.close(fd)  # closing drops the shared lock, if it was taken
    return None


def _lock_exclusively(fd: int) -> None:
    """``flock`` ``fd`` exclusively, or raise ``JournalLocked`` (its pid, if known).

    A holder without a live pid recorded may be a winner that has not written it yet, or a
    reader's probe holding a shared lock for an instant: try again until ``_PID_WAIT``.
    """
    deadline = time.monotonic() + _PID_WAIT
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _recorded_pid(fd)
            if pid is not None or time.monotonic() >= deadline:
                raise JournalLocked("locked", pid=pid) from None
            time.sleep(0.01)
        else:
            return


def _recorded_pid(fd: int) -> int | None:
    """The live pid in the lock file, if there is one."""
    text = os.pread(fd, 32, 0).split(b"\n", 1)[0].strip()
    return int(text) if text.isdigit() and process_alive(int(text)) else None


def _holder_pid(fd: int) -> int | None:
    """The pid the lock's holder wrote, waiting briefly for a holder that just won.

    A pid left by a holder that crashed (no longer alive) does not count.
    """
    deadline = time.monotonic() + _PID_WAIT
    while (pid := _recorded_pid(fd)) is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return pid


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (a crashed holder's pid may linger in the file)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
