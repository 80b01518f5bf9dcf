"""A failed write or sync is fatal: never acknowledged, never retried, nothing written after.

PostgreSQL's fsync lesson (durability.md A3): after a failed fsync the kernel may have
dropped the dirty pages, so a retry can "succeed" with the data gone.
"""

from __future__ import annotations

import errno
from pathlib import Path
from typing import NoReturn

import pytest
from dmj.journal import (
    DMJ_SCHEMA,
    FailingStorage,
    Failpoints,
    JournalWriter,
    OsStorage,
    encode_line,
    read_events,
)
from dmj.machine.errors import JournalWriteFailed, UsageError
from dmj.machine.events import RunPaused
from msgspec.structs import replace

from tests.journal.support import RUN, START, RecordingStorage, TickingClock, torn_files


def event(reason: str) -> RunPaused:
    return RunPaused(run=RUN, reason=reason)


def test_a_failed_fsync_is_fatal_and_nothing_later_is_written(tmp_path: Path) -> None:
    recording = RecordingStorage()
    # ops: open, sync, sync_dir (creation); write 4, sync 5 (record 1); write 6, sync 7 (record 2)
    failing = FailingStorage(recording, at_op=7, action="eio")
    with JournalWriter.open(tmp_path / "journal.jsonl", storage=failing) as journal:
        journal.append(event("one"))
        with pytest.raises(JournalWriteFailed) as caught:
            journal.append(event("two"))
        assert journal.last_seq == 1, "record 2 was not acknowledged"
        ops_after_failure = len(recording.ops)
        with pytest.raises(JournalWriteFailed, match="is not written to any more: writing"):
            journal.append(event("three"))
        assert len(recording.ops) == ops_after_failure, "no write, no retried sync"
    assert str(caught.value) == (
        f"writing record 2 to {tmp_path / 'journal.jsonl'} failed (injected failure of sync "
        "(failpoint)); the record was not acknowledged and dmj stops writing. Check the disk "
        "(free space, errors in the system log), then run `dmj resume`: the journal "
        "continues from its last good record."
    )
    assert isinstance(caught.value.__cause__, OSError)
    assert caught.value.__cause__.errno == errno.EIO
    assert [e.seq for e in read_events(tmp_path / "journal.jsonl")][:1] == [1]


class ShortWrites(OsStorage):
    """Writes only the first 10 bytes of anything, as a full disk might."""

    def write(self, fd: int, data: bytes) -> int:
        return super().write(fd, data[:10])


