"""Running DCE as a watched child process: stall timeout, SIGTERM then SIGKILL, always reaped.

DCE can hang (a huge advisory rate-limit wait, a dead connection). A child that prints
nothing for ``stall_timeout`` seconds is stopped: SIGTERM to its whole process group, then
SIGKILL after ``kill_grace``. Whatever happens, including cancellation (Ctrl-C), the child
is reaped before this module returns, so nothing reads an output file a live DCE is still
writing and no zombie is left behind.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import signal
import subprocess
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import anyio
from anyio.abc import ByteReceiveStream, Process

from ._redact import redact

__all__ = ["Finished", "run_watched"]

_STDERR_LIMIT = 1 << 20
"""Stderr kept for classifying a failure; DCE's own texts are a few kilobytes at most."""


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
) -> Finished:
    """Run ``argv`` with stdin closed, stop it if it stalls, and wait until it is reaped.

    Raises ``OSError`` when the program cannot be started at all.
    """
    process = await anyio.open_process(
        list(argv),
        stdin=subprocess.DEVNULL,
        env=dict(env),
        start_new_session=True,  # its own process group: a stop reaches its children too
    )
    output = _Output(token, deque(maxlen=tail_lines))
    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(output.pump, process.stdout, False)
            tasks.start_soon(output.pump, process.stderr, True)
            stalled = await _watch(process, output, stall_timeout, kill_grace)
            # A grandchild may still hold the pipes open; stop reading after the grace time.
            tasks.cancel_scope.deadline = anyio.current_time() + kill_grace
    finally:
        with anyio.CancelScope(shield=True):
            await _stop(process, kill_grace)
            await process.aclose()
    returncode = process.returncode if process.returncode is not None else -1
    return Finished(returncode, "\n".join(output.stderr), tuple(output.tail), stalled)


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


async def _stop(process: Process, grace: float) -> None:
    """SIGTERM the child's process group, SIGKILL it after ``grace``, then reap it."""
    if process.returncode is not None:
        return
    _signal_group(process, signal.SIGTERM)
    with anyio.move_on_after(grace):
        await process.wait()
        return
    _signal_group(process, signal.SIGKILL)
    await process.wait()


def _signal_group(process: Process, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # it exited meanwhile; wait() reaps it
        os.killpg(process.pid, signum)
