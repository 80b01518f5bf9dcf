"""``dmj view`` while ``dmj run`` archives: it never takes the journal's lock, shows what
the run had archived when the page was loaded, and what it archived since after a reload.

Real processes: ``dmj run`` (holding the journal's lock) with the DCE stand-in against the
emulator, and ``dmj view`` beside it, asked over HTTP as the page asks. The run is held in
the middle by the sandbox's hang fault on its last export; killing that DCE lets it retry
and finish.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest
from dmj.machine.events import ExportRequested, RunStarted

from tests.e2e.support import (
    DMJ,
    Served,
    dce_processes,
    exported_messages,
    journal_so_far,
    wait_until,
)

pytestmark = pytest.mark.slow

URL = re.compile(r"^  (http://127\.0\.0\.1:\d+)/\?key=\S+$", re.MULTILINE)


@pytest.fixture
def viewer_of(served: Served) -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.communicate()


def counts(client: httpx.Client, path: str) -> dict[str, int]:
    """Messages per conversation with any, as the viewer lists them at ``path``."""
    if path == "/":
        page = client.get("/").text
        ids = re.findall(r'class="conversation[^"]*" data-id="(\d+)"', page)
        shown = [
            int(n.replace(",", "")) for n in re.findall(r'class="count">([\d,]+) message', page)
        ]
        return {i: n for i, n in zip(ids, shown, strict=True) if n}
    listed: Any = msgspec.json.decode(client.get(path).content)
    return {c["id"]: c["messages"] for c in listed["conversations"] if c["messages"]}


def test_dmj_view_reads_beside_a_running_dmj_run_and_a_reload_shows_what_it_added(
    served: Served, viewer_of: list[subprocess.Popen[str]]
) -> None:
    run = served.start(*served.run_args(batch_size=2), DMJ_DCE_STALL_TIMEOUT="120")
    wait_until(
        lambda: any(isinstance(e, RunStarted) for e in journal_so_far(served)), what="the plan"
    )
    plan = next(e for e in journal_so_far(served) if isinstance(e, RunStarted)).plan
    last = [
        served.facts.exports[e.channel_id] for e in plan if e.channel_id in served.facts.exports
    ][-1]
    served.server.set_faults(f"dce-hang={last}x1")  # long before the run gets there

    def exporting_the_last() -> bool:
        events = journal_so_far(served)
        return (
            bool(events)
            and isinstance(events[-1], ExportRequested)
            and events[-1].channel_id == last
        )

    wait_until(exporting_the_last, what="the run to export its last DM")
    wait_until(lambda: dce_processes(served) != [], what="DCE to hang")
    before = exported_messages(served.archive.path)
    assert before
    assert last not in before

    viewer_of.append(subprocess.Popen(
        [str(DMJ), "view", "--archive", str(served.archive.path), "--no-browser"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ))  # fmt: skip
    view = viewer_of[0]
    assert view.stdout is not None
    banner = "".join(view.stdout.readline() for _ in range(3))
    match = URL.search(banner)
    assert match is not None, banner + view.stderr.read() if view.stderr else banner
    with httpx.Client(base_url=match[1]) as client:
        assert client.get(match[0].strip()).status_code == 303  # the cookie
        assert counts(client, "/") == before, "what the run had archived at launch"
        assert run.poll() is None, "the run still holds the journal's lock"

        for pid in dce_processes(served):
            os.kill(pid, signal.SIGKILL)  # the run retries the export, and finishes
        _, run_errors = run.communicate(timeout=60)
        assert run.returncode == 0, run_errors
        after = exported_messages(served.archive.path)
        assert after[last] > 0
        # the run brings the index up to date as it ends (its summary counts your messages);
        # that API requests alone never refresh it is tests/view/test_sources.py's to check
        assert counts(client, "/") == after, "a reload shows what the run archived since"
        assert counts(client, "/api/conversations") == after
    view.send_signal(signal.SIGINT)
    _, errors = view.communicate(timeout=20)
    assert view.returncode == 0, errors
