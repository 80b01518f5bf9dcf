"""Worlds: seeded accounts holding every kind of DM dmj must handle, at any size."""

from __future__ import annotations

import base64
from collections import Counter
from pathlib import Path

import pytest
from dmj.machine.errors import UsageError
from dmj.sandbox import (
    DELETED_USER_ID,
    MessageLog,
    World,
    WorldSpec,
    build_world,
    load_world,
    save_world,
    world_facts,
)
from dmj.sandbox._snowflake import snowflake_ms


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(WorldSpec())


def test_a_tiny_world_has_every_fate(world: World) -> None:
    assert {c.fate for c in world.channels} == {
        "open", "readable", "reopen", "moved", "deleted", "gone", "silent",
        "moved-target", "duplicate", "group", "left-group",
    }  # fmt: skip


def test_fates_keep_their_proportions_at_scale() -> None:
    big = build_world(WorldSpec.sized(1200, messages=5))
    fates = Counter(c.fate for c in big.channels if c.type == 1)
    assert fates["open"] == fates["deleted"] == 200
    assert fates["readable"] == 200
    assert fates["reopen"] == 300
    assert fates["moved"] == fates["moved-target"] == fates["gone"] == fates["silent"] == 100
    assert fates["duplicate"] == 100
    assert Counter(c.fate for c in big.channels if c.type == 3) == {"group": 80, "left-group": 40}


def test_ids_are_unique_snowflakes_and_channels_are_sorted(world: World) -> None:
    ids = [c.id for c in world.channels]
    assert ids == sorted(ids, key=int)
    assert len(set(ids)) == len(ids)
    assert len({u.id for u in world.users} | {world.self_user.id}) == len(world.users) + 1
    for channel in world.channels:
        assert snowflake_ms(int(channel.id)) < channel.first_ms <= channel.last_ms


def test_the_token_encodes_the_owners_id_like_a_discord_user_token(world: World) -> None:
    first, middle, last = world.token.split(".")
    assert base64.b64decode(first + "==").decode() == world.self_user.id
    assert middle
    assert last


def test_fates_decide_how_each_channel_starts(world: World) -> None:
    by_fate = {c.fate: c for c in world.channels}
    assert by_fate["open"].open
    assert by_fate["silent"].open
    assert by_fate["group"].open
    assert not by_fate["silent"].in_package
    assert by_fate["readable"].closed_access == "ok"
    assert by_fate["moved"].closed_access == "not_found"
    assert by_fate["moved"].reopens_as == by_fate["moved-target"].id
    assert int(by_fate["moved-target"].id) > int(by_fate["moved"].id)
    assert not by_fate["left-group"].member
    gone = world.user(by_fate["gone"].recipients[0])
    assert gone is not None
    assert gone.gone
    accesses = {c.closed_access for c in world.channels if c.fate == "reopen"}
    assert accesses == {"forbidden", "not_found"}


def test_facts_name_what_a_correct_run_must_do(world: World) -> None:
    facts = world_facts(world)
    channels = {c.id: c for c in world.channels}
    package = {c.id for c in world.channels if c.in_package and c.fate != "duplicate"}
    assert set(facts.exports) | set(facts.unreachable) == package
    assert set(facts.exports).isdisjoint(facts.unreachable)
    assert all(channels[c].type == 3 for c in facts.group_dms)
    assert facts.reopens_elsewhere == {
        c.id: c.reopens_as for c in world.channels if c.fate == "moved"
    }
    for package_id, exported in facts.exports.items():
        assert facts.expected_messages[exported] == channels[exported].message_count
        assert exported == facts.reopens_elsewhere.get(package_id, package_id)
    assert {channels[c].fate for c in facts.unreachable} == {"gone", "deleted", "left-group"}
    assert set(facts.not_in_package) == {c.id for c in world.channels if c.fate == "silent"}
    assert set(facts.open_at_start) == {c.id for c in world.channels if c.open}
    gone_or_deleted = {c.recipients[0] for c in world.channels if c.fate in ("gone", "deleted")}
    assert set(facts.deleted_users) == gone_or_deleted


def test_deleted_accounts_are_users_the_api_shows_as_deleted(world: World) -> None:
    deleted = [u for u in world.users if u.deleted]
    assert deleted
    assert all(u.id != DELETED_USER_ID for u in deleted)


def test_a_world_saves_and_loads_unchanged(tmp_path: Path, world: World) -> None:
    save_world(world, tmp_path / "world.json")
    assert load_world(tmp_path / "world.json") == world


def test_loading_a_missing_or_malformed_world_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist; create a world"):
        load_world(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text('{"format": 1}')
    with pytest.raises(UsageError, match="is not a sandbox world"):
        load_world(tmp_path / "bad.json")


def test_a_benchmark_sized_world_is_a_channel_list_not_a_message_store() -> None:
    """10,000 DMs and about a million messages: the world holds channels only."""
    big = build_world(WorldSpec.sized(9000, messages=90))
    assert len(big.channels) > 10_000
    assert 900_000 < sum(c.message_count for c in big.channels) < 1_200_000


def test_messages_deleted_later_stay_in_the_package_and_are_never_served() -> None:
    spec = WorldSpec(users=12, deleted_later=1)
    world = build_world(spec)
    facts = world_facts(world)
    (channel_id, count) = next(iter(facts.deleted_later.items()))
    channel = next(c for c in world.channels if c.id == channel_id)
    log = MessageLog(world, channel)
    served = {log.id_at(i) for i in range(len(log))}
    package = [row[0] for row in log.package_rows()]
    assert (count, channel.fate in ("open", "readable")) == (2, True)
    assert len([i for i in package if i not in served]) == count
    assert package == sorted(package)
    assert facts.own_messages[channel_id] == len(package)
    assert facts.own_archivable[channel_id] == len(package) - count
    same = build_world(WorldSpec(users=12))
    assert [c.id for c in same.channels] == [c.id for c in world.channels], "nothing else moves"


def test_own_message_facts_follow_each_fate(world: World) -> None:
    facts = world_facts(world)
    for dm in facts.unreachable:
        assert facts.own_archivable[dm] == 0
    for moved in facts.reopens_elsewhere:
        assert facts.own_archivable[moved] == 0, "the old channel's messages are not served"
    for newest, older in facts.duplicates.items():
        logs = [MessageLog(world, c) for c in world.channels if c.id in (newest, *older)]
        assert facts.own_messages[newest] == sum(len(log.package_rows()) for log in logs)
