"""The archive directory of a run (design.md §4): its places, and keeping them tidy.

Everything dmj writes lives under one directory (dirs 0700, files 0600), through one
``Storage`` (the seam the journal writer uses too). DCE writes into ``tmp/<export id>/``; a
verified export is moved to ``exports/<channel_id>/<export id>/`` before its
``ChannelExported`` is journaled; the export id is ``<run id>-<seq>``, unique across journals.

What a crash leaves behind is removed by the next ``dmj run``/``dmj resume`` under the
journal's lock, and only what this journal proves is its own unfinished work: ``tmp/``, the
export folder of an ``ExportRequested`` that has no outcome (the export is repeated), and
the temp files of an interrupted projection write. Nothing else under ``exports/`` is ever
deleted: an export folder the journal does not know (one written under a journal that was
moved aside) makes the command refuse, naming it, until it is moved out or its journal is
put back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dmj.journal import Failpoints, OsStorage, Storage
from dmj.machine.errors import FileWriteFailed, JournalNotFound, UsageError
from dmj.machine.state import State
from dmj.projections import (
    JOURNAL,
    make_dirs,
    remove_projection_temps,
    remove_tree,
    unfinished_exports,
)

__all__ = [
    "Archive",
    "archive_storage",
    "check_archive",
    "command_storage",
    "create_archive",
    "existing_archive",
    "exported_paths",
    "refuse_unknown_exports",
    "tidy",
    "unfinished_exports",
    "unknown_exports",
]

SHOWN = 5
"""Unknown export folders named in the refusal; the rest are counted."""


def archive_storage(failpoints: Failpoints) -> Storage:
    """A command's one seam for the journal and the archive: the system's calls, with the
    test failpoints (``DMJ_FAILPOINT``) if any. Tests replace ``OsStorage`` here to record."""
    return failpoints.storage(OsStorage())


def command_storage() -> Storage:
    """``archive_storage`` with this process's ``DMJ_FAILPOINT``: the one seam of a command
    that opens no session (``dmj show``, ``export``, ``status``, ``view``, ``replay``), through
    which it writes the message index's files (and ``dmj replay`` the projections)."""
    from ._env import read_environment  # noqa: PLC0415 (reads the environment: cli only)

    return archive_storage(read_environment().failpoints)


@dataclass(frozen=True)
class Archive:
    """The places of one archive directory, and the ``Storage`` its files are written through
    (the command's one seam, failpoints included)."""

    root: Path
    storage: Storage = field(default_factory=OsStorage, compare=False, repr=False)

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


def unknown_exports(archive: Archive, state: State) -> list[str]:
    """Export folders under ``exports/`` that this journal neither records nor is writing."""
    if not archive.exports.is_dir():
        return []
    known = exported_paths(state) | set(unfinished_exports(state))
    found = sorted(
        folder.relative_to(archive.root).as_posix()
        for folder in archive.exports.glob("*/*")
        if folder.is_dir()
        and not (folder.name.startswith(".") or folder.parent.name.startswith("."))
    )
    return [relative for relative in found if relative not in known]


def refuse_unknown_exports(archive: Archive, state: State) -> None:
    """``UsageError`` naming the export folders this journal does not know, if there are any."""
    unknown = unknown_exports(archive, state)
    if not unknown:
        return
    shown = ", ".join(unknown[:SHOWN])
    more = f" and {len(unknown) - SHOWN} more" if len(unknown) > SHOWN else ""
    if exported_paths(state):
        how = f"move those folders out of {archive.exports}"
    else:
        how = (
            f"move them out of the archive (e.g. `mv {archive.exports} {archive.root}/exports.old`)"
        )
    raise UsageError(
        f"The archive {archive.root} holds export folders that its journal does not record: "
        f"{shown}{more}, probably written under a journal that was moved aside or replaced. "
        "dmj never deletes them and will not file new exports beside them. To go on, "
        f"{how}, or put back the journal they belong to; then run the command again."
    )


def tidy(archive: Archive, state: State) -> list[str]:
    """Remove what a crash left of this journal's unfinished work; say what (relative paths).

    ``tmp/``, the export folders of ``unfinished_exports``, and interrupted projection
    writes' temp files. Refuses (``UsageError``) when ``exports/`` holds a folder the journal
    does not know, before removing anything. Call it only while holding the journal's lock:
    another dmj could be exporting.
    """
    refuse_unknown_exports(archive, state)
    removed = []
    if archive.tmp.is_dir():
        _remove(archive, archive.tmp)
        removed.append("tmp")
    for relative in unfinished_exports(state):
        folder = archive.root / relative
        if folder.is_dir():
            _remove(archive, folder)
            removed.append(relative)
    temps = remove_projection_temps(archive.root, storage=archive.storage)
    removed += [temp.relative_to(archive.root).as_posix() for temp in temps]
    return removed


def _remove(archive: Archive, path: Path) -> None:
    try:
        remove_tree(path, storage=archive.storage)
    except OSError as exc:
        raise FileWriteFailed(
            f"{path} could not be removed ({exc.strerror or exc}); it holds what an "
            "interrupted export left behind. Remove it by hand, then run the command again."
        ) from exc
