"""The durable recipes for the archive's files (design.md §6, durability.md A5b).

Every operation goes through the command's ``Storage`` (``dmj.journal``), the seam the
journal writer uses too, so failpoints and tests see the archive's writes, syncs and renames
in the one order they happen:

- ``write_atomic``: a temp file next to the target, written, fsynced, closed, renamed over
  the target, the folder fsynced. A crash leaves the old file or the new one, never a mix;
  a temp file a kill leaves behind is removed under the journal's lock (``remove_temp_files``).
- ``write_chunks_atomic``: the same recipe for a stream of chunks (``dmj export``'s file),
  and without ``overwrite`` the temp file is linked in place, never replacing a file.
- ``make_dirs``: each missing folder is created, then its parent fsynced.
- ``remove_durably`` (a file), ``remove_tree`` (a folder): removed, then the parent fsynced.
- ``move_folder``: the folder's files fsynced, then the folder itself; renamed; both
  parents fsynced. What DCE wrote is durable before it is in place.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path

from dmj.journal import DIR_MODE, FILE_MODE, OsStorage, Storage
from dmj.machine.errors import FileWriteFailed

__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "TEMP_SUFFIX",
    "make_dirs",
    "move_folder",
    "remove_durably",
    "remove_temp_files",
    "remove_tree",
    "write_atomic",
    "write_chunks_atomic",
]

TEMP_SUFFIX = ".tmp"
"""``write_atomic``'s temp files are ``.<name>.<random>.tmp``."""


def write_atomic(path: Path, data: bytes, *, storage: Storage | None = None) -> None:
    """Replace ``path`` with ``data``, atomically and durably; the directory must exist."""
    storage = storage or OsStorage()
    try:
        _put_in_place(path, (data,), storage, overwrite=True)
    except OSError as exc:
        raise _failed(path, exc) from exc
    _finish(path, None, storage, done="was replaced", what="the new version")


def write_chunks_atomic(
    path: Path, chunks: Iterable[bytes], *, overwrite: bool, storage: Storage | None = None
) -> None:
    """Write ``chunks`` to ``path`` whole or not at all, durably: ``write_atomic``'s recipe,
    but without ``overwrite`` the temp file is linked in place, so an existing file, even one
    created meanwhile, is never replaced (``FileExistsError``). Raises ``OSError`` while
    nothing is in place (the caller says what could not be written), ``FileWriteFailed``
    once ``path`` holds the chunks but its folder could not be synced."""
    storage = storage or OsStorage()
    linked = _put_in_place(path, chunks, storage, overwrite=overwrite)
    _finish(path, linked, storage, done="was written", what="it")


def _finish(path: Path, linked: Path | None, storage: Storage, *, done: str, what: str) -> None:
    """After ``path`` is in place: the linked temp name removed, the folder synced; a failure
    says the file is there (``done``), and what is left to do."""
    if linked is not None:
        try:
            storage.remove(linked)
        except OSError as exc:
            raise FileWriteFailed(
                f"{path} {done}, but its temporary name {linked.name} could not be removed "
                f"({exc.strerror or exc}); delete {linked} (the same file)."
            ) from exc
    try:
        storage.sync_dir(path.parent)
    except OSError as exc:
        raise FileWriteFailed(
            f"{path} {done}, but its folder could not be synced ({exc.strerror or exc}), "
            f"so {what} may not survive a power cut. Check the disk, then try again."
        ) from exc


def _put_in_place(
    path: Path, chunks: Iterable[bytes], storage: Storage, *, overwrite: bool
) -> Path | None:
    """A temp file next to ``path`` written, fsynced, closed, then renamed over ``path``
    (``overwrite``) or linked there (its own name returned, still to remove); the temp file is
    removed on any failure. The folder is not synced yet."""
    fd, temp = storage.create_temp(path)
    try:
        try:
            for chunk in chunks:
                _write_all(storage, fd, chunk)
            storage.sync(fd)
        finally:
            storage.close(fd)
        if overwrite:
            storage.replace(temp, path)
            return None
        storage.link(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            storage.remove(temp)
        raise
    return temp


def _write_all(storage: Storage, fd: int, data: bytes) -> None:
    done = 0
    while done < len(data):
        written = storage.write(fd, data[done:])
        if written <= 0:
            raise OSError(f"no progress writing descriptor {fd}")
        done += written


def make_dirs(path: Path, *, storage: Storage | None = None) -> None:
    """Create ``path`` and missing parents (0700), each made durable in its parent."""
    storage = storage or OsStorage()
    missing: list[Path] = []
    probe = path
    while not probe.is_dir():
        missing.append(probe)
        probe = probe.parent
    try:
        for directory in reversed(missing):
            storage.make_dir(directory)
            storage.sync_dir(directory.parent)
    except OSError as exc:
        raise _failed(path, exc) from exc


def remove_durably(path: Path, *, storage: Storage | None = None) -> bool:
    """Remove the file ``path`` if it exists and make that durable; True if it was there."""
    storage = storage or OsStorage()
    try:
        storage.remove(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise _failed(path, exc) from exc
    _sync_parent(storage, path)
    return True


def remove_tree(path: Path, *, storage: Storage) -> None:
    """Remove the folder ``path`` and all it holds, durably (``OSError`` if it cannot)."""
    storage.remove_tree(path)
    storage.sync_dir(path.parent)


def move_folder(source: Path, target: Path, *, storage: Storage) -> None:
    """Make ``source``'s files and folders durable, then rename it to ``target`` durably.

    Raises ``OSError``; the caller says what could not be filed.
    """
    folders = [source, *sorted(p for p in source.rglob("*") if p.is_dir())]
    for folder in folders:
        for entry in sorted(folder.iterdir()):
            if entry.is_file():
                storage.sync_file(entry)
    for folder in reversed(folders):
        storage.sync_dir(folder)
    make_dirs(target.parent, storage=storage)
    storage.replace(source, target)
    storage.sync_dir(target.parent)
    if source.parent != target.parent:
        storage.sync_dir(source.parent)


def remove_temp_files(
    places: Iterable[tuple[Path, Iterable[str]]], *, storage: Storage
) -> list[Path]:
    """Remove the temp files a kill during ``write_atomic`` left: for each (folder, names),
    the ``.<name>.<random>.tmp`` files in that folder; the removed ones.

    Call it only under the journal's lock: another dmj could be writing one right now.
    """
    removed = []
    for folder, names in places:
        for name in names:
            for temp in sorted(folder.glob(f".{name}.*{TEMP_SUFFIX}")):
                if temp.is_file() and remove_durably(temp, storage=storage):
                    removed.append(temp)
    return removed


def _sync_parent(storage: Storage, path: Path) -> None:
    try:
        storage.sync_dir(path.parent)
    except OSError as exc:
        raise FileWriteFailed(
            f"{path} was removed, but its folder could not be synced ({exc.strerror or exc}); "
            "check the disk, then try again."
        ) from exc


def _failed(path: Path, exc: OSError) -> FileWriteFailed:
    return FileWriteFailed(
        f"{path} could not be written ({exc.strerror or exc}); it was left as it was. Check "
        "the free space and the permissions of its directory, then try again."
    )
