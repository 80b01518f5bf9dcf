"""index.sqlite: a projection of the journal and its exports, rebuilt whenever it cannot be
trusted, brought up to date by its readers, never under the journal's lock."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
from datetime import UTC
from pathlib import Path

import pytest
from dmj.adapters import open_package
from dmj.journal import JournalWriter, read_events
from dmj.machine.events import ChannelExported
from dmj.projections.history import (
    INDEX,
    Conversation,
    Gap,
    Message,
    Query,
    open_history,
    parse_query,
    rebuild_index,
    refresh_index,
)
from dmj.projections.history import _index as index_module

from tests.projections.history.archives import (
    EDITED,
    EDITED_AGAIN,
    FIRST,
    GROUP_1,
    GROUP_2,
    HELLO,
    LATER,
    PICTURE,
    REPLY,
    SECOND,
    first_archive,
    two_run_archive,
)
from tests.projections.history.chats import Chat, write_archive

EVERYTHING = parse_query("")


def select(archive: Path, query: Query = EVERYTHING, order: str = "time") -> list[Message]:
    with open_history(archive, zone=UTC, notice=lambda _: None, packages=open_package) as history:
        return list(history.select(query, order).messages())  # type: ignore[arg-type]


def contents(archive: Path, query: str = "") -> list[str]:
    return [m.content for m in select(archive, parse_query(query))]


def snapshot(archive: Path) -> tuple[list[Message], list[Conversation], list[Gap]]:
    """Everything a reader can see: the messages, the conversations, the gaps."""
    with open_history(archive, zone=UTC, notice=lambda _: None, packages=open_package) as history:
        selection = history.select(EVERYTHING)
        return list(selection.messages()), history.conversations(), list(selection.gaps)


def test_every_exported_message_is_indexed_once_in_time_order(tmp_path: Path) -> None:
    archive = two_run_archive(tmp_path / "archive")
    messages = select(archive)
    expected = [HELLO, GROUP_1, REPLY, PICTURE, EDITED_AGAIN, GROUP_2, LATER]
    assert [str(m.id) for m in messages] == [m["id"] for m in expected]
    assert [m.content for m in messages] == [m["content"] for m in expected]


def test_a_later_export_of_a_message_replaces_the_earlier_copy_and_its_words(
    tmp_path: Path,
) -> None:
    archive = two_run_archive(tmp_path / "archive")
    edited = [m for m in select(archive) if str(m.id) == EDITED["id"]]
    assert [m.content for m in edited] == ["see you at 8"]
    assert edited[0].edited_at == EDITED_AGAIN["timestampEdited"]
    assert contents(archive, "8") == ["see you at 8"]
    assert contents(archive, '"at 7"') == [], "the old copy's words are gone from the index"


def test_a_refresh_ingests_only_the_exports_recorded_since_the_last_one(tmp_path: Path) -> None:
    archive = first_archive(tmp_path / "archive")
    built = refresh_index(archive, notice=lambda _: None, packages=open_package)
    assert built.built == "it is missing"
    assert contents(archive, "8") == []
    write_archive(tmp_path / "archive", FIRST, runs=[SECOND])  # appends run 2 to the journal
    caught_up = refresh_index(archive, notice=lambda _: None, packages=open_package)
    assert (caught_up.built, caught_up.exports) == (None, 2)
    assert caught_up.through_seq > built.through_seq
    assert contents(archive, "8") == ["see you at 8"]


def test_an_index_built_at_once_equals_one_brought_up_to_date_run_by_run(tmp_path: Path) -> None:
    step_by_step = first_archive(tmp_path / "a")
    refresh_index(step_by_step, notice=lambda _: None, packages=open_package)
    write_archive(step_by_step, FIRST, runs=[SECOND])
    at_once = two_run_archive(tmp_path / "b")
    assert snapshot(step_by_step) == snapshot(at_once)


def test_an_unchanged_journal_is_not_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = first_archive(tmp_path / "archive")
    first = refresh_index(archive, notice=lambda _: None, packages=open_package)

    def fail(*_: object, **__: object) -> None:
        raise AssertionError("the journal was read")

    monkeypatch.setattr(index_module, "read_journal", fail)
    assert refresh_index(
        archive, notice=lambda _: None, packages=open_package
    ) == index_module.Refresh(through_seq=first.through_seq)


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        ("delete", "it is missing"),
        ("garbage", "it cannot be read"),
        ("schema", "it was written by another dmj (index schema 99)"),
        ("unfinished", "it was never finished"),
    ],
)
def test_an_index_that_cannot_be_trusted_is_rebuilt_with_a_one_line_notice(
    tmp_path: Path, damage: str, why: str
) -> None:
    archive = two_run_archive(tmp_path / "archive")
    before = snapshot(archive)
    index = archive / INDEX
    if damage == "delete":
        index.unlink()
    elif damage == "garbage":
        index.write_bytes(b"this is not a database" * 100)
    else:
        with sqlite3.connect(index) as conn:
            if damage == "schema":
                conn.execute("PRAGMA user_version = 99")
            else:
                conn.execute("DELETE FROM meta WHERE key = 'through_seq'")
    notices: list[str] = []
    refresh_index(archive, notice=notices.append, packages=open_package)
    assert len(notices) == 1
    assert notices[0].startswith(f"Building the message index {index}: {why}")
    assert snapshot(archive) == before


def test_an_index_of_another_journal_is_rebuilt(tmp_path: Path) -> None:
    archive = two_run_archive(tmp_path / "archive")
    refresh_index(archive, notice=lambda _: None, packages=open_package)
    other = first_archive(tmp_path / "other")
    for name in ("journal.jsonl", "exports"):
        (archive / name).rename(tmp_path / f"old-{name}")
        (other / name).rename(archive / name)
    notices: list[str] = []
    refresh_index(archive, notice=notices.append, packages=open_package)
    assert notices == [
        f"Building the message index {archive / INDEX}: it does not match journal.jsonl "
        "(was the journal replaced?)."
    ]
    assert contents(archive, "8") == []


CRASH = """
import os, sys
from pathlib import Path
from dmj.adapters import open_package
from dmj.projections.history import _index, _ingest, _worker
_worker.WORKER_BYTES = int(sys.argv[2])
calls = []
def insert(self, rows, channel):
    calls.append(1)
    if len(calls) == 2:
        os._exit(137)  # as a kill -9 would: no rollback, no cleanup
    original(self, rows, channel)
