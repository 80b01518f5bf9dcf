"""The archive directory of a run (design.md §4): its places, and keeping them tidy.

Everything dmj writes lives under one directory (dirs 0700, files 0600). DCE writes into
``tmp/<export_id>/``; a verified export is moved to ``exports/<channel_id>/<export_id>/``
before its ``ChannelExported`` is journaled. What a crash leaves behind (an unfinished DCE
output in ``tmp/``, or an export moved in place whose record never reached the journal) is
removed by the next ``dmj run``/``dmj resume`` under the journal's lock, and that DM is
exported again: the journal alone says what is archived.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import msgspec
from dmj.machine.errors import FileWriteFailed, JournalNotFound, UsageError
from dmj.machine.state import State
from dmj.projections import JOURNAL, make_dirs

__all__ = [
    "Archive",
    "check_archive",
    "create_archive",
    "existing_archive",
    "exported_paths",
    "tidy",
]


class Archive(msgspec.Struct, frozen=True):
    """The places of one archive directory."""

    root: Path

    @property
    def journal(self) -> Path:
        return self.root / JOURNAL

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    @property
    def media(self) -> Path:
        return self.root / "media"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def dce_record(self) -> Path:
        """Notes the DCE process group while one runs (``adapters._dce_record``)."""
        return self.root / "dce-running.json"


def create_archive(path: Path) -> Archive:
    """The archive at ``path``, created (0700) if missing; ``UsageError`` if not writable."""
    root = path.absolute()
    if root.exists() and not root.is_dir():
        raise UsageError(
            f"--archive {path} is a file, not a directory; choose a directory for the archive."
        )
    try:
        make_dirs(root)
    except FileWriteFailed as error:
        raise UsageError(f"The archive directory {path} cannot be created: {error}") from None
    if not os.access(root, os.W_OK | os.X_OK):
        raise UsageError(
            f"The archive directory {path} is not writable; choose another --archive or fix "
            "its permissions."
        )
    return Archive(root)


def check_archive(path: Path, *, package: Path) -> Archive:
    """The archive at ``path``, checked as ``create_archive`` would, without creating it:
    ``UsageError`` if it is a file, lies inside the data ``package`` (dmj never writes into
    the package), or cannot be written or created."""
    root = path.absolute()
    inside = package.resolve()
    if root.resolve() == inside or inside in root.resolve().parents:
        raise UsageError(
            f"--archive {path} is inside the data package {package}, and dmj never writes into "
            f"the package; choose an archive outside it, e.g. --archive "
            f"{inside.parent / 'dmj-archive'}."
        )
    if root.exists() and not root.is_dir():
        raise UsageError(
            f"--archive {path} is a file, not a directory; choose a directory for the archive."
        )
    existing = next(folder for folder in (root, *root.parents) if folder.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        problem = (
            "is not writable"
            if existing == root
            else f"cannot be created: {existing} is not a writable directory"
        )
        raise UsageError(
            f"The archive directory {path} {problem}; choose another --archive or fix the "
            "permissions."
        )
    return Archive(root)


def existing_archive(path: Path) -> Archive:
    """The archive at ``path``, which must hold a journal (``JournalNotFound`` otherwise)."""
    archive = Archive(path.absolute())
    if not archive.journal.is_file():
        where = "no such directory" if not path.is_dir() else "it has no journal.jsonl"
        raise JournalNotFound(
            f"There is no dmj archive at {path} ({where}), so there is nothing to resume; "
            "check --archive or DMJ_ARCHIVE, or start a run with `dmj run --package PATH`."
        )
    return archive


def exported_paths(state: State) -> set[str]:
    """Every export folder the journal records (``ChannelExported.path``), all runs."""
    runs = state.runs
    paths = {o.path for run in runs for record in run.finished_batches() for o in record.outcomes}
    if state.batch is not None:
        paths.update(outcome.path for outcome in state.batch.outcomes())
    paths.discard("")
    return paths


def tidy(archive: Archive, state: State) -> list[str]:
    """Empty ``tmp/`` and remove export folders the journal does not record; say which.

    Call it only while holding the journal's lock: another dmj could be exporting.
    """
    removed = []
    if archive.tmp.is_dir():
        _remove(archive.tmp)
        removed.append("tmp")
    if archive.exports.is_dir():
        known = exported_paths(state)
        for folder in sorted(archive.exports.glob("*/*")):
            relative = folder.relative_to(archive.root).as_posix()
            if relative not in known:
                _remove(folder)
                removed.append(relative)
    return removed


def _remove(path: Path) -> None:
    try:
        shutil.rmtree(path)
    except OSError as exc:
        raise FileWriteFailed(
            f"{path} could not be removed ({exc.strerror or exc}); it holds what an "
            "interrupted export left behind. Remove it by hand, then run the command again."
        ) from exc
