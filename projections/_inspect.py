"""The audit ``dmj replay --inspect`` prints: journal integrity, runs, batches, next step.

Pure: built from a summary of the journal's integrity, the state folded from its intact
records (and the rule that stopped the fold, if one did) and the projections' freshness.
The report is a Struct, so ``--json`` prints it as it is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec
from dmj.journal import TailKind
from dmj.machine.decide import decide
from dmj.machine.errors import RuleBroken, SequenceGap
from dmj.machine.state import (
    BatchProgress,
    BatchRecord,
    Outcome,
    RunState,
    State,
    Tally,
    tally,
)
from dmj.machine.steps import AnyStep, Idle

from ._exports import ExportsCheck
from ._files import ProjectionStatus

__all__ = [
    "BatchSummary",
    "Inspection",
    "JournalSummary",
    "MessagesCheck",
    "RuleSummary",
    "RunSummary",
    "build_inspection",
]

RunStatus = Literal["running", "interrupted", "paused", "finished"]
"""An unfinished run is ``running`` while a dmj holds the journal's writer lock, ``paused``
when the journal ends with its ``RunPaused``, and ``interrupted`` otherwise (a crash, a
kill, a second Ctrl-C): the lock, not the journal, tells running from interrupted."""


class Report(msgspec.Struct, frozen=True, kw_only=True):
    """Base of the report's parts: frozen values; subclasses repeat the options."""


class JournalSummary(Report, frozen=True, kw_only=True):
    """What reading the journal found. ``torn_line``: a tail starts there (set aside by the
    next writer), ``torn_kind`` says what it is; ``problem``: the sentence about damage
    before the tail. ``writer_pid``/``writing``: a dmj holds the writer lock now (its pid if
    known)."""

    path: str
    records: int
    last_seq: int
    torn_line: int | None = None
    torn_bytes: int | None = None
    torn_kind: TailKind | None = None
    problem_line: int | None = None
    problem: str | None = None
    writing: bool = False
    writer_pid: int | None = None


class RuleSummary(Report, frozen=True, kw_only=True):
    """The record that broke a rule of the run; the fold stopped before it."""

    seq: int
    rule: str
    message: str


class BatchSummary(Report, frozen=True, kw_only=True):
    """One batch; ``batch`` counts from 0 as the journal does (people read it from 1). The
    counts are by verdict: ``failed`` DMs may work when retried, ``unreachable`` ones not."""

    batch: int
    users: int
    exported: int
    skipped: int
    failed: int
    started_at: datetime
    finished_at: datetime | None
    seconds: float | None
    state: Literal["finished", "in-progress"]
    unreachable: int = 0


class RunSummary(Report, frozen=True, kw_only=True):
    """One run; counts by verdict as in ``BatchSummary``; ``retries``: the run whose failed
    DMs this one retried."""

    run_id: str
    status: RunStatus
    paused_reason: str | None
    started_at: datetime
    finished_at: datetime | None
    strategy: str
    batch_size: int
    total_batches: int
    planned: int
    exported: int
    skipped: int
    failed: int
    last_completed_batch: int
    batches: tuple[BatchSummary, ...]
    unreachable: int = 0
    retries: str | None = None


class MessagesCheck(Report, frozen=True, kw_only=True):
    """Your messages: the archive compared with the last run's data package (``dmj status``
    does it; docs/status.md). ``package_state``: ``compared``, or why not (``gone``,
    ``changed``, ``unreadable``, ``none``); the counts are those of ``OwnTotals``."""

    package: str | None
    package_state: str
    in_package: int = 0
    archived: int = 0
    kept: int = 0
    missing: int = 0
    unreadable: int = 0


class Inspection(Report, frozen=True, kw_only=True):
    """The whole audit. ``last_completed_batch`` and ``next_step`` are for the current run
    (None/"idle" without one); ``through_seq`` is the last record the state reflects;
    ``exports``: the recorded exports compared with the disk; ``messages``: your messages
    in the data package compared with the archive."""

    archive: str
    journal: JournalSummary
    through_seq: int
    runs: tuple[RunSummary, ...]
    last_completed_batch: int | None
    next_step: AnyStep
    next_step_text: str
    rule_broken: RuleSummary | None
    projections: tuple[ProjectionStatus, ...]
    exports: ExportsCheck | None = None
    messages: MessagesCheck | None = None

    @property
    def healthy(self) -> bool:
        """No damage before the tail and no broken rule (a torn tail is normal after a crash)."""
        return self.journal.problem is None and self.rule_broken is None


