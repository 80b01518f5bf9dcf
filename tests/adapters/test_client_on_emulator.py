"""The Discord client against the sandbox emulator over real HTTP on loopback."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from random import Random

import httpx
import pytest
from dmj.adapters import FAST, DiscordClient, Pacing
from dmj.machine.errors import (
    DiscordPaused,
    InvariantBroken,
    RemoteError,
    RemoteUnavailable,
    SkipDm,
)
from dmj.machine.events import ChannelInfo
from dmj.sandbox import RunningEmulator, Sandbox, world_facts

from tests.adapters.emulated import channel_with_fate, user_with_fate
from tests.adapters.fake_discord import no_gaps

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def client(api_base: str, token: str, pacing: Pacing = FAST) -> AsyncIterator[DiscordClient]:
    """A ``DiscordClient`` on ``api_base`` over real HTTP."""
    async with httpx.AsyncClient() as http:
        yield DiscordClient(http, token, random=Random(1), pacing=pacing, api_base=api_base)


async def test_me_and_the_open_dms_are_the_worlds(
    sandbox: Sandbox, emulator_server: RunningEmulator
) -> None:
    world = sandbox.world
    async with client(emulator_server.base_url, world.token) as discord:
        me = await discord.me()
        open_dms = await discord.open_dms()
    assert (me.id, me.username, me.global_name) == (
        world.self_user.id,
        world.self_user.username,
        world.self_user.global_name,
    )
    assert {c.id for c in open_dms} == set(world_facts(world).open_at_start)
    assert {c.type for c in open_dms} == {1, 3}


async def test_reopen_then_close_a_dm(sandbox: Sandbox, emulator_server: RunningEmulator) -> None:
    user = user_with_fate(sandbox.world, "reopen")
    async with client(emulator_server.base_url, sandbox.world.token) as discord:
        channel = await discord.reopen_dm(user)
        assert channel.id in {c.id for c in await discord.open_dms()}
        closed = await discord.close_dm(channel)
        assert channel.id not in {c.id for c in await discord.open_dms()}
    assert (channel.type, [r.id for r in channel.recipients]) == (1, [user])
    assert closed.id == channel.id
    calls = [(r.method, r.path, r.status) for r in emulator_server.requests()]
    assert calls[0] == ("POST", "/api/v9/users/@me/channels", 200)
    assert calls[2] == ("DELETE", f"/api/v9/channels/{channel.id}", 200)


async def test_a_moved_dm_reopens_under_its_new_channel_id(
    sandbox: Sandbox, emulator_server: RunningEmulator
) -> None:
    world = sandbox.world
    moved = channel_with_fate(world, "moved")
    async with client(emulator_server.base_url, world.token) as discord:
        channel = await discord.reopen_dm(user_with_fate(world, "moved"))
    assert channel.id == world_facts(world).reopens_elsewhere[moved] != moved


async def test_reopening_a_gone_user_is_a_skip(
    sandbox: Sandbox, emulator_server: RunningEmulator
) -> None:
    async with client(emulator_server.base_url, sandbox.world.token) as discord:
        with pytest.raises(SkipDm) as skip:
            await discord.reopen_dm(user_with_fate(sandbox.world, "gone"))
    assert (skip.value.reason, skip.value.status, skip.value.code) == (
        "invalid-recipient",
        400,
        50033,
    )


async def test_closing_an_unknown_channel_is_a_skip(
    sandbox: Sandbox, emulator_server: RunningEmulator
) -> None:
    async with client(emulator_server.base_url, sandbox.world.token) as discord:
        with pytest.raises(SkipDm) as skip:
            await discord.close_dm(ChannelInfo(id="100000000000000000", type=1))
    assert (skip.value.reason, skip.value.status, skip.value.code) == ("not-found", 404, 10003)


async def test_closing_a_group_dm_is_refused_before_any_request(
    sandbox: Sandbox, emulator_server: RunningEmulator
) -> None:
    group = next(c for c in sandbox.world.channels if c.type == 3 and c.open)
    async with client(emulator_server.base_url, sandbox.world.token) as discord:
        with pytest.raises(InvariantBroken, match="closing a group DM leaves it for good"):
            await discord.close_dm(ChannelInfo(id=group.id, type=3))
        assert group.id in {c.id for c in await discord.open_dms()}
    assert [r.method for r in emulator_server.requests()] == ["GET"]


async def test_a_wrong_token_pauses(sandbox: Sandbox, emulator_server: RunningEmulator) -> None:
    async with client(emulator_server.base_url, "not-the-token") as discord:
        with pytest.raises(DiscordPaused, match="Discord rejected the token") as pause:
            await discord.me()
    assert (pause.value.reason, pause.value.status) == ("token-rejected", 401)


async def test_a_wrong_api_base_is_a_remote_error_naming_it(
    sandbox: Sandbox, emulator_server: RunningEmulator
) -> None:
    async with client(emulator_server.root_url + "/api/v0", sandbox.world.token) as discord:
        with pytest.raises(RemoteError, match=r"HTTP 404, code 0.*Check that DMJ_API_BASE"):
            await discord.me()


def closed_port() -> int:
    """A loopback port nobody listens on (it was just bound and released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_nobody_listening_makes_discord_unavailable_after_retries(sandbox: Sandbox) -> None:
    pacing = no_gaps(max_retries=2, backoff=(0.01, 0.02))
    nowhere = f"http://127.0.0.1:{closed_port()}/api/v9"
    async with client(nowhere, sandbox.world.token, pacing) as discord:
        with pytest.raises(RemoteUnavailable, match=r"ConnectError.*after 2 retries") as error:
            await discord.me()
    assert error.value.status is None


async def test_a_channel_is_checked_readable_with_one_request(
    sandbox: Sandbox, emulator_server: RunningEmulator
) -> None:
    world = sandbox.world
    facts = world_facts(world)
    forbidden = next(
        c.id for c in world.channels if c.fate == "reopen" and c.closed_access == "forbidden"
    )
    missing = next(
        c.id for c in world.channels if c.fate == "reopen" and c.closed_access == "not_found"
    )
    async with client(emulator_server.base_url, world.token) as discord:
        assert await discord.check_readable(facts.readable_closed[0]) is None
        refused = await discord.check_readable(forbidden)
        gone = await discord.check_readable(missing)
    assert refused is not None
    assert gone is not None
    assert (refused.status, refused.code, gone.status, gone.code) == (403, 50001, 404, 10003)
    assert refused.message == (
        "Discord forbids reading this channel (HTTP 403, code 50001), so DCE was not started "
        f"for channel {forbidden}. The channel cannot be read as it is."
    )
    assert gone.message.startswith("Discord does not find this channel (HTTP 404, code 10003)")
    calls = [(r.method, r.path, r.query, r.status) for r in emulator_server.requests()]
    assert calls == [
        ("GET", f"/api/v9/channels/{facts.readable_closed[0]}/messages", "limit=1", 200),
        ("GET", f"/api/v9/channels/{forbidden}/messages", "limit=1", 403),
        ("GET", f"/api/v9/channels/{missing}/messages", "limit=1", 404),
    ]
