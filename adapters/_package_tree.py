"""A Discord data package as a tree of files, whether extracted or still zipped.

Discord's layout changed over the years (``messages/`` or ``Messages/``, localized folder
names, ``c<id>`` or bare-id channel folders), so nothing here trusts a name: the messages
root is wherever ``<id>/channel.json`` files live, and the account file is the ``user.json``
one level below the package root. Names are compared case-insensitively.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Protocol

from dmj.machine.errors import PackageError

__all__ = ["Layout", "Tree", "find_layout", "open_tree"]

_CHANNEL_FILE = re.compile(r"^(?:(?P<root>.+)/)?c?(?P<id>\d{15,21})/channel\.json$", re.I)
_JUNK = re.compile(r"(^|/)(__MACOSX/|\._|\.DS_Store$|Thumbs\.db$)", re.I)


class Tree(Protocol):
    """The files of a package, by '/'-separated path relative to what the user gave."""

    def names(self) -> list[str]: ...

    def read(self, name: str) -> bytes: ...

    def open(self, name: str) -> IO[bytes]: ...


@dataclass(frozen=True)
class _Folder:
    root: Path

    def names(self) -> list[str]:
        # os.walk sorts files from folders by the directory entry's type, without a stat per
        # file (rglob + is_file stats each one: most of the read of a 10,000-DM package).
        root, names = str(self.root), []
        for folder, _, files in os.walk(root):
            prefix = folder[len(root) :].lstrip(os.sep).replace(os.sep, "/")
            names += [f"{prefix}/{name}" if prefix else name for name in files]
        return names

    def read(self, name: str) -> bytes:
        return (self.root / name).read_bytes()

    def open(self, name: str) -> IO[bytes]:
        return (self.root / name).open("rb")


@dataclass(frozen=True)
class _Zip:
    archive: zipfile.ZipFile

    def names(self) -> list[str]:
        return [i.filename for i in self.archive.infolist() if not i.is_dir()]

    def read(self, name: str) -> bytes:
        return self.archive.read(name)

    def open(self, name: str) -> IO[bytes]:
        return self.archive.open(name)


@contextmanager
def open_tree(path: Path) -> Iterator[Tree]:
    """The package at ``path``: an extracted folder or the ``.zip`` as Discord sent it."""
    if path.is_dir():
        yield _Folder(path)
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
        yield _Zip(archive)


@dataclass(frozen=True)
class Layout:
    """Where things are in one package (paths as ``Tree.names`` gives them)."""

    messages_root: str
    channel_files: dict[str, str]
    """Channel id (from the folder name) → its ``channel.json``."""
    index_file: str | None
    account_file: str | None


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
    )


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
        if (p := PurePosixPath(name)).name.lower() == "user.json"
        and p.parent.parent == package_root
        and p.parent != PurePosixPath(messages_root)
    )
    preferred = [c for c in candidates if PurePosixPath(c).parent.name.lower() == "account"]
    return next(iter(preferred or candidates), None)
