"""Every fault the emulator can stage maps to its class, and waits are the ones Discord asks
for: the emulator runs in-process on trio's MockClock, so minutes pass in no time."""

from __future__ import annotations

import logging

import pytest
from dmj.adapters import FAST, Pacing
from dmj.machine.errors import DiscordPaused, DmjError, RemoteUnavailable
from dmj.sandbox import Emulator, FaultPlan

from tests.adapters.emulated import emulated_client, gaps, user_with_fate
from tests.adapters.fake_discord import no_gaps

pytestmark = [pytest.mark.anyio, pytest.mark.virtual_time]


def stage(emulator: Emulator, spec: str) -> Emulator:
    emulator.set_faults(FaultPlan.parse(spec))
    return emulator


PAUSES = [
    ("captcha", "reopen", "captcha", 400),
    ("too-fast", "reopen", "opening-too-fast", 403),
    ("anti-abuse", "reopen", "anti-abuse", 403),
    ("verify", "reopen", "verify-account", 403),
    ("revoked", "me", "token-rejected", 401),
    ("cloudflare", "me", "cloudflare", 400),
    ("cloudflare-ban", "list", "cloudflare", 429),
    ("40333", "reopen", "cloudflare", 403),
]


async def call(emulator: Emulator, what: str, pacing: Pacing = FAST) -> object:
    async with emulated_client(emulator, pacing=pacing) as discord:
        match what:
            case "me":
                return await discord.me()
            case "list":
                return await discord.open_dms()
            case _:
                return await discord.reopen_dm(user_with_fate(emulator.world, "reopen"))


async def reopen(emulator: Emulator, *, times: int) -> None:
    """Reopen the DM of the first user whose fate is a reopen, ``times`` times in a row."""
    user = user_with_fate(emulator.world, "reopen")
    async with emulated_client(emulator) as discord:
        for _ in range(times):
            await discord.reopen_dm(user)


@pytest.mark.parametrize(("fault", "what", "reason", "status"), PAUSES, ids=[p[0] for p in PAUSES])
async def test_each_stop_condition_pauses_without_retrying(
    emulator: Emulator,
    fault: str,
    what: str,
    reason: str,
    status: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(DiscordPaused) as pause:
        await call(stage(emulator, fault), what)
    assert (pause.value.reason, pause.value.status) == (reason, status)
    assert [r.status for r in emulator.requests()] == [status]
    token = emulator.world.token
    texts = [str(pause.value), repr(pause.value), *(r.getMessage() for r in caplog.records)]
    assert caplog.records
    assert all(token not in text for text in texts)


async def test_captcha_after_n_opens_stops_at_the_first_captcha(emulator: Emulator) -> None:
    stage(emulator, "captcha@2")
    user = user_with_fate(emulator.world, "reopen")
    async with emulated_client(emulator) as discord:
        await discord.reopen_dm(user)
        await discord.reopen_dm(user)
        with pytest.raises(DiscordPaused, match="asked for a captcha") as pause:
            await discord.reopen_dm(user)
    assert [r.status for r in emulator.requests()] == [200, 200, 400]
    assert "(HTTP 400); dmj never solves captchas" in str(pause.value), "not: code None: ''"


async def test_a_429_storm_is_ridden_out_with_the_waits_discord_asks_for(
    emulator: Emulator,
) -> None:
    me = await call(stage(emulator, "429=2.5x4"), "me")
    assert getattr(me, "id", None) == emulator.world.self_user.id
    assert [r.status for r in emulator.requests()] == [429, 429, 429, 429, 200]
    assert gaps(emulator) == [2.5, 2.5, 2.5, 2.5]
    assert emulator.stats().retry_after_seconds == 10.0


async def test_global_429s_are_waited_out_too(emulator: Emulator) -> None:
    await call(stage(emulator, "429-global=30x2"), "list")
    assert gaps(emulator) == [30.0, 30.0]


async def test_a_rate_limit_window_is_waited_out_exactly(emulator: Emulator) -> None:
    stage(emulator, "limit:open=2/10")
    await reopen(emulator, times=5)
    assert [r.status for r in emulator.requests()] == [200, 200, 429, 200, 200, 429, 200]
    assert gaps(emulator) == [0.0, 0.0, 10.0, 0.0, 0.0, 10.0]


async def test_the_emulators_ban_after_too_many_refusals_pauses_the_run(
    emulator: Emulator,
) -> None:
    with pytest.raises(DiscordPaused) as pause:
        await call(stage(emulator, "429=1,invalid-limit=3"), "me")
    assert pause.value.reason == "cloudflare"
    assert [r.status for r in emulator.requests()] == [429, 429, 429, 429]


async def test_dmjs_own_budget_stops_before_the_ban(emulator: Emulator) -> None:
    pacing = no_gaps(invalid_request_budget=3)
    with pytest.raises(DiscordPaused) as pause:
        await call(stage(emulator, "429=1,invalid-limit=4"), "me", pacing)
    assert pause.value.reason == "invalid-request-budget"
    assert len(emulator.requests()) == 3


async def test_server_errors_and_dropped_connections_are_retried(emulator: Emulator) -> None:
    me = await call(stage(emulator, "5xx=503x2,drop@2x2"), "me")
    assert getattr(me, "id", None) == emulator.world.self_user.id
    assert [r.status for r in emulator.requests()] == [503, 503, None, None, 200]
    assert gaps(emulator) == [0.05, 0.1, 0.2, 0.4]


async def test_endless_server_errors_make_discord_unavailable(emulator: Emulator) -> None:
    with pytest.raises(RemoteUnavailable, match=r"HTTP 502, 5 retries") as error:
        await call(stage(emulator, "5xx"), "me")
    assert error.value.status == 502
    assert len(emulator.requests()) == 6


async def test_not_ready_answers_are_retried_after_the_wait_given(emulator: Emulator) -> None:
    await call(stage(emulator, "202=3x2"), "me")
    assert [r.status for r in emulator.requests()] == [202, 202, 200]
    assert gaps(emulator) == [3.0, 3.0]


async def test_a_slow_answer_is_simply_waited_for(emulator: Emulator) -> None:
    await call(stage(emulator, "slow=45x1"), "me")
    assert [r.status for r in emulator.requests()] == [200]


async def test_no_error_or_log_record_holds_the_token_whatever_the_fault(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = emulator.world.token
    texts: list[str] = []
    for spec in ("5xx", "drop", "429=700", "limit:open=1/1000", "cloudflare", "revoked"):
        stage(emulator, spec)
        for what in ("me", "reopen", "reopen"):
            try:
                await call(emulator, what)
            except DmjError as error:
                texts += [str(error), repr(error), *map(str, error.args)]
    texts += [record.getMessage() for record in caplog.records]
    assert len(texts) > 30
    assert not [text for text in texts if token in text]


async def test_limits_discord_announces_are_waited_out_before_any_429(emulator: Emulator) -> None:
    stage(emulator, "mode=bot,limit:open=2/10")
    await reopen(emulator, times=5)
    assert [r.status for r in emulator.requests()] == [200] * 5
    assert gaps(emulator) == [0.0, 10.0, 0.0, 10.0]
    assert emulator.stats().rate_limited == 0
