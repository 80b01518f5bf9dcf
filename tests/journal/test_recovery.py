"""Opening for write: a torn tail is set aside and cut off; damage before it is refused."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from dmj.journal import CHECK_FIELD, JournalWriter, TornTail, check_journal, read_events, seal
from dmj.machine.errors import JournalCorrupt, SequenceGap

from tests.journal.support import (
    RecordingStorage,
    TickingClock,
    sample_events,
    torn_files,
    write_journal,
)


def written(path: Path, count: int) -> bytes:
    """The bytes of a journal of ``count`` sample events, written at ``path``."""
    write_journal(path, sample_events(count))
    return path.read_bytes()


TORN_TAILS = {
    "half a line, no newline": lambda line: line[: len(line) // 2],
    "all but the newline": lambda line: line[:-1],
    "zeros where the line was (size persisted, data not)": lambda line: bytes(len(line)),
    "a whole line with a flipped byte": lambda line: line[:40] + b"#" + line[41:],
    "garbage with two newlines in it": lambda line: b"\x00\xff\n}{\n" + line[:20],
}


@pytest.mark.parametrize("damage", TORN_TAILS.values(), ids=TORN_TAILS.keys())
def test_a_torn_tail_is_moved_aside_and_the_journal_cut_to_its_last_good_record(
    journal: Path, damage: object
) -> None:
    good = written(journal, 3)
    next_line = written(journal.with_name("full.jsonl"), 4)[len(good) :]
    tail = damage(next_line)  # type: ignore[operator]
    journal.write_bytes(good + tail)

    with JournalWriter.open(journal, clock=TickingClock()) as writer:
        recovery = writer.recovery
        assert writer.last_seq == 3
        assert writer.append(sample_events(4)[3]).seq == 4

    assert recovery is not None
    assert (recovery.torn.line, recovery.torn.offset, recovery.torn.length) == (
        4,
        len(good),
        len(tail),
    )
    assert recovery.saved_to == str(journal.with_name("journal.torn-20260314T150926Z"))
    assert torn_files(journal.parent) == {"journal.torn-20260314T150926Z": tail}
    assert stat.S_IMODE(Path(recovery.saved_to).stat().st_mode) == 0o600
    assert [event.seq for event in read_events(journal)] == [1, 2, 3, 4]


def test_the_recovery_warning_names_the_line_the_bytes_and_where_they_went(
    journal: Path,
) -> None:
    good = written(journal, 2)
    journal.write_bytes(good + b'{"type":"Batch')
    with JournalWriter.open(journal, clock=TickingClock()) as writer:
        assert writer.recovery is not None
        assert writer.recovery.message == (
            f"{journal} ended in a torn write from an interrupted run (line 3, 14 bytes, never "
            f"acknowledged); it was moved to {journal.parent}/journal.torn-20260314T150926Z and "
            "the journal continues after line 2."
        )


def test_recovery_syncs_the_copy_and_the_directory_before_it_truncates(journal: Path) -> None:
    good = written(journal, 2)
    journal.write_bytes(good + b"torn")
    storage = RecordingStorage()
    with JournalWriter.open(journal, clock=TickingClock(), storage=storage):
        pass
    assert storage.ops == [
        "open_append journal.jsonl created=False",
        "create_new journal.torn-20260314T150926Z",
        "write 4",
        "sync",
        "close",
        f"sync_dir {journal.parent.name}",
        f"truncate {len(good)}",
        "sync",
        "close",
    ]


def test_a_complete_line_appended_by_hand_is_named_as_such_not_as_a_torn_write(
    journal: Path,
) -> None:
    good = written(journal, 2)
    journal.write_bytes(good + b'{"note": "checked by me"}\n')
    assert check_journal(journal).torn == TornTail(line=3, offset=len(good), length=26,
                                                   kind="foreign")  # fmt: skip
    with JournalWriter.open(journal, clock=TickingClock()) as writer:
        assert writer.recovery is not None
        assert writer.recovery.message == (
            f"{journal} ended in a complete line that is not a dmj record, added by hand or "
            "by another program (line 3, 26 bytes, dmj never wrote it); it was moved to "
            f"{journal.parent}/journal.torn-20260314T150926Z and the journal continues after "
            "line 2."
        )
    assert journal.read_bytes() == good


def test_a_damaged_last_record_is_set_aside_saying_its_step_is_done_again(
    journal: Path,
) -> None:
    good = written(journal, 2)
    last = written(journal.with_name("full.jsonl"), 3)[len(good) :]
    damaged = last[:40] + b"#" + last[41:]
    journal.write_bytes(good + damaged)
    with JournalWriter.open(journal, clock=TickingClock()) as writer:
        assert writer.recovery is not None
        assert writer.recovery.torn.kind == "damaged"
        assert writer.recovery.message.startswith(
            f"{journal} ended in a damaged record whose checksum fails, cut short by a crash "
            f"or changed on disk (line 3, {len(damaged)} bytes, if it was acknowledged, its "
            "step is done again); it was moved to"
        )


@pytest.mark.parametrize(
    ("tail", "kind"),
    [
        (b'{"type":"RunPaused","v":1,"se', "torn"),
        (b'{"type":"RunPaused"\x00\x00\x00\x00\x00\x00"crc":"@@@@@@@@@"}', "torn"),
        (b"\x00" * 40 + b'"}\n', "torn"),
        (b'{"type":"RunPaused","v":1,"seq":3,"at":"x","run":"r","reason":""}\n', "damaged"),
        (b'garbled start","crc":"ABCDEFGHI"}\n', "damaged"),
        (b"hello\n", "foreign"),
        (b"# a comment\n# and another\n", "foreign"),
    ],
    ids=[
        "no newline", "zeros inside, no newline", "zeros then a newline", "a record's start",
        "a record's end", "a line of text", "two lines of text",
    ],
)  # fmt: skip
def test_what_a_tail_is_is_told_from_its_bytes(journal: Path, tail: bytes, kind: str) -> None:
    good = written(journal, 2)
    journal.write_bytes(good + tail)
    found = check_journal(journal).torn
    assert found is not None
    assert found.kind == kind


def test_a_second_torn_tail_in_the_same_second_gets_its_own_file(journal: Path) -> None:
    good = written(journal, 1)
    for tail in (b"first", b"second"):
        journal.write_bytes(good + tail)
        with JournalWriter.open(journal, clock=TickingClock()):
            pass
    assert torn_files(journal.parent) == {
        "journal.torn-20260314T150926Z": b"first",
        "journal.torn-20260314T150926Z-2": b"second",
    }


def test_an_empty_journal_file_is_a_valid_empty_journal(journal: Path) -> None:
    journal.write_bytes(b"")
    with JournalWriter.open(journal) as writer:
        assert (writer.last_seq, writer.recovery) == (0, None)


def test_a_journal_that_is_all_torn_tail_recovers_to_empty(journal: Path) -> None:
    journal.write_bytes(b'{"type":"RunSta')
    with JournalWriter.open(journal, clock=TickingClock()) as writer:
        assert writer.last_seq == 0
        assert writer.recovery is not None
    assert journal.read_bytes() == b""


def refuses_and_changes_nothing(journal: Path, error: type[JournalCorrupt] = JournalCorrupt) -> str:
    before = journal.read_bytes()
    with pytest.raises(error) as caught:
        JournalWriter.open(journal, clock=TickingClock())
    assert journal.read_bytes() == before
    assert torn_files(journal.parent) == {}
    return str(caught.value)


def test_a_damaged_record_before_the_tail_is_refused_naming_file_and_line(
    journal: Path,
) -> None:
    data = bytearray(written(journal, 5))
    second_line = data.index(b"\n") + 1
    data[second_line + 30] ^= 0x01
    journal.write_bytes(bytes(data))
    assert refuses_and_changes_nothing(journal) == (
        f"{journal} line 2 is corrupt (checksum mismatch); nothing was changed. Run `dmj "
        "repair` to see what a repair keeps and what it sets aside (nothing is deleted; `dmj "
        "repair --apply` does it), or restore the file from a backup."
    )


def test_a_lost_newline_before_the_last_record_is_damage_not_a_torn_tail(
    journal: Path,
) -> None:
    """Two records glued into one bad line at the end must not be cut off as one torn write."""
    data = bytearray(written(journal, 4))
    end_of_third = data.rindex(b"\n", 0, len(data) - 1)
    data[end_of_third] = ord(" ")
    journal.write_bytes(bytes(data))
    assert "line 3 is corrupt (checksum mismatch)" in refuses_and_changes_nothing(journal)


def test_a_missing_record_is_a_sequence_gap(journal: Path) -> None:
    lines = written(journal, 4).splitlines(keepends=True)
    journal.write_bytes(b"".join(lines[:1] + lines[2:]))
    message = refuses_and_changes_nothing(journal, SequenceGap)
    assert message.startswith(f"{journal} line 2 is corrupt (seq 3 where seq 2 was expected")


def test_swapped_records_are_a_sequence_gap(journal: Path) -> None:
    lines = written(journal, 4).splitlines(keepends=True)
    journal.write_bytes(b"".join([lines[0], lines[2], lines[1], lines[3]]))
    refuses_and_changes_nothing(journal, SequenceGap)


def test_a_first_record_that_is_not_seq_1_is_a_sequence_gap(journal: Path) -> None:
    lines = written(journal, 3).splitlines(keepends=True)
    journal.write_bytes(b"".join(lines[1:]))
    assert "line 1 is corrupt (seq 2 where seq 1" in refuses_and_changes_nothing(
        journal, SequenceGap
    )


def sealed(members: bytes) -> bytes:
    return seal(members + CHECK_FIELD)


def test_an_intact_last_record_of_an_unknown_type_is_refused_not_cut_off(
    journal: Path,
) -> None:
    """A complete, sealed line was written on purpose, by a newer dmj: never a torn write."""
    good = written(journal, 2)
    journal.write_bytes(
        good + sealed(b'{"type":"ThreadArchived","v":1,"seq":3,"at":"2026-03-14T15:09:26Z"')
    )
    assert refuses_and_changes_nothing(journal) == (
        f"{journal} line 3 was written by a newer dmj (event type 'ThreadArchived' is unknown "
        "to this dmj); nothing was changed. Upgrade dmj and try again."
    )


def test_a_record_of_a_newer_version_is_refused(journal: Path) -> None:
    good = written(journal, 1)
    newer = sealed(
        b'{"type":"RunPaused","v":2,"seq":2,"at":"2026-03-14T15:09:26Z","run":"r",'
        b'"reason":"x","why":{"new":"field"}'
    )
    journal.write_bytes(good + newer + good.replace(b'"seq":1', b'"seq":3'))
    assert refuses_and_changes_nothing(journal) == (
        f"{journal} line 2 was written by a newer dmj (record version 2; this dmj reads up to "
        "version 1); nothing was changed. Upgrade dmj and try again."
    )


def test_a_sealed_record_that_breaks_the_schema_is_refused_with_the_field_path(
    journal: Path,
) -> None:
    journal.write_bytes(
        sealed(b'{"type":"BatchStarted","v":1,"seq":1,"at":"2026-03-14T15:09:26Z","run":"r",'
               b'"batch":"zero","user_ids":[]')
    )  # fmt: skip
    message = refuses_and_changes_nothing(journal)
    assert message.startswith(
        f"{journal} line 1 is corrupt (not a valid BatchStarted event: Expected `int`, got "
        "`str` - at `$.batch`); nothing was changed."
    )


def test_a_sealed_line_that_is_not_json_is_refused(journal: Path) -> None:
    journal.write_bytes(seal(b'{"type":"RunPaused",,' + CHECK_FIELD))
    assert "line 1 is corrupt (not valid JSON: " in refuses_and_changes_nothing(journal)


def test_check_and_writer_agree_on_a_refused_journal(journal: Path) -> None:
    lines = written(journal, 3).splitlines(keepends=True)
    journal.write_bytes(lines[0] + lines[2])
    report = check_journal(journal)
    assert report.problem is not None
    assert report.problem.message == refuses_and_changes_nothing(journal, SequenceGap)


def test_a_journal_whose_every_line_was_rewritten_is_refused_not_set_aside(
    journal: Path,
) -> None:
    """An editor that saved the journal with CRLF line ends broke every checksum."""
    journal.write_bytes(written(journal, 4).replace(b"\n", b"\r\n"))
    assert "line 1 is corrupt (checksum mismatch)" in refuses_and_changes_nothing(journal)


def test_a_file_that_is_not_a_journal_is_refused(journal: Path) -> None:
    journal.write_bytes(b'{"some": "other"}\n{"json": "lines"}\n{"file": 1}\n')
    assert "line 1 is corrupt (checksum mismatch)" in refuses_and_changes_nothing(journal)
