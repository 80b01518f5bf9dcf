"""Ctrl-C, with real SIGINTs to a running ``dmj run``.

The first finishes the step in progress, closes what the batch opened, journals the stop and
exits 130; a second stops at once (DCE is stopped and reaped too). Either way ``dmj resume``
completes the run.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
from dmj.journal import read_events
from dmj.machine.events import AnyEvent, DmOpened, ExportRequested, RunPaused

from tests.e2e.support import Served, wait_until
from tests.promises import broken_promises

pytestmark = pytest.mark.slow


def journal_so_far(served: Served) -> list[AnyEvent]:
    path = served.archive.path / "journal.jsonl"
    return list(read_events(path)) if path.exists() else []


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    stdout, stderr = process.communicate(timeout=60)
    return process.returncode, stdout, stderr


def test_the_first_ctrl_c_finishes_the_step_closes_what_the_batch_opened_and_exits_130(
    served: Served,
) -> None:
    served.server.set_faults("slow:messages=0.5")  # each export takes a while
    process = served.start(*served.run_args())
    wait_until(
        lambda: any(isinstance(e, DmOpened) for e in journal_so_far(served)),
        what="dmj to reopen a DM",
    )
    process.send_signal(signal.SIGINT)
    code, stdout, stderr = finish(process)
    assert code == 130, stderr
    assert "Stopping after the current step; press Ctrl-C again to stop at once." in stdout
    assert "Interrupted: stopped after the current step" in stderr
    assert f"resume with `dmj resume --archive {served.archive.path}`" in stderr
    kinds = [type(e).__name__ for e in served.archive.events()]
    assert kinds[-5:] == [
        "ExportRequested", "ChannelExported", "DmCloseRequested", "DmClosed", "RunPaused",
    ]  # fmt: skip
    last = served.archive.events()[-1]
    assert isinstance(last, RunPaused)
    assert last.reason == "interrupted"
    assert served.open_now() == set(served.facts.open_at_start), "what dmj opened is closed"
    served.server.set_faults("")
    resumed = served.resume()
    assert resumed.returncode == 0, resumed.stderr
    assert broken_promises(served.archive.events(), served.facts) == []


def test_a_second_ctrl_c_stops_at_once_and_resume_still_completes(served: Served) -> None:
    hung = served.facts.readable_closed[0]
    served.server.set_faults(f"dce-hang={hung}")
    process = served.start(*served.run_args(), DMJ_DCE_STALL_TIMEOUT="120")

    def exporting_the_hung_channel() -> bool:
        events = journal_so_far(served)
        return (
            bool(events)
            and isinstance(events[-1], ExportRequested)
            and (events[-1].channel_id == hung)
        )

    wait_until(exporting_the_hung_channel, what="dmj to start exporting the hung channel")
    wait_until(lambda: dce_processes(served) != [], what="DCE to start")
    process.send_signal(signal.SIGINT)
    time.sleep(0.5)
    assert process.poll() is None, "the first Ctrl-C waits for the step (DCE hangs)"
    process.send_signal(signal.SIGINT)
    code, stdout, stderr = finish(process)
    assert code == 130, stderr
    assert "Stopping now (second Ctrl-C)." in stdout
    assert "Interrupted: stopped at once (second Ctrl-C)" in stderr
    last = served.archive.events()[-1]
    assert isinstance(last, ExportRequested), "nothing more was journaled"
    assert last.channel_id == hung
    assert dce_processes(served) == [], "DCE was stopped and reaped with dmj"
    served.server.set_faults("")
    resumed = served.resume()
    assert resumed.returncode == 0, resumed.stderr
    assert broken_promises(served.archive.events(), served.facts) == []


def dce_processes(served: Served) -> list[int]:
    """Pids of DCE stand-ins writing into this test's archive (other tests export the same
    channels into theirs)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes()
        except OSError:
            continue
        if b"dmj.sandbox._dce" in argv and str(served.archive.path).encode() in argv:
            found.append(int(cmdline.parent.name))
    return found
