"""The projection files in an archive: writing them from a state, and judging what is there.

``write_projections`` makes the archive's files what the state implies (only the files that
differ are written) and says what changed; ``projection_status`` compares each file's
``throughSeq`` with the journal without writing anything. A projection is never trusted over
the journal: missing, behind or unreadable means "rebuild it", never "believe it".
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import msgspec
from dmj.journal import OsStorage, Storage
from dmj.machine.state import State

from ._atomic import make_dirs, remove_durably, remove_temp_files, write_atomic
from ._build import BATCH_STATE, ID_HISTORY, projection_files

__all__ = [
    "Change",
    "Freshness",
    "ProjectionChange",
    "ProjectionStatus",
    "projection_status",
    "remove_projection_temps",
    "write_projections",
]

Change = Literal["created", "updated", "replaced-unreadable", "unchanged", "removed"]
Freshness = Literal["current", "behind", "ahead", "missing", "unreadable", "leftover"]
"""``current``: reflects the journal's last record (for a finished run's archived file: its
``RunFinished``). ``behind``: written at an earlier record (normal between batches).
``ahead``: claims a record the journal does not have. ``leftover``: ``batch-state.json`` of a
run that finished (it belongs in ``runs/<run_id>/``)."""


class ProjectionChange(msgspec.Struct, frozen=True, kw_only=True):
    """What ``write_projections`` did to one file (``path`` relative to the archive)."""

    path: str
    change: Change
    before: int | None = None
    after: int | None = None


class ProjectionStatus(msgspec.Struct, frozen=True, kw_only=True):
    """How one projection file compares with the journal.

    ``through_seq`` is the file's own; ``expected`` the seq it would have if rebuilt now.
    """

    path: str
    freshness: Freshness
    through_seq: int | None
    expected: int | None


class _Stamp(msgspec.Struct):
    throughSeq: int


_STAMP = msgspec.json.Decoder(_Stamp)


def write_projections(
    archive: Path, state: State, *, past_runs: bool = False, storage: Storage | None = None
) -> list[ProjectionChange]:
    """Bring the archive's projection files in line with ``state``; say what changed.

    The driver calls this after each ``BatchFinished``, on pause and on finish (cheap: only
    the current run's files); ``dmj replay`` passes ``past_runs=True`` to check every file.
    Every write goes through ``storage`` (the command's seam).
    """
    storage = storage or OsStorage()
    return [
        _write(archive, relative, data, storage)
        for relative, data in projection_files(state, past_runs=past_runs).items()
        if data is not None or (archive / relative).exists()
    ]


def _write(archive: Path, relative: str, data: bytes | None, storage: Storage) -> ProjectionChange:
    path = archive / relative
    old = _read(path)
    before, after = _seq(old), _own_seq(data)
    if data is None:
        remove_durably(path, storage=storage)
        return ProjectionChange(path=relative, change="removed", before=before)
    if old == data:
        return ProjectionChange(path=relative, change="unchanged", before=before, after=after)
    make_dirs(path.parent, storage=storage)
    write_atomic(path, data, storage=storage)
    change: Change = "created" if old is None else "updated"
    if old is not None and before is None:
        change = "replaced-unreadable"
    return ProjectionChange(path=relative, change=change, before=before, after=after)


def remove_projection_temps(archive: Path, *, storage: Storage | None = None) -> list[Path]:
    """Remove the temp files a kill during a projection write left (``write_atomic``'s
    ``.<name>.<random>.tmp``); the removed ones. Only under the journal's lock."""
    places: list[tuple[Path, tuple[str, ...]]] = [(archive, (BATCH_STATE, ID_HISTORY))]
    runs = archive / "runs"
    if runs.is_dir():
        places += [(folder, (BATCH_STATE,)) for folder in sorted(runs.iterdir()) if folder.is_dir()]
    return remove_temp_files(places, storage=storage or OsStorage())


def projection_status(archive: Path, state: State) -> list[ProjectionStatus]:
    """Each projection file the journal implies, judged against it (reads only)."""
    statuses = []
    for relative, data in projection_files(state).items():
        old = _read(archive / relative)
        have, expected = _seq(old), _own_seq(data)
        if data is None and old is None:
            continue
        freshness = "leftover" if data is None else _judge(old, have, expected)
        statuses.append(
            ProjectionStatus(
                path=relative, freshness=freshness, through_seq=have, expected=expected
            )
        )
    return statuses


def _judge(old: bytes | None, have: int | None, expected: int | None) -> Freshness:
    if old is None:
        return "missing"
    if have is None or expected is None:
        return "unreadable"
    if have == expected:
        return "current"
    return "behind" if have < expected else "ahead"


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError:
        return b""  # there but unreadable: judged "unreadable", replaced on write


def _own_seq(data: bytes | None) -> int | None:
    """``throughSeq`` of a document dmj just built: its last member by contract (see
    ``_documents``), read from the end instead of parsing the whole document again."""
    if data is None:
        return None
    return int(data[data.rindex(b":") + 1 :].rstrip().rstrip(b"}"))


def _seq(data: bytes | None) -> int | None:
    """``throughSeq`` of a file found in the archive (None if it is not a readable document)."""
    if not data:
        return None
    try:
        return _STAMP.decode(data).throughSeq
    except msgspec.DecodeError:
        return None
