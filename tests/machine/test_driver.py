"""The driver: decide → journal the intent → act through a port → journal the outcome.

In-process against the sandbox emulator (real ``DiscordClient``, virtual time) with a
DCE-lite exporter and an in-memory journal; ``tests/e2e`` runs the real processes.
"""

from __future__ import annotations

import itertools

import anyio
import pytest
from dmj.adapters import FAST, DiscordClient, read_package
from dmj.machine.driver import DriverSettings, RunEnd, drive
from dmj.machine.errors import InvariantBroken, RuleBroken, SkipDm
from dmj.machine.events import (
    BatchFinished,
    ChannelExported,
    ChannelInfo,
    DmClosed,
    DmOpened,
    DmSkipped,
    ExportFailed,
    ExportRequested,
    RunFinished,
    RunPaused,
    RunStarted,
)
from dmj.machine.package import PackageDm
from dmj.machine.state import fold
from dmj.sandbox import Emulator, FaultPlan, Sandbox, world_facts
from msgspec.structs import replace

from tests.machine.driving import (
    Crashed,
    Driving,
    Recorder,
    RecordingDiscord,
    driving,
    world_run,
)
from tests.promises import broken_promises, exported_channels

pytestmark = [pytest.mark.anyio, pytest.mark.virtual_time]


@pytest.fixture
def dms(sandbox: Sandbox) -> tuple[PackageDm, ...]:
    return read_package(sandbox.package).dms


def kinds(driving: Driving) -> list[str]:
    return [type(event).__name__ for event in driving.log.events]


async def test_a_run_exports_every_reachable_dm_once_and_keeps_every_promise(
    emulator: Emulator, dms: tuple[PackageDm, ...]
) -> None:
    facts = world_facts(emulator.world)
    open_before, left_before = set(emulator.book.open), set(emulator.book.left)
    async with driving(emulator) as run:
        end = await run.go(world_run(emulator.world, dms))
    assert end.kind == "finished"
    assert broken_promises(run.log.events, facts) == []
    assert set(exported_channels(run.log.events).values()) == {1}
    assert set(emulator.book.open) == open_before, "the open-DM list is as dmj found it"
    assert set(emulator.book.left) == left_before, "no group DM was left"
    skipped = {e.user_id for e in run.log.events if isinstance(e, DmSkipped)}
    assert skipped == {u for u in facts.deleted_users if any(d.user_id == u for d in dms)}


async def test_every_effect_follows_its_journaled_intent(
    emulator: Emulator, dms: tuple[PackageDm, ...]
) -> None:
    async with driving(emulator) as run:
        await run.go(world_run(emulator.world, dms))
    timeline = run.recorder.timeline
    intent_of = {
        "reopen": "DmOpenRequested",
        "probe": "ExportRequested",
        "export": "ExportRequested",
        "close": "DmCloseRequested",
    }
    for i, entry in enumerate(timeline):
        effect, _, channel = entry.partition(" ")
        if effect in intent_of:
            before = i - 2 if timeline[i - 1] == f"probe {channel}" else i - 1
            assert timeline[before] == f"journal {intent_of[effect]}", timeline[i - 3 : i + 1]


