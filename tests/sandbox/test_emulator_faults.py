"""Faults and rate limits, in virtual time (trio's MockClock drives the emulator's clock)."""

from __future__ import annotations

import anyio
import httpx
import pytest
from dmj.sandbox import Emulator, FaultPlan, World, WorldChannel

pytestmark = [pytest.mark.anyio, pytest.mark.virtual_time]

VERIFY = "You need to verify your account in order to perform this action."


def channel(world: World, fate: str, index: int = 0) -> WorldChannel:
    return [c for c in world.channels if c.fate == fate][index]


def plan(emulator: Emulator, spec: str) -> None:
    emulator.set_faults(FaultPlan.parse(spec))


async def open_dm(client: httpx.AsyncClient, emulator: Emulator) -> httpx.Response:
    user = channel(emulator.world, "reopen").recipients[0]
    return await client.post("/users/@me/channels", json={"recipients": [user]})


async def test_slow_answers_take_their_time_in_virtual_time(
    discord_client: httpx.AsyncClient, emulator: Emulator
) -> None:
    plan(emulator, "slow=30")
    before = anyio.current_time()
    assert (await discord_client.get("/users/@me")).status_code == 200
    assert anyio.current_time() - before >= 30


async def test_a_5xx_burst_hits_the_requests_after_the_first_n(
    discord_client: httpx.AsyncClient, emulator: Emulator
) -> None:
    plan(emulator, "5xx@1x2,5xx=503@3x1")
    statuses = [(await discord_client.get("/users/@me")).status_code for _ in range(5)]
    assert statuses == [200, 502, 502, 503, 200]
    burst = await discord_client.get("/users/@me")
    assert burst.status_code == 200
    assert emulator.stats().by_status == {"200": 3, "502": 2, "503": 1}


async def test_a_5xx_answer_is_discords_json_with_via(
    discord_client: httpx.AsyncClient, emulator: Emulator
) -> None:
    plan(emulator, "5xx")
    response = await discord_client.get("/users/@me")
    assert response.json() == {"message": "502: Bad Gateway", "code": 0}
    assert response.headers["via"] == "1.1 google"


async def test_cloudflare_answers_html_without_via(
    discord_client: httpx.AsyncClient, emulator: Emulator
) -> None:
    plan(emulator, "cloudflare@0x1,cloudflare-ban@1x1")
    bad = await discord_client.get("/users/@me")
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith("text/html")
    assert "via" not in bad.headers
    assert "cloudflare" in bad.text
    ban = await discord_client.get("/users/@me")
    assert ban.status_code == 429
    assert "Error 1015" in ban.text
    assert "via" not in ban.headers
    assert "retry-after" not in ban.headers


async def test_a_dropped_connection_is_the_error_httpx_gives_for_a_real_one(
    discord_client: httpx.AsyncClient, emulator: Emulator
) -> None:
    plan(emulator, "drop@1x1")
    await discord_client.get("/users/@me")
    with pytest.raises(httpx.RemoteProtocolError, match="Server disconnected"):
        await discord_client.get("/users/@me")
    assert (await discord_client.get("/users/@me")).status_code == 200
    assert [e.status for e in emulator.requests()] == [200, None, 200]
    assert emulator.stats().dropped == 1


@pytest.mark.parametrize(
    ("kind", "status", "body"),
    [
        ("too-fast", 403, {"message": "You are opening direct messages too fast.", "code": 40003}),
        ("anti-abuse", 403, {"message": "Unknown Message", "code": 10008}),
        ("verify", 403, {"message": VERIFY, "code": 40002}),
    ],
)  # fmt: skip
async def test_dm_open_faults_answer_discords_error_after_n_opens(
    discord_client: httpx.AsyncClient,
    emulator: Emulator,
    kind: str,
    status: int,
    body: dict[str, object],
) -> None:
    plan(emulator, f"{kind}@2x1")
    answers = [await open_dm(discord_client, emulator) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, status, 200]
    assert answers[2].json() == body
    assert (await discord_client.get("/users/@me")).status_code == 200


