"""How `dmj run` and `dmj resume` end on screen: the summary, a pause, an interruption.

Each ending says what happened, where the files are, and the next command to type; the exit
code follows docs/exit-codes.md (0 finished, 3 paused, 130 interrupted).
"""

from __future__ import annotations

from dmj.machine.state import Outcome, RunState, State
from dmj.projections import ID_HISTORY, archived_batch_state
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ._archive import Archive
from ._errors import ExitCode
from ._progress import display_name, short_reason
from ._session import Ending
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


def render_ending(out: Console, err: Console, ending: Ending, archive: Archive) -> ExitCode:
    """Print how the work ended; return the exit code."""
    end = ending.end
    if end is None:
        err.print(
            "[bold red]Interrupted:[/] stopped at once (second Ctrl-C). The journal records "
            "every step up to here; resume with `dmj resume`."
        )
        return ExitCode.INTERRUPTED
    if end.kind == "interrupted":
        err.print(
            "[bold red]Interrupted:[/] stopped after the current step, with every DM this "
            "batch had opened closed again; resume with `dmj resume`."
        )
        return ExitCode.INTERRUPTED
    if end.kind == "paused":
        err.print(f"[bold red]Paused:[/] {escape(end.message)}")
        err.print(escape(f"The run is paused ({end.reason}); `dmj resume` carries on."))
        return ExitCode.PAUSED
    if end.state.run is not None:
        out.print(_summary(end.state.run))
        out.print(_places(end.state.run, archive, ending.log))
    return ExitCode.OK


def _summary(run: RunState) -> Table:
    outcomes = [o for record in run.finished_batches() for o in record.outcomes]
    names = {entry.user_id: display_name(entry.name) for entry in run.started.plan}
    unreachable = [o for o in outcomes if o.verdict == "unreachable"]
    failed = [o for o in outcomes if o.verdict == "failed"]
    skipped = [o for o in outcomes if o.verdict == "skipped"]
    title = f"Run {escape(run.id)} finished: {len(run.started.plan)} DMs planned"
    table = plain_table("outcome", "DMs", "which, and why", title=title)
    table.add_row("exported", str(run.exported), "")
    for label, group in (("skipped", skipped), ("unreachable", unreachable), ("failed", failed)):
        table.add_row(label, str(len(group)), _first(group, names))
        for outcome in group[1:]:
            table.add_row("", "", _line(outcome, names))
    return table


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
