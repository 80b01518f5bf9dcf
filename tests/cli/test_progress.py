"""The run's progress view: lines when not on a terminal, a live bar on one."""

from __future__ import annotations

import io
import itertools
import logging

import pytest
from dmj.adapters import FAST, read_package
from dmj.cli._progress import RunView, short_reason
from dmj.machine.driver import DriverSettings, Ports, drive
from dmj.machine.events import ErrorClass
from dmj.machine.state import INITIAL
from dmj.sandbox import Emulator, Sandbox, world_facts
from rich.console import Console

from tests.machine.driving import driving, world_run

pytestmark = [pytest.mark.anyio, pytest.mark.virtual_time]


async def show_a_run(
    emulator: Emulator,
    sandbox: Sandbox,
    *,
    live: bool,
    script: dict[str, list[ErrorClass]] | None = None,
    tick: float = 5.0,
) -> str:
    """Drive a whole run of the sandbox world through a ``RunView``; what it printed.
    ``script``: the DCE failures of some channels (``EmulatorExporter.script``); ``tick``:
    how far the view's clock moves each time it is read."""
    out = io.StringIO()
    console = Console(
        file=out, force_terminal=live, force_interactive=live, width=100, color_system=None
    )
    ticks = itertools.count(0.0, tick)
    view = RunView(console, live=live, logger=logging.getLogger("test"), clock=lambda: next(ticks))
    started = world_run(emulator.world, read_package(sandbox.package).dms, batch_size=5)
    async with driving(emulator) as run:
        run.exporter.script.update(script or {})
        ports = Ports(
            log=run.log, discord=run.discord, exporter=run.exporter,
            checkpoint=lambda state: None, progress=view,
        )  # fmt: skip
        settings = DriverSettings(retry_wait=FAST.backoff_wait)
        with view:
            await drive(INITIAL, ports, settings=settings, stop=run.stop, start=started)
    return out.getvalue()


async def test_lines_name_each_batch_each_dm_its_outcome_and_an_eta(
    emulator: Emulator, sandbox: Sandbox
) -> None:
    lines = (await show_a_run(emulator, sandbox, live=False, tick=60.0)).splitlines()
    assert lines[0] == "Batch 1/3: 5 DMs"
    assert lines[1].startswith("  [1/14] ")
    assert any(": exported (" in line and " messages)" in line for line in lines)
    assert any(": skipped: the account is deleted or cannot be reached" in line for line in lines)
    # a DM Discord will not let dmj read is "unreachable", as the final summary calls it
    assert any(": unreachable: Discord forbids reading this channel" in line for line in lines)
    finished = [line for line in lines if line.startswith(("Batch 1/3 done:", "Batch 2/3 done:"))]
    # the clock moved 60 s while 5 DMs were done: 12 s each, 9 to go
    assert finished[0].endswith("; 5/14 DMs, about 0:01:48 to go"), finished[0]
    # then 120 s for 10: 12 s each, 4 to go; no "about 0:00:48", no "0:00:00" on a fast run
    assert finished[1].endswith("; 10/14 DMs, less than a minute to go"), finished[1]
    assert lines[-1].startswith("Batch 3/3 done:")
    assert lines[-1].endswith("; 14/14 DMs"), "no ETA once everything is done"


async def test_on_a_terminal_a_live_bar_shows_the_batch_the_dm_and_the_counts(
    emulator: Emulator, sandbox: Sandbox
) -> None:
    shown = await show_a_run(emulator, sandbox, live=True)
    assert "Batch 1/3: 5 DMs" in shown
    assert "batch 2/3 " in shown, "the bar names the batch and the DM at hand"
    assert "exported · " in shown
    assert "/14" in shown


async def test_attempts_people_read_count_dce_runs_not_the_read_check(
    emulator: Emulator, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """A closed DM's first attempt is the read check of its package channel: refused, the DM
    is reopened, and the journal's attempt 2 is the first time DCE runs."""
    facts = world_facts(emulator.world)
    channel = next(c for c in facts.needs_reopen if c not in facts.reopens_elsewhere)
    name = next(dm.name for dm in read_package(sandbox.package).dms if dm.channel_id == channel)
    caplog.set_level(logging.INFO, logger="test")
    shown = await show_a_run(emulator, sandbox, live=False, script={channel: ["transient"]})
    short = name.removeprefix("Direct Message with ")
    assert f"  {short}: attempt 1 failed (DCE failed (transient)); trying again" in (
        shown.splitlines()
    )
    logged = [r.getMessage() for r in caplog.records]
    steps = [m for m in logged if f"(channel {channel})" in m and ", attempt " in m]
    assert steps == [
        f"next: check that {name} (channel {channel}) is readable, then export it, attempt 1",
        f"next: export {name} (channel {channel}), attempt 1",
        f"next: export {name} (channel {channel}), attempt 2",
    ]


def test_a_failure_is_summed_up_by_its_first_sentence_without_dces_preamble() -> None:
    message = (
        "DiscordChatExporter could not export channel 123: Discord forbids reading this channel "
        "(exit code 1). The channel cannot be read as it is. DCE's last output:\n    ERROR"
    )
    assert short_reason(message) == "Discord forbids reading this channel (exit code 1)"
    assert short_reason("x" * 200, limit=10) == "xxxxxxxxx…"


def test_a_period_inside_what_dce_said_does_not_cut_the_reason_short() -> None:
    message = (
        "DiscordChatExporter could not export channel 123: DCE said “No space left on device : "
        "'/home/me/dm-archive/tmp/7/Direct Messages - J. Doe [1].json'” (exit code 1). Trying "
        "again may well work."
    )
    assert short_reason(message, limit=200) == (
        "DCE said “No space left on device : '/home/me/dm-archive/tmp/7/Direct Messages - "
        "J. Doe [1].json'” (exit code 1)"
    )
