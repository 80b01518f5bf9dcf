"""One contract, two sources: ``IndexArchive`` (the message index) and ``MemoryArchive``
(what the browser's other tests read) answer the ``Reader`` port alike.

The archive is real: a journal and DCE files (``tests.projections.history.chats``), read by
the index; the memory source holds the index's own records. Every check runs on both, and
the expected answers come from the DCE messages, not from either source.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from dmj.adapters import open_package
from dmj.machine.errors import UsageError
from dmj.projections.history import open_history, parse_query
from dmj.view import (
    Archive,
    Cursor,
    IndexArchive,
    MemoryArchive,
    Reader,
    page_after,
    page_around,
    page_before,
)

from tests.projections.history.archives import first_archive, two_run_archive
from tests.projections.history.chats import ME, Chat, dce_message, person, snowflake, write_archive
from tests.view.support import serve_viewer

ALICE = person("100", "alice", "Alice")
BOB = person("200", "bob", "Bob")
START = datetime(2024, 2, 1, tzinfo=UTC)
DM = [
    dce_message(snowflake(START + timedelta(minutes=n // 3), n % 3), (ME, ALICE)[n % 2],
                f"line {n} {'tea' if n % 5 else 'coffee'}")
    for n in range(40)
]  # fmt: skip
"""Alice's DM: 40 messages, three in each minute (same time, ids in order)."""
GROUP = [
    dce_message(snowflake(START + timedelta(hours=5)), BOB, "coffee at nine?"),
    dce_message(snowflake(START + timedelta(hours=6)), ALICE, "Coffee, yes", kind="Reply",
                reply_to=snowflake(START + timedelta(hours=5))),
]  # fmt: skip
DM_ID, GROUP_ID, GAP_ID = 1000, 2000, 3000


def ids(messages: Any) -> list[int]:
    return [m.id for m in messages]


def in_order(chat: list[dict[str, Any]]) -> list[int]:
    return sorted(int(m["id"]) for m in chat)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_archive(
        tmp_path_factory.mktemp("sources") / "archive",
        [Chat(str(DM_ID), (ALICE,), DM),
         Chat(str(GROUP_ID), (ALICE, BOB), GROUP, kind="group", name="Crew"),
         Chat(str(GAP_ID), (BOB,), fate="unreachable")],
    )  # fmt: skip


def index_source(root: Path) -> IndexArchive:
    return IndexArchive(
        root,
        zone=UTC,
        app="dmj test",
        clock=lambda: START,
        notice=lambda _: None,
        packages=open_package,
    )


def memory_source(root: Path) -> MemoryArchive:
    """The index's own records, held in lists."""
    with open_history(root, zone=UTC, notice=lambda _: None, packages=open_package) as history:
        everything = list(history.select(parse_query("")).messages())
        return MemoryArchive(history.conversations(), everything)


@pytest.fixture(scope="module", params=["index", "memory"])
def source(request: pytest.FixtureRequest, root: Path) -> Archive:
    archive: Archive = index_source(root) if request.param == "index" else memory_source(root)
    archive.refresh()
    return archive


@pytest.fixture
def reader(source: Archive) -> Iterator[Reader]:
    with source.read() as snapshot:
        yield snapshot


def test_every_conversation_is_listed_by_name_with_its_count_newest_time_and_verdict(
    reader: Reader,
) -> None:
    listed = [(c.id, c.name, c.messages, c.last_ts, c.verdict) for c in reader.conversations()]
    newest = {DM_ID: max(in_order(DM)), GROUP_ID: max(in_order(GROUP))}
    at = {c: reader.messages([i])[i].ts for c, i in newest.items()}
    assert listed == [
        (DM_ID, "Alice", 40, at[DM_ID], "exported"),
        (GAP_ID, "Bob", 0, None, "unreachable"),
        (GROUP_ID, "Crew", 2, at[GROUP_ID], "exported"),
    ]


@pytest.mark.parametrize("limit", [1, 7, 40, 50])
def test_older_pages_walk_a_conversation_from_its_newest_to_its_first_message(
    reader: Reader, limit: int
) -> None:
    seen: list[int] = []
    page = page_before(reader, DM_ID, None, limit)
    assert page.newer is None
    seen[:0] = ids(page.messages)
    while page.older is not None:
        page = page_before(reader, DM_ID, page.older, limit)
        assert page.newer == Cursor.of(page.messages[-1])
        seen[:0] = ids(page.messages)
    assert seen == in_order(DM)


@pytest.mark.parametrize("limit", [1, 6, 50])
def test_newer_pages_walk_it_from_its_first_to_its_newest_message(
    reader: Reader, limit: int
) -> None:
    page = page_around(reader, DM_ID, Cursor(0, 0), limit)
    assert page.older is None
    seen = ids(page.messages)
    while page.newer is not None:
        page = page_after(reader, DM_ID, page.newer, limit)
        assert page.older == Cursor.of(page.messages[0])
        seen += ids(page.messages)
    assert seen == in_order(DM)


