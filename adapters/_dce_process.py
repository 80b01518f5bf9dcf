"""Running DCE as a watched child process: stall timeout, SIGTERM then SIGKILL, always reaped.

DCE can hang (a huge advisory rate-limit wait, a dead connection). A child that prints
nothing for ``stall_timeout`` seconds is stopped: SIGTERM to its whole process group, then
SIGKILL after ``kill_grace``. Cancellation (Ctrl-C) kills the group at once: its output is of
no use then. Whatever happens the child is reaped before this module returns, so nothing
reads an output file a live DCE is still writing and no zombie is left behind.

And if dmj itself dies (``kill -9``, the OOM killer), its DCE dies with it: on Linux the child
starts as ``_lifeline.py``, which arms a death signal and then becomes DCE; ``record`` names a
file noting the group while it runs, for the next dmj to end what a crash left
(``_dce_record.py``). The death signal follows the *thread* that started the child, so it is
armed only under asyncio (dmj's loop), which starts children from its own thread; trio starts
them from a worker thread it retires after ten idle seconds, which would kill a DCE still at
work (there the record alone remains).
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import signal
import subprocess
import sys
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import anyio
from anyio.abc import ByteReceiveStream, Process

from ._dce_record import forget_group, record_group
from ._lifeline import EXEC_FAILED, EXEC_FAILED_MARK
from ._redact import redact

__all__ = ["Finished", "run_watched"]

_STDERR_LIMIT = 1 << 20
"""Stderr kept for classifying a failure; DCE's own texts are a few kilobytes at most."""
_LIFELINE = Path(__file__).with_name("_lifeline.py")


@dataclass(frozen=True)
class Finished:
    """How a watched child ended. Texts are redacted; ``stalled`` means dmj stopped it."""

    returncode: int
    stderr: str
    tail: tuple[str, ...]
    stalled: bool


@dataclass
class _Output:
    """What the child printed: the last lines of both streams, and stderr in full."""

    token: str
    tail: deque[str]
    last_activity: float = field(default_factory=anyio.current_time)
    stderr: list[str] = field(default_factory=list)
    stderr_size: int = 0

    async def pump(self, stream: ByteReceiveStream | None, is_stderr: bool) -> None:
        if stream is None:
            return
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        pending = ""
        async for chunk in stream:
            self.last_activity = anyio.current_time()
            pending += decoder.decode(chunk)
            *lines, pending = pending.split("\n")
            for line in lines:
                self._keep(line, is_stderr)
        if tail := pending + decoder.decode(b"", final=True):
            self._keep(tail, is_stderr)

    def _keep(self, line: str, is_stderr: bool) -> None:
        line = redact(line.rstrip("\r"), self.token)
        if line.strip():
            self.tail.append(line)
        if is_stderr and self.stderr_size < _STDERR_LIMIT:
            self.stderr.append(line)
            self.stderr_size += len(line) + 1


async def run_watched(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    token: str,
    stall_timeout: float,
    kill_grace: float,
    tail_lines: int = 20,
    record: Path | None = None,
) -> Finished:
    """Run ``argv`` with stdin closed, stop it if it stalls, and wait until it is reaped.

    ``record``: a file noting the child's process group while it runs. Raises ``OSError``
    when the program cannot be started at all.
    """
    tied = _can_tie()
    launch = [sys.executable, "-I", "-S", str(_LIFELINE), str(os.getpid())] if tied else []
    process = await anyio.open_process(
        [*launch, *argv],
        stdin=subprocess.DEVNULL,
        env=dict(env),
        start_new_session=True,  # its own process group: a stop reaches its children too
    )
    output = _Output(token, deque(maxlen=tail_lines))
    grace: float | None = kill_grace
    try:
        if record is not None:
            record_group(record, process.pid)
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(output.pump, process.stdout, False)
            tasks.start_soon(output.pump, process.stderr, True)
            stalled = await _watch(process, output, stall_timeout, kill_grace)
            # A grandchild may still hold the pipes open; stop reading after the grace time.
            tasks.cancel_scope.deadline = anyio.current_time() + kill_grace
    except anyio.get_cancelled_exc_class():
        grace = None  # the caller gave up on it: no grace
        raise
    finally:
        with anyio.CancelScope(shield=True):
            await _stop(process, grace)
            await process.aclose()
        if record is not None:
            forget_group(record)
    returncode = process.returncode if process.returncode is not None else -1
    if tied and returncode == EXEC_FAILED:
        _raise_if_not_started(output.stderr, argv[0])
    return Finished(returncode, "\n".join(output.stderr), tuple(output.tail), stalled)


def _can_tie() -> bool:
    """Whether a child started now can die with dmj: Linux's ``prctl``, and an asyncio loop,
    whose own thread (alive as long as it runs) starts the child."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _raise_if_not_started(stderr: list[str], program: str) -> None:
    """The ``OSError`` the lifeline reported instead of becoming ``program``, if it did."""
    if stderr and stderr[0].startswith(EXEC_FAILED_MARK):
        number, _, text = stderr[0].removeprefix(EXEC_FAILED_MARK).partition(" ")
        raise OSError(int(number), text, program)


async def _watch(process: Process, output: _Output, stall_timeout: float, grace: float) -> bool:
    """Wait for the child to exit; True when it had to be stopped for printing nothing."""
    while True:
        quiet_until = output.last_activity + stall_timeout
        with anyio.move_on_after(max(0.0, quiet_until - anyio.current_time())):
            await process.wait()
            return False
        if anyio.current_time() >= output.last_activity + stall_timeout:
            await _stop(process, grace)
            return True


async def _stop(process: Process, grace: float | None) -> None:
    """SIGTERM the child's process group, SIGKILL it after ``grace`` (at once when None),
    then reap it."""
    if process.returncode is not None:
        return
    if grace is not None:
        _signal_group(process, signal.SIGTERM)
        with anyio.move_on_after(grace):
            await process.wait()
            return
    _signal_group(process, signal.SIGKILL)
    await process.wait()


def _signal_group(process: Process, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # it exited meanwhile; wait() reaps it
        os.killpg(process.pid, signum)