original = _ingest.Loader.insert
_ingest.Loader.insert = insert
_index.refresh_index(Path(sys.argv[1]), notice=print, packages=open_package)
"""
READERS = pytest.mark.parametrize("worker_bytes", [1 << 60, 0], ids=["here", "worker"])
"""The exports read in the process writing the index, or in a worker process."""


def crash_mid_ingest(archive: Path, worker_bytes: int) -> None:
    """A refresh killed after its first batch of rows (``worker_bytes``: see ``READERS``)."""
    command = [sys.executable, "-c", CRASH, str(archive), str(worker_bytes)]
    done = subprocess.run(command, check=False, capture_output=True)
    assert done.returncode == 137, done.stderr.decode()


@READERS
def test_a_crash_mid_build_leaves_no_index_and_the_next_reader_builds_it(
    tmp_path: Path, worker_bytes: int
) -> None:
    archive = two_run_archive(tmp_path / "archive")
    crash_mid_ingest(archive, worker_bytes)
    assert not (archive / INDEX).exists(), "a half-built index is never put in place"
    assert list(archive.glob(f".{INDEX}.*.build")), "the crashed build left its private file"
    assert [m.content for m in select(archive)][-1] == LATER["content"]
    assert not list(archive.glob(f".{INDEX}.*.build")), "the next build removed it"


@READERS
def test_a_crash_mid_ingest_leaves_the_previous_index_and_the_next_reader_catches_up(
    tmp_path: Path, worker_bytes: int
) -> None:
    archive = first_archive(tmp_path / "archive")
    before = refresh_index(archive, notice=lambda _: None, packages=open_package)
    write_archive(archive, FIRST, runs=[SECOND])
    crash_mid_ingest(archive, worker_bytes)
    with sqlite3.connect(archive / INDEX) as conn:
        seq = conn.execute("SELECT value FROM meta WHERE key = 'through_seq'").fetchone()[0]
        rows = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    assert (seq, rows) == (before.through_seq, 6), "the interrupted refresh changed nothing"
    assert contents(archive, "8") == ["see you at 8"], "the next reader ingests run 2"
    assert contents(archive, '"at 7"') == []


def test_an_export_that_cannot_be_read_is_reported_and_the_rest_is_indexed(
    tmp_path: Path,
) -> None:
    archive = first_archive(tmp_path / "archive")
    broken = sorted((archive / "exports" / "2000").glob("*/*.json"))[0]
    broken.write_text('{"channel": {"id": "2000"}, "messages": [', encoding="utf-8")
    notices: list[str] = []
    with open_history(archive, zone=UTC, notice=notices.append, packages=open_package) as history:
        texts = [m.content for m in history.select(EVERYTHING).messages()]
    assert texts == [m["content"] for m in (HELLO, REPLY, PICTURE, EDITED)]
    folder = broken.parent.relative_to(archive).as_posix()
    assert notices[1].startswith(f"The export {folder} (journal record ")
    assert notices[1].endswith("its messages are missing from the index.")


def test_readers_never_take_the_journal_lock_and_ignore_a_record_being_written(
    tmp_path: Path,
) -> None:
    archive = two_run_archive(tmp_path / "archive")
    with JournalWriter.open(archive / "journal.jsonl") as writer:
        with (archive / "journal.jsonl").open("ab") as journal:
            journal.write(b'{"type":"BatchStarted","v":1,"seq":')  # half a line, in flight
        assert [m.content for m in select(archive)][-1] == LATER["content"]
        assert writer.last_seq > 0


def test_a_snapshot_stays_the_same_while_the_index_moves_on(tmp_path: Path) -> None:
    archive = first_archive(tmp_path / "archive")
    with open_history(archive, zone=UTC, notice=lambda _: None, packages=open_package) as history:
        write_archive(archive, FIRST, runs=[SECOND])
        refresh_index(archive, notice=lambda _: None, packages=open_package)
        selection = history.select(EVERYTHING)
        assert [m.content for m in selection.messages()][-1] == GROUP_2["content"]
        assert selection.count == 6
    assert contents(archive)[-1] == LATER["content"]


def test_the_index_and_its_companion_files_are_private(tmp_path: Path) -> None:
    archive = first_archive(tmp_path / "archive")
    with open_history(archive, zone=UTC, notice=lambda _: None, packages=open_package):
        files = [p for p in archive.glob(f"{INDEX}*") if p.is_file()]
        assert {p.name for p in files} >= {INDEX, f"{INDEX}-wal", f"{INDEX}-shm"}
        assert {stat.S_IMODE(p.stat().st_mode) for p in files} == {0o600}


def test_replay_builds_the_index_from_scratch_and_says_so(tmp_path: Path) -> None:
    archive = two_run_archive(tmp_path / "archive")
    before = snapshot(archive)
    with sqlite3.connect(archive / INDEX) as conn:
        conn.execute("DELETE FROM messages")
    rebuilt = rebuild_index(archive, notice=lambda _: None, packages=open_package)
    assert rebuilt.built == "rebuilt"
    assert snapshot(archive) == before


def test_an_archive_without_a_journal_is_a_usage_error(tmp_path: Path) -> None:
    from dmj.machine.errors import JournalNotFound  # noqa: PLC0415

    with pytest.raises(JournalNotFound, match="There is no dmj archive at"):
        refresh_index(tmp_path / "nowhere", notice=lambda _: None, packages=open_package)
    assert not (tmp_path / "nowhere").exists()


def test_messages_with_every_kind_of_detail_come_back_as_archived(tmp_path: Path) -> None:
    archive = first_archive(tmp_path / "archive")
    by_id = {str(m.id): m for m in select(archive)}
    picture = by_id[PICTURE["id"]]
    assert (picture.content, picture.attachments[0].file_name) == ("", "IMG 1.png")
    assert picture.attachments[0].size_bytes == 2_483_991
    assert by_id[REPLY["id"]].created_at == REPLY["timestamp"], "the offset as archived"
    assert by_id[REPLY["id"]].created_at.endswith("+02:00")
    mentioned = by_id[GROUP_1["id"]]
    assert [(p.id, p.name) for p in mentioned.mentions] == [("42", "Me")]
    answer = by_id[GROUP_2["id"]]
    assert (answer.kind, answer.reply_to) == ("Reply", int(GROUP_1["id"]))
    assert by_id[EDITED["id"]].edited_at == EDITED["timestampEdited"]


def test_only_the_files_an_export_records_are_read(tmp_path: Path) -> None:
    archive = first_archive(tmp_path / "archive")
    folder = sorted((archive / "exports" / "1000").iterdir())[0]
    (folder / "notes.json").write_text("not DCE's", encoding="utf-8")  # not in the record
    notices: list[str] = []
    with open_history(archive, zone=UTC, notice=notices.append, packages=open_package) as history:
        assert history.select(EVERYTHING).count == 6
    assert len(notices) == 1, "only the index being built; no export problem"


def test_an_incremental_export_that_found_nothing_new_adds_nothing(tmp_path: Path) -> None:
    quiet = [Chat(c.channel, c.people, [], c.fate, c.kind, c.name) for c in FIRST]
    archive = write_archive(tmp_path / "archive", FIRST, runs=[quiet])
    recorded = [e for e in read_events(archive / "journal.jsonl") if isinstance(e, ChannelExported)]
    assert [e.path for e in recorded[-2:]] == ["", ""], "run 2 kept no folder"
    notices: list[str] = []
    with open_history(archive, zone=UTC, notice=notices.append, packages=open_package) as history:
        assert history.select(EVERYTHING).count == 6
    assert len(notices) == 1
