"""What a run shows while it works: the driver's ``Progress`` port, on a terminal or in lines.

On a terminal a live bar shows DMs done/total, the batch, the DM at hand, the counts and an
ETA, with one line per finished DM above it. Anywhere else (a pipe, a log file, CI) the same
lines are printed plainly, and each finished batch adds the counts and an ETA. Counts are by
verdict (exported, skipped, unreachable, failed) and batches count from 1, as everywhere a
person reads. Every step and journaled record also goes to the run's log file.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

from dmj.machine.events import (
    AnyEvent,
    BatchFinished,
    ChannelExported,
    DmOpened,
    DmSkipped,
    ExportFailed,
    ExportRequested,
    PlanEntry,
    RunPaused,
)
from dmj.machine.plan import display_name
from dmj.machine.state import DmProgress, RunState, State, Tally, tally
from dmj.machine.steps import AnyStep, ExportChannel, OpenDm, StartBatch
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

__all__ = ["RunView", "display_name", "done_and_total", "plural", "short_reason"]

_DCE_PREAMBLE = re.compile(r"^DiscordChatExporter could not export channel \d+: ")
_FIRST_SENTENCE = re.compile(r"(?:[^“.]|“[^”]*”?|\.(?! ))*")
"""Up to the first ". " outside “quotes”."""


def short_reason(text: str, limit: int = 120) -> str:
    """The gist of an error message: its first sentence, without the DCE preamble (a period
    inside “quoted” words, such as DCE's own, does not end it)."""
    match = _FIRST_SENTENCE.match(text.split("\n", 1)[0])
    sentence = match[0].strip() if match else ""
    sentence = _DCE_PREAMBLE.sub("", sentence)
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"


def plural(count: int, noun: str) -> str:
    """``1 DM``, ``2 DMs``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def done_and_total(state: State, finished: Tally | None = None) -> tuple[int, int, Tally]:
    """DMs with an outcome, DMs planned, and their verdicts, for the run; ``finished``: the
    tally of its finished batches, if the caller keeps it (else it is counted here)."""
    run = state.run
    if run is None:
        return 0, 0, Tally()
    before = finished if finished is not None else tally(run.outcomes())
    counts = before + tally(state.batch.outcomes() if state.batch else ())
    return counts.total, len(run.started.plan), counts


class RunView:
    """Shows the run; ``live`` (a terminal) draws a bar, otherwise lines are printed."""

    def __init__(
        self,
        console: Console,
        *,
        live: bool,
        logger: logging.Logger,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._console = console
        self._logger = logger
        self._clock = clock
        self._started = clock()
        self._done_before: int | None = None
        self._finished: tuple[str, int, Tally] | None = None
        self._names: dict[str, PlanEntry] = {}
        self._incremental: set[str] = set()
        self._bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[counts]}"), TimeRemainingColumn(),
            console=console, transient=True,
        ) if live else None  # fmt: skip
        self._task: TaskID | None = None

    def __enter__(self) -> RunView:
        if self._bar is not None:
            self._bar.start()
            self._task = self._bar.add_task("starting", total=None, counts="")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def step(self, state: State, step: AnyStep) -> None:
        self._logger.info("next: %s", step.describe())
        match step:
            case StartBatch():
                total = state.run.started.total_batches if state.run else 0
                self._say(f"Batch {step.batch + 1}/{total}: {plural(len(step.user_ids), 'DM')}")
            case ExportChannel() | OpenDm():
                self._update(state, f"{self._where(state)} {escape(display_name(step.name))}")
                if self._bar is not None:
                    self._bar.refresh()  # show the DM at hand now, not at the next tick

    def recorded(self, state: State, event: AnyEvent) -> None:
        self._logger.info("journal seq %d: %s", event.seq, type(event).__name__)
        if self._done_before is None and state.run is not None:
            self._done_before = self._counts(state)[0]
        match event:
            case ExportRequested():
                if event.after is not None:
                    self._incremental.add(event.user_id)
            case ChannelExported():
                new = "new " if event.user_id in self._incremental else ""
                count = plural(event.message_count, f"{new}message")
                self._outcome(state, event.user_id, f"exported ({count})")
            case DmSkipped():
                self._outcome(state, event.user_id, f"skipped: {event.reason}")
            case ExportFailed():
                self._failed(state, event)
            case DmOpened():
                self._logger.info("reopened as channel %s", event.channel_id)
            case BatchFinished():
                self._batch_finished(state, event)
            case RunPaused():
                self._logger.warning("run paused: %s", event.reason)
        self._update(state, None)

    def _failed(self, state: State, event: ExportFailed) -> None:
        reason = short_reason(event.message)
        dm = self._dm(state, event.user_id)
        if dm is not None and dm.outcome is not None:
            self._outcome(state, event.user_id, f"{dm.outcome.verdict}: {reason}")
        elif event.error_class == "transient":
            entry = self._entry(state, event.user_id)
            name = display_name(entry.name) if entry is not None else event.user_id
            attempt = event.attempts - (dm.checks if dm is not None else 0)  # DCE runs
            self._say(f"  {name}: attempt {attempt} failed ({reason}); trying again")

    def _batch_finished(self, state: State, event: BatchFinished) -> None:
        done, total, _ = self._counts(state)
        run = state.run
        batches = run.started.total_batches if run else 0
        record = run.done.head if run is not None and run.done is not None else None
        verdicts = tally(record.outcomes if record is not None else ()).describe()
        self._say(
            f"Batch {event.batch + 1}/{batches} done: {verdicts}; {done}/{total} DMs"
            f"{self._eta(state)}"
        )

    def _outcome(self, state: State, user_id: str, what: str) -> None:
        done, total, _ = self._counts(state)
        entry = self._entry(state, user_id)
        name = display_name(entry.name) if entry is not None else user_id
        self._say(f"  [{done}/{total}] {name}: {what}")

    def _eta(self, state: State) -> str:
        done, total, _ = self._counts(state)
        new = done - (self._done_before or 0)
        if new <= 0 or done >= total:
            return ""
        seconds = round((self._clock() - self._started) / new * (total - done))
        if seconds < 60:  # "about 0:00:07" promises a precision an estimate does not have
            return ", less than a minute to go"
        minutes, seconds = divmod(seconds, 60)
        hours, minutes = divmod(minutes, 60)
        return f", about {hours}:{minutes:02d}:{seconds:02d} to go"

    def _counts(self, state: State) -> tuple[int, int, Tally]:
        """``done_and_total``, with the finished batches' tally counted once per batch."""
        run = state.run
        if run is None:
            return done_and_total(state)
        return done_and_total(state, self._finished_tally(run))

    def _finished_tally(self, run: RunState) -> Tally:
        cached = self._finished
        if cached is None or cached[0] != run.id or cached[1] != run.last_completed:
            head = run.done.head if run.done is not None else None
            if cached is not None and cached[:2] == (run.id, run.last_completed - 1) and head:
                counts = cached[2] + tally(head.outcomes)
            else:
                counts = tally(run.outcomes())
            self._finished = cached = (run.id, run.last_completed, counts)
        return cached[2]

    def _where(self, state: State) -> str:
        total = state.run.started.total_batches if state.run else 0
        batch = state.batch.batch + 1 if state.batch is not None else 0
        return f"batch {batch}/{total}"

    def _update(self, state: State, description: str | None) -> None:
        if self._bar is None or self._task is None:
            return
        done, total, verdicts = self._counts(state)
        counts = verdicts.describe().replace(", ", " · ")
        self._bar.update(
            self._task, completed=done, total=total or None, description=description, counts=counts
        )

    def _say(self, line: str) -> None:
        self._console.print(line, markup=False, highlight=False)

    def _entry(self, state: State, user_id: str) -> PlanEntry | None:
        if not self._names and state.run is not None:
            self._names = {entry.user_id: entry for entry in state.run.started.plan}
        return self._names.get(user_id)

    @staticmethod
    def _dm(state: State, user_id: str) -> DmProgress | None:
        batch = state.batch
        return batch.dm(user_id) if batch else None
