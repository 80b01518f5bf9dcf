"""``dmj replay``: rebuild the projections; ``--inspect [--json]``: the read-only audit."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from dmj.cli import app
from dmj.journal import JournalWriter
from dmj.machine.events import ChannelExported, DmCloseRequested, RunPaused
from dmj.machine.state import fold
from dmj.projections import projection_files
from typer.testing import CliRunner, Result

from tests.machine.simulate import Simulation, World, package_dm, run_started, scripted
from tests.projections.golden import assert_golden_text
from tests.projections.story import first_run, mid_run, two_runs, write_journal

runner = CliRunner()


def dmj(*args: str) -> Result:
    return runner.invoke(app, ["replay", *args])


def stripped(output: str) -> str:
    """The output without the trailing spaces rich pads table cells with."""
    return "\n".join(line.rstrip() for line in output.splitlines()) + "\n"


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    """An archive whose run 1 is in progress: batch 1 open, alice's DM just reopened."""
    write_journal(tmp_path / "archive", mid_run())
    return tmp_path / "archive"


def files_in(archive: Path) -> dict[str, bytes]:
    return {
        p.relative_to(archive).as_posix(): p.read_bytes() for p in sorted(archive.rglob("*.json"))
    }


def test_inspect_shows_the_journal_runs_batches_next_step_and_projections(archive: Path) -> None:
    result = dmj("--inspect", "--archive", str(archive))
    assert result.exit_code == 0, result.output
    assert_golden_text(
        "inspect-mid-run.txt", stripped(result.output).replace(str(archive), "ARCHIVE")
    )


def test_inspect_of_finished_runs_says_there_is_nothing_to_do(tmp_path: Path) -> None:
    write_journal(tmp_path / "archive", two_runs())
    assert dmj("--archive", str(tmp_path / "archive")).exit_code == 0
    result = dmj("--inspect", "--archive", str(tmp_path / "archive"))
    assert result.exit_code == 0, result.output
    text = stripped(result.output).replace(str(tmp_path / "archive"), "ARCHIVE")
    assert_golden_text("inspect-two-runs.txt", text)


def test_a_paused_run_shows_why_it_paused(tmp_path: Path) -> None:
    write_journal(tmp_path / "archive", [*mid_run(), RunPaused(run="run-1", reason="captcha")])
    result = dmj("--inspect", "--archive", str(tmp_path / "archive"))
    assert "Run run-1: paused (captcha); direct-first, batches of 2" in result.output
    assert "Next step  export alice (channel 7100), attempt 2" in result.output


def test_the_run_totals_include_the_batch_still_in_progress(tmp_path: Path) -> None:
    """Batch 0 finished (friends exported, the deleted user's DM unreachable); batch 1 is open
    and alice's DM is exported: the run has two DMs exported, not only the finished batch's.
    Unreachable and failed are told apart, in the text and in the JSON."""
    alice_exported = first_run(
        until=lambda event: isinstance(event, ChannelExported) and event.user_id == "100"
    )
    write_journal(tmp_path / "archive", alice_exported)
    result = dmj("--inspect", "--json", "--archive", str(tmp_path / "archive"))
    [run] = json.loads(result.output)["runs"]
    by_batch = [
        (b["batch"], b["state"], b["exported"], b["unreachable"], b["failed"])
        for b in run["batches"]
    ]
    assert by_batch == [(0, "finished", 1, 1, 0), (1, "in-progress", 1, 0, 0)]
    assert (run["exported"], run["skipped"], run["unreachable"], run["failed"]) == (2, 0, 1, 0)
    text = dmj("--inspect", "--archive", str(tmp_path / "archive")).output
    assert "5 DMs planned: 2 exported, 0 skipped, 1 unreachable, 0 failed" in text


def test_an_empty_journal_has_no_run_and_nothing_to_rebuild(tmp_path: Path) -> None:
    (tmp_path / "journal.jsonl").touch()
    inspected = dmj("--inspect", "--archive", str(tmp_path))
    assert inspected.exit_code == 0
    assert stripped(inspected.output) == (
        f"Archive  {tmp_path}\n"
        f"Journal  {tmp_path / 'journal.jsonl'}: 0 records, last seq 0, intact\n"
        "No run has started in this archive yet.\n"
        "Next step  nothing to do: no run has started here (`dmj run --package PATH --archive "
        f"{tmp_path}` starts one)\n"
    )
    rebuilt = dmj("--archive", str(tmp_path))
    assert (rebuilt.exit_code, rebuilt.output) == (
        0,
        f"{tmp_path / 'journal.jsonl'} has no run yet: nothing to rebuild.\n",
    )


