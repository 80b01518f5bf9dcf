"""``dmj repair``: plan the way out of a damaged journal (read-only), then take it.

The valid prefix is what both the journal's checks and the run's rules accept: the records
before the first damaged line, or before the first record that breaks a rule (a hand edit,
or a bug), whichever comes first. A repair keeps that prefix, moves everything after it to
``journal.damaged-<UTC>`` (``dmj.journal.set_rest_aside``: nothing is deleted), moves the
export folders only those lines recorded to ``exports.damaged-<UTC>/``, and rebuilds the
projections. Damage it must not cut (records of a newer dmj, or of a version no upcaster
reaches) is refused with what to do instead. A journal that only ends in a torn tail needs
no cut: any writer sets that aside, and so does the repair's rebuild.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import msgspec
from dmj.journal import (
    Clock,
    JournalCheck,
    OsStorage,
    RestLine,
    Storage,
    TornTail,
    line_offset,
    read_events,
    read_rest,
    set_rest_aside,
    utc_now,
)
from dmj.machine.errors import FileWriteFailed
from dmj.machine.state import State, fold_until_broken

from ._atomic import move_folder, remove_durably
from ._build import archived_batch_state
from ._exports import unfinished_exports
from ._files import ProjectionChange
from ._losses import Losses, describe_losses
from ._replay import _existing_journal, _Intact, rebuild_projections

__all__ = ["RepairAction", "RepairDone", "RepairPlan", "apply_repair", "plan_repair"]

RepairAction = Literal["nothing", "tail", "cut", "refuse"]
"""``nothing``: the journal is sound. ``tail``: it ends in a tail the next writer sets aside.
``cut``: damage to set aside. ``refuse``: damage a repair must not cut (see ``reason``)."""

_NOT_CUT = ("newer-version", "unknown-type", "old-version")


class RepairPlan(msgspec.Struct, frozen=True, kw_only=True):
    """What ``dmj repair`` found and would do. ``reason``: the damage, in a sentence.

    With ``cut``: the journal (``size`` bytes) keeps records 1..``kept``; line ``kept + 1``
    on, from byte ``offset``, is set aside: ``rest`` (each line as far as it reads) and what
    that loses, ``losses``.
    """

    archive: str
    journal: str
    action: RepairAction
    reason: str | None
    size: int
    kept: int
    offset: int
    rest: tuple[RestLine, ...] = ()
    losses: Losses | None = None
    tail: TornTail | None = None
    """With ``tail``: the tail the next writer sets aside, and what it is."""


class RepairDone(msgspec.Struct, frozen=True, kw_only=True):
    """What ``apply_repair`` did: where the rest went, the export folders it moved with it
    (from, to; relative to the archive), a tail set aside, the projections."""

    saved_to: str | None
    moved: tuple[tuple[str, str], ...]
    recovery: str | None
    records: int
    changes: tuple[ProjectionChange, ...]


def plan_repair(archive: Path) -> RepairPlan:
    """What a repair of ``archive``'s journal would keep and set aside (reads only)."""
    journal = _existing_journal(archive)
    with read_events(journal) as events:
        kept, broken = fold_until_broken(_Intact(events))
        check = events.check()
    plan = RepairPlan(
        archive=str(archive), journal=str(journal), action="nothing", reason=None,
        size=check.size, kept=kept.through_seq, offset=check.size,
    )  # fmt: skip
    problem = check.problem
    if broken is None and problem is None:
        if check.torn is None:
            return plan
        return msgspec.structs.replace(
            plan, action="tail", offset=check.torn.offset, tail=check.torn
        )
    if broken is None and problem is not None and problem.kind in _NOT_CUT:
        return msgspec.structs.replace(plan, action="refuse", reason=problem.message)
    reason = str(broken) if broken is not None else _problem(check)
    return _cut(plan, journal, check, kept, reason)


def _problem(check: JournalCheck) -> str:
    problem = check.problem
    return "" if problem is None else f"line {problem.line} is corrupt ({problem.detail})"


