"""Where projections meet the journal: replay, ``dmj replay``'s rebuild, and the audit.

The only module of ``projections/`` that reads ``journal.jsonl``. Rebuilding takes the
journal's writer lock (so it never races a running dmj, and a torn tail is set aside as any
writer would); the audit takes no lock and changes nothing, so it works while dmj runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain
from pathlib import Path

import msgspec
from dmj.journal import (
    JournalCheck,
    JournalEvents,
    JournalWriter,
    LockHolder,
    Storage,
    probe_writer,
    read_events,
)
from dmj.machine.errors import JournalCorrupt, JournalNotFound, RuleBroken
from dmj.machine.events import AnyEvent
from dmj.machine.state import State, fold, fold_until_broken

from ._exports import verify_exports
from ._files import (
    ProjectionChange,
    projection_status,
    remove_projection_temps,
    write_projections,
)
from ._inspect import Inspection, JournalSummary, build_inspection

__all__ = ["JOURNAL", "Rebuild", "inspect_archive", "rebuild_projections", "replay_journal"]

JOURNAL = "journal.jsonl"


class Rebuild(msgspec.Struct, frozen=True, kw_only=True):
    """What ``rebuild_projections`` did: the journal it read, a torn tail it set aside
    (``recovery``, the warning sentence), and one change per projection file."""

    journal: str
    records: int
    recovery: str | None
    changes: tuple[ProjectionChange, ...]


def replay_journal(path: Path) -> State:
    """The state ``path``'s journal folds into (``JournalCorrupt``/``RuleBroken`` if it can't).

    The message of a journaled record that breaks a rule names ``dmj repair``, the way out
    (the journal's own damage already does).
    """
    with read_events(path) as events:
        try:
            return fold(events)
        except RuleBroken as broken:
            if not broken.seq:
                raise
            raise RuleBroken(
                f"{broken} To carry on without it, `dmj repair` sets it and the records after "
                "it aside (nothing is deleted).",
                seq=broken.seq,
                rule=broken.rule,
            ) from broken


def rebuild_projections(archive: Path, *, storage: Storage | None = None) -> Rebuild:
    """Rewrite every projection of ``archive`` that differs from its journal; say what changed
    (every write through ``storage``, the command's seam)."""
    journal = _existing_journal(archive)
    with JournalWriter.open(journal, storage=storage) as writer:
        state = replay_journal(journal)
        remove_projection_temps(archive, storage=storage)  # what a kill during a write left
        changes = write_projections(archive, state, past_runs=True, storage=storage)
        recovery = writer.recovery.message if writer.recovery is not None else None
    return Rebuild(
        journal=str(journal),
        records=state.through_seq,
        recovery=recovery,
        changes=tuple(changes),
    )


def inspect_archive(archive: Path, *, quick: bool = False) -> Inspection:
    """The read-only audit of ``archive`` (no lock held; nothing is written); every recorded
    export is compared with the disk (``quick``: by size only).

    The writer lock is probed first, then the journal read: a run that finishes in between
    reads as finished, never as interrupted.
    """
    journal = _existing_journal(archive)
    writer = probe_writer(journal)
    with read_events(journal) as events:
        state, error = fold_until_broken(_Intact(events))
        check = events.check()
    return build_inspection(
        archive=str(archive),
        journal=_summary(check, writer),
        state=state,
        error=error,
        projections=projection_status(archive, state),
        exports=verify_exports(archive, state, quick=quick),
    )


def _existing_journal(archive: Path) -> Path:
    journal = archive / JOURNAL
    if not archive.is_dir():
        raise JournalNotFound(
            f"There is no dmj archive at {archive} (no such directory); check --archive or "
            "DMJ_ARCHIVE, or start one with `dmj run --package PATH`."
        )
    if not journal.is_file():
        raise JournalNotFound(
            f"{archive} has no {JOURNAL}, so no run has started there; check --archive or "
            "DMJ_ARCHIVE, or start one with `dmj run --package PATH`."
        )
    return journal


class _Intact:
    """The records before any damage, in the reader's checked blocks (the audit reports the
    damage itself)."""

    def __init__(self, events: JournalEvents[AnyEvent]) -> None:
        self._events = events

    def blocks(self) -> Iterator[list[AnyEvent]]:
        try:
            yield from self._events.blocks()
        except JournalCorrupt:
            return

    def __iter__(self) -> Iterator[AnyEvent]:
        return chain.from_iterable(self.blocks())


def _summary(check: JournalCheck, writer: LockHolder | None) -> JournalSummary:
    torn, problem = check.torn, check.problem
    return JournalSummary(
        path=check.path,
        records=check.records,
        last_seq=check.last_seq,
        torn_line=torn.line if torn is not None else None,
        torn_bytes=torn.length if torn is not None else None,
        torn_kind=torn.kind if torn is not None else None,
        problem_line=problem.line if problem is not None else None,
        problem=problem.message if problem is not None else None,
        writing=writer is not None,
        writer_pid=writer.pid if writer is not None else None,
    )
