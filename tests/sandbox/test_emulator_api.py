"""The emulator's endpoints against discord-api.md: statuses, bodies, headers, state."""

from __future__ import annotations

import httpx
import pytest
from dmj.sandbox import DELETED_USER_ID, Emulator, World, WorldChannel, world_facts

pytestmark = pytest.mark.anyio


def by_fate(world: World, fate: str) -> WorldChannel:
    return next(c for c in world.channels if c.fate == fate)


def error(response: httpx.Response) -> tuple[int, dict[str, object]]:
    return response.status_code, response.json()


async def test_users_me_answers_the_owner_in_discords_json(
    discord_client: httpx.AsyncClient, emulator: Emulator
) -> None:
    response = await discord_client.get("/users/@me")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["via"] == "1.1 google"
    assert b'"id": "' in response.content
    assert b'", "username": "' in response.content
    me = response.json()
    assert (me["id"], me["username"], me["email"]) == (
        emulator.world.self_user.id, "sandbox.owner", "owner@sandbox.invalid",
    )  # fmt: skip
    assert "x-ratelimit-limit" not in response.headers


@pytest.mark.parametrize("token", [None, "wrong", "Bot {token}", "Bearer {token}"])
async def test_a_missing_or_wrong_token_is_401_unauthorized(
    discord_client: httpx.AsyncClient, emulator: Emulator, token: str | None
) -> None:
    headers = {} if token is None else {"Authorization": token.format(token=emulator.world.token)}
    discord_client.headers.pop("Authorization")
    response = await discord_client.get("/users/@me", headers=headers)
    assert error(response) == (401, {"message": "401: Unauthorized", "code": 0})


async def test_v10_is_served_and_other_versions_or_routes_are_404(
    discord_client: httpx.AsyncClient,
) -> None:
    assert (await discord_client.get("http://discord.sandbox/api/v10/users/@me")).status_code == 200
    for url in ("http://discord.sandbox/api/v8/users/@me", "/guilds/1", "/users/@me/nope"):
        response = await discord_client.get(url)
        assert error(response) == (404, {"message": "404: Not Found", "code": 0})
    response = await discord_client.put("/users/@me")
    assert error(response) == (405, {"message": "405: Method Not Allowed", "code": 0})


async def test_the_dm_list_holds_exactly_the_open_channels_without_the_owner(
    discord_client: httpx.AsyncClient, emulator: Emulator
) -> None:
    channels = (await discord_client.get("/users/@me/channels")).json()
    world = emulator.world
    assert {c["id"] for c in channels} == set(world_facts(world).open_at_start)
    assert all(world.self_user.id not in [u["id"] for u in c["recipients"]] for c in channels)
    dm = next(c for c in channels if c["type"] == 1)
    assert list(dm) == [
        "id", "type", "last_message_id", "flags", "is_message_request",
        "is_message_request_timestamp", "is_spam", "recipients",
    ]  # fmt: skip
    group = next(c for c in channels if c["type"] == 3)
    assert {"name", "icon", "owner_id", "blocked_user_warning_dismissed"} <= set(group)


async def test_reading_a_channel_by_id_follows_its_fate(
    discord_client: httpx.AsyncClient, emulator: Emulator
) -> None:
    world = emulator.world
    for fate in ("open", "readable", "group"):
        response = await discord_client.get(f"/channels/{by_fate(world, fate).id}")
        assert response.status_code == 200, fate
    forbidden = next(
        c for c in world.channels if c.fate == "reopen" and c.closed_access == "forbidden"
    )
    missing = next(
        c for c in world.channels if c.fate == "reopen" and c.closed_access == "not_found"
    )
    left = by_fate(world, "left-group")
    assert (await discord_client.get(f"/channels/{forbidden.id}")).status_code == 200
    missing_access = (403, {"message": "Missing Access", "code": 50001})
    assert error(await discord_client.get(f"/channels/{left.id}")) == missing_access
    for channel in (forbidden, left):
        response = await discord_client.get(f"/channels/{channel.id}/messages")
        assert error(response) == missing_access
    for channel_id in (missing.id, world.users[0].id):
        response = await discord_client.get(f"/channels/{channel_id}")
        assert error(response) == (404, {"message": "Unknown Channel", "code": 10003})


