"""The pacing presets keep the gaps and pauses they promise, measured by the emulator's clock
(in-process, virtual time, seeded jitter)."""

from __future__ import annotations

import pytest
from dmj.adapters import CAREFUL, FAST, Pacing, pacing_preset
from dmj.sandbox import Emulator, FaultPlan

from tests.adapters.emulated import emulated_client, gaps, user_with_fate

pytestmark = [pytest.mark.anyio, pytest.mark.virtual_time]


async def call_me(emulator: Emulator, times: int, pacing: Pacing, seed: int = 7) -> list[float]:
    async with emulated_client(emulator, pacing=pacing, seed=seed) as discord:
        for _ in range(times):
            await discord.me()
    return gaps(emulator)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_careful_keeps_0_to_2_s_gaps_and_a_5_to_20_s_pause_every_40_to_50_calls(
    emulator: Emulator, seed: int
) -> None:
    waits = await call_me(emulator, 200, CAREFUL, seed)
    where = [i for i, wait in enumerate(waits) if wait > 2.0]
    pauses = [waits[i] for i in where]
    ordinary = [wait for wait in waits if wait <= 2.0]
    assert all(0.0 <= gap <= 2.0 for gap in ordinary)
    assert len(set(ordinary)) > 100, "gaps are jittered, not constant"
    assert 3 <= len(pauses) <= 5
    assert all(5.0 <= pause <= 20.0 for pause in pauses)
    # the wait at index i comes before request i + 2: a pause after n calls sits at n - 1
    calls_between = [b - a for a, b in zip([-1, *where], where, strict=False)]
    assert all(40 <= n <= 50 for n in calls_between)


async def test_the_same_seed_gives_the_same_waits(emulator: Emulator) -> None:
    first = await call_me(emulator, 60, CAREFUL, seed=42)
    again = Emulator(emulator.world)
    assert await call_me(again, 60, CAREFUL, seed=42) == first
    assert await call_me(Emulator(emulator.world), 60, CAREFUL, seed=43) != first


async def test_fast_makes_no_gaps(emulator: Emulator) -> None:
    assert set(await call_me(emulator, 100, FAST)) == {0.0}


async def test_the_gap_counts_from_the_end_of_the_previous_request(emulator: Emulator) -> None:
    emulator.set_faults(FaultPlan.parse("slow=5x1"))
    pacing = Pacing(name="even", gap=(1.0, 1.0), pause_every=None)
    assert await call_me(emulator, 3, pacing) == [6.0, 1.0]


async def test_reopens_beyond_the_hourly_cap_wait_for_the_hour_to_pass(emulator: Emulator) -> None:
    pacing = Pacing(name="capped", gap=(10.0, 10.0), pause_every=None, reopens_per_hour=3)
    user = user_with_fate(emulator.world, "reopen")
    async with emulated_client(emulator, pacing=pacing) as discord:
        for _ in range(5):
            await discord.reopen_dm(user)
        await discord.me()
    assert gaps(emulator) == [10.0, 10.0, 3580.0, 10.0, 10.0]


def test_presets_are_found_by_name() -> None:
    assert pacing_preset("careful") is CAREFUL
    assert pacing_preset("fast") is FAST
    assert (CAREFUL.gap, CAREFUL.pause_every, CAREFUL.pause) == ((0.0, 2.0), (40, 50), (5.0, 20.0))
    assert (CAREFUL.reopens_per_hour, FAST.reopens_per_hour) == (60, None)


def test_backoff_doubles_up_to_its_cap() -> None:
    pacing = Pacing(name="b", gap=(0, 0), pause_every=None, backoff=(1.0, 10.0))
    assert [pacing.backoff_wait(n) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
