"""Properties of recovery over random journals (hypothesis).

Truncating the last record at every byte offset recovers exactly the records before it;
changing any single byte anywhere is detected: in the last record it is a torn tail (cut
off, set aside), anywhere else it is damage (refused), and never a different valid journal.
"""

from __future__ import annotations

import bisect
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from dmj.journal import JournalWriter, TailKind, TornTail, check_journal, read_events
from dmj.machine.errors import JournalCorrupt
from dmj.machine.events import (
    AnyEvent,
    BatchStarted,
    ChannelInfo,
    DmOpened,
    DmSkipped,
    ExportFailed,
    RunPaused,
    UserInfo,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.journal.support import NoSyncStorage, TickingClock, line_starts

texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
ids = st.from_regex(r"[1-9][0-9]{0,18}", fullmatch=True)
counts = st.integers(0, 10**6)
channels = st.builds(
    ChannelInfo,
    id=ids,
    type=st.sampled_from([1, 3]),
    recipients=st.lists(
        st.builds(UserInfo, id=ids, username=texts, global_name=st.none() | texts), max_size=2
    ).map(tuple),
)
events: st.SearchStrategy[AnyEvent] = st.one_of(
    st.builds(BatchStarted, run=texts, batch=counts, user_ids=st.lists(ids, max_size=3).map(tuple)),
    st.builds(
        DmOpened,
        run=texts,
        batch=counts,
        user_id=ids,
        channel_id=ids,
        package_channel_id=ids,
        channel=st.none() | channels,
    ),
    st.builds(
        DmSkipped,
        run=texts,
        batch=counts,
        user_id=ids,
        reason=texts,
        status=st.none() | st.integers(100, 599),
        code=st.none() | counts,
    ),
    st.builds(
        ExportFailed,
        run=texts,
        batch=counts,
        channel_id=ids,
        user_id=ids,
        error_class=st.sampled_from(["fatal", "permanent", "transient"]),
        message=texts,
        attempts=counts,
    ),
    st.builds(RunPaused, run=texts, reason=texts),
)
journals = st.lists(events, min_size=1, max_size=5)

MEMORY_DIR = "/dev/shm" if Path("/dev/shm").is_dir() else None
"""These tests rewrite files thousands of times; on ext4 each rewrite-after-truncate starts
writeback (auto_da_alloc), so a RAM file system keeps them fast. The disk is not under test
here: the crash tests use the real one."""


@contextmanager
def journal_of(events: list[AnyEvent]) -> Iterator[tuple[Path, list[AnyEvent], bytes]]:
    """A journal of ``events`` in a fresh directory: (path, acknowledged records, bytes)."""
    with tempfile.TemporaryDirectory(dir=MEMORY_DIR) as tmp:
        path = Path(tmp) / "journal.jsonl"
        with open_writer(path) as journal:
            acked = [journal.append(event) for event in events]
        yield path, acked, path.read_bytes()


def open_writer(path: Path) -> JournalWriter[AnyEvent]:
    return JournalWriter.open(path, clock=TickingClock(), storage=NoSyncStorage())


@settings(max_examples=30, deadline=None)
@given(journals)
def test_truncating_the_last_record_anywhere_recovers_exactly_the_records_before_it(
    events: list[AnyEvent],
) -> None:
    with journal_of(events) as (path, acked, data):
        last = line_starts(data)[-2]
        for cut in range(last, len(data)):
            path.write_bytes(data[:cut])
            with open_writer(path) as journal:
                recovery = journal.recovery
                assert journal.last_seq == len(acked) - 1
            assert list(read_events(path)) == acked[:-1]
            if cut == last:
                assert recovery is None
                continue
            assert recovery is not None
            assert recovery.torn == TornTail(line=len(acked), offset=last, length=cut - last)
            saved = Path(recovery.saved_to)
            assert saved.read_bytes() == data[last:cut]
            saved.unlink()


@settings(max_examples=20, deadline=None)
@given(journals, st.integers(1, 255))
def test_any_changed_byte_of_the_last_record_makes_a_damaged_tail_and_damage_elsewhere(
    events: list[AnyEvent], mask: int
) -> None:
    with journal_of(events) as (path, acked, data):
        starts = line_starts(data)
        last = starts[-2]
        for position in range(len(data)):
            for byte in {data[position] ^ mask, ord("\n")} - {data[position]}:
                path.write_bytes(data[:position] + bytes([byte]) + data[position + 1 :])
                if position >= last:
                    kind: TailKind = "torn" if position == len(data) - 1 else "damaged"
                    torn = TornTail(line=len(acked), offset=last, length=len(data) - last,
                                    kind=kind)  # fmt: skip
                    assert_torn_tail(path, acked, torn)
                else:
                    assert_damage_at(path, acked, bisect.bisect_right(starts, position))


def assert_torn_tail(path: Path, acked: list[AnyEvent], torn: TornTail) -> None:
    report = check_journal(path)
    assert (report.records, report.torn, report.problem) == (len(acked) - 1, torn, None)
    assert list(read_events(path)) == acked[:-1]


def assert_damage_at(path: Path, acked: list[AnyEvent], line: int) -> None:
    report = check_journal(path)
    assert report.problem is not None
    assert (report.problem.line, report.problem.kind) == (line, "checksum")
    assert (report.records, report.torn) == (line - 1, None)
    seen: list[AnyEvent] = []
    with pytest.raises(JournalCorrupt):
        seen.extend(read_events(path))
    assert seen == acked[: line - 1]


@settings(max_examples=20, deadline=None)
@given(journals.filter(lambda events: len(events) >= 2), st.data())
def test_the_writer_refuses_damage_before_the_tail_and_changes_nothing(
    events: list[AnyEvent], data: st.DataObject
) -> None:
    with journal_of(events) as (path, _acked, raw):
        position = data.draw(st.integers(0, line_starts(raw)[-2] - 1))
        damaged = raw[:position] + bytes([raw[position] ^ 0x08]) + raw[position + 1 :]
        path.write_bytes(damaged)
        with pytest.raises(JournalCorrupt):
            open_writer(path)
        assert path.read_bytes() == damaged
        assert list(path.parent.glob("*.torn-*")) == []