def test_pages_beside_a_message_sent_in_the_same_instant_as_others_go_by_id(
    reader: Reader,
) -> None:
    """Three messages share each time: ``(ts, id)`` orders them, strictly, both ways."""
    order = in_order(DM)
    middle = reader.messages([order[4]])[order[4]]
    assert ids(reader.older(DM_ID, Cursor.of(middle), 2)) == order[2:4]
    assert ids(reader.newer(DM_ID, Cursor.of(middle), 2)) == order[5:7]


def test_around_a_message_centres_it_and_brings_what_its_replies_answer(reader: Reader) -> None:
    target = in_order(DM)[20]
    place = reader.locate(DM_ID, target)
    assert place is not None
    page = page_around(reader, DM_ID, place, 10)
    assert ids(page.messages) == in_order(DM)[15:25]
    assert page.focus == target
    reply = page_before(reader, GROUP_ID, None, 5)
    assert list(reply.replies) == [int(GROUP[0]["id"])]


def test_a_message_is_located_in_its_own_conversation_only(reader: Reader) -> None:
    target = in_order(GROUP)[0]
    found = reader.messages([target])[target]
    assert reader.locate(GROUP_ID, target) == Cursor(found.ts, target)
    assert reader.locate(DM_ID, target) is None
    assert reader.locate(DM_ID, 12345) is None
    assert reader.older(GAP_ID, None, 5) == []


def test_messages_by_id_are_those_the_archive_holds(reader: Reader) -> None:
    wanted = [in_order(DM)[0], in_order(GROUP)[1], 12345]
    found = reader.messages(wanted)
    assert sorted(found) == sorted(wanted[:2])
    assert found[wanted[1]].channel_path == "Group DMs > Crew"


def test_a_search_pages_its_matches_newest_first_across_conversations(reader: Reader) -> None:
    """A bare word, any case, whole words: what both sources understand alike."""
    matching = [int(m["id"]) for m in [*DM, *GROUP] if "coffee" in m["content"].lower()]
    expected = sorted(matching, reverse=True)
    pages, before = [], None
    while True:
        hits = reader.search("coffee", before, 3)
        assert (hits.count, hits.at_least) == (len(expected), False)
        if not hits.messages:
            break
        pages.append(ids(hits.messages))
        before = Cursor.of(hits.messages[-1])
    assert [i for page in pages for i in page] == expected
    assert [len(page) for page in pages] == [3, 3, 3, 1]
    assert hits.terms == ("coffee",)


def test_a_malformed_query_is_a_usage_error_saying_so(reader: Reader) -> None:
    with pytest.raises(UsageError, match="The query cannot be read"):
        reader.search("coffee frm:alice", None, 3)
    with pytest.raises(UsageError, match="The query cannot be read"):
        reader.export("coffee frm:alice", "json")


def test_the_index_counts_its_conversations_once_per_state_of_the_index(tmp_path: Path) -> None:
    """Counting a million messages takes tens of milliseconds: a reload that finds the index
    as it was reuses the count; one after a run recounts."""
    root = first_archive(tmp_path / "archive")
    archive = index_source(root)
    archive.refresh()
    with archive.read() as first, archive.read() as again:
        counted = first.conversations()
        assert again.conversations() is counted
    two_run_archive(root)  # the same archive, and a second run after the first
    archive.refresh()
    with archive.read() as later:
        recounted = later.conversations()
    assert recounted is not counted
    alice = {c.name: c.messages for c in recounted}["Alice W"]
    assert alice == {c.name: c.messages for c in counted}["Alice W"] + 1


def test_only_a_page_load_brings_the_viewer_up_to_date_with_the_archive(tmp_path: Path) -> None:
    """A run that archives more while the page is open shows on a reload of ``/``; the API
    requests in between read the index as the last page load left it (``dmj run`` may also
    bring the index up to date itself when it ends, so this is checked here, not end to end)."""
    root = first_archive(tmp_path / "archive")
    archive = index_source(root)
    archive.refresh()
    with serve_viewer(archive) as viewer, httpx.Client(base_url=viewer.origin) as client:
        assert client.get(viewer.url).status_code == 303  # the launch's cookie
        before = _listed(client)
        two_run_archive(root)  # a second run archives more while the page is open
        assert _listed(client) == before, "an API request does not refresh the index"
        assert client.get("/").status_code == 200
        after = _listed(client)
    assert after["Alice W"] == before["Alice W"] + 1


def _listed(client: httpx.Client) -> dict[str, int]:
    listed: Any = msgspec.json.decode(client.get("/api/conversations").content)
    return {c["name"]: c["messages"] for c in listed["conversations"]}
