"""The process watcher's own rules, with a scripted child where the DCE stand-in has no
equivalent: steady output never counts as a stall, and output is kept redacted and short.
(Hangs, SIGTERM → SIGKILL and cancellation are tested with the stand-in, test_dce_runner.py.)

Real processes and real time: the stall timeouts are short, the bounds generous.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from dmj.adapters._dce_process import Finished, run_watched

from tests.adapters.fake_discord import TOKEN

pytestmark = pytest.mark.anyio

CHILD = Path(__file__).parent / "programs" / "child.py"


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
