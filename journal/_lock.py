"""The single-writer lock: ``flock`` on ``journal.lock``, held for the writer's life.

The lock file holds the holder's pid so that a second dmj can say who is writing. The kernel
releases a ``flock`` when its holder dies, however it dies, so a stale lock file is harmless:
only the lock counts, never the file's existence (the file is never removed, which would
let two writers lock two different files).
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from dmj.machine.errors import JournalError, JournalLocked

from ._storage import FILE_MODE

__all__ = ["WriterLock"]

_PID_WAIT = 0.5
"""How long a loser waits for a winner that has the lock but has not written its pid yet."""


class WriterLock:
    """An exclusive, non-blocking ``flock`` on a lock file; ``release`` (or death) ends it."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

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
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _holder_pid(fd)
            os.close(fd)
            who = f"another dmj (pid {pid})" if pid else "another dmj"
            raise JournalLocked(
                f"{who} is writing to {locking}; wait for it to finish or stop it, then try again.",
                pid=pid,
            ) from None
        except OSError as exc:
            os.close(fd)
            raise JournalError(
                f"cannot lock {path} ({exc.strerror}); dmj needs a local file system that "
                "supports flock for its archive."
            ) from exc
        record = f"{os.getpid()}\n".encode()
        os.pwrite(fd, record, 0)  # then cut: a reader sees the old pid or the new, never none
        os.ftruncate(fd, len(record))
        return cls(fd)

    def release(self) -> None:
        """Give up the lock (closing the descriptor releases the ``flock``); idempotent."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                os.ftruncate(fd, 0)  # a clean exit leaves no pid behind
            finally:
                os.close(fd)


def _holder_pid(fd: int) -> int | None:
    """The pid the lock's holder wrote, waiting briefly for a holder that just won.

    A pid left by a holder that crashed (no longer alive) does not count.
    """
    deadline = time.monotonic() + _PID_WAIT
    while True:
        text = os.pread(fd, 32, 0).split(b"\n", 1)[0].strip()
        if text.isdigit() and _alive(int(text)):
            return int(text)
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.01)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (a crashed holder's pid may linger in the file)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
