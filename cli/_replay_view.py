"""What ``dmj replay`` prints: the rebuild's changes and the audit's tables.

Apart from the command (``replay.py``) so that its imports load only when it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from dmj.projections import (
    BatchSummary,
    DamagedExport,
    ExportsCheck,
    Inspection,
    MessagesCheck,
    ProjectionChange,
    Rebuild,
    RunSummary,
)
from dmj.projections.history import OwnTotals, PackageUsed
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ._status_view import ELSEWHERE, own_messages_line, package_line
from ._tables import plain_table

__all__ = ["render_inspection", "render_rebuild"]


def render_rebuild(console: Console, rebuild: Rebuild) -> None:
    """What ``dmj replay`` did, one line per projection file."""
    if rebuild.recovery is not None:
        console.print(f"[yellow]Note:[/] {escape(rebuild.recovery)}")
    if not rebuild.changes:
        console.print(f"{escape(rebuild.journal)} has no run yet: nothing to rebuild.")
        return
    console.print(
        f"Rebuilt the projections from {escape(rebuild.journal)} ({rebuild.records} records):"
    )
    width = max(len(change.path) for change in rebuild.changes)
    for change in rebuild.changes:
        console.print(f"  {escape(change.path.ljust(width))}  {_describe(change)}")


def _describe(change: ProjectionChange) -> str:
    if change.change == "updated":
        return f"updated (throughSeq {change.before} → {change.after})"
    if change.change == "removed":
        return "removed (its run finished; see runs/<run_id>/)"
    if change.change == "unchanged":
        return f"unchanged (throughSeq {change.after})"
    return f"{change.change.replace('-', ' ')} (throughSeq {change.after})"


def render_inspection(
    console: Console, report: Inspection, *, fill: Callable[[str], str] = str
) -> None:
    """The audit as a few readable tables; ``fill`` names the archive in the commands it
    advises (``NextSteps.fill``)."""
    journal = report.journal
    console.print(f"[bold]Archive[/]  {escape(report.archive)}")
    console.print(f"[bold]Journal[/]  {escape(journal.path)}: {_integrity(report)}")
    if journal.writing:
        who = f"pid {journal.writer_pid}" if journal.writer_pid else "pid unknown"
        console.print(f"  a dmj is writing it now ({who})")
    if journal.torn_line is not None:
        console.print(f"  {_TAILS.get(journal.torn_kind or 'torn', '')}".format(
            line=journal.torn_line, size=journal.torn_bytes))  # fmt: skip
    if journal.problem is not None:
        console.print(f"  [bold red]damaged:[/] {escape(fill(journal.problem))}")
    broken = report.rule_broken
    if broken is not None:
        console.print(
            f"  [bold red]rule broken:[/] record seq {broken.seq} breaks a rule of the run: "
            f"{escape(broken.rule)} (a bug in the dmj that wrote it, or a hand edit)"
        )
    if report.runs and (journal.problem is not None or broken is not None):
        console.print("What the records before the damage say:")
    for run in report.runs:
        console.print(_run_lines(run))
    if report.runs and report.runs[-1].batches:
        console.print(_batches_table(report.runs[-1]))
    if not report.runs:
        console.print(_no_run(report))
    if report.last_completed_batch is not None and report.runs:
        done, total = report.last_completed_batch + 1, report.runs[-1].total_batches
        console.print(f"[bold]Batches completed[/]  {done} of {total}")
    console.print(f"[bold]Next step[/]  {escape(fill(report.next_step_text))}")
    if report.projections:
        console.print(_projections_table(report))
    if report.exports is not None and report.exports.checked + report.exports.unlisted:
        console.print(_exports_lines(report.exports))
    if report.messages is not None:
        console.print(f"[bold]Your messages[/]  {escape(fill(_messages_line(report.messages)))}")


def _messages_line(check: MessagesCheck) -> str:
    """The figure of ``dmj status``, or why the package could not be compared."""
    if check.package_state != "compared":
        used = PackageUsed(path=check.package, state=check.package_state)  # type: ignore[arg-type]
        return f"not compared: {package_line(used, remedy=ELSEWHERE)}"
    own = OwnTotals(in_package=check.in_package, archived=check.archived, kept=check.kept,
                    missing=check.missing, unreadable=check.unreadable)  # fmt: skip
    return own_messages_line(own)


def _exports_lines(check: ExportsCheck) -> str:
    """The archived exports compared with the journal's record of them."""
    total = check.checked + check.unlisted
    how = "by size" if check.quick else "by size and digest"
    found = [f"{len(check.damaged)} damaged"] if check.damaged else ["intact"]
    if check.superseded:
        found.append(f"{len(check.superseded)} damaged but superseded")
    lines = [f"[bold]Exports[/]  {total} recorded, {', '.join(found)} (checked {how})"]
    if check.unlisted:
        lines.append(
            f"  {check.unlisted} recorded by an older dmj without their files: only their "
            "folders were checked"
        )
    lines += [f"  [bold red]damaged:[/] {escape(export.describe())}" for export in check.damaged]
    lines += [f"  superseded: {escape(_superseded(export))}" for export in check.superseded]
    if check.from_scratch:
        lines.append(
            f"  The next `dmj run` exports channels {', '.join(check.from_scratch)} again from "
            "their first message."
        )
    return "\n".join(lines)