async def test_reopening_returns_the_users_dm_and_lists_it(
    discord_client: httpx.AsyncClient, emulator: Emulator
) -> None:
    closed = by_fate(emulator.world, "reopen")
    response = await discord_client.post(
        "/users/@me/channels", json={"recipients": [closed.recipients[0]]}
    )
    assert response.status_code == 200
    assert response.json()["id"] == closed.id
    listed = {c["id"] for c in (await discord_client.get("/users/@me/channels")).json()}
    assert closed.id in listed
    assert (await discord_client.get(f"/channels/{closed.id}/messages")).status_code == 200
    again = await discord_client.post(
        "/users/@me/channels", json={"recipient_id": closed.recipients[0]}
    )
    assert again.json()["id"] == closed.id, "one recipient: idempotent"


async def test_a_moved_dm_reopens_under_its_newer_channel_id(
    discord_client: httpx.AsyncClient, emulator: Emulator
) -> None:
    moved = by_fate(emulator.world, "moved")
    response = await discord_client.post(
        "/users/@me/channels", json={"recipients": list(moved.recipients)}
    )
    assert response.json()["id"] == moved.reopens_as != moved.id
    assert (await discord_client.get(f"/channels/{moved.id}")).status_code == 404


@pytest.mark.parametrize("who", ["deleted", "gone", "placeholder", "unknown"])
async def test_reopening_a_deleted_or_unknown_user_is_400_invalid_recipients(
    discord_client: httpx.AsyncClient, emulator: Emulator, who: str
) -> None:
    user_id = {
        "deleted": next(u.id for u in emulator.world.users if u.deleted),
        "gone": next(u.id for u in emulator.world.users if u.gone),
        "placeholder": DELETED_USER_ID,
        "unknown": "123456789012345678",
    }[who]
    response = await discord_client.post("/users/@me/channels", json={"recipients": [user_id]})
    assert error(response) == (400, {"message": "Invalid Recipient(s)", "code": 50033})


async def test_a_malformed_open_request_is_a_form_or_json_error(
    discord_client: httpx.AsyncClient,
) -> None:
    missing = await discord_client.post("/users/@me/channels", json={})
    status, body = error(missing)
    assert (status, body["code"], body["message"]) == (400, 50035, "Invalid Form Body")
    assert body["errors"] == {
        "recipient_id": {
            "_errors": [{"code": "BASE_TYPE_REQUIRED", "message": "This field is required"}]
        }
    }
    broken = await discord_client.post(
        "/users/@me/channels", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert error(broken) == (
        400,
        {"message": "The request body contains invalid JSON.", "code": 50109},
    )
    untyped = await discord_client.post("/users/@me/channels", content=b'{"recipients": []}')
    assert error(untyped)[1]["code"] == 50035


async def test_zero_or_several_recipients_create_a_new_group_each_time(
    discord_client: httpx.AsyncClient, emulator: Emulator
) -> None:
    friends = [u.id for u in emulator.world.users if not (u.deleted or u.gone)][:2]
    first = (await discord_client.post("/users/@me/channels", json={"recipients": friends})).json()
    second = (await discord_client.post("/users/@me/channels", json={"recipients": friends})).json()
    empty = (await discord_client.post("/users/@me/channels", json={"recipients": []})).json()
    assert first["type"] == second["type"] == empty["type"] == 3
    assert len({first["id"], second["id"], empty["id"]}) == 3
    assert sorted(u["id"] for u in first["recipients"]) == sorted(friends)


async def test_closing_a_dm_unlists_it_and_closing_a_group_leaves_it(
    discord_client: httpx.AsyncClient, emulator: Emulator
) -> None:
    dm, group = by_fate(emulator.world, "open"), by_fate(emulator.world, "group")
    closed = await discord_client.delete(f"/channels/{dm.id}")
    assert (closed.status_code, closed.json()["id"], closed.json()["type"]) == (200, dm.id, 1)
    left = await discord_client.delete(f"/channels/{group.id}")
    assert left.status_code == 200
    listed = {c["id"] for c in (await discord_client.get("/users/@me/channels")).json()}
    assert dm.id not in listed
    assert group.id not in listed
    assert (await discord_client.get(f"/channels/{group.id}")).status_code == 403
    assert (await discord_client.delete(f"/channels/{group.id}")).status_code == 404
    unknown = await discord_client.delete("/channels/123456789012345678")
    assert error(unknown) == (404, {"message": "Unknown Channel", "code": 10003})
    assert emulator.book.left >= {group.id}


async def test_messages_page_newest_first_with_limits_and_cursors(
    discord_client: httpx.AsyncClient, emulator: Emulator
) -> None:
    channel = by_fate(emulator.world, "open")
    url = f"/channels/{channel.id}/messages"
    default = (await discord_client.get(url)).json()
    assert len(default) == min(50, channel.message_count)
    ids = [int(m["id"]) for m in default]
    assert ids == sorted(ids, reverse=True)
    oldest = (await discord_client.get(url, params={"after": 0, "limit": 3})).json()
    assert [m["id"] for m in oldest] == sorted((m["id"] for m in oldest), key=int, reverse=True)
    after = (await discord_client.get(url, params={"after": oldest[0]["id"], "limit": 2})).json()
    assert all(int(m["id"]) > int(oldest[0]["id"]) for m in after)
    assert len(after) == 2
    before = (await discord_client.get(url, params={"before": ids[0], "limit": 100})).json()
    assert int(before[0]["id"]) == ids[1]
    assert len((await discord_client.get(url, params={"limit": 1})).json()) == 1


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"limit": 0}, "NUMBER_TYPE_MIN"),
        ({"limit": 101}, "NUMBER_TYPE_MAX"),
        ({"limit": "x"}, "NUMBER_TYPE_COERCE"),
        ({"after": "yesterday"}, "NUMBER_TYPE_COERCE"),
    ],
)
async def test_out_of_range_message_parameters_are_400_invalid_form_body(
    discord_client: httpx.AsyncClient, emulator: Emulator, params: dict[str, str | int], code: str
) -> None:
    channel = by_fate(emulator.world, "open")
    response = await discord_client.get(f"/channels/{channel.id}/messages", params=params)
    status, body = error(response)
    assert (status, body["code"]) == (400, 50035)
    field = next(iter(params))
    assert body["errors"][field]["_errors"][0]["code"] == code  # type: ignore[index]


