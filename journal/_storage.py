"""dmj's durable file operations, behind one small seam.

Everything dmj does to the disk of an archive goes through a ``Storage``: the journal
writer's opening, writing, syncing, truncating and removing an incomplete copy, and the
archive's own files (exports, media, projections: ``dmj.projections``' durable recipes; the
message index's file-level steps) and the file ``dmj export`` writes, which add creating temp
files and folders, renaming, linking, removing and syncing files written by another process
(DCE, SQLite: its own page I/O cannot go through the seam). One ``Storage`` serves a whole
command, so ``Failpoints`` count every operation of a run in one sequence. ``OsStorage`` is the
real thing; tests put a wrapper around it to split a write, kill the process between two
operations, make ``fsync`` fail (see ``_failpoints``), or record the order of writes, syncs and
renames. Reading does not go through the seam: readers never change anything.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sys
import tempfile
from contextlib import suppress
from pathlib import Path
from typing import Protocol

__all__ = ["DIR_MODE", "FILE_MODE", "OsStorage", "Storage", "close_quietly"]

FILE_MODE = 0o600
"""Everything dmj writes is private to the user (design.md §4)."""
DIR_MODE = 0o700
"""Every folder dmj creates, likewise."""


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

    def create_temp(self, target: Path) -> tuple[int, Path]:
        """Create ``.<name>.<random>.tmp`` (0600) next to ``target``, open for writing."""
        ...

    def sync_file(self, path: Path) -> None:
        """Make the data of the file at ``path`` durable (one written by another process)."""
        ...

    def make_dir(self, path: Path) -> None:
        """Create the folder ``path`` (mode 0700); its parent must exist."""
        ...

    def replace(self, source: Path, target: Path) -> None:
        """Rename ``source`` to ``target`` atomically, replacing a file ``target``."""
        ...

    def link(self, source: Path, target: Path) -> None:
        """Give the file ``source`` the new name ``target`` atomically; ``FileExistsError`` if
        ``target`` exists (what is there is never replaced)."""
        ...

    def remove(self, path: Path) -> None:
        """Remove the file ``path`` (a temp file, or an incomplete copy the writer made)."""
        ...

    def remove_tree(self, path: Path) -> None:
        """Remove the folder ``path`` and everything in it."""
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
        _sync_data(fd)

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

    def create_temp(self, target: Path) -> tuple[int, Path]:
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        return fd, Path(temp)

    def sync_file(self, path: Path) -> None:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            _sync_data(fd)
        finally:
            os.close(fd)

    def make_dir(self, path: Path) -> None:
        path.mkdir(mode=DIR_MODE)

    def replace(self, source: Path, target: Path) -> None:
        os.replace(source, target)

    def link(self, source: Path, target: Path) -> None:
        os.link(source, target)

    def remove(self, path: Path) -> None:
        path.unlink()

    def remove_tree(self, path: Path) -> None:
        shutil.rmtree(path)


def _sync_data(fd: int) -> None:
    if sys.platform == "darwin":  # pragma: no cover - plain fsync does not flush the drive
        fcntl.fcntl(fd, fcntl.F_FULLFSYNC)
    else:
        os.fdatasync(fd)


def close_quietly(storage: Storage, fd: int) -> None:
    """Close ``fd``; a failing close cannot un-acknowledge anything, so it is not an error."""
    with suppress(OSError):
        storage.close(fd)
