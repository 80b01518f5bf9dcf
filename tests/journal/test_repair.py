"""``dmj repair``'s part of the journal: reading what follows damage, and setting it aside."""

from __future__ import annotations

import errno
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dmj.journal import (
    JournalWriter,
    OsStorage,
    check_journal,
    line_offset,
    read_rest,
    set_rest_aside,
)
from dmj.machine.errors import JournalError, JournalLocked
from dmj.machine.events import ChannelExported, RunPaused

from tests.journal.support import RUN, line_starts, sample_events, write_journal


def clock() -> datetime:
    return datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)


def damaged(journal: Path, count: int, line: int, position: int = 20) -> bytes:
    """A journal of ``count`` sample records with one byte of ``line`` changed."""
    write_journal(journal, sample_events(count))
    data = bytearray(journal.read_bytes())
    data[line_starts(bytes(data))[line - 1] + position] ^= 0x01
    journal.write_bytes(bytes(data))
    return bytes(data)


def test_what_follows_the_damage_is_read_record_by_record(journal: Path) -> None:
    data = damaged(journal, 7, line=4, position=60)  # inside ExportRequested's "at": still JSON
    offset = line_starts(data)[3]
    rest = read_rest(journal, offset, 4)
    assert [line.line for line in rest] == [4, 5, 6, 7]
    assert sum(line.length for line in rest) == len(data) - offset
    first, *records = rest
    assert (first.event, first.problem) == (None, "checksum mismatch")
    assert first.guess == {"type": "ExportRequested", "seq": 4, "run": RUN, "batch": 0,
                           "user_id": "111", "channel_id": "900"}  # fmt: skip
    assert [type(line.event).__name__ for line in records] == [
        "ChannelExported", "DmCloseRequested", "DmClosed",
    ]  # fmt: skip
    assert isinstance(records[0].event, ChannelExported)
    assert records[0].event.path == "exports/900/0001"


def test_a_damaged_line_that_no_longer_parses_still_gives_its_type_if_it_can(
    journal: Path,
) -> None:
    write_journal(journal, sample_events(2))
    journal.write_bytes(journal.read_bytes() + b'{"type":"DmClosed","v":1,"seq":3,"at":"2026-0')
    [torn] = read_rest(journal, line_starts(journal.read_bytes())[2], 3)
    assert (torn.problem, torn.guess) == ("cut short", {"type": "DmClosed"})


def test_line_offsets_are_where_lines_start(journal: Path) -> None:
    write_journal(journal, sample_events(5))
    data = journal.read_bytes()
    assert [line_offset(journal, n) for n in range(1, 7)] == [*line_starts(data)[:5], len(data)]


def test_setting_the_rest_aside_keeps_the_prefix_and_every_byte_of_the_rest(
    journal: Path,
) -> None:
    data = damaged(journal, 6, line=3)
    offset = line_starts(data)[2]
    saved = set_rest_aside(journal, offset=offset, size=len(data), clock=clock)
    assert saved == journal.with_name("journal.damaged-20260314T150926Z")
    assert (journal.read_bytes(), saved.read_bytes()) == (data[:offset], data[offset:])
    assert (saved.stat().st_mode & 0o777) == 0o600
    assert check_journal(journal).problem is None
    with JournalWriter.open(journal) as writer:
        assert writer.append(RunPaused(run=RUN, reason="after repair")).seq == 3
    assert set_rest_aside(journal, offset=0, size=journal.stat().st_size, clock=clock) == (
        journal.with_name("journal.damaged-20260314T150926Z-2")
    )


def test_nothing_is_set_aside_when_the_journal_changed_since_the_plan(journal: Path) -> None:
    data = damaged(journal, 4, line=2)
    with pytest.raises(JournalError, match=r"changed since it was checked .* nothing was set"):
        set_rest_aside(journal, offset=10, size=len(data) - 1, clock=clock)
    assert journal.read_bytes() == data
    assert list(journal.parent.glob("*.damaged-*")) == []


def test_nothing_is_set_aside_while_another_dmj_holds_the_journal(journal: Path) -> None:
    write_journal(journal, sample_events(2))
    data = journal.read_bytes()
    with JournalWriter.open(journal), pytest.raises(JournalLocked):
        set_rest_aside(journal, offset=10, size=len(data), clock=clock)
    assert journal.read_bytes() == data


class FullDisk(OsStorage):
    def write(self, fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_leaves_the_journal_as_it_was_and_no_partial_copy(journal: Path) -> None:
    data = damaged(journal, 4, line=2)
    with pytest.raises(JournalError, match=r"could not be set aside \(No space left on device\)"):
        set_rest_aside(journal, offset=10, size=len(data), clock=clock, storage=FullDisk())
    assert journal.read_bytes() == data
    assert list(journal.parent.glob("*.damaged-*")) == []
