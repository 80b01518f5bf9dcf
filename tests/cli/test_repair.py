"""``dmj repair``: keep a damaged journal's valid prefix, set the rest aside, say what that
loses and what ``dmj resume`` does again; a dry run unless ``--apply``."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest
from dmj.cli import app
from dmj.journal import DMJ_SCHEMA, JournalWriter, encode_line, read_events
from dmj.machine.events import (
    ChannelExported,
    DmCloseRequested,
    ExportRequested,
    RunPaused,
    RunStarted,
)
from dmj.machine.ports import export_id
from dmj.machine.state import fold
from dmj.projections import projection_files
from typer.testing import CliRunner, Result

from tests.projections.story import first_run, mid_run, two_runs, write_journal

runner = CliRunner()


def dmj(*args: str) -> Result:
    return runner.invoke(app, list(args))


def stripped(output: str) -> str:
    return "\n".join(line.rstrip() for line in output.splitlines()) + "\n"


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def flip(path: Path, line: int, position: int) -> None:
    """Change one byte of 1-based ``line`` (a bit flip, as a failing disk makes)."""
    lines = lines_of(path)
    damaged = bytearray(lines[line - 1])
    damaged[position] ^= 0x01
    lines[line - 1] = bytes(damaged)
    path.write_bytes(b"".join(lines))


def files(archive: Path) -> dict[str, bytes]:
    return {p.relative_to(archive).as_posix(): p.read_bytes() for p in sorted(archive.rglob("*"))
            if p.is_file() and p.name != "journal.lock"}  # fmt: skip


@pytest.fixture
def finished(tmp_path: Path) -> Path:
    """An archive whose run 1 finished (29 records, projections written), then line 13 (the
    DmOpened of alice's reopened DM) took a bit flip."""
    archive = tmp_path / "archive"
    write_journal(archive, first_run())
    assert dmj("replay", "--archive", str(archive)).exit_code == 0
    flip(archive / "journal.jsonl", 13, 45)  # a digit of its "at": the line still parses
    return archive


DRY_RUN = """\
Damaged: ARCHIVE/journal.jsonl: line 13 is corrupt (checksum mismatch).
A repair keeps records 1 to 12 and moves lines 13 to 29 (BYTES bytes) to journal.damaged-<UTC \
time> next to it; nothing is deleted.
What the journal loses (16 records, 1 unreadable):
  by type    4 ExportRequested, 2 ChannelExported, 1 DmCloseRequested, 1 DmClosed, 2 \
ExportFailed, 2 BatchFinished, 1 BatchStarted, 1 DmOpenRequested, 1 DmSkipped, 1 RunFinished
  line 13    not a valid record (checksum mismatch); it reads as a DmOpened (seq 13, run run-1, \
batch 1, user_id 100, channel_id 7100, unverified)
  batches    2, 3
  DMs        alice (user 100), bob (user 200), carol (user 500)
  exports    exports/7100/run-1-2, exports/5200/run-1-2: recorded only in what is set aside; a \
repair moves them to exports.damaged-<UTC time>/ (nothing is deleted) and `dmj resume` exports \
those DMs again
  run        run-1's end: it is unfinished again
After the repair, `dmj resume --archive ARCHIVE` starts with: reopen the DM with alice (user \
100). It does again what the lost records had done: alice: reopened, exported, closed again; \
bob: tried, exported again; carol: tried, opened again.
"""


def test_a_dry_run_says_what_a_repair_keeps_loses_and_redoes_and_changes_nothing(
    finished: Path,
) -> None:
    before = files(finished)
    result = dmj("repair", "--archive", str(finished))
    assert result.exit_code == 0, result.output
    rest = sum(map(len, lines_of(finished / "journal.jsonl")[12:]))
    expected = DRY_RUN.replace("BYTES", str(rest)) + (
        "This was a dry run: nothing was changed. `dmj repair --apply --archive ARCHIVE` does it.\n"
    )
    assert stripped(result.output).replace(str(finished), "ARCHIVE") == expected
    assert files(finished) == before


def test_apply_keeps_the_valid_prefix_sets_the_rest_aside_and_rebuilds_the_projections(
    finished: Path,
) -> None:
    journal = finished / "journal.jsonl"
    lines = lines_of(journal)
    result = dmj("repair", "--archive", str(finished), "--apply")
    assert result.exit_code == 0, result.output
    [saved] = finished.glob("journal.damaged-*")
    aside = saved.name.replace("journal.", "exports.")  # the story's archive has its exports
    assert journal.read_bytes() == b"".join(lines[:12])
    assert saved.read_bytes() == b"".join(lines[12:])
    kept = fold(first_run()[:12])
    assert list(read_events(journal)) == first_run()[:12]
    assert {k: v for k, v in files(finished).items() if k.endswith(".json")} == {
        k: v for k, v in projection_files(kept).items() if v is not None
    }, "runs/run-1/batch-state.json went: run 1 is unfinished again"
    output = stripped(result.output).replace(str(finished), "ARCHIVE")
    assert output.endswith(
        f"Moved lines 13 to 29 of ARCHIVE/journal.jsonl to ARCHIVE/{saved.name}; the journal "
        "keeps records 1 to 12.\n"
        f"Moved exports/7100/run-1-2 to {aside}/7100/run-1-2.\n"
        f"Moved exports/5200/run-1-2 to {aside}/5200/run-1-2.\n"
        "Rebuilt the projections (12 records):\n"
        "  runs/run-1/batch-state.json  removed\n"
        "  id-history.json              updated (throughSeq 12)\n"
        "  batch-state.json             created (throughSeq 12)\n"
        "Next: `dmj resume --archive ARCHIVE`.\n"
    )
    assert "This was a dry run" not in output
    inspected = dmj("replay", "--inspect", "--archive", str(finished))
    assert inspected.exit_code == 0
    assert "Next step  reopen the DM with alice (user 100)" in inspected.output
    again = dmj("repair", "--archive", str(finished))
    assert again.output == f"{journal} is intact (12 records): nothing to repair.\n"


def test_apply_moves_the_exports_only_the_lines_set_aside_recorded_out_of_exports(
    finished: Path,
) -> None:
    """Known to no journal any more, they would be taken for leftovers by a later run, or
    collide with the folder a repeated export is given; moved, they stay the user's."""
    for folder in ("exports/300/run-1-1", "exports/7100/run-1-2", "exports/5200/run-1-2"):
        (finished / folder).mkdir(parents=True, exist_ok=True)  # the story makes them
        (finished / folder / "dm.json").write_text(folder)
    result = dmj("repair", "--archive", str(finished), "--apply")
    assert result.exit_code == 0, result.output
    [aside] = finished.glob("exports.damaged-*")
    [saved] = finished.glob("journal.damaged-*")
    assert aside.name.removeprefix("exports.") == saved.name.removeprefix("journal.")
    assert sorted(p.relative_to(finished).as_posix() for p in finished.glob("exports/*/*")) == [
        "exports/300/run-1-1"
    ], "the export the kept records hold stays"
    for channel in ("7100", "5200"):
        moved = aside / channel / "run-1-2" / "dm.json"
        assert moved.read_text() == f"exports/{channel}/run-1-2"
        assert f"Moved exports/{channel}/run-1-2 to {aside.name}/{channel}/run-1-2." in (
            result.output
        )


def test_damage_on_the_first_line_keeps_no_record(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    write_journal(archive, mid_run())
    flip(archive / "journal.jsonl", 1, 30)
    result = dmj("repair", "--archive", str(archive))
    assert "A repair keeps no record (the damage is on line 1) and moves lines 1 to 13" in (
        result.output
    )
    assert "run        run-1's start: the journal no longer knows that run" in result.output
    assert dmj("repair", "--archive", str(archive), "--apply").exit_code == 0
    assert (archive / "journal.jsonl").read_bytes() == b""
    resumed = dmj("resume", "--archive", str(archive))
    assert resumed.stdout.startswith("Nothing to resume: no run has started")


def test_an_intact_journal_needs_no_repair(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    write_journal(archive, mid_run())
    for args in ((), ("--apply",)):
        result = dmj("repair", "--archive", str(archive), *args)
        assert (result.exit_code, result.output) == (
            0,
            f"{archive / 'journal.jsonl'} is intact (13 records): nothing to repair.\n",
        )
    assert sorted(files(archive)) == ["journal.jsonl"]


def test_a_torn_tail_is_left_to_any_writer_and_apply_sets_it_aside_now(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    write_journal(archive, mid_run())
    with (archive / "journal.jsonl").open("ab") as journal:
        journal.write(b'{"type":"ExportRequested","v":1,"seq":14,')
    dry = dmj("repair", "--archive", str(archive))
    assert dry.exit_code == 0
    assert "ends in an unfinished last write (41 bytes): the next dmj that writes sets it" in (
        dry.output
    )
    done = dmj("repair", "--archive", str(archive), "--apply")
    assert done.exit_code == 0, done.output
    assert "Note: " in done.output
    assert "ended in a torn write from an interrupted run (line 14, 41 bytes" in done.output
    assert len(list(archive.glob("journal.torn-*"))) == 1


def test_a_record_that_breaks_a_rule_is_set_aside_with_everything_after_it(
    tmp_path: Path,
) -> None:
    archive = tmp_path / "archive"
    journal = write_journal(archive, mid_run())
    with JournalWriter.open(journal) as writer:
        writer.append(DmCloseRequested(run="run-1", batch=1, channel_id="5200"))  # open at start
        writer.append(RunPaused(run="run-1", reason="captcha"))
    lines = lines_of(journal)
    result = dmj("repair", "--archive", str(archive), "--apply")
    assert result.exit_code == 0, result.output
    assert "journal record seq 14 (DmCloseRequested) breaks a rule of the run" in result.output
    assert "moves lines 14 to 15" in result.output
    assert journal.read_bytes() == b"".join(lines[:13])


def test_resume_on_a_record_that_breaks_a_rule_names_dmj_repair(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    journal = write_journal(archive, mid_run())
    with JournalWriter.open(journal) as writer:
        writer.append(DmCloseRequested(run="run-1", batch=1, channel_id="5200"))
    result = dmj("resume", "--archive", str(archive))
    assert result.exit_code == 1
    message = " ".join(result.output.split())
    assert "journal record seq 14 (DmCloseRequested) breaks a rule of the run" in message
    assert f"To carry on without it, `dmj repair --archive {archive}` sets it and" in message


def test_records_of_a_newer_dmj_are_never_cut(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    journal = write_journal(archive, mid_run())
    newer = RunPaused(run="run-1", reason="x", v=2, seq=14)
    journal.write_bytes(journal.read_bytes() + encode_line(DMJ_SCHEMA.encoder, newer) * 2)
    before = journal.read_bytes()
    result = dmj("repair", "--archive", str(archive), "--apply")
    assert result.exit_code == 1
    assert "was written by a newer dmj" in result.output
    assert "(A repair never cuts records it cannot judge.)" in result.output
    assert journal.read_bytes() == before


def test_apply_refuses_while_another_dmj_holds_the_journal(finished: Path) -> None:
    before = files(finished)
    holder = os.open(finished / "journal.lock", os.O_RDWR)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)
        os.pwrite(holder, f"{os.getpid()}\n".encode(), 0)
        result = dmj("repair", "--archive", str(finished), "--apply")
    finally:
        os.close(holder)
    assert result.exit_code == 1
    assert f"Error: another dmj (pid {os.getpid()}) is writing to" in result.output
    assert files(finished) == before


def test_resume_and_replay_on_a_damaged_journal_name_dmj_repair(finished: Path) -> None:
    for args in (("resume",), ("replay",)):
        result = dmj(*args, "--archive", str(finished))
        assert result.exit_code == 1
        message = " ".join(result.output.split())
        assert f"Run `dmj repair --archive {finished}` to see what a repair keeps" in message


def test_an_export_whose_outcome_is_set_aside_is_moved_out_not_left_for_resume_to_remove(
    tmp_path: Path,
) -> None:
    """The kept journal ends in the ``ExportRequested`` of an export that was filed: resume
    would take its folder for a crash's unfinished work and delete it. Only the lines set
    aside vouch for it, so the repair moves it out with them (nothing is deleted)."""
    archive = tmp_path / "archive"
    events = first_run()
    exported = next(i for i, e in enumerate(events) if isinstance(e, ChannelExported))
    request = events[exported - 1]
    assert isinstance(request, ExportRequested)
    journal = write_journal(archive, events)
    folder = archive / "exports" / request.channel_id / export_id("run-1", request.seq)
    folder.mkdir(parents=True)
    (folder / "dm.json").write_text("the only copy")
    flip(journal, exported + 1, 45)
    dry = dmj("repair", "--archive", str(archive))
    relative = folder.relative_to(archive).as_posix()
    assert f"  exports    {relative}, " in dry.output
    assert dmj("repair", "--archive", str(archive), "--apply").exit_code == 0
    [aside] = archive.glob("exports.damaged-*")
    moved = aside / request.channel_id / folder.name / "dm.json"
    assert moved.read_text() == "the only copy"
    assert not folder.exists(), "resume's tidy would have deleted it"


def test_a_line_appended_by_hand_is_not_called_an_unfinished_write(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    write_journal(archive, mid_run())
    with (archive / "journal.jsonl").open("ab") as journal:
        journal.write(b"checked it on sunday\n")
    result = dmj("repair", "--archive", str(archive))
    assert result.exit_code == 0
    assert "unfinished last write" not in result.output
    assert (
        "ends in a complete line that is not a dmj record, added by hand or by another program "
        "(21 bytes): the next dmj that writes sets it aside" in " ".join(result.output.split())
    )


def test_a_lost_run_is_redone_by_dmj_run_not_by_resume_and_is_not_called_unfinished(
    tmp_path: Path,
) -> None:
    """The damage is the ``RunStarted`` of run 2: the kept journal ends in finished run 1, so
    resume has nothing to do, and run 2 is forgotten, not "unfinished again"."""
    archive = tmp_path / "archive"
    events = two_runs()
    second = next(e for e in events if isinstance(e, RunStarted) and e.run == "run-2")
    journal = write_journal(archive, events)
    flip(journal, second.seq, 45)
    dry = dmj("repair", "--archive", str(archive))
    text = stripped(dry.output).replace(str(archive), "ARCHIVE")
    assert "run        run-2's start: the journal no longer knows that run" in text
    assert "run-2's end: it is unfinished again" not in text
    assert " ".join(text.split()).endswith(
        "After the repair, the journal holds a finished run last: `dmj resume --archive "
        "ARCHIVE` has nothing to carry on, and `dmj run --package PATH --archive ARCHIVE` "
        "starts a run that exports again what the lost records had exported. This was a dry "
        "run: nothing was changed. `dmj repair --apply --archive ARCHIVE` does it."
    )
    done = dmj("repair", "--archive", str(archive), "--apply")
    assert done.exit_code == 0, done.output
    last = stripped(done.output).replace(str(archive), "ARCHIVE").splitlines()[-1]
    assert last == "Next: `dmj run --package PATH --archive ARCHIVE`."