def _cut(
    plan: RepairPlan, journal: Path, check: JournalCheck, kept: State, reason: str
) -> RepairPlan:
    line = kept.through_seq + 1
    offset = check.intact_bytes if line == check.records + 1 else line_offset(journal, line)
    rest = read_rest(journal, offset, line)
    # an export whose outcome is set aside: resume would remove its folder as unfinished work
    orphaned = [p for p in unfinished_exports(kept) if (Path(plan.archive) / p).is_dir()]
    return msgspec.structs.replace(
        plan, action="cut", reason=reason, offset=offset, rest=tuple(rest),
        losses=describe_losses(kept, rest, orphaned=orphaned),
    )  # fmt: skip


def apply_repair(
    archive: Path, plan: RepairPlan, *, clock: Clock = utc_now, storage: Storage | None = None
) -> RepairDone:
    """Take ``plan``: set the rest aside (under the writer lock), then rebuild the projections,
    every file operation through ``storage`` (the command's seam).

    ``JournalLocked`` while another dmj writes; ``JournalError`` if the journal changed since
    the plan (nothing is done then). A run whose end was set aside is unfinished again, so
    its archived ``runs/<run_id>/batch-state.json`` goes (the rebuild writes it afresh).
    """
    storage = storage or OsStorage()
    journal = Path(plan.journal)
    saved_to, moved = None, []
    if plan.action == "cut":
        exports = plan.losses.exports if plan.losses is not None else ()

        def exports_aside(when: str) -> None:
            moved.extend(_move_aside(archive, exports, when, storage=storage))

        saved = set_rest_aside(
            journal, offset=plan.offset, size=plan.size, clock=clock, first=exports_aside,
            storage=storage,
        )  # fmt: skip
        saved_to = str(saved)
    stale = [] if plan.losses is None else [*plan.losses.unfinished, *plan.losses.forgotten]
    removed = []
    for run_id in dict.fromkeys(stale):
        relative = archived_batch_state(run_id)
        if (archive / relative).is_file():
            remove_durably(archive / relative, storage=storage)
            removed.append(ProjectionChange(path=relative, change="removed"))
    rebuild = rebuild_projections(archive, storage=storage)
    return RepairDone(
        saved_to=saved_to,
        moved=tuple(moved),
        recovery=rebuild.recovery,
        records=rebuild.records,
        changes=(*removed, *rebuild.changes),
    )


def _move_aside(
    archive: Path, exports: tuple[str, ...], when: str, *, storage: Storage
) -> list[tuple[str, str]]:
    """Move each export folder only the set-aside lines record to ``exports.damaged-<when>/``
    (same layout), durably (``move_folder``); the moves made. Such a folder is known to no
    journal any more:
    left in ``exports/``, a later run could take it for leftovers, or export the same DM
    into the same folder name. A folder already gone (an earlier, interrupted repair moved
    it) is skipped; a path outside ``exports/`` is never touched."""
    target_root = _free(archive / f"exports.damaged-{when}")
    moves = []
    for relative in exports:
        parts = Path(relative).parts
        source = archive / relative
        if len(parts) != 3 or parts[0] != "exports" or ".." in parts or not source.is_dir():
            continue
        target = target_root / parts[1] / parts[2]
        try:
            move_folder(source, target, storage=storage)
        except OSError as exc:
            raise FileWriteFailed(
                f"the export folder {source} could not be moved to {target} "
                f"({exc.strerror or exc}); the journal was not changed. Check the disk and "
                "the folder's permissions, then run `dmj repair --apply` again."
            ) from exc
        moves.append((relative, target.relative_to(archive).as_posix()))
    return moves


def _free(path: Path) -> Path:
    """``path``, or ``path-2``, ``path-3``... whichever does not exist yet."""
    candidate, attempt = path, 1
    while candidate.exists():
        attempt += 1
        candidate = path.with_name(f"{path.name}-{attempt}")
    return candidate
