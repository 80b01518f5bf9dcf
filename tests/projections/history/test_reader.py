"""The reader API later readers page with: keyset pages inside a conversation, both ways,
a message's place, messages by id, and search pages (newest first) — never OFFSET."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dmj.adapters import open_package
from dmj.projections.history import History, Message, open_history, parse_query
from dmj.projections.history._sql import compile_query, page_sql, search_sql

from tests.projections.history.chats import ME, Chat, dce_message, person, snowflake, write_archive

ALICE = person("100", "alice", "Alice")
START = datetime(2024, 1, 1, tzinfo=UTC)
LONG = [
    dce_message(snowflake(START + timedelta(minutes=n // 2), n % 2), ME if n % 3 else ALICE,
                f"message {n} {'coffee' if n % 4 == 0 else 'tea'}")
    for n in range(25)
]  # fmt: skip
OTHER = [dce_message(snowflake(START + timedelta(hours=1)), ALICE, "coffee elsewhere")]


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return write_archive(
        tmp_path / "archive",
        [Chat("1000", (ALICE,), LONG), Chat("2000", (ALICE, person("200", "bob")), OTHER,
                                            kind="group", name="Crew")],
    )  # fmt: skip


@contextmanager
def history_of(archive: Path) -> Iterator[History]:
    with open_history(archive, zone=UTC, notice=lambda _: None, packages=open_package) as history:
        yield history


def ids(messages: list[Message]) -> list[str]:
    return [str(m.id) for m in messages]


def test_older_pages_walk_a_conversation_from_its_end_to_its_start(archive: Path) -> None:
    with history_of(archive) as history:
        pages, edge = [], None
        while page := history.older(1000, edge, 7):
            pages.append(page)
            edge = (page[0].ts, page[0].id)
    assert [len(p) for p in pages] == [7, 7, 7, 4]
    walked = [m for page in reversed(pages) for m in page]
    assert ids(walked) == [m["id"] for m in LONG], "chronological inside each page, no gap"


def test_newer_pages_walk_it_from_its_start_to_its_end(archive: Path) -> None:
    with history_of(archive) as history:
        first = history.newer(1000, None, 10)
        middle = history.newer(1000, (first[-1].ts, first[-1].id), 10)
        last = history.newer(1000, (middle[-1].ts, middle[-1].id), 10)
        assert history.newer(1000, (last[-1].ts, last[-1].id), 10) == []
    assert ids(first + middle + last) == [m["id"] for m in LONG]


def test_a_message_is_located_in_its_own_conversation_only(archive: Path) -> None:
    target = int(LONG[12]["id"])
    with history_of(archive) as history:
        place = history.locate(1000, target)
        assert place is not None
        assert ids(history.newer(1000, (place[0], place[1] - 1), 1)) == [str(target)]
        assert history.locate(2000, target) is None


def test_messages_by_id_finds_those_the_index_holds(archive: Path) -> None:
    wanted = [int(LONG[0]["id"]), int(OTHER[0]["id"]), 12345]
    with history_of(archive) as history:
        found = history.messages_by_id(wanted)
    assert sorted(found) == sorted(wanted[:2])
    assert found[int(OTHER[0]["id"])].channel_name == "Crew"


def test_search_pages_are_the_selection_newest_first_with_its_count(archive: Path) -> None:
    query = parse_query("coffee")
    with history_of(archive) as history:
        everything = list(history.select(query).messages())
        pages, edge = [], None
        while True:
            count, page = history.search(query, edge, 3)
            if not page:
                break
            pages.append(page)
            edge = (page[-1].ts, page[-1].id)
    assert count == len(everything) == 8
    assert [m.id for page in pages for m in page] == [m.id for m in reversed(everything)]


def test_a_page_is_an_index_seek_never_a_scan(archive: Path) -> None:
    with history_of(archive) as history:
        sql, params = page_sql(1000, (1, 2), older=True, limit=50)
        plan = " ".join(
            str(row[-1]) for row in history._conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        )
    assert "SEARCH m USING INDEX messages_channel (channel_id=? AND (ts,id)<(?,?))" in plan
    assert "OFFSET" not in sql


def test_a_search_can_stop_counting_and_still_pages_the_same_matches(archive: Path) -> None:
    """A search page counts no further than asked (the browser's bound): same page, and
    the count exact below the bound."""
    query = parse_query("coffee")
    with history_of(archive) as history:
        exact, page = history.search(query, None, 3)
        assert history.search(query, None, 3, count_up_to=5) == (5, page)
        assert history.search(query, None, 3, count_up_to=100) == (exact, page)
    assert exact == 8


def test_a_search_with_many_matches_walks_the_time_index_instead_of_sorting_them(
    archive: Path,
) -> None:
    """With ``MANY`` matches or more, sorting every one by time costs more the more common
    the word; walking the time index newest first stops at the page's end."""
    with history_of(archive) as history:
        compiled = compile_query(parse_query("coffee"), zone=UTC, owner=history.owner)
        for before in (None, (1, 2)):
            sql, params = search_sql(compiled, before, 50, probe=False, many=True)
            plan = " ".join(
                str(row[-1]) for row in history._conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            )
            assert "m USING INDEX messages_time" in plan
            assert "TEMP B-TREE" not in plan
