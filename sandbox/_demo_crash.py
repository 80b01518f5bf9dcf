"""The heart of the demo: ``dmj run`` killed with SIGKILL mid-batch, then ``dmj resume``.

The demo watches the journal as ``dmj run`` writes it (reading it needs no lock) and, once
the chosen batch has some DMs done and DCE is exporting the next, kills the ``dmj`` process
with SIGKILL: no handler runs, nothing is cleaned up, as in a power cut. After ``dmj resume``
it reads the journal again and checks what resuming promises: the records written before the
kill are unchanged, no batch finished before the kill starts again, no channel exported
before the kill is exported again, and the run ends with ``RunFinished``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from dmj.journal import read_events
from dmj.machine.errors import DemoFailed
from dmj.machine.events import (
    AnyEvent,
    BatchFinished,
    BatchStarted,
    ChannelExported,
    ExportRequested,
    RunFinished,
)
from dmj.machine.state import State, fold

from ._demo import Stage, expect
from ._demo_processes import end_strays

__all__ = ["ResumeAndCheck", "RunAndKill", "broken_resume_promises"]

WAIT = 60.0
"""Seconds the demo waits for the run to reach the moment of the kill."""


@dataclass(frozen=True)
class RunAndKill:
    """``dmj run`` in batches of ``batch_size``, killed in batch ``batch`` (from 1) once
    ``after`` of its DMs are done and DCE exports the next."""

    title: str
    batch_size: int
    batch: int
    after: int

    def run(self, stage: Stage) -> None:
        stage.say(
            f"dmj works in batches ({self.batch_size} DMs here) and journals every step, one "
            f"fsynced line each. When batch {self.batch} is under way, the demo kills dmj with "
            "SIGKILL: no Ctrl-C, no chance to clean up, as in a power cut."
        )
        argv = stage.fill((
            "run", "--package", "{package}", "--dce", "{dce}", "--archive", "{archive}",
            "--pace", "fast", "--batch-size", str(self.batch_size),
        ))  # fmt: skip
        stage.show(argv)
        process = stage.start(argv)
        journal = stage.places.archive / "journal.jsonl"
        _wait_for_the_moment(journal, process, self.batch - 1, self.after)
        os.kill(process.pid, signal.SIGKILL)
        stage.narrator.command(f"kill -9 {process.pid}")
        expect(argv, stage.children.finish(process), (-signal.SIGKILL,))
        strays = end_strays(stage.places.archive)
        stage.at_kill = tuple(read_events(journal))
        stage.say(describe_kill(stage.at_kill, process.pid, strays))


def _wait_for_the_moment(
    journal: Path, process: subprocess.Popen[str], batch: int, after: int
) -> None:
    """Poll the journal until batch ``batch`` (0-based) has ``after`` outcomes and DCE is
    exporting another DM."""
    deadline, size = time.monotonic() + WAIT, -1
    while True:
        code = process.poll()
        if code is not None:
            raise DemoFailed(
                f"`dmj run` ended (exit code {code}) before the demo could interrupt batch "
                f"{batch + 1}; its output is above."
            )
        if time.monotonic() > deadline:
            raise DemoFailed(f"`dmj run` did not reach batch {batch + 1} in {WAIT:.0f} s.")
        now = journal.stat().st_size if journal.exists() else 0
        if now and now != size:
            size = now
            if at_the_moment(list(read_events(journal)), batch, after):
                return
        time.sleep(0.005)


def at_the_moment(events: list[AnyEvent], batch: int, after: int) -> bool:
    """True when the open batch is ``batch`` or later, with ``after`` DMs done, and the last
    record asks DCE for an export (DCE is at work)."""
    if not events or not isinstance(events[-1], ExportRequested):
        return False
    open_batch = fold(events).batch
    return (
        open_batch is not None
        and open_batch.batch >= batch
        and sum(1 for _ in open_batch.outcomes()) >= after
    )


def describe_kill(events: tuple[AnyEvent, ...], pid: int, strays: list[int]) -> str:
    """What the journal says about the moment of the kill."""
    state = fold(events)
    where = _position(state)
    exporting = ""
    last = events[-1] if events else None
    if isinstance(last, ExportRequested) and state.run is not None:
        names = {e.channel_id: e.name for e in state.run.started.plan}
        name = names.get(last.channel_id, f"channel {last.channel_id}")
        exporting = f", and DCE was exporting {name.removeprefix('Direct Message with ')}"
    left = (
        f" The DCE it had started (pid {', '.join(map(str, strays))}) was still running on its "
        "own; the demo stopped it."
        if strays
        else ""
    )
    return (
        f"dmj (pid {pid}) is gone: {where}{exporting}. Its journal holds {len(events)} "
        f"records, the last one written just before the kill.{left}"
    )


def _position(state: State) -> str:
    run, batch = state.run, state.batch
    if run is None:
        return "no run had started"
    total = run.started.total_batches
    if batch is None:
        return f"{run.last_completed + 1} of {total} batches were done, none was open"
    done = sum(1 for _ in batch.outcomes())
    return (
        f"batch {batch.batch + 1} of {total} was open with {done} of its {len(batch.dms)} DMs done"
    )


@dataclass(frozen=True)
class ResumeAndCheck:
    """``dmj resume``, then the journal checked against what resuming promises."""

    title: str

    def run(self, stage: Stage) -> None:
        stage.say(
            "`dmj resume` replays the journal and carries on where it stopped: it finishes the "
            "interrupted batch without redoing what was done, then the batches after it. Its "
            "summary ends the run."
        )
        stage.dmj(stage.fill(("resume", "--archive", "{archive}")))
        events = tuple(read_events(stage.places.archive / "journal.jsonl"))
        broken = broken_resume_promises(stage.at_kill, events)
        if broken:
            raise DemoFailed(f"After `dmj resume` the journal shows: {'; '.join(broken)}.")
        stage.say(describe_resume(stage.at_kill, events))


def broken_resume_promises(
    at_kill: tuple[AnyEvent, ...], events: tuple[AnyEvent, ...]
) -> list[str]:
    """What resuming should have kept and did not (an empty list: every promise kept)."""
    broken = []
    after = events[len(at_kill) :]
    if events[: len(at_kill)] != at_kill:
        broken.append("the records written before the kill changed")
    restarted = _finished(at_kill) & {e.batch for e in after if isinstance(e, BatchStarted)}
    if restarted:
        broken.append(f"batches {_numbers(restarted)}, finished before the kill, started again")
    again = _exported(at_kill) & _exported(after)
    if again:
        broken.append(f"channels {', '.join(sorted(again))} were exported a second time")
    if not after or not isinstance(after[-1], RunFinished):
        broken.append("the journal does not end with RunFinished")
    return broken


def describe_resume(at_kill: tuple[AnyEvent, ...], events: tuple[AnyEvent, ...]) -> str:
    """The promises the demo checked, in words."""
    finished = _finished(at_kill)
    if not finished:
        batches = "no batch had finished before the kill"
    else:
        which = (
            f"batches {_numbers(finished)}" if len(finished) > 1 else f"batch {_numbers(finished)}"
        )
        batches = f"{which}, finished before the kill, were not started again"
    return (
        f"Checked in journal.jsonl: the {len(at_kill)} records written before the kill are "
        f"unchanged; {batches}; none of the "
        f"{len(_exported(at_kill))} DMs exported before the kill was exported again; the run "
        f"ended with RunFinished (record {events[-1].seq})."
    )


def _finished(events: tuple[AnyEvent, ...]) -> set[int]:
    return {e.batch for e in events if isinstance(e, BatchFinished)}


def _exported(events: tuple[AnyEvent, ...]) -> set[str]:
    return {e.channel_id for e in events if isinstance(e, ChannelExported)}


def _numbers(batches: set[int]) -> str:
    """Batch numbers as people count them (from 1): ``1 and 2``, ``1 to 5``, ``1, 3 and 4``."""
    ordered = sorted(b + 1 for b in batches)
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{ordered[0]} to {ordered[-1]}"
    if len(ordered) > 1:
        return f"{', '.join(map(str, ordered[:-1]))} and {ordered[-1]}"
    return ", ".join(map(str, ordered))
