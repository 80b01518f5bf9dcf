"""Messages: generated on demand, ids matching timestamps, pages like Discord's."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from dmj.sandbox import MessageLog, World, WorldChannel, WorldSpec, build_world
from dmj.sandbox._messages import Growth
from dmj.sandbox._snowflake import api_timestamp, snowflake_ms
from hypothesis import given, settings
from hypothesis import strategies as st


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(WorldSpec(messages=400))


def busiest(world: World, kind: int) -> WorldChannel:
    return max((c for c in world.channels if c.type == kind), key=lambda c: c.message_count)


def test_ids_grow_and_encode_each_messages_timestamp(world: World) -> None:
    log = MessageLog(world, busiest(world, 1))
    messages = [log.message(i) for i in range(len(log))]
    ids = [int(m["id"]) for m in messages]
    assert ids == sorted(set(ids))
    for message in messages:
        assert message["timestamp"] == api_timestamp(snowflake_ms(int(message["id"])))
    assert log.last_id == ids[-1]


def test_the_same_message_is_generated_the_same_way_twice(world: World) -> None:
    channel = busiest(world, 1)
    assert MessageLog(world, channel).message(7) == MessageLog(world, channel).message(7)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_pages_match_discords_rules_for_any_cursor(world: World, data: st.DataObject) -> None:
    log = MessageLog(world, busiest(world, 1))
    ids = [log.id_at(i) for i in range(len(log))]
    cursor = data.draw(
        st.one_of(st.sampled_from(ids), st.integers(ids[0] - 10**12, ids[-1] + 10**12))
    )
    limit = data.draw(st.integers(1, 100))

    def page_ids(**kw: int) -> list[int]:
        return [int(m["id"]) for m in log.page(limit=limit, **kw)]

    assert (
        page_ids(after=cursor)
        == sorted((i for i in ids if i > cursor), reverse=False)[:limit][::-1]
    )
    assert page_ids(before=cursor) == sorted(i for i in ids if i < cursor)[-limit:][::-1]
    around = page_ids(around=cursor)
    assert around == sorted(around, reverse=True)
    assert len(around) == min(limit, len(ids))
    if cursor in ids:
        assert cursor in around


def test_a_page_without_cursor_holds_the_newest_messages_first(world: World) -> None:
    log = MessageLog(world, busiest(world, 1))
    newest = [int(m["id"]) for m in log.page(limit=50)]
    assert newest == [log.id_at(i) for i in range(len(log) - 1, len(log) - 51, -1)]


def test_dm_messages_cover_what_an_archiver_meets(world: World) -> None:
    log = MessageLog(world, busiest(world, 1))
    messages = [log.message(i) for i in range(len(log))]
    kinds = Counter(m["type"] for m in messages)
    assert {0, 3, 6, 19} <= set(kinds)
    runs = {len(r) for m in messages for r in re.findall("`+", m["content"])}
    assert {3, 4, 5, 6} <= runs
    assert any(m["edited_timestamp"] for m in messages)
    assert any(m["attachments"] and not m["content"] for m in messages)
    assert any(ord(ch) > 0xFFFF for m in messages for ch in m["content"]), "astral emoji"
    reply = next(m for m in messages if m["type"] == 19)
    assert reply["referenced_message"]["id"] == reply["message_reference"]["message_id"]
    call = next(m for m in messages if m["type"] == 3)
    assert call["call"]["ended_timestamp"] > call["timestamp"]
    authors = {m["author"]["id"] for m in messages}
    assert world.self_user.id in authors
    assert len(authors) == 2


def test_group_messages_include_membership_and_rename_notices(world: World) -> None:
    log = MessageLog(world, busiest(world, 3))
    kinds = {log.message(i)["type"] for i in range(len(log))}
    assert {1, 2, 4} <= kinds


def test_the_package_lists_only_the_owners_own_messages(world: World) -> None:
    channel = busiest(world, 1)
    log = MessageLog(world, channel)
    rows = [r for i in range(len(log)) if (r := log.package_row(i))]
    everything = [log.message(i) for i in range(len(log))]
    mine = [
        m for m in everything if m["author"]["id"] == world.self_user.id and m["type"] in (0, 19)
    ]
    assert [r[0] for r in rows] == [int(m["id"]) for m in mine]
    assert [r[2] for r in rows] == [m["content"] for m in mine]


def test_a_dm_the_owner_never_wrote_in_has_no_owner_messages(world: World) -> None:
    silent = next(c for c in world.channels if c.fate == "silent")
    log = MessageLog(world, silent)
    assert len(log) > 0
    assert all(log.message(i)["author"]["id"] != world.self_user.id for i in range(len(log)))


def test_messages_sent_later_follow_the_worlds_and_page_like_the_rest(world: World) -> None:
    channel = busiest(world, 1)
    before = MessageLog(world, channel)
    grown = MessageLog(world, channel, Growth(world.now_ms + 86_400_000, 250))
    assert len(grown) == len(before) + 250
    ids = [grown.id_at(i) for i in range(len(grown))]
    assert ids == sorted(set(ids))
    assert ids[: len(before)] == [before.id_at(i) for i in range(len(before))]
    assert grown.last_id == ids[-1]
    for position in (0, len(before) - 1, len(before), len(before) + 100, len(ids) - 1):
        assert grown.count_before(ids[position]) == position
        assert grown.count_through(ids[position]) == position + 1
    newest = [int(m["id"]) for m in grown.page(limit=100, after=before.last_id or 0)]
    assert newest == ids[len(before) : len(before) + 100][::-1]
