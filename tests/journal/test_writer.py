"""Appending: stamping, durability order, file modes, and what opening a journal requires."""

from __future__ import annotations

import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import msgspec
import pytest
from dmj.journal import JournalWriter, read_events
from dmj.machine.errors import InvariantBroken, JournalError, JournalNotFound
from dmj.machine.events import NOT_JOURNALED, RunPaused

from tests.journal.support import RUN, RecordingStorage, TickingClock, sample_events


def test_append_stamps_version_seq_and_time_and_returns_the_record(tmp_path: Path) -> None:
    event = RunPaused(run=RUN, reason="token rejected")
    assert (event.seq, event.at) == (0, NOT_JOURNALED)
    with JournalWriter.open(tmp_path / "journal.jsonl", clock=TickingClock()) as journal:
        first = journal.append(event)
        second = journal.append(event)
        assert journal.last_seq == 2
    assert first == msgspec.structs.replace(
        event, v=1, seq=1, at=datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)
    )
    assert (second.seq, second.at - first.at) == (2, timedelta(seconds=1))
    assert list(read_events(tmp_path / "journal.jsonl")) == [first, second]


def test_a_new_journal_starts_at_seq_zero_and_a_reopened_one_continues(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    with JournalWriter.open(path) as journal:
        assert (journal.last_seq, journal.recovery) == (0, None)
        for event in sample_events(3):
            journal.append(event)
    with JournalWriter.open(path) as journal:
        assert (journal.last_seq, journal.recovery) == (3, None)
        assert journal.append(sample_events(4)[3]).seq == 4
    assert [event.seq for event in read_events(path)] == [1, 2, 3, 4]


def test_the_record_is_written_whole_and_synced_before_it_is_acknowledged(
    tmp_path: Path,
) -> None:
    storage = RecordingStorage()
    with JournalWriter.open(tmp_path / "journal.jsonl", storage=storage) as journal:
        storage.ops.clear()
        acked = journal.append(RunPaused(run=RUN, reason="rate limit"))
        ops_at_ack = list(storage.ops)
    line = (tmp_path / "journal.jsonl").read_bytes()
    assert ops_at_ack == [f"write {len(line)}", "sync"], "one write of the whole line, one sync"
    assert acked.seq == 1


def test_creating_the_journal_syncs_the_file_and_its_directory(tmp_path: Path) -> None:
    storage = RecordingStorage()
    with JournalWriter.open(tmp_path / "journal.jsonl", storage=storage):
        pass
    assert storage.ops == [
        "open_append journal.jsonl created=True",
        "sync",
        f"sync_dir {tmp_path.name}",
        "close",
    ]


def test_reopening_an_existing_journal_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    with JournalWriter.open(path) as journal:
        journal.append(RunPaused(run=RUN, reason="x"))
    storage = RecordingStorage()
    with JournalWriter.open(path, storage=storage):
        pass
    assert storage.ops == ["open_append journal.jsonl created=False", "close"]


def test_journal_and_lock_files_are_private_to_the_user(tmp_path: Path) -> None:
    with JournalWriter.open(tmp_path / "journal.jsonl") as journal:
        journal.append(RunPaused(run=RUN, reason="x"))
    for name in ("journal.jsonl", "journal.lock"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name


def test_a_missing_archive_directory_is_not_created_and_the_error_says_so(
    tmp_path: Path,
) -> None:
    archive = tmp_path / "no-such-archive"
    with pytest.raises(JournalNotFound) as caught:
        JournalWriter.open(archive / "journal.jsonl")
    assert not archive.exists()
    assert str(caught.value) == (
        f"the archive directory {archive} does not exist, so journal.jsonl cannot be written "
        "there; check the --archive path, or start a new archive with `dmj run`."
    )


def test_a_journal_path_that_cannot_be_opened_is_a_clear_journal_error(tmp_path: Path) -> None:
    (tmp_path / "journal.jsonl").mkdir()
    with pytest.raises(JournalError, match=r"cannot open .*journal.jsonl for writing \(Is a"):
        JournalWriter.open(tmp_path / "journal.jsonl")
    with JournalWriter.open(tmp_path / "other.jsonl"):
        pass  # the failed open released its lock


def test_the_clock_may_be_in_any_zone_and_is_journaled_in_utc(tmp_path: Path) -> None:
    paris = timezone(timedelta(hours=1))
    clock = TickingClock(datetime(2026, 3, 14, 16, 9, 26, tzinfo=paris))
    with JournalWriter.open(tmp_path / "journal.jsonl", clock=clock) as journal:
        acked = journal.append(RunPaused(run=RUN, reason="x"))
    assert acked.at == datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)
    assert b'"at":"2026-03-14T15:09:26Z"' in (tmp_path / "journal.jsonl").read_bytes()


def test_a_naive_clock_is_a_bug_and_nothing_is_written(tmp_path: Path) -> None:
    with JournalWriter.open(tmp_path / "journal.jsonl", clock=datetime.now) as journal:
        with pytest.raises(InvariantBroken, match="naive datetime"):
            journal.append(RunPaused(run=RUN, reason="x"))
        assert journal.last_seq == 0
    assert (tmp_path / "journal.jsonl").read_bytes() == b""


def test_appending_after_close_is_a_bug(tmp_path: Path) -> None:
    journal = JournalWriter.open(tmp_path / "journal.jsonl")
    journal.close()
    journal.close()  # idempotent
    with pytest.raises(InvariantBroken, match="used after close"):
        journal.append(RunPaused(run=RUN, reason="x"))
    assert "closed" in repr(journal)


def test_a_child_process_does_not_inherit_the_lock(tmp_path: Path) -> None:
    """DCE runs as a child of dmj: it must not keep the journal locked after dmj is done.

    ``close_fds=False`` lets the child inherit every descriptor not marked close-on-exec.
    The child says "ready" once it runs Python: its exec (which closes close-on-exec
    descriptors) is then complete.
    """
    path = tmp_path / "journal.jsonl"
    journal = JournalWriter.open(path)
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; print('ready', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        close_fds=False,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == b"ready\n"
        journal.close()
        with JournalWriter.open(path) as again:
            assert again.last_seq == 0
    finally:
        child.communicate(b"", timeout=30)


def test_an_event_with_text_that_is_not_unicode_is_a_bug_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    """Text decoded with surrogateescape (say, a child's stderr) cannot be valid UTF-8 JSON."""
    with JournalWriter.open(tmp_path / "journal.jsonl") as journal:
        with pytest.raises(InvariantBroken, match=r"a RunPaused event cannot be journaled \("):
            journal.append(RunPaused(run=RUN, reason="bad \udc80 byte"))
        assert journal.append(RunPaused(run=RUN, reason="fine")).seq == 1
