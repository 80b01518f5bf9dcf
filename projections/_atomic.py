"""The one way dmj replaces a file: atomically and durably (design.md §6, durability.md A5b).

Write a temp file in the same directory, fsync it, ``os.replace`` it over the target, fsync
the directory; on any error the temp file is removed and the target is as it was. A crash
leaves either the old file or the new one, never a mix or an empty file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from dmj.machine.errors import FileWriteFailed

__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "fsync_path",
    "make_dirs",
    "remove_durably",
    "write_atomic",
    "write_chunks_atomic",
]

FILE_MODE = 0o600
DIR_MODE = 0o700


def write_atomic(path: Path, data: bytes, *, mode: int = FILE_MODE) -> None:
    """Replace ``path`` with ``data``, atomically and durably; the directory must exist."""
    directory = path.parent
    try:
        fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise _failed(path, exc) from exc
    try:
        with os.fdopen(fd, "wb") as file:
            os.fchmod(file.fileno(), mode)
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
        fsync_path(directory)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise _failed(path, exc) from exc
        raise


def write_chunks_atomic(
    path: Path, chunks: Iterable[bytes], *, overwrite: bool, mode: int = FILE_MODE
) -> None:
    """Write ``chunks`` to ``path`` as ``write_atomic`` does, streaming them (a big export).

    ``overwrite=False``: an existing ``path`` is never replaced, even one created while the
    chunks were written (the finished file is linked in place): ``FileExistsError``.
    """
    directory = path.parent
    try:
        fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise _failed(path, exc) from exc
    try:
        with os.fdopen(fd, "wb", buffering=1 << 20) as file:
            os.fchmod(file.fileno(), mode)
            for chunk in chunks:
                file.write(chunk)
            file.flush()
            os.fsync(file.fileno())
        if overwrite:
            os.replace(temp, path)
        else:
            os.link(temp, path)
        fsync_path(directory)
    except FileExistsError:
        raise
    except BaseException as exc:
        if isinstance(exc, OSError):
            raise _failed(path, exc) from exc
        raise
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)


def make_dirs(path: Path, *, mode: int = DIR_MODE) -> None:
    """Create ``path`` and missing parents (``mode``), each made durable in its parent."""
    missing: list[Path] = []
    probe = path
    while not probe.is_dir():
        missing.append(probe)
        probe = probe.parent
    try:
        for directory in reversed(missing):
            directory.mkdir(mode=mode)
            fsync_path(directory.parent)
    except OSError as exc:
        raise _failed(path, exc) from exc


def remove_durably(path: Path) -> bool:
    """Remove ``path`` if it exists and make that durable; True if it was there."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise _failed(path, exc) from exc
    try:
        fsync_path(path.parent)
    except OSError as exc:
        raise _failed(path, exc) from exc
    return True


def fsync_path(path: Path) -> None:
    """fsync the file or directory at ``path`` (for a directory: its entries are durable).

    Raises ``OSError``; callers say what could not be written.
    """
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _failed(path: Path, exc: OSError) -> FileWriteFailed:
    return FileWriteFailed(
        f"{path} could not be written ({exc.strerror or exc}); it was left as it was. Check "
        "the free space and the permissions of its directory, then try again."
    )
