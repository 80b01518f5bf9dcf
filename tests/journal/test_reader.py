"""Reading without the lock: streaming records, stopping before a torn tail, naming damage."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from dmj.journal import (
    CHECK_FIELD,
    JournalCheck,
    JournalWriter,
    Schema,
    TornTail,
    check_journal,
    read_events,
    seal,
)
from dmj.journal._scan import BLOCK_SIZE, open_for_reading
from dmj.machine.errors import (
    InvariantBroken,
    JournalCorrupt,
    JournalError,
    JournalNotFound,
    SequenceGap,
)
from dmj.machine.events import (
    AnyEvent,
    BatchStarted,
    ChannelInfo,
    Event,
    OpenDmsCaptured,
    UserInfo,
)

from benchmarks.journal_workload import write_journal as write_big_journal
from tests.journal.support import RUN, TickingClock, sample_events, write_journal


def test_reading_returns_every_record_as_it_was_acknowledged(journal: Path) -> None:
    acked = write_journal(journal, sample_events(25))
    assert list(read_events(journal)) == acked


def test_a_journal_of_many_blocks_reads_in_order_with_the_right_line_numbers(
    journal: Path,
) -> None:
    size = write_big_journal(journal, 3000)
    assert size > 5 * BLOCK_SIZE
    assert [event.seq for event in read_events(journal)] == list(range(1, 3001))
    lines = journal.read_bytes().splitlines(keepends=True)
    lines[2500] = lines[2500].replace(b'"batch":', b'"batch" :')
    journal.write_bytes(b"".join(lines))
    with pytest.raises(JournalCorrupt, match=r"line 2501 is corrupt \(checksum mismatch\)"):
        list(read_events(journal))


def test_a_record_longer_than_a_read_block_is_read_whole(journal: Path) -> None:
    crowd = tuple(UserInfo(id=str(n), username=f"user{n}") for n in range(4000))
    big = OpenDmsCaptured(run=RUN, channels=(ChannelInfo(id="1", type=3, recipients=crowd),))
    acked = write_journal(journal, [*sample_events(2), big, *sample_events(2)])
    assert journal.stat().st_size > 2 * BLOCK_SIZE
    assert list(read_events(journal)) == acked


def test_reading_stops_quietly_before_a_torn_tail_and_changes_nothing(journal: Path) -> None:
    acked = write_journal(journal, sample_events(4))
    data = journal.read_bytes() + b'{"type":"DmOpened","v":1,"se'
    journal.write_bytes(data)
    assert list(read_events(journal)) == acked
    assert journal.read_bytes() == data


def test_reading_yields_the_records_before_damage_and_then_raises(journal: Path) -> None:
    acked = write_journal(journal, sample_events(6))
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(b"".join(lines[:3] + lines[4:]))
    seen: list[AnyEvent] = []
    with pytest.raises(SequenceGap) as caught:
        seen.extend(read_events(journal))
    assert seen == acked[:3]
    assert str(caught.value).startswith(f"{journal} line 4 is corrupt (seq 5 where seq 4")


def test_readers_need_no_lock_and_see_what_the_writer_acknowledged(journal: Path) -> None:
    with JournalWriter.open(journal, clock=TickingClock()) as writer:
        first = writer.append(sample_events(1)[0])
        assert list(read_events(journal)) == [first]
        assert check_journal(journal).records == 1
        second = writer.append(sample_events(2)[1])
        assert list(read_events(journal)) == [first, second]


def test_a_missing_journal_is_named_when_reading_starts(tmp_path: Path) -> None:
    with pytest.raises(JournalNotFound, match=r"journal\.jsonl does not exist, so there is no"):
        read_events(tmp_path / "journal.jsonl")  # raises at once, not on iteration
    with pytest.raises(JournalNotFound):
        check_journal(tmp_path / "journal.jsonl")


def test_the_audit_of_an_intact_journal(journal: Path) -> None:
    write_journal(journal, sample_events(3))
    size = journal.stat().st_size
    assert check_journal(journal) == JournalCheck(
        path=str(journal),
        size=size,
        records=3,
        last_seq=3,
        intact_bytes=size,
        torn=None,
        problem=None,
    )


def test_the_audit_reports_a_torn_tail_without_touching_it(journal: Path) -> None:
    write_journal(journal, sample_events(3))
    good = journal.stat().st_size
    journal.write_bytes(journal.read_bytes() + b"\x00" * 300)
    report = check_journal(journal)
    assert (report.records, report.intact_bytes, report.problem) == (3, good, None)
    assert report.torn == TornTail(line=4, offset=good, length=300)
    assert journal.stat().st_size == good + 300


def test_the_audit_reports_the_first_problem_and_never_raises(journal: Path) -> None:
    write_journal(journal, sample_events(5))
    data = bytearray(journal.read_bytes())
    data[data.index(b"\n") + 5] ^= 0x40
    journal.write_bytes(bytes(data))
    report = check_journal(journal)
    assert (report.records, report.last_seq, report.torn) == (1, 1, None)
    assert report.problem is not None
    assert (report.problem.line, report.problem.kind) == (2, "checksum")
    assert msgspec.json.decode(msgspec.json.encode(report), type=JournalCheck) == report


class OldBatchStarted(Event, tag="BatchStarted", frozen=True, kw_only=True):
    """What a (fabricated) version-0 BatchStarted looked like: ``users`` was a string."""

    batch: int
    users: str


def v0_line(seq: int, users: str) -> bytes:
    event = OldBatchStarted(run=RUN, batch=seq, users=users, v=0, seq=seq)
    return seal(msgspec.json.encode(event)[:-1] + CHECK_FIELD)


def upcast_v0(record: dict[str, Any]) -> dict[str, Any]:
    """v0 → v1: ``users`` (comma-separated) became the tuple ``user_ids``."""
    users = record.pop("users")
    return {**record, "user_ids": users.split(",") if users else []}


def test_old_records_are_upcast_on_read_and_current_ones_pass_through(journal: Path) -> None:
    current = msgspec.structs.replace(sample_events(3)[2], v=1, seq=3)
    current_line = seal(msgspec.json.encode(current)[:-1] + CHECK_FIELD)
    journal.write_bytes(v0_line(1, "11,22") + v0_line(2, "") + current_line)
    schema: Schema[AnyEvent] = Schema(AnyEvent, version=1, upcasters={0: upcast_v0})
    events = list(read_events(journal, schema))
    assert events[:2] == [
        BatchStarted(run=RUN, batch=1, user_ids=("11", "22"), v=1, seq=1),
        BatchStarted(run=RUN, batch=2, user_ids=(), v=1, seq=2),
    ]
    assert events[2] == current
    with JournalWriter.open(journal, schema=schema) as writer:
        assert writer.last_seq == 3


def test_an_old_record_without_an_upcaster_is_refused_as_a_bug(journal: Path) -> None:
    journal.write_bytes(v0_line(1, "11"))
    with pytest.raises(JournalCorrupt) as caught:
        list(read_events(journal))
    assert str(caught.value) == (
        f"{journal} line 1 cannot be read by this dmj (record version 0, and no upgrade from "
        "version 0 exists); nothing was changed. This is a bug in dmj: please report it."
    )


def test_a_schema_whose_events_reject_unknown_fields_cannot_be_journaled() -> None:
    class Strict(Event, tag="Strict", frozen=True, kw_only=True, forbid_unknown_fields=True):
        pass

    class WithCrc(Event, tag="WithCrc", frozen=True, kw_only=True):
        crc: str

    for event_type in (Strict, WithCrc):
        with pytest.raises(TypeError, match="cannot be journaled"):
            Schema(event_type, version=1)


def test_reading_never_writes_to_the_file(journal: Path) -> None:
    write_journal(journal, sample_events(3))
    journal.write_bytes(journal.read_bytes() + b"torn")
    os.chmod(journal, 0o400)
    try:
        assert len(list(read_events(journal))) == 3
        assert check_journal(journal).torn is not None
    finally:
        os.chmod(journal, 0o600)


def test_a_journal_that_cannot_be_read_is_a_journal_error(tmp_path: Path) -> None:
    """The OSError is translated where it happens (a directory stands in for an unreadable
    file: the tests may run as root, who can read anything)."""
    with pytest.raises(JournalError, match=r"cannot read .* \(Is a directory\); check the"):
        open_for_reading(tmp_path)


def open_files() -> set[str]:
    """What this process has open now (Linux), by path."""
    fds = Path("/proc/self/fd")
    found = set()
    for fd in fds.iterdir():
        try:
            found.add(os.readlink(fd))
        except OSError:  # the directory's own descriptor, closed while listing
            continue
    return found


def test_a_reader_closed_after_one_record_leaves_the_file_closed(journal: Path) -> None:
    write_journal(journal, sample_events(5))
    events = read_events(journal)
    assert str(journal) in open_files()
    first = next(events)
    events.close()
    events.close()
    assert first.seq == 1
    assert str(journal) not in open_files()


def test_a_reader_never_iterated_is_closed_by_its_with_block(journal: Path) -> None:
    write_journal(journal, sample_events(2))
    with read_events(journal) as events:
        assert str(journal) in open_files()
    assert str(journal) not in open_files()
    assert list(events) == [], "a closed reader reads nothing more"


def test_a_reader_left_open_would_warn_when_collected(journal: Path) -> None:
    """The failure the deterministic close prevents: an abandoned reader's file is only closed
    by garbage collection, with a ResourceWarning (which this suite turns into an error)."""
    write_journal(journal, sample_events(2))
    events = read_events(journal)
    with pytest.warns(ResourceWarning):
        del events  # the last reference: freed (and its file closed) right here


def test_reading_to_the_end_closes_the_file(journal: Path) -> None:
    acked = write_journal(journal, sample_events(3))
    events = read_events(journal)
    assert list(events) == acked
    assert str(journal) not in open_files()


def test_the_blocks_run_on_without_a_gap_and_hold_every_record(journal: Path) -> None:
    write_big_journal(journal, 3000)
    with read_events(journal) as events:
        blocks = list(events.blocks())
    assert len(blocks) > 5
    seqs = [event.seq for block in blocks for event in block]
    assert seqs == list(range(1, 3001))
    assert all(block for block in blocks)
    assert str(journal) not in open_files()


def damaged_at_line(journal: Path, line: int) -> None:
    lines = journal.read_bytes().splitlines(keepends=True)
    lines[line - 1] = lines[line - 1].replace(b'"run":', b'"run" :')
    journal.write_bytes(b"".join(lines))


def test_the_reader_gives_the_audit_of_its_own_pass(journal: Path) -> None:
    acked = write_journal(journal, sample_events(6))
    journal.write_bytes(journal.read_bytes() + b'{"type":"Dm')
    with read_events(journal) as events:
        assert list(events) == acked
        assert events.check() == check_journal(journal)
        assert events.check().torn == TornTail(
            line=7, offset=journal.stat().st_size - 11, length=11
        )


def test_the_audit_of_a_pass_stopped_early_reads_the_rest_and_never_raises(journal: Path) -> None:
    write_journal(journal, sample_events(6))
    damaged_at_line(journal, 5)
    with read_events(journal) as events:
        assert next(events).seq == 1
        report = events.check()
    assert report == check_journal(journal)
    assert report.problem is not None
    assert (report.records, report.problem.line) == (4, 5)


def test_a_dropped_consumer_of_the_blocks_leaves_the_audit_to_the_reader(journal: Path) -> None:
    """A generator delegating to ``blocks()`` closes it when dropped; the scan goes on."""
    write_big_journal(journal, 3000)

    def first_block(blocks: Iterator[list[AnyEvent]]) -> list[AnyEvent]:
        def delegate() -> Iterator[list[AnyEvent]]:
            yield from blocks

        return next(delegate())  # the delegating generator is dropped (closed) right here

    with read_events(journal) as events:
        assert first_block(events.blocks())[0].seq == 1
        assert events.check().records == 3000


def test_the_audit_of_a_closed_reader_is_a_bug(journal: Path) -> None:
    write_journal(journal, sample_events(2))
    events = read_events(journal)
    events.close()
    with pytest.raises(InvariantBroken, match="was closed before check"):
        events.check()
