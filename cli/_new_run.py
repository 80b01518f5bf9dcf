"""The work of ``dmj run``: validate everything, plan, journal ``RunStarted``, and drive.

Validation comes before anything is written to the journal: the package is read and
planned (``--only`` narrows the plan), DCE must answer ``--version``, the archive must be
writable, outside the package and hold no unfinished run, and the token must belong to the
package's owner. Only then is the archive directory created. ``--dry-run`` stops before the
token and prints the plan instead. An archive whose last run finished gets an incremental
run: channels archived before are exported only after their last archived message.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path

import msgspec
from dmj.adapters import find_dce, pacing_preset, read_package
from dmj.journal import LockHolder
from dmj.machine.errors import UsageError
from dmj.machine.events import DceInfo, Pace, PackageInfo, RunStarted, Strategy
from dmj.machine.package import PackageContents
from dmj.machine.plan import start_run
from dmj.machine.state import INITIAL, State
from dmj.projections import replay_journal, verify_exports
from msgspec.structs import replace
from rich.console import Console
from rich.markup import escape

from ._archive import Archive, check_archive, create_archive, refuse_unknown_exports
from ._dry_run import render_plan
from ._env import read_environment
from ._errors import ExitCode, stderr_console
from ._hints import NextSteps
from ._progress import plural
from ._running import probe_archive, running_elsewhere
from ._session import open_session, run_async, work
from ._summary import describe_position, render_ending

__all__ = ["RunRequest", "new_run_id", "run_command", "with_damaged_exports"]


class RunRequest(msgspec.Struct, frozen=True, kw_only=True):
    """The options of ``dmj run``."""

    package: Path
    archive: Path
    dce: Path | None
    batch_size: int
    strategy: Strategy
    pace: Pace
    media: bool
    only: tuple[str, ...] = ()
    dry_run: bool = False
    stall_timeout: float = 300.0


def new_run_id() -> str:
    """A run id: the UTC start time and a little randomness (``20250615-120000-ab12``)."""
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def run_command(request: RunRequest, steps: NextSteps) -> ExitCode:
    """Validate, start the run and work to its end (or print the plan); the exit code."""
    return run_async(_run, request, steps)


async def _run(request: RunRequest, steps: NextSteps) -> ExitCode:
    out, err = Console(highlight=False, soft_wrap=True), stderr_console()
    env = read_environment()
    contents = read_package(request.package)
    _note_problems(err, contents)
    planned = _run_started(request, contents)
    dce = await find_dce(request.dce, env=env.child_env, stall_timeout=request.stall_timeout)
    archive = check_archive(request.archive, package=request.package)
    writer = probe_archive(archive)
    before = replay_journal(archive.journal) if archive.journal.is_file() else INITIAL
    refuse_unless_new_run_can_start(before, archive, contents, steps, writer=writer)
    refuse_unknown_exports(archive, before)
    incremental = before.run is not None
    if request.dry_run:
        planned = with_damaged_exports(err, archive, before, planned)
        render_plan(out, planned, before, archive.root, pacing_preset(request.pace))
        return ExitCode.OK
    async with open_session(
        archive, env, dce, command="run", pace=request.pace, owner_id=contents.owner.id,
        owner_of=f"the data package {request.package}", stall_timeout=request.stall_timeout,
    ) as session:  # fmt: skip
        started = replace(planned, dce=dce.info(), user=session.me)
        create_archive(request.archive)
        out.print(escape(_announce(started, archive, incremental=incremental)))

        def check(state: State) -> RunStarted:
            refuse_unless_new_run_can_start(state, archive, contents, steps)
            steps.run_exists = True  # RunStarted is journaled next
            return with_damaged_exports(err, archive, state, started)

        ending = await work(session, out, seen=before, check=check)
    return render_ending(out, err, ending, archive, steps)


def refuse_unless_new_run_can_start(
    state: State,
    archive: Archive,
    contents: PackageContents,
    steps: NextSteps,
    *,
    writer: LockHolder | None = None,
) -> None:
    """``UsageError`` if the archive holds an unfinished run, or another account's runs;
    ``JournalLocked`` if ``writer``, another dmj, is working on it now. ``steps`` names the
    archive in the ``dmj resume`` advised as the user named it."""
    if writer is not None:
        raise running_elsewhere(archive, state, writer)
    run = state.run
    if run is None:
        return
    if run.finished is None:
        where = describe_position(state).rsplit("; ", 1)[0]  # without what resume does
        raise UsageError(
            f"The archive {archive.root} holds run {run.id}, which has not finished. {where}. "
            f"Continue it with {steps.command('resume')}, or choose another --archive."
        )
    owner = run.started.package.self_id
    if owner != contents.owner.id:
        raise UsageError(
            f"The archive {archive.root} holds the DMs of user {owner}, but this data package "
            f"belongs to user {contents.owner.id}; use another --archive for that account."
        )


def with_damaged_exports(
    err: Console, archive: Archive, state: State, started: RunStarted
) -> RunStarted:
    """``started``, listing the channels whose archived exports are missing or damaged (each
    named in a note): this run exports them whole again (a retry run too)."""
    check = verify_exports(archive.root, state)
    whole = check.from_scratch
    for export in check.damaged:
        err.print(f"[yellow]Note:[/] the archived export {escape(export.describe())}.")
    if not whole:
        return started
    err.print(
        f"[yellow]Note:[/] this run exports channels {', '.join(whole)} again from their first "
        "message (those among the DMs it exports), so that no message of a damaged export is "
        "lost."
    )
    return replace(started, from_scratch=whole)


def _run_started(request: RunRequest, contents: PackageContents) -> RunStarted:
    """The run's ``RunStarted`` as planned from the package; DCE and the account are filled
    in once they are checked."""
    package = PackageInfo(
        path=str(request.package.absolute()),
        fingerprint=contents.fingerprint,
        self_id=contents.owner.id,
        problems=contents.problems,
    )
    return start_run(
        run=new_run_id(), dms=contents.dms, batch_size=request.batch_size,
        strategy=request.strategy, package=package, dce=_UNCHECKED, pace=request.pace,
        media=request.media, only=request.only,
    )  # fmt: skip


_UNCHECKED = DceInfo(path="", version="")


def _announce(started: RunStarted, archive: Archive, *, incremental: bool) -> str:
    again = (
        " An incremental run: channels archived before export only newer messages."
        if incremental
        else ""
    )
    return (
        f"Run {started.run}: {plural(len(started.plan), 'DM')} in {started.total_batches} "
        f"batch{'' if started.total_batches == 1 else 'es'} of up to {started.batch_size} "
        f"({started.strategy}, {started.pace} pace), into "
        f"{archive.root}.{again}"
    )


def _note_problems(err: Console, contents: PackageContents) -> None:
    for problem in contents.problems:
        err.print(f"[yellow]Note:[/] {escape(problem.message)}")