def test_a_short_write_is_fatal_and_its_fragment_is_cut_off(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    with JournalWriter.open(path, storage=ShortWrites()) as journal:
        with pytest.raises(JournalWriteFailed, match=r"\(short write: 10 of \d+ bytes\)"):
            journal.append(event("one"))
        with pytest.raises(JournalWriteFailed):
            journal.append(event("two"))
        assert journal.last_seq == 0
    assert path.read_bytes() == b""
    with JournalWriter.open(path) as journal:
        assert (journal.last_seq, journal.recovery) == (0, None)


def test_a_failed_sync_cuts_the_unacknowledged_line_off_the_file(tmp_path: Path) -> None:
    """The kernel may serve the line from memory while its page never reaches the disk: a
    next writer must not take it for a record and append after it."""
    path = tmp_path / "journal.jsonl"
    recording = RecordingStorage()
    with JournalWriter.open(path, storage=FailingStorage(recording, at_op=7, action="eio")) as w:
        w.append(event("one"))
        acknowledged = path.read_bytes()
        with pytest.raises(JournalWriteFailed):
            w.append(event("two"))
        assert path.read_bytes() == acknowledged
    assert recording.ops[-3:] == [f"truncate {len(acknowledged)}", "sync", "close"]
    with JournalWriter.open(path) as journal:
        assert (journal.last_seq, journal.recovery) == (1, None)


class DyingDisk(OsStorage):
    """A disk that fails every sync and truncate once ``dead`` (writes still land in memory)."""

    dead = False

    def sync(self, fd: int) -> None:
        if self.dead:
            raise OSError(errno.EIO, "Input/output error")
        super().sync(fd)

    def truncate(self, fd: int, length: int) -> None:
        if self.dead:
            raise OSError(errno.EIO, "Input/output error")
        super().truncate(fd, length)


def test_when_the_cut_fails_too_the_next_writer_sets_the_unacknowledged_line_aside(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.jsonl"
    disk = DyingDisk()
    with JournalWriter.open(path, storage=disk, clock=TickingClock()) as journal:
        journal.append(event("one"))
        acknowledged = path.read_bytes()
        disk.dead = True
        with pytest.raises(JournalWriteFailed):
            journal.append(event("two"))
    unacknowledged = path.read_bytes()[len(acknowledged) :]
    assert [e.seq for e in read_events(path)] == [1, 2], "the line reads as a record"
    with JournalWriter.open(path, clock=TickingClock()) as journal:
        assert journal.last_seq == 1
        assert journal.recovery is not None
        assert journal.recovery.message == (
            f"{path} ended in a record whose write or sync failed (line 2, "
            f"{len(unacknowledged)} bytes, never acknowledged); it was moved to "
            f"{tmp_path}/journal.torn-20260314T150926Z and the journal continues after line 1."
        )
        journal.append(event("two again"))
    assert torn_files(tmp_path) == {"journal.torn-20260314T150926Z": unacknowledged}
    assert [getattr(e, "reason", None) for e in read_events(path)] == ["one", "two again"]
    assert (tmp_path / "journal.lock").read_bytes() == b"", "the note was dealt with"


def test_a_note_about_a_journal_since_replaced_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    disk = DyingDisk()
    with JournalWriter.open(path, storage=disk) as journal:
        journal.append(event("one"))
        disk.dead = True
        with pytest.raises(JournalWriteFailed):
            journal.append(event("two"))
    restored = tmp_path / "restored.jsonl"
    restored.write_bytes(path.read_bytes())
    restored.replace(path)  # restored from a backup: another file
    with JournalWriter.open(path) as journal:
        assert (journal.last_seq, journal.recovery) == (2, None)


def test_a_failed_write_is_fatal(tmp_path: Path) -> None:
    failing = FailingStorage(OsStorage(), at_op=4, action="eio")
    with (
        JournalWriter.open(tmp_path / "journal.jsonl", storage=failing) as journal,
        pytest.raises(JournalWriteFailed, match="injected failure of write"),
    ):
        journal.append(event("one"))
    assert (tmp_path / "journal.jsonl").read_bytes() == b""


def test_a_failed_sync_while_creating_the_journal_is_fatal(tmp_path: Path) -> None:
    failing = FailingStorage(OsStorage(), at_op=3, action="eio")  # the directory sync
    with pytest.raises(JournalWriteFailed, match=r"creating .*journal\.jsonl failed"):
        JournalWriter.open(tmp_path / "journal.jsonl", storage=failing)
    with JournalWriter.open(tmp_path / "journal.jsonl"):
        pass  # the lock was released


def test_a_failure_while_setting_a_torn_tail_aside_touches_nothing_acknowledged(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.jsonl"
    with JournalWriter.open(path) as journal:
        journal.append(event("one"))
    data = path.read_bytes() + b"torn"
    path.write_bytes(data)
    failing = FailingStorage(OsStorage(), at_op=4, action="eio")  # sync of the copy
    with pytest.raises(JournalWriteFailed, match=r"ends in a torn write .*\(line 2\) that could"):
        JournalWriter.open(path, storage=failing)
    assert path.read_bytes() == data
    assert torn_files(tmp_path) == {}, "an unsynced copy is no copy: it was removed"


class FullDisk(OsStorage):
    """A disk with no room left: every write fails with ENOSPC."""

    def write(self, fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_torn_tail_that_cannot_be_copied_on_a_full_disk_leaves_no_empty_copy(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.jsonl"
    with JournalWriter.open(path) as journal:
        journal.append(event("one"))
    data = path.read_bytes() + b"torn"
    path.write_bytes(data)
    with pytest.raises(JournalWriteFailed, match=r"\(No space left on device\); nothing ackn"):
        JournalWriter.open(path, storage=FullDisk())
    assert path.read_bytes() == data
    assert torn_files(tmp_path) == {}
    with JournalWriter.open(path) as journal:
        assert journal.recovery is not None, "a later writer with room sets it aside"
    assert torn_files(tmp_path) == {journal.recovery.saved_to.rsplit("/", 1)[1]: b"torn"}


class Crashed(Exception):
    pass


def crash() -> NoReturn:
    raise Crashed


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("", Failpoints()),
        ("after-record=3", Failpoints(after_record=3)),
        ("crash-at-op=7", Failpoints(at_op=7, action="crash")),
        ("tear-at-op=2", Failpoints(at_op=2, action="tear")),
        ("eio-at-op=5, after-record=1", Failpoints(after_record=1, at_op=5, action="eio")),
    ],
)
def test_failpoint_specs_are_parsed(spec: str, expected: Failpoints) -> None:
    assert Failpoints.parse(spec) == expected


@pytest.mark.parametrize(
    "spec", ["bogus", "after-record=", "crash-at-op=0", "tear-at-op=x", "crash-at-op=1,eio-at-op=2"]
)
def test_a_bad_failpoint_spec_is_a_usage_error(spec: str) -> None:
    with pytest.raises(UsageError, match=r"the failpoint spec .* is not understood; use"):
        Failpoints.parse(spec)


def test_a_tearing_failpoint_writes_the_first_half_then_crashes(tmp_path: Path) -> None:
    storage = Failpoints.parse("tear-at-op=4").storage(OsStorage(), crash=crash)
    path = tmp_path / "journal.jsonl"
    with (
        JournalWriter.open(path, storage=storage, clock=TickingClock()) as journal,
        pytest.raises(Crashed),
    ):
        journal.append(event("one"))
    line = encode_line(DMJ_SCHEMA.encoder, replace(event("one"), v=1, seq=1, at=START))
    assert path.read_bytes() == line[: len(line) // 2]


def test_no_failpoint_means_the_storage_is_used_as_is() -> None:
    storage = OsStorage()
    assert Failpoints().storage(storage) is storage


def test_the_after_record_failpoint_fires_once_that_record_is_acknowledged() -> None:
    fired: list[int] = []

    def note() -> NoReturn:
        fired.append(1)
        raise Crashed

    failpoints = Failpoints(after_record=2)
    failpoints.acknowledged(1, crash=note)
    with pytest.raises(Crashed):
        failpoints.acknowledged(2, crash=note)
    assert fired == [1]
