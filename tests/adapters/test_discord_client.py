"""The Discord client's own logic: requests, retries and rate limits, in virtual time."""

from __future__ import annotations

import json

import anyio
import httpx
import pytest
from dmj.adapters import FAST
from dmj.machine.errors import (
    DiscordPaused,
    InvariantBroken,
    RemoteError,
    RemoteUnavailable,
    UsageError,
)
from dmj.machine.events import ChannelInfo, UserInfo

from tests.adapters.fake_discord import (
    DM_CHANNEL,
    ME,
    TOKEN,
    Script,
    answer,
    discord,
    no_gaps,
    rate_limited,
)

pytestmark = [pytest.mark.anyio, pytest.mark.virtual_time]


async def test_me_sends_the_raw_token_and_reads_the_account() -> None:
    script = Script([answer(200, ME)])
    async with discord(script) as client:
        assert await client.me() == UserInfo(id=ME["id"], username="me", global_name="Me")
    [seen] = script.seen
    assert (seen.method, seen.path, seen.headers["authorization"]) == ("GET", "/users/@me", TOKEN)


async def test_open_dms_lists_dms_and_group_dms() -> None:
    group = {"id": "900000000000000002", "type": 3, "recipients": [], "name": "crew"}
    async with discord(Script([answer(200, [DM_CHANNEL, group])])) as client:
        channels = await client.open_dms()
    assert [(c.id, c.type) for c in channels] == [
        ("900000000000000001", 1),
        ("900000000000000002", 3),
    ]
    assert channels[0].recipients[0].username == "alice"


async def test_reopen_asks_for_exactly_one_recipient() -> None:
    script = Script([answer(200, DM_CHANNEL)])
    async with discord(script) as client:
        channel = await client.reopen_dm("222222222222222222")
    assert channel.id == "900000000000000001"
    [seen] = script.seen
    assert (seen.method, seen.path) == ("POST", "/users/@me/channels")
    assert json.loads(seen.body) == {"recipients": ["222222222222222222"]}
    assert seen.headers["content-type"] == "application/json"


async def test_reopen_refuses_a_recipient_that_is_not_a_user_id() -> None:
    script = Script([answer(200, DM_CHANNEL)])
    async with discord(script) as client:
        with pytest.raises(InvariantBroken, match="'Deleted User', which is not a user id"):
            await client.reopen_dm("Deleted User")
    assert script.seen == []


async def test_a_reopen_that_returns_a_group_dm_is_not_accepted() -> None:
    group = {**DM_CHANNEL, "type": 3}
    async with discord(Script([answer(200, group)])) as client:
        with pytest.raises(RemoteError, match="of type 3, not a DM; dmj will not touch it"):
            await client.reopen_dm("222222222222222222")


async def test_close_sends_delete_for_a_dm() -> None:
    script = Script([answer(200, DM_CHANNEL)])
    async with discord(script) as client:
        closed = await client.close_dm(ChannelInfo(id="900000000000000001", type=1))
    assert closed.id == "900000000000000001"
    assert [(s.method, s.path) for s in script.seen] == [("DELETE", "/channels/900000000000000001")]


@pytest.mark.parametrize(
    ("channel_id", "channel_type"),
    [("900000000000000002", 3), ("900000000000000002", 0), ("900000000000000002", 2),
     ("../users/@me", 1)],
)  # fmt: skip
async def test_close_refuses_anything_but_a_dm_before_any_request(
    channel_id: str, channel_type: int
) -> None:
    script = Script([answer(200, DM_CHANNEL)])
    async with discord(script) as client:
        with pytest.raises(InvariantBroken, match=r"only DMs \(type 1\) are ever closed"):
            await client.close_dm(ChannelInfo(id=channel_id, type=channel_type))
    assert script.seen == []


async def test_an_answer_of_the_wrong_shape_is_a_remote_error() -> None:
    async with discord(Script([answer(200, {"username": "no id"})])) as client:
        with pytest.raises(RemoteError, match=r"did not have the expected shape .*`id`"):
            await client.me()


