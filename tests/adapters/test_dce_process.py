"""The process watcher stops a stalled child (SIGTERM, then SIGKILL) and always reaps it.

Real processes and real time: the stall timeouts are short, the bounds generous.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
import pytest
from dmj.adapters._dce_process import Finished, run_watched

from tests.adapters.processes import is_gone, my_children

pytestmark = pytest.mark.anyio

CHILD = Path(__file__).parent / "programs" / "child.py"
TOKEN = "MTExMTExMTExMTExMTExMTEx.GaBcDe.s3cr3t-t0ken-never-shown"


async def run_child(
    tmp_path: Path, mode: str, *, stall: float = 1.0, grace: float = 0.5
) -> tuple[Finished, int]:
    pidfile = tmp_path / "pid"
    finished = await run_watched(
        [sys.executable, str(CHILD), str(pidfile), mode],
        env={**os.environ, "DISCORD_TOKEN": TOKEN},
        token=TOKEN,
        stall_timeout=stall,
        kill_grace=grace,
    )
    return finished, int(pidfile.read_text())


async def test_a_silent_child_is_terminated_and_reaped(tmp_path: Path) -> None:
    finished, pid = await run_child(tmp_path, "hang")
    assert finished.stalled
    assert finished.returncode == -15  # SIGTERM was enough
    assert finished.tail == ("working...",)
    assert is_gone(pid)


async def test_a_child_ignoring_sigterm_is_killed_after_the_grace_time(tmp_path: Path) -> None:
    started = anyio.current_time()
    finished, pid = await run_child(tmp_path, "stubborn", stall=1.0, grace=0.5)
    assert finished.stalled
    assert finished.returncode == -9
    assert anyio.current_time() - started >= 1.5  # stall, then the whole grace time
    assert is_gone(pid)
    assert my_children() == []


async def test_a_child_that_keeps_printing_is_never_stalled(tmp_path: Path) -> None:
    finished, _ = await run_child(tmp_path, "chatty", stall=0.6)
    assert (finished.stalled, finished.returncode) == (False, 0)
    assert finished.tail[-1] == "progress 11"


async def test_output_is_kept_redacted_and_only_the_last_lines(tmp_path: Path) -> None:
    finished, _ = await run_child(tmp_path, "echo", stall=10.0)
    assert finished.returncode == 3
    assert len(finished.tail) == 20
    assert "stdout says [token]" in finished.tail
    assert finished.stderr == "stderr says [token]\nsecond line"
    assert TOKEN not in "".join(finished.tail) + finished.stderr


async def test_cancelling_the_caller_kills_and_reaps_the_child(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    with anyio.move_on_after(1.0):  # the stall timeout is far away: this is a cancellation
        await run_watched(
            [sys.executable, str(CHILD), str(pidfile), "stubborn"],
            env=dict(os.environ),
            token=TOKEN,
            stall_timeout=60.0,
            kill_grace=0.5,
        )
    assert is_gone(int(pidfile.read_text()))
    assert my_children() == []


async def test_a_program_that_does_not_exist_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        await run_watched(
            [str(tmp_path / "nothing")], env={}, token=TOKEN, stall_timeout=1, kill_grace=1
        )