async def test_a_captcha_after_n_opens_keeps_coming_until_the_plan_changes(
    discord_client: httpx.AsyncClient, emulator: Emulator
) -> None:
    plan(emulator, "captcha@1")
    assert (await open_dm(discord_client, emulator)).status_code == 200
    for _ in range(3):
        captcha = await open_dm(discord_client, emulator)
        assert captcha.status_code == 400
        assert captcha.json()["captcha_key"] == ["captcha-required"]
        assert captcha.json()["captcha_service"] == "hcaptcha"
    assert (await discord_client.get("/users/@me/channels")).status_code == 200
    plan(emulator, "")
    assert (await open_dm(discord_client, emulator)).status_code == 200


async def test_a_revoked_token_is_401_after_n_requests(
    discord_client: httpx.AsyncClient, emulator: Emulator
) -> None:
    plan(emulator, "revoked@3")
    statuses = [(await discord_client.get("/users/@me")).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 401, 401]


async def test_a_429_storm_carries_retry_after_and_counts_the_imposed_wait(
    discord_client: httpx.AsyncClient, emulator: Emulator
) -> None:
    plan(emulator, "429=2.5x2")
    first = await discord_client.get("/users/@me")
    assert first.status_code == 429
    assert first.json() == {
        "message": "You are being rate limited.",
        "retry_after": 2.5,
        "global": False,
    }
    assert (first.headers["retry-after"], first.headers["x-ratelimit-scope"]) == ("3", "user")
    assert first.headers["via"] == "1.1 google"
    assert "x-ratelimit-limit" not in first.headers
    assert (await discord_client.get("/users/@me")).status_code == 429
    assert (await discord_client.get("/users/@me")).status_code == 200
    assert emulator.stats().retry_after_seconds == 5.0
    assert emulator.stats().rate_limited == 2


async def test_a_global_429_says_so_in_body_and_headers(
    discord_client: httpx.AsyncClient, emulator: Emulator
) -> None:
    plan(emulator, "429-global=1x1")
    response = await discord_client.get("/users/@me")
    assert response.json()["global"] is True
    assert response.headers["x-ratelimit-global"] == "true"
    assert response.headers["x-ratelimit-scope"] == "global"


async def test_user_mode_limits_answer_429_without_announcing_them(
    discord_client: httpx.AsyncClient, emulator: Emulator
) -> None:
    plan(emulator, "limit:messages=2/10")
    url = f"/channels/{channel(emulator.world, 'open').id}/messages"
    allowed = [await discord_client.get(url) for _ in range(2)]
    assert all(a.status_code == 200 and "x-ratelimit-remaining" not in a.headers for a in allowed)
    limited = await discord_client.get(url)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "10"
    assert limited.headers["x-ratelimit-scope"] == "user"
    assert not {"x-ratelimit-limit", "x-ratelimit-global"} & set(limited.headers)
    other = f"/channels/{channel(emulator.world, 'open', 1).id}/messages"
    assert (await discord_client.get(other)).status_code == 200, "buckets are per channel"
    await anyio.sleep(limited.json()["retry_after"])
    assert (await discord_client.get(url)).status_code == 200


async def test_bot_mode_announces_limits_so_a_careful_client_is_never_limited(
    discord_client: httpx.AsyncClient, emulator: Emulator
) -> None:
    plan(emulator, "mode=bot,limit:messages=3/5")
    url = f"/channels/{channel(emulator.world, 'open').id}/messages"
    remaining = []
    for _ in range(10):
        response = await discord_client.get(url, params={"limit": 1})
        assert response.status_code == 200
        assert response.headers["x-ratelimit-limit"] == "3"
        assert len(response.headers["x-ratelimit-bucket"]) == 32
        remaining.append(response.headers["x-ratelimit-remaining"])
        if remaining[-1] == "0":
            await anyio.sleep(float(response.headers["x-ratelimit-reset-after"]))
    assert remaining[:4] == ["2", "1", "0", "2"]
    stats = emulator.stats()
    assert stats.rate_limited == 0
    assert stats.announced_wait_seconds == pytest.approx(15.0, abs=0.01)
    assert stats.enforced_wait_seconds == stats.announced_wait_seconds


async def test_bot_mode_announces_a_default_bucket_on_every_route(
    discord_client: httpx.AsyncClient, emulator: Emulator
) -> None:
    plan(emulator, "mode=bot")
    response = await discord_client.get("/users/@me")
    assert response.headers["x-ratelimit-limit"] == "50"
    assert float(response.headers["x-ratelimit-reset"]) > 1_700_000_000