async def test_a_429_storm_is_ridden_out_with_the_waits_discord_asks_for() -> None:
    script = Script(
        [
            rate_limited(1.5),
            rate_limited(0.25, is_global=True, scope="global"),
            answer(
                429,
                {"message": "You are being rate limited.", "global": False},
                **{"retry-after": "3"},
            ),
            rate_limited(7.0),
            answer(200, ME),
        ]
    )
    async with discord(script) as client:
        assert (await client.me()).id == ME["id"]
    assert script.waits() == [1.5, 0.25, 3.0, 7.0]


async def test_a_429_asking_for_too_long_pauses_at_once() -> None:
    script = Script([rate_limited(3600.0), answer(200, ME)])
    async with discord(script) as client:
        with pytest.raises(DiscordPaused, match=r"rate-limited .* last asking for 3600 s") as error:
            await client.me()
    assert (error.value.reason, error.value.status, len(script.seen)) == ("rate-limited", 429, 1)


async def test_endless_429s_pause_after_the_allowed_number() -> None:
    script = Script([rate_limited(1.0)])
    pacing = no_gaps(max_rate_limits=4)
    async with discord(script, pacing=pacing) as client:
        with pytest.raises(DiscordPaused, match=r"5 times in a row") as error:
            await client.me()
    assert error.value.reason == "rate-limited"
    assert len(script.seen) == 5


async def test_refusals_beyond_the_invalid_request_budget_pause_the_run() -> None:
    script = Script([rate_limited(0.5)])
    pacing = no_gaps(invalid_request_budget=3)
    async with discord(script, pacing=pacing) as client:
        with pytest.raises(DiscordPaused, match=r"refused 3 requests within 10 minutes") as error:
            await client.me()
    assert (error.value.reason, len(script.seen)) == ("invalid-request-budget", 3)


async def test_shared_scope_429s_do_not_count_against_the_budget() -> None:
    shared = rate_limited(0.5, scope="shared")
    script = Script([shared, shared, shared, answer(200, ME)])
    pacing = no_gaps(invalid_request_budget=2)
    async with discord(script, pacing=pacing) as client:
        assert (await client.me()).id == ME["id"]


async def test_the_budget_forgets_refusals_older_than_ten_minutes() -> None:
    script = Script(
        [rate_limited(400.0), rate_limited(400.0), rate_limited(400.0), answer(200, ME)]
    )
    pacing = no_gaps(invalid_request_budget=3)
    async with discord(script, pacing=pacing) as client:
        assert (await client.me()).id == ME["id"]


async def test_server_errors_are_retried_with_doubling_capped_backoff() -> None:
    script = Script([answer(502), answer(500), answer(503), answer(504), answer(200, ME)])
    pacing = no_gaps(backoff=(1.0, 5.0))
    async with discord(script, pacing=pacing) as client:
        assert (await client.me()).id == ME["id"]
    assert script.waits() == [1.0, 2.0, 4.0, 5.0]


async def test_server_errors_beyond_the_retries_make_discord_unavailable() -> None:
    script = Script([answer(503)])
    pacing = no_gaps(max_retries=2)
    async with discord(script, pacing=pacing) as client:
        with pytest.raises(RemoteUnavailable, match=r"kept failing .* \(HTTP 503, 2 retries\)"):
            await client.me()
    assert len(script.seen) == 3


async def test_connection_errors_are_retried_then_reported() -> None:
    script = Script([httpx.ConnectError("connection refused"), httpx.ReadTimeout("slow")])
    pacing = no_gaps(max_retries=3, backoff=(2, 60))
    async with discord(script, pacing=pacing) as client:
        with pytest.raises(RemoteUnavailable) as error:
            await client.me()
    assert str(error.value) == (
        "Discord could not be reached while reading your account (GET /users/@me) "
        "(ReadTimeout: slow), after 3 retries. Check the network connection, then run "
        "`dmj resume`."
    )
    assert script.waits() == [2.0, 4.0, 8.0]
    assert isinstance(error.value.__cause__, httpx.ReadTimeout)