def test_inspect_json_is_the_same_report_for_machines(archive: Path) -> None:
    result = dmj("--inspect", "--json", "--archive", str(archive))
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["journal"] == {
        "path": str(archive / "journal.jsonl"), "records": 13, "last_seq": 13,
        "torn_line": None, "torn_bytes": None, "torn_kind": None, "problem_line": None,
        "problem": None, "writing": False, "writer_pid": None,
    }  # fmt: skip
    assert report["last_completed_batch"] == 0
    assert report["next_step"] == {
        "step": "export-channel", "batch": 1, "user_id": "100", "channel_id": "7100",
        "attempt": 2, "name": "alice", "after": None, "probe": False, "checks": 0,
    }  # fmt: skip
    [run] = report["runs"]
    assert (run["run_id"], run["status"], run["exported"], run["unreachable"], run["failed"]) == (
        "run-1", "interrupted", 1, 1, 0,
    )  # fmt: skip
    assert [(b["batch"], b["state"], b["seconds"]) for b in run["batches"]] == [
        (0, "finished", 5.0),
        (1, "in-progress", None),
    ]
    assert [(p["path"], p["freshness"]) for p in report["projections"]] == [
        ("id-history.json", "missing"),
        ("batch-state.json", "missing"),
    ]


def test_replay_rebuilds_both_projections_and_says_what_changed(archive: Path) -> None:
    result = dmj("--archive", str(archive))
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"Rebuilt the projections from {archive / 'journal.jsonl'} (13 records):\n"
        "  id-history.json   created (throughSeq 13)\n"
        "  batch-state.json  created (throughSeq 13)\n"
        "Rebuilt the message index index.sqlite: 0 messages in 5 conversations (throughSeq 13).\n"
    )
    assert result.stderr == (  # the story's run read a package that is not there
        "Note: The data package /pkg the last run read is gone, so your own messages in 1 "
        "conversation Discord refuses are not in the message index; put it back, or run `dmj "
        "run --package PATH` with it.\n"
    )
    assert files_in(archive) == projection_files(fold(mid_run()))
    again = dmj("--archive", str(archive))
    assert again.output.splitlines()[1:3] == [
        "  id-history.json   unchanged (throughSeq 13)",
        "  batch-state.json  unchanged (throughSeq 13)",
    ]


def test_replay_after_the_run_finished_archives_batch_state_under_runs(archive: Path) -> None:
    assert dmj("--archive", str(archive)).exit_code == 0
    write_journal(archive, first_run())
    result = dmj("--archive", str(archive))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:] == [
        "  id-history.json              updated (throughSeq 13 → 29)",
        "  runs/run-1/batch-state.json  created (throughSeq 29)",
        "  batch-state.json             removed (its run finished; see runs/<run_id>/)",
        "Rebuilt the message index index.sqlite: 0 messages in 5 conversations (throughSeq 29).",
    ]
    assert sorted(files_in(archive)) == ["id-history.json", "runs/run-1/batch-state.json"]


