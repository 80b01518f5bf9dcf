"""The process watcher's own rules, with a scripted child where the DCE stand-in has no
equivalent: steady output never counts as a stall, and output is kept redacted and short.
(Hangs, SIGTERM → SIGKILL and cancellation are tested with the stand-in, test_dce_runner.py.)

Real processes and real time: the stall timeouts are short, the bounds generous.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dmj.adapters._dce_process import Finished, run_watched

from tests.adapters.fake_discord import TOKEN
from tests.adapters.processes import is_gone, is_zombie

pytestmark = pytest.mark.anyio

CHILD = Path(__file__).parent / "programs" / "child.py"
PARENT = Path(__file__).parent / "programs" / "parent.py"


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


async def test_a_program_that_does_not_exist_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        await run_watched(
            [str(tmp_path / "nothing")], env={}, token=TOKEN, stall_timeout=1, kill_grace=1
        )


async def test_a_program_that_is_not_executable_raises_permission_error(tmp_path: Path) -> None:
    program = tmp_path / "DiscordChatExporter.Cli"
    program.write_text("#!/bin/sh\necho v2.47.0\n")
    with pytest.raises(PermissionError):
        await run_watched([str(program)], env={}, token=TOKEN, stall_timeout=1, kill_grace=1)


def test_under_asyncio_a_child_dies_with_the_process_that_started_it(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    parent = subprocess.Popen(
        [sys.executable, str(PARENT), sys.executable, str(CHILD), str(pidfile), "sleep"]
    )
    child = 0
    try:
        deadline = time.monotonic() + 30
        while not pidfile.exists() or not pidfile.read_text():
            assert time.monotonic() < deadline, "the child did not start"
            time.sleep(0.01)
        child = int(pidfile.read_text())
        parent.kill()
        parent.wait()
        gone_by = time.monotonic() + 1
        while not is_gone(child) and not is_zombie(child):
            assert time.monotonic() < gone_by, "the child outlived its parent"
            time.sleep(0.01)
    finally:
        parent.kill()
        parent.wait()
        if child and not is_gone(child) and not is_zombie(child):
            os.kill(child, signal.SIGKILL)  # only when the test failed


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_under_asyncio_a_program_that_cannot_start_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        await run_watched(
            [str(tmp_path / "nothing")], env={}, token=TOKEN, stall_timeout=1, kill_grace=1
        )
