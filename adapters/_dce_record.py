"""A record of the DCE process group at work, so a later dmj can end one a crash left behind.

DCE runs in a process group of its own, tied to dmj by a death signal on Linux
(``_lifeline.py``). In case that did not take (another system, a grandchild DCE started, a
kernel that refused), ``run_watched`` writes the group's id to a small file in the archive
while DCE runs and removes it once DCE is reaped. A file still there means dmj died with DCE
running; ``end_recorded_group`` then ends what is left of that group, before anything cleans
the folders DCE writes into.

A pid is reused once its process is gone, so the record also holds the leader's start time
(``/proc/PID/stat``, clock ticks since boot) and the boot id: a leader with another start
time is somebody else's process and is left alone. A group whose leader is gone but whose
members live is still ours: Linux never hands out a pid that is some group's id.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path

import anyio
import msgspec
from dmj.machine.errors import FileWriteFailed

__all__ = ["GroupRecord", "end_recorded_group", "forget_group", "record_group"]

_PROC = Path("/proc")
_BOOT_ID = _PROC / "sys/kernel/random/boot_id"
_POLL = 0.05


class GroupRecord(msgspec.Struct, frozen=True, kw_only=True):
    """The DCE process group at work: its id (the leader's pid) and who the leader is."""

    pgid: int
    started: int | None
    """The leader's start time in clock ticks after boot; None where /proc is missing."""
    boot: str | None
    dmj: int
    """The dmj process that started it (for messages)."""


@dataclass(frozen=True)
class _Stat:
    state: str
    pgrp: int
    started: int


def record_group(path: Path, pid: int) -> None:
    """Write the record of the group ``pid`` leads (``FileWriteFailed`` if impossible)."""
    stat = _stat(pid)
    record = GroupRecord(
        pgid=pid, started=stat.started if stat else None, boot=_boot_id(), dmj=os.getpid()
    )
    try:
        staged = path.with_name(f".{path.name}.tmp")
        staged.write_bytes(msgspec.json.encode(record))
        os.replace(staged, path)
    except OSError as exc:
        raise FileWriteFailed(
            f"dmj could not note the running DiscordChatExporter in {path} "
            f"({exc.strerror or exc}); check the archive's free space and permissions, then "
            "run `dmj resume`."
        ) from exc


def forget_group(path: Path) -> None:
    """Remove the record: its group was reaped."""
    path.unlink(missing_ok=True)


async def end_recorded_group(path: Path, *, grace: float = 5.0) -> str | None:
    """End what is left of the recorded group (SIGTERM, then SIGKILL after ``grace``) and
    remove the record; a sentence for people when something was found, else None."""
    record = _read(path)
    if record is None:
        return None
    note = await _end(record, grace)
    forget_group(path)
    return note


def _read(path: Path) -> GroupRecord | None:
    try:
        return msgspec.json.decode(path.read_bytes(), type=GroupRecord)
    except FileNotFoundError:
        return None
    except (OSError, msgspec.DecodeError):
        forget_group(path)  # unreadable: written by a dmj killed mid-write, before DCE ran
        return None


async def _end(record: GroupRecord, grace: float) -> str | None:
    if not _can_see_processes():
        return (
            f"An earlier dmj (pid {record.dmj}) may have left DiscordChatExporter running as "
            f"process group {record.pgid}; dmj cannot check that here. If `ps -g "
            f"{record.pgid}` lists it, end it with `kill -- -{record.pgid}`."
        )
    leader = _stat(record.pgid)
    if record.boot != _boot_id() or (leader is not None and leader.started != record.started):
        return None  # rebooted since, or the pid is another process's now
    if not _members(record.pgid):
        return None
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(record.pgid, signum)
        except ProcessLookupError:
            break
        except PermissionError:
            return (
                f"DiscordChatExporter left running by an earlier dmj (process group "
                f"{record.pgid}) belongs to another user; end it with `kill -- -{record.pgid}`."
            )
        if await _gone(record.pgid, grace):
            break
    return (
        f"DiscordChatExporter left running by an earlier dmj (pid {record.dmj}) was "
        f"stopped (process group {record.pgid}) before carrying on."
    )


async def _gone(pgid: int, within: float) -> bool:
    with anyio.move_on_after(within):
        while _members(pgid):  # noqa: ASYNC110 (another process's exit: nothing to await)
            await anyio.sleep(_POLL)
        return True
    return False


def _can_see_processes() -> bool:
    return _PROC.is_dir()


def _members(pgid: int) -> list[int]:
    """The live processes of group ``pgid`` (zombies are dead: only their parent's to reap)."""
    found = []
    for entry in _PROC.iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat.pgrp == pgid and stat.state != "Z":
                found.append(int(entry.name))
    return found


def _stat(pid: int) -> _Stat | None:
    """State, process group and start time of ``pid`` (/proc/PID/stat), None if gone."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()  # the name before ")" may hold spaces
    return _Stat(state=fields[0], pgrp=int(fields[2]), started=int(fields[19]))


def _boot_id() -> str | None:
    try:
        return _BOOT_ID.read_text().strip()
    except OSError:
        return None