def test_the_archive_comes_from_dmj_archive_when_no_option_is_given(
    archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DMJ_ARCHIVE", str(archive))
    result = dmj("--inspect")
    assert result.exit_code == 0
    assert f"Archive  {archive}" in result.output


@pytest.mark.parametrize("inspect", [True, False], ids=["inspect", "rebuild"])
def test_a_missing_archive_is_a_usage_error_that_says_how_to_start(
    tmp_path: Path, inspect: bool
) -> None:
    missing = tmp_path / "typo"
    result = dmj(*(["--inspect"] if inspect else []), "--archive", str(missing))
    assert result.exit_code == 2
    assert stripped(result.output) == (
        f"Error: There is no dmj archive at {missing} (no such directory); check --archive or "
        f"DMJ_ARCHIVE, or start one with `dmj run --package PATH --archive {missing}`.\n"
    )
    missing.mkdir()
    result = dmj(*(["--inspect"] if inspect else []), "--archive", str(missing))
    assert result.exit_code == 2
    assert "has no journal.jsonl, so no run has started there" in result.output
    assert not (missing / "journal.jsonl").exists()


def test_inspect_reads_while_another_dmj_writes_and_replay_waits_its_turn(archive: Path) -> None:
    with JournalWriter.open(archive / "journal.jsonl"):
        inspected = dmj("--inspect", "--archive", str(archive))
        rebuilt = dmj("--archive", str(archive))
    assert inspected.exit_code == 0
    assert "13 records, last seq 13, intact" in inspected.output
    assert rebuilt.exit_code == 1
    assert rebuilt.output.startswith("Error: another dmj (pid ")
    assert files_in(archive) == {}


def test_inspect_of_a_run_whose_dmj_died_says_interrupted_not_in_progress(
    archive: Path,
) -> None:
    """No dmj holds the journal (killed with -9, or the machine went down): the run is not
    going on, whatever its last record says."""
    result = dmj("--inspect", "--archive", str(archive))
    output = stripped(result.output)
    assert "Run run-1: interrupted; direct-first, batches of 2" in output
    assert "05-01 12:00:09  interrupted" in output
    assert "in progress" not in output
    assert "writing it now" not in output


def test_inspect_of_a_run_being_written_says_running_and_names_the_pid(archive: Path) -> None:
    with JournalWriter.open(archive / "journal.jsonl"):
        result = dmj("--inspect", "--archive", str(archive))
        report = json.loads(dmj("--inspect", "--json", "--archive", str(archive)).output)
    output = stripped(result.output)
    assert f"  a dmj is writing it now (pid {os.getpid()})" in output
    assert "Run run-1: running; direct-first, batches of 2" in output
    assert "05-01 12:00:09  running" in output
    assert f"attempt 2 (the dmj running now, pid {os.getpid()}, is at it)" in output
    assert (report["journal"]["writing"], report["journal"]["writer_pid"]) == (True, os.getpid())
    assert report["runs"][0]["status"] == "running"


def test_inspect_of_a_journal_damaged_on_its_first_line_says_so_and_nothing_else(
    archive: Path,
) -> None:
    path = archive / "journal.jsonl"
    data = bytearray(path.read_bytes())
    data[30] ^= 0x01
    path.write_bytes(bytes(data))
    result = dmj("--inspect", "--archive", str(archive))
    assert result.exit_code == 1
    output = stripped(result.output)
    assert "damaged at line 1 (none; last seq 0)" in output
    assert "No run can be read: the damage comes before any intact record." in output
    assert f"Next step  repair the journal first (`dmj repair --archive {archive}`" in output
    for misleading in ("0 records", "No run has started", "nothing to do:", "replay --inspect"):
        assert misleading not in output


def test_inspect_names_a_line_appended_by_hand_for_what_it_is(archive: Path) -> None:
    with (archive / "journal.jsonl").open("ab") as journal:
        journal.write(b"checked by hand, all good\n")
    result = dmj("--inspect", "--archive", str(archive))
    assert result.exit_code == 0
    assert (
        "line 14 is a complete line that is not a dmj record (26 bytes, added by hand or by "
        "another program): the next dmj that writes moves it aside"
    ) in result.output
    assert "torn" not in result.output


def test_inspect_reports_a_torn_last_write_without_failing(archive: Path) -> None:
    with (archive / "journal.jsonl").open("ab") as journal:
        journal.write(b'{"type":"ExportRequested","v":1,"seq":14,"at":"2024-05')
    result = dmj("--inspect", "--archive", str(archive))
    assert result.exit_code == 0
    assert "13 records, last seq 13\n" in stripped(result.output)
    assert "torn last write at line 14 (54 bytes, never acknowledged)" in result.output


def test_inspect_reports_damage_with_its_line_and_shows_what_came_before(archive: Path) -> None:
    path = archive / "journal.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    lines[4] = lines[4].replace(b'"batch":0', b'"batch":9')
    path.write_bytes(b"".join(lines))
    result = dmj("--inspect", "--archive", str(archive))
    assert result.exit_code == 1
    output = stripped(result.output)
    assert "journal.jsonl line 5 is corrupt" in output
    assert "Journal  ARCHIVE/journal.jsonl: damaged at line 5 (4 intact records before it" in (
        output.replace(str(archive), "ARCHIVE")
    )
    assert "What the records before the damage say:\nRun run-1: interrupted" in output
    assert (
        f"Next step  repair the journal first (`dmj repair --archive {archive}` shows what it "
        "keeps and sets aside); after that: export friends (channel 300), attempt 2"
    ) in output
    assert "dmj replay --inspect" not in output, "it does not send the user to itself"
    report = json.loads(dmj("--inspect", "--json", "--archive", str(archive)).output)
    assert (report["journal"]["problem_line"], report["through_seq"]) == (5, 4)
    rebuilt = dmj("--archive", str(archive))
    assert rebuilt.exit_code == 1
    assert "line 5 is corrupt" in rebuilt.output


def test_a_record_that_breaks_a_rule_is_reported_and_refused(archive: Path) -> None:
    with JournalWriter.open(archive / "journal.jsonl") as journal:
        journal.append(DmCloseRequested(run="run-1", batch=1, channel_id="5200"))
    result = dmj("--inspect", "--archive", str(archive))
    assert result.exit_code == 1
    assert "rule broken: record seq 14 breaks a rule of the run: " in result.output
    assert "never a group DM or a DM that was open at the start" in result.output
    assert "repair the journal first (`dmj repair --archive" in result.output
    assert "dmj replay --inspect" not in result.output
    rebuilt = dmj("--archive", str(archive))
    assert rebuilt.exit_code == 1
    assert "journal record seq 14 (DmCloseRequested) breaks a rule" in rebuilt.output


def test_json_without_inspect_is_a_usage_error(archive: Path) -> None:
    result = dmj("--json", "--archive", str(archive))
    assert result.exit_code == 2
    assert "--json goes with --inspect" in result.output


def test_inspect_counts_one_dm_in_the_singular(tmp_path: Path) -> None:
    sim = Simulation(world=World(choose=scripted("exported")))
    sim.start(run_started([package_dm("100", name="alice")], batch_size=2))
    sim.run_to_end()
    write_journal(tmp_path / "archive", sim.events)
    text = dmj("--inspect", "--archive", str(tmp_path / "archive")).output
    assert "1 of 1 batches done; 1 DM planned: 1 exported, 0 skipped" in text
