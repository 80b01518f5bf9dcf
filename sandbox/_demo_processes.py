"""The demo's child processes: each in its own session, its output relayed, all stopped at the end.

The demo runs ``dmj`` commands (``python -m dmj.cli``, this interpreter) as real processes. Each
starts in a session of its own, so a Ctrl-C at the terminal reaches only the demo, which then
stops its children itself, in order: ``dmj`` first (it may be exporting), the emulator last.

A ``dmj`` killed with SIGKILL cannot stop the DCE it started (DCE runs in a session of its own
too): ``end_strays`` finds the DCE stand-ins still working for an archive and ends them, so the
next command never shares ``tmp/`` with a leftover exporter.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

__all__ = ["DMJ_ARGV", "Children", "end_strays", "stray_exporters"]

DMJ_ARGV = (sys.executable, "-m", "dmj.cli")
"""How the demo runs ``dmj``: this interpreter, so a checkout's .venv needs no PATH entry."""

STOP_GRACE = 5.0
"""Seconds a child gets to end after it is asked to before it is killed."""

Output = Callable[[str], None]


class Children:
    """The processes the demo started, and the threads relaying their output."""

    def __init__(self) -> None:
        self._processes: list[subprocess.Popen[str]] = []
        self._relays: dict[int, threading.Thread] = {}

    def start(
        self, argv: Sequence[str], *, env: Mapping[str, str], output: Output
    ) -> subprocess.Popen[str]:
        """Start ``argv`` (stdout and stderr merged into ``output``, line by line)."""
        process = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=dict(env),
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,
        )
        self._processes.append(process)
        relay = threading.Thread(target=_relay, args=(process, output), daemon=True)
        relay.start()
        self._relays[process.pid] = relay
        return process

    def finish(self, process: subprocess.Popen[str]) -> int:
        """Wait for ``process`` and for the last of its output; its exit code."""
        code = process.wait()
        relay = self._relays.pop(process.pid, None)
        if relay is not None:
            relay.join()
        self._processes.remove(process)
        return code

    def stop(self, process: subprocess.Popen[str], signum: int = signal.SIGINT) -> int:
        """Send ``signum`` (SIGKILL after ``STOP_GRACE`` seconds), then ``finish``."""
        if process.poll() is None:
            _signal(process, signum)
            try:
                process.wait(timeout=STOP_GRACE)
            except subprocess.TimeoutExpired:
                _signal(process, signal.SIGKILL)
        return self.finish(process)

    def stop_all(self) -> None:
        """Stop every child still running, newest first (a Ctrl-C to each: ``dmj`` closes
        what its batch opened, the emulator stops serving)."""
        for process in reversed(self._processes):
            self.stop(process)


def _relay(process: subprocess.Popen[str], output: Output) -> None:
    assert process.stdout is not None
    with process.stdout:
        for line in process.stdout:
            output(line.rstrip("\n"))


def _signal(process: subprocess.Popen[str], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended meanwhile; finish() reaps it
        os.killpg(process.pid, signum)


def stray_exporters(archive: Path) -> list[int]:
    """Pids of DCE stand-ins still writing into ``archive`` (none where /proc is missing)."""
    marker, place = b"dmj.sandbox._dce", str(archive).encode()
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes()
        except OSError:
            continue
        if marker in argv and place in argv:
            found.append(int(cmdline.parent.name))
    return found


def end_strays(archive: Path) -> list[int]:
    """Kill the DCE stand-ins a killed ``dmj`` left working for ``archive``; their pids."""
    found = stray_exporters(archive)
    for pid in found:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + STOP_GRACE
    while stray_exporters(archive) and time.monotonic() < deadline:
        time.sleep(0.02)
    return found