def _superseded(export: DamagedExport) -> str:
    later = export.superseded_by
    by = later.describe() if later is not None else "a later whole export"
    return f"{export.describe()}; superseded by {by}"


_TAILS = {
    "torn": "torn last write at line {line} ({size} bytes, never acknowledged): the next dmj "
    "that writes sets it aside",
    "damaged": "damaged last record at line {line} ({size} bytes, checksum mismatch): the next "
    "dmj that writes sets it aside and takes that step again",
    "foreign": "line {line} is a complete line that is not a dmj record ({size} bytes, added "
    "by hand or by another program): the next dmj that writes moves it aside",
    "unacknowledged": "line {line} was never acknowledged ({size} bytes): the next dmj that "
    "writes sets it aside",
}


def _integrity(report: Inspection) -> str:
    journal = report.journal
    if journal.problem_line is not None:
        before = f"{journal.records} intact records before it" if journal.records else "none"
        return f"damaged at line {journal.problem_line} ({before}; last seq {journal.last_seq})"
    sound = "" if journal.torn_line or report.rule_broken else ", intact"
    return f"{journal.records} records, last seq {journal.last_seq}{sound}"


def _no_run(report: Inspection) -> str:
    if report.journal.problem is not None:
        return "No run can be read: the damage comes before any intact record."
    return "No run has started in this archive yet."


def _run_lines(run: RunSummary) -> str:
    if run.paused_reason is not None and run.status == "paused":
        status = f"paused ({escape(run.paused_reason)})"
    else:
        status = run.status
    ended = f", finished {_time(run.finished_at)}" if run.finished_at is not None else ""
    retried = f"; it retried the failed DMs of run {run.retries}" if run.retries else ""
    return (
        f"[bold]Run[/] {escape(run.run_id)}: {status}; {run.strategy}, batches of "
        f"{run.batch_size}{escape(retried)}\n"
        f"  started {_time(run.started_at)}{ended}\n"
        f"  {run.last_completed_batch + 1} of {run.total_batches} batches done; "
        f"{run.planned} DM{'' if run.planned == 1 else 's'} planned: {run.exported} exported, "
        f"{run.skipped} skipped, {run.unreachable} unreachable, {run.failed} failed"
    )


def _batches_table(run: RunSummary) -> Table:
    columns = ("batch", "DMs", "exported", "skipped", "unreachable", "failed", "started", "took")
    title = f"Batches of run {escape(run.run_id)}"
    table = plain_table(*columns, title=title)
    for batch in run.batches:
        table.add_row(
            f"{batch.batch + 1}/{run.total_batches}", str(batch.users), str(batch.exported),
            str(batch.skipped), str(batch.unreachable), str(batch.failed),
            _short(batch.started_at), _took(batch, run),
        )  # fmt: skip
    return table


def _projections_table(report: Inspection) -> Table:
    columns = ("file", "state", "throughSeq", "journal says")
    table = plain_table(*columns, title="Projections")
    for status in report.projections:
        table.add_row(
            escape(status.path),
            status.freshness,
            _seq(status.through_seq),
            _seq(status.expected),
        )
    return table


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%SZ")


def _short(moment: datetime) -> str:
    return moment.strftime("%m-%d %H:%M:%S")


def _took(batch: BatchSummary, run: RunSummary) -> str:
    """How long the batch took, or where its unfinished run stands (running, interrupted…)."""
    if batch.seconds is None:
        return run.status
    minutes, seconds = divmod(round(batch.seconds), 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


def _seq(seq: int | None) -> str:
    return "-" if seq is None else str(seq)
