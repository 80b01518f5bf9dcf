"""The journal writer's file operations, behind one small seam.

Everything the writer does to the disk goes through a ``Storage``: opening, writing,
syncing, truncating, removing an incomplete copy. ``OsStorage`` is the real thing; tests put
a wrapper around it to split a write, kill the process between two operations, or make
``fsync`` fail (see ``_failpoints``). Reading does not go through the seam: readers never
change anything.
"""

from __future__ import annotations

import fcntl
import os
import sys
from contextlib import suppress
from pathlib import Path
from typing import Protocol

__all__ = ["FILE_MODE", "OsStorage", "Storage", "close_quietly"]

FILE_MODE = 0o600
"""Everything dmj writes is private to the user (design.md §4)."""


class Storage(Protocol):
    """The operations the journal writer performs on files; each raises ``OSError``."""

    def open_append(self, path: Path) -> tuple[int, bool]:
        """Open ``path`` for appending, creating it (mode 0600) if missing: (fd, created)."""
        ...

    def create_new(self, path: Path) -> int:
        """Create ``path`` (mode 0600) for writing; ``FileExistsError`` if it exists."""
        ...

    def write(self, fd: int, data: bytes) -> int:
        """One ``write`` call; returns how many bytes it wrote (it may be fewer)."""
        ...

    def sync(self, fd: int) -> None:
        """Make the file's data durable (``fdatasync``; ``F_FULLFSYNC`` on macOS)."""
        ...

    def sync_dir(self, path: Path) -> None:
        """Make the directory ``path``'s entries durable (a created or renamed file)."""
        ...

    def truncate(self, fd: int, length: int) -> None:
        """Cut the file to ``length`` bytes."""
        ...

    def close(self, fd: int) -> None:
        """Close ``fd``."""
        ...

    def remove(self, path: Path) -> None:
        """Remove the file ``path`` (an incomplete copy the writer made)."""
        ...


class OsStorage:
    """``Storage`` on the operating system's calls, following durability.md's recipes."""

    def open_append(self, path: Path) -> tuple[int, bool]:
        flags = os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC
        try:
            return os.open(path, flags | os.O_CREAT | os.O_EXCL, FILE_MODE), True
        except FileExistsError:
            return os.open(path, flags), False

    def create_new(self, path: Path) -> int:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)

    def write(self, fd: int, data: bytes) -> int:
        return os.write(fd, data)

    def sync(self, fd: int) -> None:
        if sys.platform == "darwin":  # pragma: no cover - plain fsync does not flush the drive
            fcntl.fcntl(fd, fcntl.F_FULLFSYNC)
        else:
            os.fdatasync(fd)

    def sync_dir(self, path: Path) -> None:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def truncate(self, fd: int, length: int) -> None:
        os.ftruncate(fd, length)

    def close(self, fd: int) -> None:
        os.close(fd)

    def remove(self, path: Path) -> None:
        os.unlink(path)


def close_quietly(storage: Storage, fd: int) -> None:
    """Close ``fd``; a failing close cannot un-acknowledge anything, so it is not an error."""
    with suppress(OSError):
        storage.close(fd)
