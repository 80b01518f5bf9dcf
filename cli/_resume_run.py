"""The work of ``dmj resume``: validate, replay, say where the run stands, and carry on.

Resuming is ``decide(fold(journal))``: the driver closes the DMs a crash left open, finishes
the interrupted batch without redoing what it exported, and goes on with
``lastCompletedBatch + 1``. A run that finished with failed DMs (a passing failure: DCE, the
disk, the network) is followed by a new run of exactly those (``retry_run``; its
``RunStarted.retries`` names the run). DCE (the recorded one unless ``--dce``), the token and
its account are checked first; nothing is written before they pass.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
from dmj.adapters import find_dce
from dmj.machine.errors import UsageError
from dmj.machine.events import RunStarted
from dmj.machine.plan import failed_entries, retry_run
from dmj.machine.state import RunState, State, tally
from dmj.projections import rebuild_projections, replay_journal
from rich.console import Console
from rich.markup import escape

from ._archive import Archive, existing_archive, refuse_unknown_exports
from ._env import read_environment
from ._errors import ExitCode, stderr_console
from ._hints import NextSteps
from ._new_run import new_run_id, with_damaged_exports
from ._progress import display_name, plural
from ._running import probe_archive, running_elsewhere
from ._session import Session, open_session, run_async, work
from ._summary import describe_position, render_ending

__all__ = ["ResumeRequest", "resume_command"]


class ResumeRequest(msgspec.Struct, frozen=True, kw_only=True):
    """The options of ``dmj resume``."""

    archive: Path
    dce: Path | None
    stall_timeout: float


def resume_command(request: ResumeRequest, steps: NextSteps) -> ExitCode:
    """Validate, then carry on with the archive's unfinished run (or retry the failed DMs of
    its finished one); the exit code."""
    return run_async(_resume, request, steps)


async def _resume(request: ResumeRequest, steps: NextSteps) -> ExitCode:
    out, err = Console(highlight=False, soft_wrap=True), stderr_console()
    env = read_environment()
    archive = existing_archive(request.archive)
    writer = probe_archive(archive)
    state = replay_journal(archive.journal)
    if writer is not None:
        raise running_elsewhere(archive, state, writer)
    run = state.run
    if run is None or (run.finished is not None and not failed_entries(run)):
        return _nothing_to_resume(out, err, archive, state, steps)
    refuse_unknown_exports(archive, state)
    started = run.started
    try:
        dce = await find_dce(
            request.dce or Path(started.dce.path),
            env=env.child_env,
            stall_timeout=request.stall_timeout,
        )
    except UsageError as error:
        if request.dce is not None:
            raise
        raise type(error)(  # the user gave no --dce: say where this one came from
            f"dmj resume uses the DiscordChatExporter run {run.id} began with, "
            f"{started.dce.path}, unless --dce names another; it does not work now: {error}"
        ) from error
    if dce.version != started.dce.version:
        err.print(
            f"[yellow]Note:[/] the run began with DCE {escape(started.dce.version)}; "
            f"carrying on with {escape(dce.version)}."
        )
    owner = started.user.id if started.user is not None else started.package.self_id
    async with open_session(
        archive, env, dce, command="resume", pace=started.pace, owner_id=owner,
        owner_of=f"run {run.id} in {archive.root}", stall_timeout=request.stall_timeout,
    ) as session:  # fmt: skip

        def check(now: State) -> RunStarted | None:
            if (
                now.run is None
                or now.run.id != run.id
                or (now.run.finished is None) != (run.finished is None)
            ):
                raise UsageError(
                    f"Run {run.id} in {archive.root} changed while dmj was checking the token "
                    "(another dmj resumed it); `dmj replay --inspect` shows where it stands."
                )
            if now.run.finished is not None:
                retry = _retry(out, now.run, session)
                return with_damaged_exports(err, archive, now, retry)
            out.print(escape(describe_position(now)))
            return None

        ending = await work(session, out, seen=state, check=check)
    return render_ending(out, err, ending, archive, steps)


def _retry(out: Console, finished: RunState, session: Session) -> RunStarted:
    """The run that retries the failed DMs of ``finished``, announced."""
    started = retry_run(finished, run=new_run_id(), dce=session.dce.info(), user=session.me)
    names = ", ".join(display_name(entry.name) for entry in started.plan)
    out.print(
        escape(
            f"Run {finished.id} finished with {plural(len(started.plan), 'failed DM')}; run "
            f"{started.run} retries {'it' if len(started.plan) == 1 else 'them'}: {names}."
        )
    )
    return started


def _nothing_to_resume(
    out: Console, err: Console, archive: Archive, state: State, steps: NextSteps
) -> ExitCode:
    run = state.run
    if run is None or run.finished is None:
        out.print(
            escape(
                f"Nothing to resume: no run has started in {archive.root}. Start one with "
                f"{steps.command('run --package PATH')}."
            )
        )
        return ExitCode.OK
    # a crash right after RunFinished may have left them behind
    rebuilt = rebuild_projections(archive.root)
    if rebuilt.recovery is not None:  # a tail was set aside: say what it was
        err.print(f"[yellow]Note:[/] {escape(rebuilt.recovery)}")
    finished = run.finished
    out.print(
        escape(
            f"Nothing to resume: run {run.id} finished at {finished.at:%Y-%m-%d %H:%M:%SZ} "
            f"({tally(run.outcomes()).describe()}). {steps.command('run --package PATH')} "
            "starts an incremental run that exports only what is new."
        )
    )
    return ExitCode.OK
