"""Ctrl-C, with real SIGINTs to a running ``dmj run``.

The first finishes the step in progress (but stops a DCE export at once: resume repeats it),
closes what the batch opened, journals the stop and exits 130; a second stops at once. Either
way ``dmj resume`` completes the run.
"""

from __future__ import annotations

import signal
import subprocess
import time

import pytest
from dmj.machine.events import (
    DmOpenRequested,
    ExportFailed,
    ExportRequested,
    RunPaused,
)

from tests.e2e.support import Served, dce_processes, journal_so_far, wait_until
from tests.promises import broken_promises

pytestmark = pytest.mark.slow


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    stdout, stderr = process.communicate(timeout=60)
    return process.returncode, stdout, stderr


def test_the_first_ctrl_c_stops_dce_at_once_closes_what_the_batch_opened_and_exits_130(
    served: Served,
) -> None:
    target = served.facts.exports[served.facts.needs_reopen[0]]  # exported once reopened
    served.server.set_faults(f"dce-hang={target}")
    process = served.start(*served.run_args(), DMJ_DCE_STALL_TIMEOUT="120")

    def exporting_the_reopened_channel() -> bool:
        events = journal_so_far(served)
        last = events[-1] if events else None
        return isinstance(last, ExportRequested) and last.channel_id == target

    wait_until(exporting_the_reopened_channel, what="dmj to export the reopened DM")
    wait_until(lambda: dce_processes(served) != [], what="DCE to start")
    process.send_signal(signal.SIGINT)
    pressed = time.monotonic()
    code, stdout, stderr = finish(process)
    assert code == 130, stderr
    assert time.monotonic() - pressed < 10, "DCE is stopped at once, not after the stall"
    assert "Stopping after the current step; press Ctrl-C again to stop at once." in stdout
    assert "Interrupted: stopped after the current step" in stderr
    assert f"resume with `dmj resume --archive {served.archive.path}`" in stderr
    assert dce_processes(served) == [], "DCE was stopped and reaped"
    events = served.archive.events()
    assert [type(e).__name__ for e in events[-5:]] == [
        "ExportRequested", "ExportFailed", "DmCloseRequested", "DmClosed", "RunPaused",
    ]  # fmt: skip
    stopped = events[-4]
    assert isinstance(stopped, ExportFailed)
    assert (stopped.channel_id, stopped.error_class) == (target, "fatal")
    last = events[-1]
    assert isinstance(last, RunPaused)
    assert last.reason == "interrupted"
    assert served.open_now() == set(served.facts.open_at_start), "what dmj opened is closed"
    served.server.set_faults("")
    resumed = served.resume()
    assert resumed.returncode == 0, resumed.stderr
    assert broken_promises(served.archive.events(), served.facts) == []


def test_a_second_ctrl_c_stops_at_once_and_resume_still_completes(served: Served) -> None:
    served.server.set_faults("slow:open=3")  # a reopen that takes its time
    process = served.start(*served.run_args())

    def reopening() -> bool:
        events = journal_so_far(served)
        return bool(events) and isinstance(events[-1], DmOpenRequested)

    wait_until(reopening, what="dmj to reopen a DM")
    process.send_signal(signal.SIGINT)
    time.sleep(0.5)
    assert process.poll() is None, "the first Ctrl-C waits for the step (the reopen)"
    process.send_signal(signal.SIGINT)
    code, stdout, stderr = finish(process)
    assert code == 130, stderr
    assert "Stopping now (second Ctrl-C)." in stdout
    assert "Interrupted: stopped at once (second Ctrl-C)" in stderr
    last = served.archive.events()[-1]
    assert isinstance(last, DmOpenRequested), "nothing more was journaled"
    assert dce_processes(served) == []
    served.server.set_faults("")
    resumed = served.resume()
    assert resumed.returncode == 0, resumed.stderr
    assert broken_promises(served.archive.events(), served.facts) == []