async def test_the_request_log_records_api_calls_but_not_sandbox_control_calls(
    discord_client: httpx.AsyncClient, emulator: Emulator
) -> None:
    await discord_client.get("/users/@me")
    await discord_client.get("/channels/1/messages", params={"limit": 5})
    await discord_client.get("http://discord.sandbox/_sandbox/stats")
    await discord_client.get("/users/@me", headers={"X-Sandbox-Client": "dce"})
    log = emulator.requests()
    assert [(e.method, e.path, e.query, e.status, e.client) for e in log] == [
        ("GET", "/api/v9/users/@me", "", 200, "dmj"),
        ("GET", "/api/v9/channels/1/messages", "limit=5", 404, "dmj"),
        ("GET", "/api/v9/users/@me", "", 200, "dce"),
    ]
    assert all(e.at.endswith("Z") and len(e.at) == len("2024-05-04T18:02:11.337Z") for e in log)
    served = (await discord_client.get("http://discord.sandbox/_sandbox/requests")).json()
    assert [(e["method"], e["path"], e["status"]) for e in served] == [
        (e.method, e.path, e.status) for e in log
    ]


async def test_new_messages_arrive_after_the_worlds_and_move_the_last_message_id(
    discord_client: httpx.AsyncClient, emulator: Emulator
) -> None:
    channel = by_fate(emulator.world, "open")
    old_last = (await discord_client.get(f"/channels/{channel.id}")).json()["last_message_id"]
    added = await discord_client.post(
        "http://discord.sandbox/_sandbox/messages", json={"channel_id": channel.id, "count": 7}
    )
    assert added.json() == {"channel_id": channel.id, "messages": channel.message_count + 7}
    fresh = (await discord_client.get(f"/channels/{channel.id}")).json()["last_message_id"]
    assert int(fresh) > int(old_last)
    new = (
        await discord_client.get(f"/channels/{channel.id}/messages", params={"after": old_last})
    ).json()
    assert new[0]["id"] == fresh
    assert len(new) == 7
    assert emulator.book.grown[channel.id].count == 7
    state = (await discord_client.get("http://discord.sandbox/_sandbox/state")).json()
    assert state["grown"] == {channel.id: 7}
    refused = await discord_client.post(
        "http://discord.sandbox/_sandbox/messages", json={"channel_id": "1", "count": 1}
    )
    assert refused.status_code == 400
