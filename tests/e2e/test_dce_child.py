"""DCE as dmj's child. Its life is tied to dmj's: a killed dmj takes its DCE along, and a DCE
a crash left running anyway (noted in ``dce-running.json``) is ended by the next ``dmj resume``
before it tidies, so one token never has two exporters. And what it says when it fails
reaches the log and the progress line, not only the journal.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from dmj.machine.events import ChannelExported, ExportRequested, RunStarted

from tests.e2e.support import Served, dce_processes, journal_so_far, wait_until
from tests.promises import broken_promises

pytestmark = pytest.mark.slow


def test_a_killed_dmj_takes_its_dce_along_and_resume_exports_alone(served: Served) -> None:
    hung = served.facts.readable_closed[0]
    served.server.set_faults(f"dce-hang={hung}")
    process = served.start(*served.run_args(), DMJ_DCE_STALL_TIMEOUT="120")

    def exporting_the_hung_channel() -> bool:
        events = journal_so_far(served)
        last = events[-1] if events else None
        return isinstance(last, ExportRequested) and last.channel_id == hung

    wait_until(exporting_the_hung_channel, what="dmj to start exporting")
    wait_until(lambda: dce_processes(served) != [], what="DCE to start")
    assert (served.archive.path / "dce-running.json").is_file(), "the DCE group is noted"
    process.kill()
    process.communicate(timeout=10)
    try:
        wait_until(lambda: dce_processes(served) == [], timeout=1.0, what="DCE to die with dmj")
    finally:
        for orphan in dce_processes(served):  # only when the test failed
            os.kill(orphan, signal.SIGKILL)
    served.server.set_faults("")
    resumed = served.resume()
    assert resumed.returncode == 0, resumed.stderr
    assert "left running by an earlier dmj" not in resumed.stderr, "nothing was left to end"
    events = served.archive.events()
    exports = [e for e in events if isinstance(e, ChannelExported) and e.channel_id == hung]
    assert len(exports) == 1
    assert served.emulator.faults.dce_attempts(hung) == 1, "since the plan changed: resume's"
    assert broken_promises(events, served.facts) == []
    assert not (served.archive.path / "dce-running.json").exists()


def test_resume_ends_a_dce_group_a_crash_left_running_before_it_tidies(served: Served) -> None:
    served.server.set_faults("captcha")
    assert served.run().returncode == 3
    orphan = subprocess.Popen(  # stands for a DCE the death signal did not reach
        [sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True
    )
    with open(f"/proc/{orphan.pid}/stat") as stat:
        started = int(stat.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/sys/kernel/random/boot_id") as boot:
        boot_id = boot.read().strip()
    record = {"pgid": orphan.pid, "started": started, "boot": boot_id, "dmj": os.getpid()}
    (served.archive.path / "dce-running.json").write_text(json.dumps(record))
    served.server.set_faults("")
    try:
        resumed = served.resume()
        assert orphan.wait(timeout=5) == -15, "SIGTERM to its group"
    finally:
        orphan.kill()
        orphan.wait()
    assert resumed.returncode == 0, resumed.stderr
    assert "Note: DiscordChatExporter left running by an earlier dmj" in resumed.stderr
    assert f"stopped (process group {orphan.pid})" in resumed.stderr
    assert not (served.archive.path / "dce-running.json").exists()


def test_what_a_failing_dce_said_last_reaches_the_log_and_the_progress_line(
    served: Served,
) -> None:
    full = served.facts.readable_closed[0]
    served.server.set_faults(f"dce-disk-full={full}x1")  # then the disk has room again
    done = served.run()
    assert done.returncode == 0, done.stderr
    [line] = [line for line in done.stdout.splitlines() if "attempt 1 failed" in line]
    started = served.archive.events()[0]
    assert isinstance(started, RunStarted)
    name = next(e.name for e in started.plan if e.channel_id == full)
    prefix = f"  {name.removeprefix('Direct Message with ')}: attempt 1 failed (DCE said “No space"
    assert line.startswith(prefix), line
    assert line.endswith("; trying again")
    [log] = (served.archive.path / "logs").glob("*-run-*.log")
    text = log.read_text(encoding="utf-8")
    assert f"channel {full} failed (transient): DCE said “No space left on device : '" in text
    assert "    ERROR\n    System.IO.IOException: No space left on device : '" in text