async def test_projections_are_checkpointed_at_the_start_after_each_batch_and_at_the_end(
    emulator: Emulator, dms: tuple[PackageDm, ...]
) -> None:
    async with driving(emulator) as run:
        await run.go(world_run(emulator.world, dms, batch_size=5))
    events = run.log.events
    expected = [e.seq for e in events if isinstance(e, RunStarted | BatchFinished | RunFinished)]
    assert run.checkpoints == expected
    assert len(expected) == 2 + -(-len(dms) // 5)


async def test_a_captcha_pauses_the_run_and_nothing_more_is_sent(
    emulator: Emulator, dms: tuple[PackageDm, ...]
) -> None:
    emulator.set_faults(FaultPlan.parse("captcha@1"))
    async with driving(emulator) as run:
        end = await run.go(world_run(emulator.world, dms))
        sent = len(emulator.requests())
    assert (end.kind, end.reason) == ("paused", "captcha")
    assert "captcha" in end.message
    assert "dmj resume" in end.message
    assert isinstance(run.log.events[-1], RunPaused)
    assert kinds(run)[-2] == "DmOpenRequested", "the open waits in the journal for resume"
    assert emulator.requests()[-1].status == 400
    assert sent == len(emulator.requests())
    assert run.checkpoints[-1] == run.log.events[-1].seq


async def test_resume_after_a_pause_finishes_the_run_and_closes_what_was_left_open(
    emulator: Emulator, dms: tuple[PackageDm, ...]
) -> None:
    open_before = set(emulator.book.open)
    emulator.set_faults(FaultPlan.parse("captcha@2"))
    async with driving(emulator) as run:
        assert (await run.go(world_run(emulator.world, dms))).kind == "paused"
        emulator.set_faults(FaultPlan())
        end = await run.go()
    assert end.kind == "finished"
    assert broken_promises(run.log.events, world_facts(emulator.world)) == []
    assert set(emulator.book.open) == open_before


async def test_a_fatal_export_failure_is_journaled_then_pauses(
    emulator: Emulator, dms: tuple[PackageDm, ...]
) -> None:
    async with driving(emulator) as run:
        run.exporter.script[dms[0].channel_id] = ["fatal"]
        end = await run.go(world_run(emulator.world, dms))
        assert (end.kind, end.reason) == ("paused", "exporter-fatal")
        assert kinds(run)[-2:] == ["ExportFailed", "RunPaused"]
        assert (await run.go()).kind == "finished"
    assert dms[0].channel_id in exported_channels(run.log.events)


async def test_transient_failures_are_retried_after_a_wait_until_max_attempts(
    emulator: Emulator, dms: tuple[PackageDm, ...]
) -> None:
    started = world_run(emulator.world, dms)
    first, second = (entry.channel_id for entry in started.plan[:2])
    async with driving(emulator) as run:
        run.exporter.script = {first: ["transient", "transient"], second: ["transient"] * 3}
        await run.go(started)
    events = run.log.events
    attempts = [e.attempt for e in events if isinstance(e, ExportRequested)]
    assert attempts[:4] == [1, 2, 3, 1]
    assert first in exported_channels(events)
    failed = [e for e in events if isinstance(e, ExportFailed) and e.channel_id == second]
    assert [e.attempts for e in failed] == [1, 2, 3]
    assert second not in exported_channels(events), "three transient failures end the DM"
    starts = [at for channel, at in run.exporter.calls if channel == first]
    gaps = [round(b - a, 3) for a, b in itertools.pairwise(starts)]
    assert gaps == [1.05, 1.1], "each export takes 1 s, then the backoff doubles from 0.05 s"


async def test_failures_in_a_row_pause_the_run_and_the_dm_is_tried_again_on_resume(
    emulator: Emulator, dms: tuple[PackageDm, ...]
) -> None:
    started = world_run(emulator.world, dms)
    first, second = (entry.channel_id for entry in started.plan[:2])
    async with driving(emulator) as run:
        run.failure_streak = 4
        run.exporter.script = {first: ["transient"] * 3, second: ["transient"]}
        end = await run.go(started)
        assert (end.kind, end.reason) == ("paused", "export-failures")
        assert "failed 4 times in a row" in end.message
        assert kinds(run)[-2:] == ["ExportFailed", "RunPaused"]
        end = await run.go()
    assert end.kind == "finished"
    exported = exported_channels(run.log.events)
    assert first not in exported, "its three attempts were used up before the pause"
    assert second in exported, "resume tries it again"


async def test_dce_runs_only_on_channels_discord_lets_the_account_read(
    emulator: Emulator, dms: tuple[PackageDm, ...]
) -> None:
    facts = world_facts(emulator.world)
    async with driving(emulator) as run:
        end = await run.go(world_run(emulator.world, dms))
    assert end.kind == "finished"
    events = run.log.events
    launched = [channel for channel, _ in run.exporter.calls]
    assert len(launched) == sum(isinstance(e, ChannelExported) for e in events), (
        "every DCE run exports: the unreadable were found by the probe"
    )
    refused = [e for e in events if isinstance(e, ExportFailed)]
    assert refused
    assert {e.error_class for e in refused} == {"permanent"}
    assert all("so DCE was not started" in e.message for e in refused)
    assert all(e.read_check for e in refused), "journaled as the read check's refusal"
    probed = {entry.split()[1] for entry in run.recorder.timeline if entry.startswith("probe")}
    assert probed.isdisjoint(facts.open_at_start)
    assert set(facts.needs_reopen) <= probed
    assert broken_promises(events, facts) == []


async def test_stop_during_an_export_cuts_it_short_closes_what_the_batch_opened_and_pauses(
    emulator: Emulator, dms: tuple[PackageDm, ...]
) -> None:
    facts = world_facts(emulator.world)
    reopened = next(d for d in dms if d.channel_id in facts.needs_reopen)
    async with driving(emulator) as run:
        target = facts.exports[reopened.channel_id]
        calls: list[str] = []

        def press_ctrl_c(channel: str) -> None:
            calls.append(channel)
            if channel == target and calls.count(channel) == 1:
                run.stop.set()

        run.exporter.on_export = press_ctrl_c
        end = await run.go(world_run(emulator.world, dms))
        assert end.kind == "interrupted"
        assert kinds(run)[-5:] == [
            "ExportRequested", "ExportFailed", "DmCloseRequested", "DmClosed", "RunPaused",
        ]  # fmt: skip
        stopped = run.log.events[-4]
        assert isinstance(stopped, ExportFailed)
        assert (stopped.channel_id, stopped.error_class) == (target, "fatal")
        assert "Stopped at your request (Ctrl-C)" in stopped.message
        assert target not in emulator.book.open
        run.stop = type(run.stop)()
        assert (await run.go()).kind == "finished"
    assert broken_promises(run.log.events, facts) == []
    assert exported_channels(run.log.events)[target] == 1


async def test_stop_during_another_step_lets_that_step_finish(
    emulator: Emulator, dms: tuple[PackageDm, ...]
) -> None:
    async with driving(emulator) as run:
        run.discord = StopOnReopen(run.discord.client, run.recorder, run.stop)
        end = await run.go(world_run(emulator.world, dms))
    assert end.kind == "interrupted"
    assert kinds(run)[-5:] == [
        "DmOpenRequested", "DmOpened", "DmCloseRequested", "DmClosed", "RunPaused",
    ]  # fmt: skip


class StopOnReopen(RecordingDiscord):
    """Presses Ctrl-C while a reopen is under way."""

    def __init__(self, client: DiscordClient, recorder: Recorder, stop: anyio.Event) -> None:
        super().__init__(client, recorder)
        self.stop = stop

    async def reopen_dm(self, user_id: str) -> ChannelInfo:
        self.stop.set()
        return await super().reopen_dm(user_id)


async def test_stop_during_a_retry_wait_cuts_the_wait_short(
    emulator: Emulator, dms: tuple[PackageDm, ...]
) -> None:
    async with driving(emulator) as run:
        run.exporter.script = {dms[0].channel_id: ["transient"]}

        def press_ctrl_c(channel: str) -> None:
            run.stop.set()

        run.exporter.on_export = press_ctrl_c
        end = await run.go(world_run(emulator.world, dms))
    assert end.kind == "interrupted"
    assert kinds(run)[-3:] == ["ExportRequested", "ExportFailed", "RunPaused"]


async def test_an_event_that_breaks_a_rule_is_never_journaled(
    emulator: Emulator, dms: tuple[PackageDm, ...]
) -> None:
    async with driving(emulator) as run:
        await run.go(world_run(emulator.world, dms))
        before = len(run.log.events)
        with pytest.raises(RuleBroken, match="run ids are unique"):
            await run.go(world_run(emulator.world, dms))
    assert len(run.log.events) == before


async def test_a_crash_after_any_record_resumes_to_the_same_end(
    sandbox: Sandbox, dms: tuple[PackageDm, ...]
) -> None:
    """In-process crash anywhere (the journal dies after record k); tests/e2e does it with
    real processes and SIGKILL."""
    facts = world_facts(sandbox.world)
    reference = await _run_with_crash(sandbox, dms, 0)
    total = len(reference.log.events)
    for k in range(1, total + 1):
        run = await _run_with_crash(sandbox, dms, k)
        events = run.log.events
        assert broken_promises(events, facts) == [], f"crash after record {k}"
        assert exported_channels(events) == exported_channels(reference.log.events)
        assert set(run.emulator.book.open) == set(facts.open_at_start)
        assert fold(events).run is not None


async def _run_with_crash(sandbox: Sandbox, dms: tuple[PackageDm, ...], k: int) -> Driving:
    emulator = Emulator(sandbox.world)
    async with driving(emulator) as run:
        try:
            end: RunEnd | None = await run.go(world_run(sandbox.world, dms), crash_after=k)
        except Crashed:
            end = None
        if end is None:
            end = await run.go()
        assert end.kind == "finished"
        assert isinstance(run.log.events[-1], RunFinished)
    return run


async def test_a_close_of_a_channel_discord_no_longer_knows_still_counts_as_closed(
    emulator: Emulator, dms: tuple[PackageDm, ...]
) -> None:
    facts = world_facts(emulator.world)
    async with driving(emulator) as run:
        run.discord = ForgetfulDiscord(run.discord.client, run.recorder)
        end = await run.go(world_run(emulator.world, dms))
    assert end.kind == "finished"
    closed = [e for e in run.log.events if isinstance(e, DmClosed)]
    assert len(closed) == len(facts.needs_reopen)


class ForgetfulDiscord(RecordingDiscord):
    """Closes the DM, then answers as if Discord had never heard of it (404/10003)."""

    async def close_dm(self, channel: ChannelInfo) -> ChannelInfo:
        await super().close_dm(channel)
        raise SkipDm("Unknown Channel", reason="not-found", status=404, code=10003)


async def test_a_close_of_a_channel_the_batch_never_saw_opened_sends_nothing_and_stops(
    sandbox: Sandbox, dms: tuple[PackageDm, ...]
) -> None:
    reference = await _run_with_crash(sandbox, dms, 0)
    opened = {e.channel_id for e in reference.log.events if isinstance(e, DmOpened)}
    exported = next(
        e for e in reference.log.events if isinstance(e, ChannelExported) and e.channel_id in opened
    )
    emulator = Emulator(sandbox.world)
    async with driving(emulator) as run:
        with pytest.raises(Crashed):  # right after the export: the next step closes the channel
            await run.go(world_run(sandbox.world, dms), crash_after=exported.seq)
        state = fold(run.log.events)
        assert state.batch is not None
        forgetful = replace(state, batch=replace(state.batch, seen=()))
        run.recorder.timeline.clear()
        with pytest.raises(InvariantBroken, match="never closes a channel it cannot tell"):
            await drive(
                forgetful, run.ports(), settings=DriverSettings(FAST.backoff_wait),
                stop=run.stop,
            )  # fmt: skip
    assert run.recorder.timeline == ["journal DmCloseRequested"], "nothing was sent"
    assert exported.channel_id in emulator.book.open, "the channel is left as it is"
