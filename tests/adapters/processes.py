"""Looking at real processes through /proc (Linux): children, argv, whether one is gone."""

from __future__ import annotations

import os
from pathlib import Path


def parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def children_of(pid: int) -> list[int]:
    """The live (or zombie) processes whose parent is ``pid``."""
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and
            parent_of(int(p.name)) == pid]  # fmt: skip


def argv_of(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]


def is_gone(pid: int) -> bool:
    """True when ``pid`` no longer exists at all: not running, and not a zombie."""
    return not Path(f"/proc/{pid}").exists()


def my_children() -> list[int]:
    return children_of(os.getpid())