async def test_a_broken_api_base_is_not_retried() -> None:
    script = Script([httpx.UnsupportedProtocol("Request URL has an unsupported protocol")])
    async with discord(script) as client:
        with pytest.raises(UsageError, match=r"cannot talk to the Discord API at .* DMJ_API_BASE"):
            await client.me()
    assert len(script.seen) == 1


async def test_not_ready_answers_are_retried_after_the_wait_given() -> None:
    not_ready = answer(202, {"message": "not ready", "code": 110000, "retry_after": 2.5})
    script = Script([not_ready, answer(200, ME)])
    async with discord(script) as client:
        assert (await client.me()).id == ME["id"]
    assert script.waits() == [2.5]


async def test_calls_run_one_at_a_time() -> None:
    in_flight, most = 0, 0

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await anyio.sleep(1)
        in_flight -= 1
        return answer(200, ME if request.url.path.endswith("@me") else [])

    async with discord(slow, pacing=FAST) as client, anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(client.me)
            tg.start_soon(client.open_dms)
    assert most == 1


async def test_an_announced_wait_is_capped_at_a_minute() -> None:
    exhausted = answer(200, ME, **{"x-ratelimit-remaining": "0", "x-ratelimit-reset-after": "3600"})
    script = Script([exhausted, answer(200, ME)])
    async with discord(script) as client:
        await client.me()
        await client.me()
    assert script.waits() == [60.0]


async def test_an_announced_limit_holds_back_only_its_own_route() -> None:
    exhausted = answer(200, ME, **{"x-ratelimit-remaining": "0", "x-ratelimit-reset-after": "5"})
    script = Script([exhausted, answer(200, []), answer(200, ME)])
    async with discord(script) as client:
        await client.me()
        await client.open_dms()
        await client.me()
    assert script.waits() == [0.0, 5.0]


@pytest.mark.parametrize(
    ("refusal", "readable"),
    [
        (answer(403, {"message": "Missing Access", "code": 50001}), False),
        (answer(403, {"message": "Missing Permissions", "code": 50013}), False),
        (answer(403, {"message": "Forbidden", "code": 0}), False),
        (answer(404, {"message": "Unknown Channel", "code": 10003}), False),
        (answer(200, []), True),
    ],
    ids=["missing-access", "missing-permissions", "unexplained-403", "unknown-channel", "ok"],
)
async def test_a_channel_the_account_may_not_read_is_unreadable_not_a_pause(
    refusal: httpx.Response, readable: bool
) -> None:
    script = Script([refusal])
    async with discord(script) as client:
        unreadable = await client.check_readable("900000000000000001")
    assert (unreadable is None) == readable
    assert [(s.method, s.path) for s in script.seen] == [
        ("GET", "/channels/900000000000000001/messages")
    ]


@pytest.mark.parametrize(
    ("answer_", "error"),
    [
        (answer(403, {"message": "verify", "code": 40002}), DiscordPaused),
        (answer(403, {"message": "Unknown Message", "code": 10008}), DiscordPaused),
        (httpx.Response(403, content=b"<html>cloudflare</html>"), DiscordPaused),
        (answer(401, {"message": "401: Unauthorized", "code": 0}), DiscordPaused),
        (answer(404, {"message": "404: Not Found", "code": 0}), RemoteError),
    ],
    ids=["verify", "anti-abuse", "cloudflare", "token-rejected", "unknown-route"],
)
async def test_a_check_answered_with_a_stop_still_stops(
    answer_: httpx.Response, error: type[Exception]
) -> None:
    async with discord(Script([answer_])) as client:
        with pytest.raises(error):
            await client.check_readable("900000000000000001")


async def test_a_check_refuses_what_is_not_a_channel_id_before_any_request() -> None:
    script = Script([answer(200, [])])
    async with discord(script) as client:
        with pytest.raises(InvariantBroken, match="not a channel id"):
            await client.check_readable("../users/@me")
    assert script.seen == []