def build_inspection(
    *,
    archive: str,
    journal: JournalSummary,
    state: State,
    error: RuleBroken | SequenceGap | None,
    projections: list[ProjectionStatus],
    exports: ExportsCheck | None = None,
) -> Inspection:
    """The audit of ``archive`` from what was read (see the module docstring)."""
    step = decide(state)
    current = state.run
    return Inspection(
        archive=archive,
        journal=journal,
        through_seq=state.through_seq,
        runs=tuple(_run_summary(run, state, writing=journal.writing) for run in state.runs),
        last_completed_batch=current.last_completed if current is not None else None,
        next_step=step,
        next_step_text=_next_step_text(journal, step, damaged=error is not None),
        rule_broken=_rule_summary(error, state),
        projections=tuple(projections),
        exports=exports,
    )


def _next_step_text(journal: JournalSummary, step: AnyStep, *, damaged: bool) -> str:
    """The next step in words: a damaged journal is repaired first, whatever its records say."""
    if damaged or journal.problem is not None:
        after = step.describe()
        if isinstance(step, Idle):
            after = "the journal holds no run (`dmj run --package PATH` starts one)"
            if step.reason == "run-finished":
                after = (
                    "its last run is finished (`dmj run --package PATH` starts an incremental one)"
                )
        return (
            "repair the journal first (`dmj repair` shows what it keeps and sets aside); "
            f"after that: {after}"
        )
    if journal.writing and not isinstance(step, Idle):
        who = f"pid {journal.writer_pid}" if journal.writer_pid else "another dmj"
        return f"{step.describe()} (the dmj running now, {who}, is at it)"
    return step.describe()


def _rule_summary(error: RuleBroken | SequenceGap | None, state: State) -> RuleSummary | None:
    if error is None:
        return None
    if isinstance(error, RuleBroken):
        return RuleSummary(seq=error.seq, rule=error.rule, message=str(error))
    seq = state.through_seq + 1
    return RuleSummary(seq=seq, rule="seq follows its predecessor", message=str(error))


def _run_summary(run: RunState, state: State, *, writing: bool) -> RunSummary:
    started = run.started
    open_batch = state.batch if run is state.run else None
    batches = [_finished(record) for record in run.finished_batches()]
    counts = tally(run.outcomes())
    if open_batch is not None:
        batches.append(_in_progress(open_batch))
        counts += tally(open_batch.outcomes())
    paused = state.paused if run is state.run else None
    status: RunStatus = "interrupted"
    if run.finished is not None:
        status = "finished"
    elif writing:
        status = "running"
    elif paused is not None:
        status = "paused"
    return RunSummary(
        run_id=run.id,
        status=status,
        paused_reason=paused.reason if paused is not None else None,
        started_at=started.at,
        finished_at=run.finished.at if run.finished is not None else None,
        strategy=started.strategy,
        batch_size=started.batch_size,
        total_batches=started.total_batches,
        planned=len(started.plan),
        exported=counts.exported,
        skipped=counts.skipped,
        failed=counts.failed,
        unreachable=counts.unreachable,
        last_completed_batch=run.last_completed,
        batches=tuple(batches),
        retries=started.retries,
    )


def _finished(record: BatchRecord) -> BatchSummary:
    return _batch(record.batch, len(record.outcomes), record.outcomes, record.started_at,
                  record.finished_at)  # fmt: skip


def _in_progress(batch: BatchProgress) -> BatchSummary:
    return _batch(batch.batch, len(batch.dms), tuple(batch.outcomes()), batch.started_at, None)


def _batch(
    batch: int,
    users: int,
    outcomes: tuple[Outcome, ...],
    started_at: datetime,
    finished_at: datetime | None,
) -> BatchSummary:
    counts: Tally = tally(outcomes)
    return BatchSummary(
        batch=batch,
        users=users,
        exported=counts.exported,
        skipped=counts.skipped,
        failed=counts.failed,
        unreachable=counts.unreachable,
        started_at=started_at,
        finished_at=finished_at,
        seconds=(finished_at - started_at).total_seconds() if finished_at else None,
        state="finished" if finished_at else "in-progress",
    )
