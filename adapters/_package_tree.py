"""A Discord data package as a tree of files, whether extracted or still zipped.

Discord's layout changed over the years (``messages/`` or ``Messages/``, localized folder
names, ``c<id>`` or bare-id channel folders), so nothing here trusts a name: the messages
root is wherever ``<id>/channel.json`` files live, and the account file is the ``user.json``
one level below the package root. Names are compared case-insensitively.

A zip entry that does not unpack (a bad CRC, a broken deflate stream: a download cut short or
a bad disk) is a ``PackageError`` naming the entry, whether it is read whole or streamed.
"""

from __future__ import annotations

import hashlib
import os
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import IO, Protocol

from dmj.machine.errors import PackageError

from ._package_files import Readable

__all__ = ["Layout", "Tree", "find_layout", "open_tree", "stamped_names"]

_CHANNEL_FILE = re.compile(r"^(?:(?P<root>.+)/)?c?(?P<id>\d{15,21})/channel\.json$", re.I)
_CHANNEL_FOLDER = re.compile(r"^c?\d{15,21}$", re.I)
_MESSAGES_FILE = re.compile(r"^(?:(?P<root>.+)/)?c?(?P<id>\d{15,21})/messages\.(json|csv)$", re.I)
_DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)
"""What ``zipfile`` raises for an entry that does not unpack: a bad CRC or header
(``BadZipFile``), a broken deflate stream (``zlib.error``), a stream cut short
(``EOFError``), an unknown compression method or an encrypted entry."""
_JUNK = re.compile(r"(^|/)(__MACOSX/|\._|\.DS_Store$|Thumbs\.db$)", re.I)


class Tree(Protocol):
    """The files of a package, by '/'-separated path relative to what the user gave."""

    def names(self) -> list[str]: ...

    def read(self, name: str) -> bytes: ...

    def open(self, name: str) -> AbstractContextManager[Readable]: ...

    def stamp(self, names: Iterable[str]) -> str:
        """A digest of the size, times (modified, changed) and inode of ``names`` (``""``: the
        package itself)."""
        ...


@dataclass(frozen=True)
class _Folder:
    root: str
    """The folder, as text: its files are named by joining text (10,000s of them; a ``Path``
    per file, or ``os.path.join`` on one, costs more than the read)."""

    def names(self) -> list[str]:
        # os.walk sorts files from folders by the directory entry's type, without a stat per
        # file (rglob + is_file stats each one: most of the read of a 10,000-DM package).
        root, names = self.root, []
        for folder, _, files in os.walk(root):
            prefix = folder[len(root) :].lstrip(os.sep).replace(os.sep, "/")
            names += [f"{prefix}/{name}" if prefix else name for name in files]
        return names

    def read(self, name: str) -> bytes:
        with open(f"{self.root}/{name}", "rb") as file:
            return file.read()

    def open(self, name: str) -> IO[bytes]:
        return open(f"{self.root}/{name}", "rb")

    def stamp(self, names: Iterable[str]) -> str:
        stats = "".join(f"{name}\0{_stat(f'{self.root}/{name}')}\n" for name in names)
        return f"sha256:{hashlib.sha256(stats.encode()).hexdigest()}"


@dataclass(frozen=True)
class _Zip:
    archive: zipfile.ZipFile
    path: Path

    def names(self) -> list[str]:
        return [i.filename for i in self.archive.infolist() if not i.is_dir()]

    def read(self, name: str) -> bytes:
        try:
            return self.archive.read(name)
        except _DAMAGE as exc:
            raise _damaged(self.path, name, exc) from exc

    def open(self, name: str) -> _ZipEntry:
        try:
            return _ZipEntry(self.archive.open(name), self.path, name)
        except _DAMAGE as exc:
            raise _damaged(self.path, name, exc) from exc

    def stamp(self, names: Iterable[str]) -> str:
        """The zip file's own: whatever is inside changes with it."""
        return _stat(str(self.path))


def _stat(path: str) -> str:
    try:
        info = os.stat(path)
    except OSError:
        return "missing"
    # the change time too: a file written in place and dated back keeps its size, time and
    # inode, but nothing sets its ctime back
    return f"{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}:{info.st_ino}"


class _ZipEntry:
    """One entry of the zip, streamed: damage met while reading is a ``PackageError``."""

    def __init__(self, stream: IO[bytes], path: Path, name: str) -> None:
        self._stream, self._path, self._name = stream, path, name

    def read(self, size: int = -1, /) -> bytes:
        try:
            return self._stream.read(size)
        except _DAMAGE as exc:
            raise _damaged(self._path, self._name, exc) from exc

    def __enter__(self) -> _ZipEntry:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stream.close()


def _damaged(path: Path, name: str, exc: BaseException) -> PackageError:
    return PackageError(
        f"The data package {path} is damaged: {name} inside it does not unpack "
        f"({type(exc).__name__}: {exc}). Download the package again from the link Discord "
        "sent, or extract it with another tool and pass the folder with --package."
    )


