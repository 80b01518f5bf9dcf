"""What the menu's choices do: ask what the command needs, print it, call the command's function.

Each action calls the function its command calls (``run_command``, ``resume_command``, the
``replay`` command itself), so the menu and the command line can never disagree; the line
printed before it (``$ dmj …``) is the command that does the same.
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

import typer
from dmj.machine.errors import DmjError
from dmj.machine.plan import failed_entries
from dmj.machine.state import State
from dmj.projections import replay_journal
from rich.console import Console
from rich.markup import escape

from ._errors import ExitCode
from ._hints import ArchiveSource, NextSteps
from ._options import DEFAULT_STALL_TIMEOUT
from ._progress import plural
from .run import RECOMMENDED_BATCH_SIZE, PaceChoice, confirm_batch_size

__all__ = [
    "MenuSession",
    "browse_archive",
    "export_all",
    "inspect_journal",
    "resume_previous",
    "what_is_missing",
    "where_it_stands",
]


@dataclass
class MenuSession:
    """What the menu remembers while it runs: the archive and the last answers given."""

    console: Console
    archive: Path
    package: Path | None = None
    dce: Path | None = None
    batch_size: int = 20
    pace: PaceChoice = PaceChoice.CAREFUL
    steps: NextSteps | None = None
    """The next steps of the action at hand: its errors name the archive in what they advise."""

    def ask_archive(self) -> Path:
        """The archive directory, the remembered one by default; remembered again."""
        answer = typer.prompt("Archive directory", default=str(self.archive)).strip()
        self.archive = _path(answer) if answer else self.archive
        return self.archive

    def next_steps(self, archive: Path, *, run_exists: bool) -> NextSteps:
        """The action's ``NextSteps``: the archive is named as the printed command names it."""
        self.steps = NextSteps(archive, ArchiveSource.OPTION, run_exists=run_exists)
        return self.steps

    def show(self, *argv: str) -> None:
        """The command line that does what the menu is about to do."""
        self.console.print(f"[bold green]$[/] [bold]{escape(shlex.join(['dmj', *argv]))}[/]")

    def ended(self, command: str, code: int) -> None:
        """Say how a command ended, when that was not success."""
        if code != ExitCode.OK:
            self.console.print(
                f"`dmj {command}` ended with exit code {code} (docs/exit-codes.md says what "
                "it means)."
            )


def export_all(session: MenuSession) -> None:
    """Option 1: start a run (``dmj run``)."""
    from ._new_run import RunRequest, run_command  # noqa: PLC0415 (loads the run's modules)

    remembered = str(session.package) if session.package is not None else None
    package = _path(typer.prompt("Data package (the .zip or its folder)", default=remembered))
    dce: str = typer.prompt(
        "DiscordChatExporter.Cli or its folder (empty: look it up on PATH)",
        default=str(session.dce or ""),
        show_default=session.dce is not None,
    ).strip()
    archive = session.ask_archive()
    batch_size: int = typer.prompt(
        f"Batch size (above {RECOMMENDED_BATCH_SIZE} is not recommended)",
        default=session.batch_size,
        value_proc=_batch_size,
    )
    pace: PaceChoice = typer.prompt(
        "Pace (careful for a real account, fast only for the sandbox)",
        default=session.pace.value,
        value_proc=_pace,
    )
    session.package, session.dce = package, _path(dce) if dce else None
    session.batch_size, session.pace = batch_size, pace
    confirm_batch_size(batch_size, yes=False)
    argv = ["run", "--package", str(package), *(["--dce", str(session.dce)] if dce else [])]
    argv += ["--archive", str(archive), "--batch-size", str(batch_size), "--pace", pace.value]
    session.show(*argv)
    steps = session.next_steps(archive, run_exists=False)
    request = RunRequest(
        package=package, archive=archive, dce=session.dce, batch_size=batch_size,
        strategy="direct-first", pace=pace.value, media=False,
    )  # fmt: skip
    session.ended("run", run_command(request, steps))


def resume_previous(session: MenuSession) -> None:
    """Option 2: resume the archive's unfinished run, or say why there is none."""
    archive = session.ask_archive()
    state = _replayed(archive)
    where = where_it_stands(state) if state is not None else None
    if where is None:
        session.console.print(escape(nothing_to_resume(archive, state)))
        return
    from ._resume_run import ResumeRequest, resume_command  # noqa: PLC0415

    session.show("resume", "--archive", str(archive))
    request = ResumeRequest(archive=archive, dce=None, stall_timeout=DEFAULT_STALL_TIMEOUT)
    steps = session.next_steps(archive, run_exists=True)
    session.ended("resume", resume_command(request, steps))


