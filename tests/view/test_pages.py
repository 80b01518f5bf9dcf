"""Pages of a conversation: keyset cursors both ways, around a message, around a time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dmj.view import Cursor, MemoryArchive, page_after, page_around, page_before

from tests.view.worlds import ALICE_DM, GROUP, LONG, START, STEP, everyday_archive, long_dm

ALL = long_dm()


@pytest.fixture
def reader() -> MemoryArchive:
    return everyday_archive()


def numbers(page_messages: tuple[object, ...]) -> list[int]:
    return [ALL.index(m) for m in page_messages]  # type: ignore[arg-type]


def test_the_first_page_is_the_newest_and_ends_the_conversation(reader: MemoryArchive) -> None:
    page = page_before(reader, ALICE_DM, None, 50)
    assert numbers(page.messages) == list(range(LONG - 50, LONG))
    assert page.older == Cursor.of(ALL[LONG - 50])
    assert page.newer is None


def test_walking_older_visits_every_message_once_and_stops_at_the_start(
    reader: MemoryArchive,
) -> None:
    seen: list[int] = []
    page = page_before(reader, ALICE_DM, None, 70)
    seen[:0] = numbers(page.messages)
    while page.older is not None:
        page = page_before(reader, ALICE_DM, page.older, 70)
        seen[:0] = numbers(page.messages)
        assert page.newer == Cursor.of(page.messages[-1])
    assert seen == list(range(LONG))


def test_walking_newer_from_the_start_visits_every_message_once(reader: MemoryArchive) -> None:
    page = page_around(reader, ALICE_DM, Cursor(0, 0), 40)
    assert page.older is None
    seen = numbers(page.messages)
    while page.newer is not None:
        page = page_after(reader, ALICE_DM, page.newer, 40)
        assert page.older == Cursor.of(page.messages[0])
        seen += numbers(page.messages)
    assert seen == list(range(LONG))


def test_around_a_message_centres_and_focuses_it(reader: MemoryArchive) -> None:
    target = ALL[300]
    page = page_around(reader, ALICE_DM, Cursor.of(target), 50)
    assert numbers(page.messages) == list(range(275, 325))
    assert page.focus == target.id
    assert page.older == Cursor.of(ALL[275])
    assert page.newer == Cursor.of(ALL[324])


def test_around_the_first_message_has_no_older_page(reader: MemoryArchive) -> None:
    page = page_around(reader, ALICE_DM, Cursor.of(ALL[0]), 50)
    assert numbers(page.messages) == list(range(25))
    assert (page.older, page.focus) == (None, ALL[0].id)


def test_around_a_time_focuses_the_first_message_at_or_after_it(reader: MemoryArchive) -> None:
    at = START + 99 * STEP + timedelta(minutes=1)
    page = page_around(reader, ALICE_DM, Cursor(int(at.timestamp()) * 1_000_000, 0), 10)
    assert page.focus == ALL[100].id
    assert numbers(page.messages) == list(range(95, 105))


def test_around_a_time_after_the_last_message_focuses_the_last(reader: MemoryArchive) -> None:
    page = page_around(reader, ALICE_DM, Cursor(2**62, 0), 10)
    assert page.focus == ALL[-1].id
    assert (page.newer, numbers(page.messages)) == (None, list(range(LONG - 5, LONG)))


def test_a_page_brings_the_messages_its_replies_answer(reader: MemoryArchive) -> None:
    page = page_before(reader, GROUP, None, 1)
    assert page.messages[0].reply_to is None
    page = page_before(reader, GROUP, page.older, 1)
    answered = page.messages[0].reply_to
    assert answered is not None
    assert page.replies[answered].content == "Who books the **flat**?"


def test_an_unknown_or_empty_conversation_is_an_empty_page(reader: MemoryArchive) -> None:
    for channel in (999, 303):
        page = page_before(reader, channel, None, 50)
        assert (page.messages, page.older, page.newer) == ((), None, None)


@pytest.mark.parametrize("text", ["", "1", "a_1", "1_a", "1_2_3", "1__2", "99999999999999999999_1"])
def test_a_cursor_that_is_not_one_does_not_parse(text: str) -> None:
    assert Cursor.parse(text) is None


def test_a_cursor_reads_back_what_it_writes() -> None:
    cursor = Cursor(1_709_283_600_000_000, 1_213_158_887_919_206_400)
    assert Cursor.parse(str(cursor)) == cursor
    assert Cursor.parse("-5_0") == Cursor(-5, 0)


def test_an_archive_without_messages_lists_its_conversations_only() -> None:
    assert page_before(MemoryArchive([], []), 1, None, 5).messages == ()
