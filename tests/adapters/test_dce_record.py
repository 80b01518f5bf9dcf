"""The record of a running DCE group, and ending what a crashed dmj left of one.

Real processes in process groups of their own (``start_new_session``), real time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from dmj.adapters import end_recorded_group
from dmj.adapters._dce_record import record_group

from tests.adapters.processes import is_gone, is_zombie, poll_until

pytestmark = pytest.mark.anyio

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]
DEAF = [
    sys.executable,
    "-c",
    "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('deaf', flush=True); time.sleep(120)",
]


@pytest.fixture
def group() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes the test starts, each leading a group of its own; all ended afterwards."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def lead(group: list[subprocess.Popen[bytes]], argv: list[str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(argv, start_new_session=True, stdout=subprocess.PIPE)
    group.append(process)
    return process


async def test_a_recorded_group_still_running_is_ended_and_the_record_removed(
    tmp_path: Path, group: list[subprocess.Popen[bytes]]
) -> None:
    record = tmp_path / "dce-running.json"
    orphan = lead(group, SLEEPER)
    record_group(record, orphan.pid)
    note = await end_recorded_group(record, grace=5)
    assert orphan.wait(timeout=5) == -15
    assert note is not None
    assert f"was stopped (process group {orphan.pid})" in note
    assert not record.exists()


async def test_a_group_that_ignores_sigterm_is_killed_after_the_grace(
    tmp_path: Path, group: list[subprocess.Popen[bytes]]
) -> None:
    record = tmp_path / "dce-running.json"
    deaf = lead(group, DEAF)
    assert deaf.stdout is not None
    assert deaf.stdout.readline() == b"deaf\n", "SIGTERM is ignored from here on"
    record_group(record, deaf.pid)
    assert await end_recorded_group(record, grace=0.5) is not None
    assert deaf.wait(timeout=5) == -9


async def test_members_of_a_group_whose_leader_is_gone_are_ended(
    tmp_path: Path, group: list[subprocess.Popen[bytes]]
) -> None:
    record = tmp_path / "dce-running.json"
    leader = lead(group, ["sh", "-c", "sleep 120 & echo $!"])
    assert leader.stdout is not None
    member = int(leader.stdout.readline())
    record_group(record, leader.pid)
    assert leader.wait(timeout=5) == 0
    assert is_gone(leader.pid)
    assert await end_recorded_group(record, grace=5) is not None
    await poll_until(lambda: is_gone(member) or is_zombie(member))


async def test_a_pid_now_used_by_another_process_is_left_alone(
    tmp_path: Path, group: list[subprocess.Popen[bytes]]
) -> None:
    record = tmp_path / "dce-running.json"
    stranger = lead(group, SLEEPER)
    record_group(record, stranger.pid)
    written = json.loads(record.read_text())
    record.write_text(json.dumps({**written, "started": written["started"] - 1}))
    assert await end_recorded_group(record) is None
    assert stranger.poll() is None, "not ours: it keeps running"
    assert not record.exists()


async def test_no_record_or_an_unreadable_one_ends_nothing(tmp_path: Path) -> None:
    record = tmp_path / "dce-running.json"
    assert await end_recorded_group(record) is None
    record.write_text('{"pgid": 12')  # cut off
    assert await end_recorded_group(record) is None
    assert not record.exists()
