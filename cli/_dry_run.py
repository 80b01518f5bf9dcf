"""``dmj run --dry-run``: the plan a run would follow, and how long it might take.

Printed after every check that needs no token (the package, ``--only``, DCE, the archive),
without touching Discord or the archive. The estimate counts what dmj itself waits for at the
run's pace (the gaps between its requests, the longer pauses, the hourly cap on reopens) and a
nominal DCE export per DM; DCE's real time grows with each conversation's length, which the
package does not tell, so the estimate is a range, not a promise.
"""

from __future__ import annotations

from pathlib import Path

from dmj.adapters import Pacing
from dmj.machine.events import PlanEntry, RunStarted, Strategy
from dmj.machine.plan import plan_batches
from dmj.machine.state import State, remember
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ._progress import display_name, plural
from ._tables import plain_table

__all__ = ["DCE_SECONDS_PER_EXPORT", "estimate", "render_plan"]

DCE_SECONDS_PER_EXPORT = 5.0
"""A nominal DCE export: .NET's start-up and a few pages of messages."""
HOUR = 3600.0

_HOW: dict[Strategy, str] = {
    "direct-first": "by channel id; reopened only if that fails",
    "reopen": "reopened, exported, closed again (unless open at the start)",
}


def render_plan(
    out: Console, started: RunStarted, before: State, archive: Path, pacing: Pacing
) -> None:
    """Print the plan of ``started`` (``before``: the archive's journal so far)."""
    plan, batches = started.plan, started.total_batches
    out.print("Dry run: nothing was sent to Discord and nothing was written.")
    again = " An incremental run." if before.run is not None else ""
    out.print(
        escape(
            f"Plan: {plural(len(plan), 'DM')} in {batches} batch{'' if batches == 1 else 'es'} "
            f"of up to {started.batch_size} ({started.strategy}, {started.pace} pace), into "
            f"{archive}.{again}"
        )
    )
    out.print(_kinds(started, before))
    for number, batch in enumerate(plan_batches(plan, started.batch_size), start=1):
        names = ", ".join(display_name(entry.name) for entry in batch)
        out.print(escape(f"Batch {number}/{started.total_batches}: {names}"))
    low, high = estimate(plan, started.strategy, pacing)
    out.print(
        f"Estimate at the {pacing.name} pace: {_clock(low)} to {_clock(high)} (each DCE export "
        f"counted as {DCE_SECONDS_PER_EXPORT:g} s; long conversations take longer)."
    )
    out.print("To start it, run the same command without --dry-run.")


def _kinds(started: RunStarted, before: State) -> Table:
    plan = started.plan
    count = {kind: sum(1 for e in plan if e.kind == kind) for kind in ("dm", "group", "deleted")}
    table = plain_table("kind", "DMs", "how they are exported", title="")
    table.add_row("1-on-1", str(count["dm"]), _HOW[started.strategy])
    table.add_row("group", str(count["group"]), "by channel id; never reopened or closed")
    table.add_row("deleted user", str(count["deleted"]), "by channel id; cannot be reopened")
    whole = sum(1 for entry in plan if entry.channel_id in started.from_scratch)
    archived = _archived_before(plan, before, whole_again=started.from_scratch)
    if archived:
        table.add_row("archived before", str(archived), "only messages newer than archived")
    if whole:
        table.add_row("damaged before", str(whole), "exported whole again (see the notes)")
    problems = started.package.problems
    if problems:
        table.add_row("left out", str(len(problems)), "package problems (see the notes)")
    return table


def _archived_before(
    plan: tuple[PlanEntry, ...], before: State, *, whole_again: tuple[str, ...]
) -> int:
    """DMs whose package channel an earlier run archived messages of, and whose archived
    exports are sound (not in ``whole_again``)."""
    if before.run is None:
        return 0
    status = remember(before.memory, before.run, before.batch).status
    return sum(
        1
        for entry in plan
        if (s := status.get(entry.channel_id))
        and s.last_message_id
        and entry.channel_id not in whole_again
    )


def estimate(
    plan: tuple[PlanEntry, ...], strategy: Strategy, pacing: Pacing
) -> tuple[float, float]:
    """Seconds the run may take, at least and at most: at least, no DM needs reopening beyond
    what ``strategy`` always reopens; at most, every closed 1-on-1 DM is reopened (after a
    failed direct export, with ``direct-first``)."""
    one_on_one = sum(1 for entry in plan if entry.kind == "dm")
    always = one_on_one if strategy == "reopen" else 0
    retried = one_on_one if strategy == "direct-first" else 0
    return (
        _seconds(len(plan), always, pacing),
        _seconds(len(plan) + retried, one_on_one, pacing),
    )


def _seconds(exports: int, reopens: int, pacing: Pacing) -> float:
    requests = 2 + 2 * reopens  # the account and the open DMs; an open and a close per reopen
    waits = requests * sum(pacing.gap) / 2
    if pacing.pause_every is not None:
        waits += requests / (sum(pacing.pause_every) / 2) * sum(pacing.pause) / 2
    work = exports * DCE_SECONDS_PER_EXPORT + waits
    cap = pacing.reopens_per_hour
    if cap is not None and reopens > cap:
        work = max(work, (reopens - 1) // cap * HOUR)
    return work


def _clock(seconds: float) -> str:
    minutes, second = divmod(round(seconds), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}:{minute:02d}:{second:02d}"
