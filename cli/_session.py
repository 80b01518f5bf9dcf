"""What `dmj run` and `dmj resume` share: check the account, drive under the lock, catch Ctrl-C.

Both commands validate first (their own modules), ending with ``open_session``: the token and
its account. Then ``work`` takes the journal's lock, lets the command check the state it
finds there, tidies what a crash left behind, and drives the run with the concrete pieces
plugged into the driver's ports: the ``JournalWriter``, the ``DiscordClient``, DCE behind
``ArchiveExporter``, the projection writer and the progress view.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from random import Random
from typing import TypeVar

import anyio
import httpx
import msgspec
from anyio.abc import TaskStatus
from dmj.adapters import Dce, DceRunner, DiscordClient, end_recorded_group, pacing_preset
from dmj.journal import JournalWriter, Storage
from dmj.machine.driver import DriverSettings, Ports, RunEnd, drive
from dmj.machine.events import Pace, RunStarted, UserInfo
from dmj.machine.state import State
from dmj.projections import replay_journal, write_projections
from msgspec.structs import replace
from rich.console import Console
from rich.markup import escape

from ._archive import Archive, archive_storage, tidy
from ._env import Environment
from ._errors import ExitCode, stderr_console
from ._exporter import ArchiveExporter
from ._hints import NextSteps
from ._logs import LOGGER, run_log
from ._progress import RunView
from ._token import ask_token, check_account

__all__ = ["Ending", "Session", "open_session", "run_async", "work"]

HTTP_TIMEOUT = 30.0
T = TypeVar("T")


class Session(msgspec.Struct, frozen=True, kw_only=True):
    """What a validated command works with: ``me`` is the account ``discord`` signs in as."""

    archive: Archive
    env: Environment
    token: str
    dce: Dce
    command: str
    discord: DiscordClient
    me: UserInfo
    stall_timeout: float

    def __repr__(self) -> str:
        return f"Session({self.command!r}, {str(self.archive.root)!r})"


class Ending(msgspec.Struct, frozen=True, kw_only=True):
    """How the work ended: ``end`` is None when a second Ctrl-C stopped it at once.
    ``storage``: the seam the work wrote through, which the summary's index refresh goes on
    with (one sequence of operations for the whole command)."""

    end: RunEnd | None
    log: str
    storage: Storage


def run_async(
    main: Callable[[T, NextSteps], Awaitable[ExitCode]], request: T, steps: NextSteps
) -> ExitCode:
    """Run a command's async work; a Ctrl-C before the driver listens for it ends here
    (``steps`` says whether a run exists to resume).

    Everything dmj and its DCE children create is private: files 0600, folders 0700.
    """
    umask = os.umask(0o077)
    try:
        return anyio.run(main, request, steps)
    except KeyboardInterrupt:
        after = (
            f"{steps.resume()} carries on where it stopped."
            if steps.run_exists
            else "No run had started, so nothing was journaled."
        )
        stderr_console().print(f"[bold red]Interrupted:[/] stopped by Ctrl-C. {escape(after)}")
        return ExitCode.INTERRUPTED
    finally:
        os.umask(umask)


@asynccontextmanager
async def open_session(
    archive: Archive,
    env: Environment,
    dce: Dce,
    *,
    command: str,
    pace: Pace,
    owner_id: str,
    owner_of: str,
    stall_timeout: float,
) -> AsyncIterator[Session]:
    """The last of a command's checks: the token (``DISCORD_TOKEN`` or asked for) must be
    ``owner_id``'s; ``owner_of`` names what belongs to that account in the refusal.
    ``stall_timeout``: seconds DCE may print nothing before it is stopped.

    Discord is reached on ``DMJ_API_BASE`` with ``pace``, the run's pacing.
    """
    token = ask_token(env.token)
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http:
        discord = DiscordClient(
            http,
            token,
            random=Random(),  # noqa: S311 (pacing jitter, not a secret)
            pacing=pacing_preset(pace),
            api_base=env.api_base,
        )
        me = await check_account(discord, owner_id=owner_id, owner_of=owner_of)
        yield Session(
            archive=archive, env=env, token=token, dce=dce, command=command, discord=discord,
            me=me, stall_timeout=stall_timeout,
        )  # fmt: skip


async def work(
    session: Session,
    console: Console,
    *,
    seen: State,
    check: Callable[[State], RunStarted | None],
) -> Ending:
    """Lock the journal, ``check`` its state, tidy, and drive to the end.

    ``seen`` is the journal as the command replayed it to validate, before the lock: it is the
    state under the lock too unless another dmj wrote in between (the journal only grows, so
    the same last seq means the same records); only then is the journal replayed again.
    ``check`` raises if the archive is not in the state the command expects, and returns the
    ``RunStarted`` of a new run to journal first (None to carry on with the journal's run).
    """
    failpoints = session.env.failpoints
    storage = archive_storage(failpoints)  # one seam for the journal and the archive
    archive = dataclasses.replace(session.archive, storage=storage)
    records_only = replace(failpoints, at_op=None)
    with JournalWriter.open(archive.journal, storage=storage, failpoints=records_only) as writer:
        recovery = writer.recovery.message if writer.recovery is not None else None
        if recovery is not None:
            stderr_console().print(f"[yellow]Note:[/] {escape(recovery)}")
        grown = writer.last_seq != seen.through_seq
        state = replay_journal(archive.journal) if grown else seen
        start = check(state)
        if note := await end_recorded_group(archive.dce_record):
            stderr_console().print(f"[yellow]Note:[/] {escape(note)}")
        tidy(archive, state)
        run = start or (state.run.started if state.run is not None else None)
        pace: Pace = run.pace if run is not None else "careful"
        media = run.media if run is not None else False
        with run_log(archive.logs, command=session.command, token=session.token) as log:
            view = RunView(console, live=console.is_interactive, logger=logging.getLogger(LOGGER))
            ports = Ports(
                log=writer,
                discord=session.discord,
                exporter=ArchiveExporter(_runner(session), archive, media=media),
                checkpoint=lambda now: _checkpoint(archive, now),
                progress=view,
            )
            settings = DriverSettings(retry_wait=pacing_preset(pace).backoff_wait)
            with view:
                end = await _drive_until_ctrl_c(state, ports, settings, start, console)
    return Ending(end=end, log=str(log), storage=storage)


def _runner(session: Session) -> DceRunner:
    stall = session.stall_timeout
    return DceRunner(
        session.dce,
        session.token,
        env=session.env.child_env,
        stall_timeout=stall,
        kill_grace=min(10.0, stall),
        record=session.archive.dce_record,
    )


def _checkpoint(archive: Archive, state: State) -> None:
    write_projections(archive.root, state, storage=archive.storage)


async def _drive_until_ctrl_c(
    state: State, ports: Ports, settings: DriverSettings, start: RunStarted | None, console: Console
) -> RunEnd | None:
    """Drive; the first Ctrl-C asks the driver to stop after its step, a second stops it now."""
    stop = anyio.Event()
    end: RunEnd | None = None
    try:
        async with anyio.create_task_group() as tasks:
            at_once = anyio.CancelScope()
            await tasks.start(_watch_ctrl_c, stop, at_once, console)
            with at_once:
                end = await drive(state, ports, settings=settings, stop=stop, start=start)
            tasks.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        raise _only(group) from None
    return end


def _only(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The one error inside ``group`` (the watcher never fails), so users see dmj's message."""
    while len(group.exceptions) == 1 and isinstance(group.exceptions[0], BaseExceptionGroup):
        group = group.exceptions[0]
    return group.exceptions[0] if len(group.exceptions) == 1 else group


async def _watch_ctrl_c(
    stop: anyio.Event,
    at_once: anyio.CancelScope,
    console: Console,
    *,
    task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    with anyio.open_signal_receiver(signal.SIGINT) as signals:
        task_status.started()
        async for _ in signals:
            if stop.is_set():
                console.print("Stopping now (second Ctrl-C).", markup=False)
                at_once.cancel()
                return
            stop.set()
            console.print(
                "Stopping after the current step; press Ctrl-C again to stop at once.",
                markup=False,
            )
