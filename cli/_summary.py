"""How `dmj run` and `dmj resume` end on screen: the summary, a pause, an interruption.

Each ending says what happened, where the files are, and the next command to type (with the
archive as the user named it: ``NextSteps``); the exit code follows docs/exit-codes.md (0
finished, 4 finished with failed DMs, 3 paused, 130 interrupted).
"""

from __future__ import annotations

from collections import Counter

from dmj.machine.events import PlanEntry
from dmj.machine.state import Outcome, RunState, State, tally
from dmj.projections import ID_HISTORY, archived_batch_state
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ._archive import Archive
from ._errors import ExitCode
from ._hints import NextSteps
from ._progress import display_name, plural, short_reason
from ._session import Ending
from ._status_view import own_messages_figure
from ._tables import plain_table

__all__ = ["describe_position", "render_ending"]


def describe_position(state: State) -> str:
    """Where an unfinished run stands, in a sentence (batches counted from 1)."""
    run = state.run
    if run is None:
        return "No run has started in this archive."
    total = run.started.total_batches
    pause = state.paused
    paused = f" (paused: {pause.reason})" if pause is not None else ""
    if run.capture is None:
        return f"Run {run.id} stopped before its first batch{paused}; resuming."
    batch = state.batch
    if batch is not None:
        done = sum(1 for dm in batch.dms if dm.outcome is not None)
        return (
            f"Run {run.id}: batch {batch.batch + 1}/{total} was interrupted after {done} of "
            f"{len(batch.dms)} DMs{paused}; resuming."
        )
    if run.last_completed + 1 < total:
        return (
            f"Run {run.id}: {run.last_completed + 1} of {total} batches are done{paused}; "
            f"resuming with batch {run.last_completed + 2}/{total}."
        )
    return f"Run {run.id}: every batch is done{paused}; finishing the run."


def render_ending(
    out: Console, err: Console, ending: Ending, archive: Archive, steps: NextSteps
) -> ExitCode:
    """Print how the work ended; return the exit code."""
    end = ending.end
    resume = steps.resume()
    if end is None:
        err.print(
            "[bold red]Interrupted:[/] stopped at once (second Ctrl-C). The journal records "
            f"every step up to here; resume with {escape(resume)}."
        )
        return ExitCode.INTERRUPTED
    if end.kind == "interrupted":
        err.print(
            "[bold red]Interrupted:[/] stopped after the current step, with every DM this "
            f"batch had opened closed again; resume with {escape(resume)}."
        )
        return ExitCode.INTERRUPTED
    if end.kind == "paused":
        err.print(f"[bold red]Paused:[/] {escape(steps.fill(end.message))}")
        err.print(escape(f"The run is paused ({end.reason}); {resume} carries on."))
        return ExitCode.PAUSED
    run = end.state.run
    if run is None:
        return ExitCode.OK
    out.print(_summary(run))
    for problem in run.started.package.problems:
        out.print(escape(f"Package problem: {problem.message}"))
    out.print(escape(steps.fill(own_messages_figure(archive.root, ending.storage))))
    out.print(_places(run, archive, ending.log))
    failed = tally(run.outcomes()).failed
    if failed:
        them = "it" if failed == 1 else "them"
        err.print(
            f"[bold red]Finished, but {escape(plural(failed, 'DM'))} failed[/] for a reason "
            f"that may pass (DCE, the disk, the network); {escape(resume)} retries {them}."
        )
        return ExitCode.FAILED_DMS
    return ExitCode.OK


def _summary(run: RunState) -> Table:
    outcomes = run.outcomes()
    names = _labels(run.started.plan)
    retried = f" (it retried the failed DMs of run {run.started.retries})"
    title = (
        f"Run {run.id} finished{retried if run.started.retries else ''}: "
        f"{plural(len(run.started.plan), 'DM')} planned"
    )
    table = plain_table("outcome", "DMs", "which, and why", title=escape(title))
    table.add_row("exported", str(run.exported), "")
    for verdict in ("skipped", "unreachable", "failed"):
        group = [o for o in outcomes if o.verdict == verdict]
        table.add_row(verdict, str(len(group)), _first(group, names))
        for outcome in group[1:]:
            table.add_row("", "", _line(outcome, names))
    return table


def _labels(plan: tuple[PlanEntry, ...]) -> dict[str, str]:
    """Each DM's name for people; names shared by several DMs get their channel id."""
    shared = Counter(display_name(entry.name) for entry in plan)
    return {
        entry.user_id: display_name(entry.name)
        + (f" (channel {entry.channel_id})" if shared[display_name(entry.name)] > 1 else "")
        for entry in plan
    }


def _first(group: list[Outcome], names: dict[str, str]) -> str:
    return _line(group[0], names) if group else ""


def _line(outcome: Outcome, names: dict[str, str]) -> str:
    name = names.get(outcome.user_id, outcome.user_id)
    return escape(f"{name}: {short_reason(outcome.reason)}")


def _places(run: RunState, archive: Archive, log: str) -> str:
    root = archive.root
    return (
        f"Exports    {escape(str(archive.exports))}/<channel id>/<export id>/\n"
        f"Journal    {escape(str(archive.journal))}\n"
        f"Run state  {escape(str(root / archived_batch_state(run.id)))}\n"
        f"History    {escape(str(root / ID_HISTORY))}\n"
        f"Log        {escape(log)}"
    )