@contextmanager
def open_tree(path: Path) -> Iterator[Tree]:
    """The package at ``path``: an extracted folder or the ``.zip`` as Discord sent it."""
    if path.is_dir():
        yield _Folder(str(path))
        return
    if not path.exists():
        raise PackageError(
            f"The data package {path} does not exist. Pass the folder or .zip Discord sent."
        )
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise PackageError(
            f"{path} is neither a folder nor a readable .zip file ({exc}), so it is not a "
            "Discord data package. Pass the folder or .zip Discord sent."
        ) from exc
    with archive:
        yield _Zip(archive, path)


@dataclass(frozen=True)
class Layout:
    """Where things are in one package (paths as ``Tree.names`` gives them)."""

    messages_root: str
    channel_files: dict[str, str]
    """Channel id (from the folder name) → its ``channel.json``."""
    index_file: str | None
    account_file: str | None
    folders_without_channel_file: tuple[str, ...] = ()
    """Channel folders of the messages root that hold files but no ``channel.json``."""
    message_files: dict[str, str] = field(default_factory=dict)
    """Channel id → its ``messages.json`` (or, in packages before 2024, ``messages.csv``)."""


def find_layout(tree: Tree, label: str) -> Layout:
    """Find the messages root, its channels, ``index.json`` and the account's ``user.json``."""
    names = [n for n in tree.names() if not _JUNK.search(n)]
    roots: dict[str, dict[str, str]] = {}
    for name in names:
        if match := _CHANNEL_FILE.match(name):
            roots.setdefault(match["root"] or "", {})[match["id"]] = name
    if not roots:
        raise PackageError(
            f"{label} has no messages folder (no <channel id>/channel.json anywhere), so it "
            "is not a Discord data package, or Messages was left out when it was requested. "
            "Request a package that includes Messages."
        )
    if len(roots) > 1:
        found = ", ".join(sorted(r or "(top level)" for r in roots))
        raise PackageError(
            f"{label} holds more than one messages folder ({found}). Point --package at a "
            "single data package."
        )
    root, channels = next(iter(roots.items()))
    return Layout(
        messages_root=root,
        channel_files=channels,
        index_file=_find(names, f"{root}/index.json" if root else "index.json"),
        account_file=_account_file(names, root),
        folders_without_channel_file=_folders_without_channel_file(names, root, channels),
        message_files=_message_files(names, root),
    )


def stamped_names(layout: Layout) -> tuple[str, ...]:
    """What tells whether the DMs read from a package folder still hold: the package and its
    messages folder (their times change when an entry is added, removed or renamed: a
    channel), every ``channel.json`` (its time, size or inode change when it is written or
    replaced), the channel folders without one, ``index.json`` and ``user.json``.

    Not the messages files, which are read every time: one added, removed or renamed since
    is at worst a channel whose messages cannot be read, reported as such, never counted."""
    files = [*layout.channel_files.values(), layout.index_file, layout.account_file]
    folders = ["", layout.messages_root, *layout.folders_without_channel_file]
    return (*dict.fromkeys(folders), *(name for name in files if name))


def _folders_without_channel_file(
    names: list[str], root: str, channels: dict[str, str]
) -> tuple[str, ...]:
    """The channel folders (``c<id>``) right below ``root`` with files but no channel.json."""
    with_file = {name.rpartition("/")[0] for name in channels.values()}
    prefix = f"{root}/" if root else ""
    folders = set()
    for name in names:  # string operations: a package can hold 100,000 files
        folder = name.rpartition("/")[0]
        below = folder[len(prefix) :]
        if folder.startswith(prefix) and "/" not in below and _CHANNEL_FOLDER.match(below):
            folders.add(folder)
    return tuple(sorted(folders - with_file))


def _message_files(names: list[str], root: str) -> dict[str, str]:
    """Each channel's messages file right below ``root``; ``messages.json`` before ``.csv``."""
    found: dict[str, str] = {}
    for name in sorted(names, key=lambda n: n.lower().endswith(".json")):
        if (match := _MESSAGES_FILE.match(name)) and (match["root"] or "") == root:
            found[match["id"]] = name
    return found


def _find(names: list[str], wanted: str) -> str | None:
    return next((n for n in names if n.lower() == wanted.lower()), None)


def _account_file(names: list[str], messages_root: str) -> str | None:
    """The ``user.json`` in a sibling folder of the messages root (``Account``, ``Compte``…)."""
    if not messages_root:
        return None
    package_root = PurePosixPath(messages_root).parent
    candidates = sorted(
        name
        for name in names
        if name.lower().endswith("user.json")  # cheap first: a package has 10,000s of files
        and (p := PurePosixPath(name)).name.lower() == "user.json"
        and p.parent.parent == package_root
        and p.parent != PurePosixPath(messages_root)
    )
    preferred = [c for c in candidates if PurePosixPath(c).parent.name.lower() == "account"]
    return next(iter(preferred or candidates), None)