def inspect_journal(session: MenuSession) -> None:
    """Option 3: the read-only audit (``dmj replay --inspect``)."""
    from .replay import replay_command  # noqa: PLC0415

    archive = session.ask_archive()
    session.show("replay", "--inspect", "--archive", str(archive))
    steps = session.next_steps(archive, run_exists=True)
    code = replay_command(archive, inspect=True, json=False, steps=steps)
    session.ended("replay --inspect", code)


def what_is_missing(session: MenuSession) -> None:
    """Option 4: what is not fully archived, each with what to do (``dmj status --missing``)."""
    from .status import status_command  # noqa: PLC0415

    archive = session.ask_archive()
    session.show("status", "--missing", "--archive", str(archive))
    steps = session.next_steps(archive, run_exists=True)
    code = status_command(archive, package=None, missing=True, json=False, steps=steps)
    session.ended("status --missing", code)


def browse_archive(session: MenuSession) -> None:
    """Option 6: the archive as a local web page (``dmj view``) until Ctrl-C."""
    from ._view import serve_view  # noqa: PLC0415 (the web stack loads only when it runs)
    from .view import has_display  # noqa: PLC0415

    archive = session.ask_archive()
    session.show("view", "--archive", str(archive))
    serve_view(archive, port=None, open_browser=has_display(os.environ, sys.platform))


def _path(answer: str) -> Path:
    """A path typed at a prompt; ``~`` means the home directory, as in a shell."""
    return Path(answer.strip()).expanduser()


def _batch_size(answer: str | int) -> int:
    try:
        size = int(answer)
    except ValueError:
        size = 0
    if size < 1:
        raise typer.BadParameter("the batch size is a whole number of DMs, 1 or more.")
    return size


def _pace(answer: str) -> PaceChoice:
    try:
        return PaceChoice(answer.strip().lower())
    except ValueError:
        choices = " or ".join(p.value for p in PaceChoice)
        raise typer.BadParameter(f"the pace is {choices}.") from None


def _replayed(archive: Path) -> State | None:
    """The archive's journal replayed read-only; None when there is none yet."""
    journal = archive / "journal.jsonl"
    return replay_journal(journal) if journal.is_file() else None


def where_it_stands(state: State) -> str | None:
    """Where the unfinished run stands, in a few words; None when there is nothing to resume.

    A run that finished with failed DMs can be resumed too: resuming retries them.
    """
    run = state.run
    if run is None:
        return None
    if run.finished is not None:
        failed = len(failed_entries(run))
        return f"run {run.id} finished with {plural(failed, 'failed DM')}" if failed else None
    total = run.started.total_batches
    pause = state.paused
    paused = (
        f", paused ({pause.reason})" if pause is not None and pause.reason != "interrupted" else ""
    )
    batch = state.batch
    if batch is None:
        return f"run {run.id} has {run.last_completed + 1} of {total} batches done{paused}"
    done = sum(1 for _ in batch.outcomes())
    return (
        f"run {run.id}: batch {batch.batch + 1} of {total} was interrupted after {done} of "
        f"{len(batch.dms)} DMs{paused}"
    )


def nothing_to_resume(archive: Path, state: State | None) -> str:
    """Why there is nothing to resume in ``archive``, and what to choose instead."""
    run = state.run if state is not None else None
    if run is None or run.finished is None:
        return (
            f"Nothing to resume: no interrupted run in {archive}. Choose 1 (Export all direct "
            "messages) to start one."
        )
    finished = run.finished
    return (
        f"Nothing to resume: no interrupted run in {archive}; its last run, {run.id}, finished "
        f"at {finished.at:%Y-%m-%d %H:%M}Z. Choose 1 (Export all direct messages) to start an "
        "incremental run that exports only what is new."
    )


def menu_status(archive: Path) -> str:
    """What the menu shows next to "Resume previous export" for ``archive``."""
    try:
        state = _replayed(archive)
    except DmjError:
        return "the journal cannot be read: choose 3 to see why"
    where = where_it_stands(state) if state is not None else None
    return where if where is not None else f"nothing to resume in {archive}"
