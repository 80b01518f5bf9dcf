"""The pacing presets keep the gaps and pauses they promise (virtual time, seeded jitter)."""

from __future__ import annotations

import pytest
from dmj.adapters import CAREFUL, FAST, Pacing, pacing_preset
from trio.testing import MockClock

from tests.adapters.fake_discord import DM_CHANNEL, ME, Script, answer, discord

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, object]]:
    return "trio", {"clock": MockClock(autojump_threshold=0)}


def pauses_and_gaps(waits: list[float]) -> tuple[list[int], list[float], list[float]]:
    """Split waits into the indexes of pauses (> 2 s), the pauses, and the ordinary gaps."""
    where = [i for i, w in enumerate(waits) if w > 2.0]
    return where, [waits[i] for i in where], [w for w in waits if w <= 2.0]


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_careful_keeps_0_to_2_s_gaps_and_a_5_to_20_s_pause_every_40_to_50_calls(
    seed: int,
) -> None:
    script = Script([answer(200, ME)])
    async with discord(script, pacing=CAREFUL, seed=seed) as client:
        for _ in range(200):
            await client.me()
    where, pauses, gaps = pauses_and_gaps(script.waits())
    assert all(0.0 <= gap <= 2.0 for gap in gaps)
    assert len(set(gaps)) > 100, "gaps are jittered, not constant"
    assert 3 <= len(pauses) <= 5
    assert all(5.0 <= pause <= 20.0 for pause in pauses)
    # wait i is before request i + 1, so a pause after n calls sits at index n - 1
    calls_between = [b - a for a, b in zip([-1, *where], where, strict=False)]
    assert all(40 <= n <= 50 for n in calls_between)


async def test_the_same_seed_gives_the_same_waits() -> None:
    first, second = Script([answer(200, ME)]), Script([answer(200, ME)])
    for script in (first, second):
        async with discord(script, pacing=CAREFUL, seed=42) as client:
            for _ in range(60):
                await client.me()
    assert first.waits() == second.waits()


async def test_fast_makes_no_gaps() -> None:
    script = Script([answer(200, ME)])
    async with discord(script, pacing=FAST) as client:
        for _ in range(100):
            await client.me()
    assert set(script.waits()) == {0.0}


async def test_the_gap_counts_from_the_end_of_the_previous_request() -> None:
    pacing = Pacing(name="even", gap=(1.0, 1.0), pause_every=None)
    script = Script([answer(503), answer(200, ME)])
    async with discord(script, pacing=pacing) as client:
        await client.me()  # 503, backoff 1 s, then 200
        await client.me()
    assert script.waits() == [1.0, 1.0]


async def test_reopens_beyond_the_hourly_cap_wait_for_the_hour_to_pass() -> None:
    pacing = Pacing(name="capped", gap=(10.0, 10.0), pause_every=None, reopens_per_hour=3)
    script = Script([answer(200, DM_CHANNEL)])
    async with discord(script, pacing=pacing) as client:
        for _ in range(5):
            await client.reopen_dm("222222222222222222")
        await client.me()
    starts = [round(seen.at) for seen in script.seen]
    assert starts == [0, 10, 20, 3600, 3610, 3620]


def test_presets_are_found_by_name() -> None:
    assert pacing_preset("careful") is CAREFUL
    assert pacing_preset("fast") is FAST
    assert CAREFUL.reopens_per_hour == 60
    assert FAST.reopens_per_hour is None


def test_backoff_doubles_up_to_its_cap() -> None:
    pacing = Pacing(name="b", gap=(0, 0), pause_every=None, backoff=(1.0, 10.0))
    assert [pacing.backoff_wait(n) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
