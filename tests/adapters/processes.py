"""Looking at real processes through /proc (Linux): children, argv, whether one is gone."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import anyio


def parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def children_of(pid: int) -> list[int]:
    """The live (or zombie) processes whose parent is ``pid``."""
    return [
        int(p.name)
        for p in Path("/proc").iterdir()
        if p.name.isdigit() and parent_of(int(p.name)) == pid
    ]


def argv_of(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]


def environ_of(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0")[:-1]


def stdin_of(pid: int) -> str:
    """What the process's standard input is connected to."""
    return os.readlink(f"/proc/{pid}/fd/0")


async def poll_until(condition: Callable[[], bool]) -> None:
    """Wait (real time, a generous 30 s bound) until ``condition()`` holds: outside state."""
    with anyio.fail_after(30):
        while True:
            if condition():
                return
            await anyio.sleep(0.01)


def is_gone(pid: int) -> bool:
    """True when ``pid`` no longer exists at all: not running, and not a zombie."""
    return not Path(f"/proc/{pid}").exists()


def my_children() -> list[int]:
    return children_of(os.getpid())


def sigterm_ignored(pid: int) -> bool:
    """True once ``pid`` has set SIGTERM to be ignored (``SigIgn`` in /proc/PID/status)."""
    status = Path(f"/proc/{pid}/status").read_text()
    mask = next(line.split()[1] for line in status.splitlines() if line.startswith("SigIgn"))
    return bool(int(mask, 16) & (1 << (signal.SIGTERM - 1)))


def is_zombie(pid: int) -> bool:
    """True when ``pid`` has exited and waits for its parent to reap it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False
