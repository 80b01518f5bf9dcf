"""The archive's exports as the journal records them: describing them, and checking them.

``ChannelExported.files`` lists each file of an export folder with its size and digest
(``describe_files``, when the export is filed). ``verify_exports`` compares every recorded
export with the disk (``quick``: sizes only) for ``dmj replay --inspect`` and for the start of
a run; ``whole_exports_needed`` names the channels a run must export again from scratch,
because an export the channel's archive is built on is missing or changed (an incremental
export only adds messages after the last archived one, so a lost export would otherwise stay
lost). Damage that a later whole export of the channel made good is *superseded*: reported,
but no reason to export again, nor to call the archive unhealthy. Reads only; nothing here
writes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import msgspec
from dmj.machine.events import ExportFile
from dmj.machine.ports import export_id
from dmj.machine.state import Outcome, RunState, State

__all__ = [
    "DamagedExport",
    "ExportsCheck",
    "WholeExport",
    "describe_files",
    "recorded_exports",
    "unfinished_exports",
    "verify_exports",
    "whole_exports_needed",
]


class WholeExport(msgspec.Struct, frozen=True, kw_only=True):
    """An export of a channel from its first message: the ``ChannelExported`` record ``seq``
    of run ``run_id``, filed at ``path`` (empty: it found no message and kept no folder)."""

    run_id: str
    seq: int
    path: str

    def describe(self) -> str:
        """Which export, in words."""
        if self.path:
            return f"the whole export {self.path} (the channel again from its first message)"
        return (
            f"the whole export of run {self.run_id} (seq {self.seq}), which found no message "
            "in the channel"
        )


class DamagedExport(msgspec.Struct, frozen=True, kw_only=True):
    """A recorded export that is not as it was filed: its folder is gone (``folder_missing``),
    or some of its files are ``missing`` or ``changed`` (another size or digest).
    ``superseded_by``: the later whole export of its channel, if one was made."""

    path: str
    channel_id: str
    run_id: str
    seq: int
    folder_missing: bool = False
    missing: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    superseded_by: WholeExport | None = None

    def describe(self) -> str:
        """One sentence: which export, and what is wrong with it."""
        if self.folder_missing:
            return f"{self.path} (channel {self.channel_id}) is missing"
        wrong = [f"{name} is missing" for name in self.missing]
        wrong += [f"{name} has changed" for name in self.changed]
        return f"{self.path} (channel {self.channel_id}): {', '.join(wrong)}"


class ExportsCheck(msgspec.Struct, frozen=True, kw_only=True):
    """What ``verify_exports`` found. ``checked``: exports compared file by file (``quick``:
    by size only); ``unlisted``: exports recorded by an older dmj without their files, of
    which only the folder could be checked; ``damaged``: the ones not as filed and not made
    good since; ``from_scratch``: their channels, which the next run exports whole;
    ``superseded``: the ones not as filed whose channel a later run exported whole (each
    with its ``superseded_by``): nothing of theirs is missing from the archive."""

    quick: bool
    checked: int
    unlisted: int
    damaged: tuple[DamagedExport, ...]
    from_scratch: tuple[str, ...]
    superseded: tuple[DamagedExport, ...] = ()


def describe_files(folder: Path) -> tuple[ExportFile, ...]:
    """The files of ``folder`` (recursively, by path inside it) with sizes and digests."""
    return tuple(
        ExportFile(name=path.relative_to(folder).as_posix(), size=size, digest=digest)
        for path in sorted(p for p in folder.rglob("*") if p.is_file())
        for size, digest in [_measure(path)]
    )


def verify_exports(archive: Path, state: State, *, quick: bool = False) -> ExportsCheck:
    """Compare every export the journal records with what ``archive`` holds."""
    checked = unlisted = 0
    found = []
    for run, outcome in recorded_exports(state):
        if outcome.files:
            checked += 1
        else:
            unlisted += 1
        problem = _check(archive, run, outcome, quick=quick)
        if problem is not None:
            found.append(problem)
    later = _made_good(state, found)
    damaged = [export for export in found if export.path not in later]
    return ExportsCheck(
        quick=quick,
        checked=checked,
        unlisted=unlisted,
        damaged=tuple(damaged),
        from_scratch=tuple(sorted({export.channel_id for export in damaged})),
        superseded=tuple(
            msgspec.structs.replace(export, superseded_by=later[export.path])
            for export in found
            if export.path in later
        ),
    )


def whole_exports_needed(state: State, damaged: Iterable[DamagedExport]) -> tuple[str, ...]:
    """The channels whose archive has a damaged export since their last whole export."""
    damaged = list(damaged)
    later = _made_good(state, damaged)
    return tuple(sorted({d.channel_id for d in damaged if d.path not in later}))


def _made_good(state: State, damaged: Iterable[DamagedExport]) -> dict[str, WholeExport]:
    """Each damaged export (by path) that a later whole export of its channel made good, and
    the first such export.

    An export is whole when it asked for every message, as ``decide`` chooses: its run listed
    the channel in ``RunStarted.from_scratch``, or no earlier run had archived a message of it.
    A whole export that found no message (no folder) makes good too: the channel has none.
    """
    bad = {export.path for export in damaged}
    waiting: dict[str, list[str]] = {}
    archived: set[str] = set()
    made_good: dict[str, WholeExport] = {}
    for run, outcomes in _exports_by_run(state):
        for outcome in outcomes:
            channel = outcome.channel_id
            if channel in run.started.from_scratch or channel not in archived:
                whole = WholeExport(run_id=run.id, seq=outcome.seq, path=outcome.path)
                made_good.update((path, whole) for path in waiting.pop(channel, ()))
            if outcome.path in bad:
                waiting.setdefault(channel, []).append(outcome.path)
        archived.update(o.channel_id for o in outcomes if o.last_message_id is not None)
    return made_good


def recorded_exports(state: State) -> Iterator[tuple[RunState, Outcome]]:
    """Every export folder the journal records, with its run, oldest first."""
    for run, outcomes in _exports_by_run(state):
        for outcome in outcomes:
            if outcome.path:
                yield run, outcome


def _exports_by_run(state: State) -> Iterator[tuple[RunState, list[Outcome]]]:
    """Each run with its ``exported`` outcomes (with a folder or not), oldest first."""
    for run in state.runs:
        outcomes = [o for record in run.finished_batches() for o in record.outcomes]
        if run is state.run and state.batch is not None:
            outcomes.extend(state.batch.outcomes())
        yield run, sorted((o for o in outcomes if o.kind == "exported"), key=lambda o: o.seq)


def unfinished_exports(state: State) -> list[str]:
    """The export folders of the journal's ``ExportRequested`` records that have no outcome.

    Such a folder was moved into place just before a crash (its export is repeated), or its
    outcome was set aside by ``dmj repair``. A journal written by an earlier dmj named the
    folder by the seq alone.
    """
    run, batch = state.run, state.batch
    if run is None or batch is None:
        return []
    folders = []
    for dm in batch.dms:
        if dm.exporting is not None:
            folders.append(f"exports/{dm.exporting}/{export_id(run.id, dm.export_seq)}")
            folders.append(f"exports/{dm.exporting}/{dm.export_seq}")
    return folders


def _check(archive: Path, run: RunState, outcome: Outcome, *, quick: bool) -> DamagedExport | None:
    folder = archive / outcome.path
    damage = DamagedExport(
        path=outcome.path, channel_id=outcome.channel_id, run_id=run.id, seq=outcome.seq
    )
    if not folder.is_dir():
        return msgspec.structs.replace(damage, folder_missing=True)
    missing, changed = [], []
    for recorded in outcome.files:
        path = folder / recorded.name
        try:
            size = path.stat().st_size
        except OSError:
            missing.append(recorded.name)
            continue
        if size != recorded.size or (not quick and _digest(path) != recorded.digest):
            changed.append(recorded.name)
    if not missing and not changed:
        return None
    return msgspec.structs.replace(damage, missing=tuple(missing), changed=tuple(changed))


def _digest(path: Path) -> str | None:
    """``path``'s digest, or None if it cannot be read (then it is not as filed either)."""
    try:
        return _measure(path)[1]
    except OSError:
        return None


def _measure(path: Path) -> tuple[int, str]:
    """``path``'s size and digest (``sha256:<hex>``), read once."""
    with path.open("rb") as file:
        digest = hashlib.file_digest(file, "sha256").hexdigest()
        return file.tell(), f"sha256:{digest}"
