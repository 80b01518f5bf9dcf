"""What ``dmj repair`` prints: what it found, what a repair keeps, loses and redoes, and what it
did. Batches are numbered from 1, as everywhere people read them.

Apart from the command (``repair.py``) so that its imports load only when it runs.
"""

from __future__ import annotations

from dmj.journal import RestLine
from dmj.projections import Losses, RepairDone, RepairPlan
from rich.console import Console
from rich.markup import escape

from ._hints import NextSteps

__all__ = ["render_done", "render_plan"]


def render_plan(console: Console, plan: RepairPlan, steps: NextSteps, *, applying: bool) -> None:
    """What the journal holds and what a repair does about it; ``steps`` names the archive in
    the commands it advises."""
    journal = escape(plan.journal)
    if plan.action == "nothing":
        console.print(f"{journal} is intact ({plan.kept} records): nothing to repair.")
        return
    if plan.action == "tail":
        tail = plan.tail
        what = "an unfinished last write" if tail is None or tail.kind == "torn" else tail.what
        console.print(
            f"{journal} is intact up to record {plan.kept} and ends in {what} "
            f"({plan.size - plan.offset} bytes): the next dmj that writes sets it aside by "
            "itself (in journal.torn-<UTC time>)."
        )
    else:
        console.print(f"[bold red]Damaged:[/] {journal}: {escape(plan.reason or '')}.")
        console.print(_cut_lines(plan))
        if plan.losses is not None:
            console.print(_losses_lines(plan.losses, plan.rest))
            console.print(_resume_line(plan.losses, steps))
    if not applying:
        console.print(
            "This was a dry run: nothing was changed. "
            f"{escape(steps.command('repair --apply'))} does it."
        )


def _span(first: int, last: int, noun: str) -> str:
    """``line 13`` or ``lines 13 to 29``."""
    return f"{noun} {first}" if first == last else f"{noun}s {first} to {last}"


def _kept(plan: RepairPlan) -> str:
    return _span(1, plan.kept, "record") if plan.kept else "no record (the damage is on line 1)"


def _set_aside(plan: RepairPlan) -> str:
    return _span(plan.kept + 1, plan.kept + len(plan.rest), "line")


def _cut_lines(plan: RepairPlan) -> str:
    return (
        f"A repair keeps {_kept(plan)} and moves {_set_aside(plan)} "
        f"({plan.size - plan.offset} bytes) to journal.damaged-<UTC time> next to it; nothing "
        "is deleted."
    )


def _losses_lines(losses: Losses, rest: tuple[RestLine, ...]) -> str:
    types = ", ".join(f"{count} {name}" for name, count in losses.types.items())
    out = [f"What the journal loses ({losses.records} records, {losses.unreadable} unreadable):"]
    out.append(f"  by type    {escape(types) or '-'}")
    for line in rest:
        if line.event is None:
            out.append(f"  line {line.line}    {escape(_unreadable(line))}")
    if losses.batches:
        out.append("  batches    " + ", ".join(str(batch + 1) for batch in losses.batches))
    if losses.dms:
        dms = ", ".join(f"{dm.name} (user {dm.user_id})" for dm in losses.dms)
        out.append(f"  DMs        {escape(dms)}")
    if losses.exports:
        out.append(
            f"  exports    {escape(', '.join(losses.exports))}: recorded only in what is set "
            "aside; a repair moves them to exports.damaged-<UTC time>/ (nothing is deleted) "
            "and `dmj resume` exports those DMs again"
        )
    for run in losses.unfinished:
        out.append(f"  run        {escape(run)}'s end: it is unfinished again")
    for run in losses.forgotten:
        out.append(f"  run        {escape(run)}'s start: the journal no longer knows that run")
    return "\n".join(out)


def _unreadable(line: RestLine) -> str:
    guess = line.guess
    said = ", ".join(f"{key} {value}" for key, value in guess.items() if key != "type")
    reads = f"; it reads as a {guess['type']}" if "type" in guess else ""
    unverified = f" ({said}, unverified)" if said else ""
    return f"not a valid record ({line.problem}){reads}{unverified}"


def _resume_line(losses: Losses, steps: NextSteps) -> str:
    if losses.idle is not None:
        holds = "no run" if losses.idle == "no-run" else "a finished run last"
        return escape(
            f"After the repair, the journal holds {holds}: {steps.command('resume')} has "
            f"nothing to carry on, and {steps.command('run --package PATH')} starts a run "
            "that exports again what the lost records had exported."
        )
    redo = "; ".join(f"{dm.name}: {', '.join(dm.again)} again" for dm in losses.dms if dm.again)
    again = f" It does again what the lost records had done: {redo}." if redo else ""
    return escape(
        f"After the repair, {steps.command('resume')} starts with: {losses.next_step}.{again}"
    )


def render_done(console: Console, done: RepairDone, plan: RepairPlan, steps: NextSteps) -> None:
    """What ``apply_repair`` did."""
    if done.saved_to is not None:
        console.print(
            f"Moved {_set_aside(plan)} of {escape(plan.journal)} to {escape(done.saved_to)}; "
            f"the journal keeps {_kept(plan)}."
        )
    for source, target in done.moved:
        console.print(f"Moved {escape(source)} to {escape(target)}.")
    if done.recovery is not None:
        console.print(f"[yellow]Note:[/] {escape(done.recovery)}")
    console.print(f"Rebuilt the projections ({done.records} records):")
    width = max((len(change.path) for change in done.changes), default=0)
    for change in done.changes:
        after = "" if change.after is None else f" (throughSeq {change.after})"
        console.print(f"  {escape(change.path.ljust(width))}  {change.change}{after}")
    idle = plan.losses is not None and plan.losses.idle is not None
    after = steps.command("run --package PATH" if idle else "resume")
    console.print(f"Next: {escape(after)}.")