async def test_the_global_limit_is_per_token_and_flagged_global(
    discord_client: httpx.AsyncClient, emulator: Emulator
) -> None:
    plan(emulator, "global=3/1")
    statuses = [(await discord_client.get("/users/@me")).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = await discord_client.get("/users/@me")
    assert limited.json()["global"] is True
    assert limited.headers["x-ratelimit-global"] == "true"
    assert limited.headers["x-ratelimit-scope"] == "global"
    await anyio.sleep(1)
    assert (await discord_client.get("/users/@me")).status_code == 200


async def test_too_many_invalid_requests_bring_a_cloudflare_ban_until_they_age_out(
    discord_client: httpx.AsyncClient, emulator: Emulator
) -> None:
    plan(emulator, "invalid-limit=3")
    for _ in range(3):
        assert (
            await discord_client.get("/users/@me", headers={"Authorization": "x"})
        ).status_code == 401
    banned = await discord_client.get("/users/@me")
    assert banned.status_code == 429
    assert "Error 1015" in banned.text
    await anyio.sleep(601)
    assert (await discord_client.get("/users/@me")).status_code == 200


async def test_a_scope_aims_a_fault_at_one_client_or_route(
    discord_client: httpx.AsyncClient, emulator: Emulator
) -> None:
    plan(emulator, "5xx:dce,5xx:list@0x1")
    assert (await discord_client.get("/users/@me")).status_code == 200
    dce = await discord_client.get("/users/@me", headers={"X-Sandbox-Client": "dce"})
    assert dce.status_code == 502
    assert (await discord_client.get("/users/@me/channels")).status_code == 502
    assert (await discord_client.get("/users/@me/channels")).status_code == 200


async def test_the_fault_plan_can_be_read_and_replaced_over_http(
    discord_client: httpx.AsyncClient, emulator: Emulator
) -> None:
    url = "http://discord.sandbox/_sandbox/faults"
    assert (await discord_client.get(url)).json() == {"spec": ""}
    replaced = await discord_client.put(url, content="captcha@5,mode=bot")
    assert replaced.json() == {"spec": "captcha@5,mode=bot"}
    assert emulator.faults.plan.mode == "bot"
    refused = await discord_client.put(url, content="frobnicate")
    assert refused.status_code == 400
    assert "'frobnicate' is not a fault kind" in refused.json()["error"]
    assert emulator.faults.plan.mode == "bot", "a refused plan changes nothing"


async def test_the_dce_stand_in_learns_its_fault_per_attempt(
    discord_client: httpx.AsyncClient, emulator: Emulator
) -> None:
    plan(emulator, "dce-crash=42x1,dce-hang=7,dce-time-scale=0.01")
    ask = "http://discord.sandbox/_sandbox/dce/{}"
    assert (await discord_client.get(ask.format(42))).json() == {
        "fault": "crash",
        "time_scale": 0.01,
    }
    assert (await discord_client.get(ask.format(42))).json()["fault"] is None
    assert [(await discord_client.get(ask.format(7))).json()["fault"] for _ in range(2)] == [
        "hang", "hang",
    ]  # fmt: skip
    assert (await discord_client.get(ask.format(8))).json()["fault"] is None
    assert emulator.requests() == [], "control calls are not API requests"


async def test_cloudflare_40333_and_discords_202_not_ready(
    discord_client: httpx.AsyncClient, emulator: Emulator
) -> None:
    plan(emulator, "40333@0x1,202=3@0x1")  # 202 counts only what passes the network stage
    blocked = await discord_client.get("/users/@me")
    assert (blocked.status_code, blocked.json()) == (
        403, {"message": "internal network error", "code": 40333},
    )  # fmt: skip
    assert "via" not in blocked.headers
    pending = await discord_client.get("/users/@me")
    assert pending.status_code == 202
    assert (pending.json()["code"], pending.json()["retry_after"]) == (110000, 3.0)
    assert (await discord_client.get("/users/@me")).status_code == 200


async def test_waits_imposed_under_an_earlier_plan_stay_counted(
    discord_client: httpx.AsyncClient, emulator: Emulator
) -> None:
    plan(emulator, "429=2x1")
    await discord_client.get("/users/@me")
    plan(emulator, "")
    await discord_client.get("/users/@me")
    stats = emulator.stats()
    assert (stats.requests, stats.retry_after_seconds, stats.by_status) == (
        2, 2.0, {"200": 1, "429": 1},
    )  # fmt: skip
