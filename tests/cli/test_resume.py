"""``dmj resume``: what it checks, what it says about where the run stands, and when there is
nothing to resume."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from dmj.cli._summary import describe_position
from dmj.journal import JournalWriter
from dmj.machine.events import AnyEvent, RunPaused, RunStarted
from dmj.machine.state import fold

from tests.cli.runs import invoke, normalized
from tests.e2e.support import Served
from tests.machine.simulate import Simulation, World, package_dm, run_started, scripted
from tests.projections.golden import assert_golden_text
from tests.projections.story import first_run, write_journal


@pytest.fixture
def paused(served: Served) -> Served:
    """An archive whose run paused on a captcha at its second reopen."""
    served.server.set_faults("captcha")
    assert invoke(served, *served.run_args(batch_size=2)).exit_code == 3
    served.server.set_faults("")
    return served


def test_resume_says_where_the_run_stands_and_carries_it_to_the_end(paused: Served) -> None:
    result = invoke(paused, "resume", "--archive", str(paused.archive.path))
    assert result.exit_code == 0, result.stderr
    assert_golden_text("resume-output.txt", normalized(result.stdout, paused), area="cli")


def test_resume_uses_the_dce_the_run_began_with_unless_told_otherwise(
    paused: Served, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "nowhere" / "DiscordChatExporter.Cli"
    result = invoke(
        paused, "resume", "--archive", str(paused.archive.path), "--dce", str(elsewhere)
    )
    assert result.exit_code == 2
    assert f"--dce {elsewhere} is not DiscordChatExporter's" in result.stderr.replace("\n", " ")
    assert isinstance(paused.archive.events()[-1], RunPaused), "nothing was written"
    result = invoke(paused, "resume", "--archive", str(paused.archive.path))
    assert result.exit_code == 0, result.stderr


def test_resume_says_the_dce_it_tried_is_the_one_the_run_began_with_when_that_is_gone(
    served: Served, tmp_path: Path
) -> None:
    moved = tmp_path / "dce" / served.dce.name
    moved.parent.mkdir()
    shutil.copy2(served.dce, moved)
    served.server.set_faults("captcha")
    assert invoke(served, *served.run_args(dce=moved)).exit_code == 3
    served.server.set_faults("")
    moved.unlink()
    result = invoke(served, "resume", "--archive", str(served.archive.path))
    assert result.exit_code == 2
    said = " ".join(result.stderr.split())
    assert said.startswith(
        f"Error: dmj resume uses the DiscordChatExporter run {served.archive.events()[0].run} "
        f"began with, {moved}, unless --dce names another; it does not work now: --dce "
    ), said
    again = invoke(
        served, "resume", "--archive", str(served.archive.path), "--dce", str(served.dce)
    )
    assert again.exit_code == 0, again.stderr


def test_a_torn_last_line_is_set_aside_with_a_note_and_the_run_resumes(paused: Served) -> None:
    journal = paused.archive.path / "journal.jsonl"
    with journal.open("ab") as file:
        file.write(b'{"type":"RunPaused","v":1,"seq":')  # a write cut short by a crash
    result = invoke(paused, "resume", "--archive", str(paused.archive.path))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith("Note: ")
    assert "ended in a torn write" in result.stderr
    assert len(list(paused.archive.path.glob("journal.torn-*"))) == 1


def test_resume_wants_the_token(paused: Served) -> None:
    result = invoke(paused, "resume", "--archive", str(paused.archive.path), DISCORD_TOKEN=None)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: No Discord token")


def test_resume_while_the_run_is_running_says_so_with_the_pid_before_asking_anything(
    paused: Served,
) -> None:
    with JournalWriter.open(paused.archive.path / "journal.jsonl"):
        result = invoke(paused, "resume", "--archive", str(paused.archive.path), DISCORD_TOKEN=None)
    assert result.exit_code == 1
    message = normalized(" ".join(result.stderr.split()), paused)
    assert message.startswith(
        f"Error: Run RUN in ARCHIVE is running (pid {os.getpid()}): batch 1/2, 0 of 2 DMs done. "
        "Wait for it to finish, or stop it"
    )
    assert "interrupted" not in message


def test_no_archive_is_nothing_to_resume_and_a_usage_error(tmp_path: Path) -> None:
    result = invoke(None, "resume", "--archive", str(tmp_path / "missing"))
    assert (result.exit_code, result.stderr.replace("\n", " ").strip()) == (
        2,
        f"Error: There is no dmj archive at {tmp_path / 'missing'} (no such directory), so "
        "there is nothing to resume; check --archive or DMJ_ARCHIVE, or start a run with `dmj "
        f"run --package PATH --archive {tmp_path / 'missing'}`.",
    )


def test_an_archive_without_a_run_has_nothing_to_resume(tmp_path: Path) -> None:
    (tmp_path / "journal.jsonl").touch()
    result = invoke(None, "resume", "--archive", str(tmp_path))
    assert (result.exit_code, result.stdout) == (
        0,
        f"Nothing to resume: no run has started in {tmp_path}. Start one with `dmj run "
        f"--package PATH --archive {tmp_path}`.\n",
    )


def test_a_finished_run_has_nothing_to_resume_and_its_projections_are_settled(
    served: Served,
) -> None:
    assert invoke(served, *served.run_args()).exit_code == 0
    leftover = served.archive.path / "batch-state.json"
    leftover.write_text("{}")  # as if dmj died between RunFinished and moving it
    result = invoke(served, "resume", "--archive", str(served.archive.path))
    assert result.exit_code == 0
    text = normalized(result.stdout, served)
    assert text.startswith(
        "Nothing to resume: run RUN finished at TIME (4 exported, 0 skipped, 0 unreachable, 0 "
        "failed)."
    )
    assert "`dmj run --package PATH --archive ARCHIVE` starts an incremental run" in text
    assert not leftover.exists()


def test_nothing_to_resume_still_says_what_it_set_aside_from_the_journals_end(
    tmp_path: Path,
) -> None:
    journal = write_journal(tmp_path, first_run())
    with journal.open("ab") as file:
        file.write(b"checked it on sunday\n")
    result = invoke(None, "resume", "--archive", str(tmp_path))
    assert result.exit_code == 0
    assert result.stdout.startswith("Nothing to resume: run run-1 finished")
    [aside] = tmp_path.glob("journal.torn-*")
    assert aside.read_bytes() == b"checked it on sunday\n"
    said = " ".join(result.stderr.split())
    assert said.startswith(
        "Note: " + f"{journal} ended in a complete line that is not a dmj record, added by hand "
        f"or by another program (line 30, 21 bytes, dmj never wrote it); it was moved to {aside}"
    )


def _journal(*answers: str, stop_after: int) -> list[AnyEvent]:
    dms = [package_dm(str(100 + i)) for i in range(5)]
    sim = Simulation(world=World(choose=scripted(*answers)))
    sim.start(run_started(dms, batch_size=2))
    while len(sim.events) < stop_after:
        sim.step()
    return sim.events


@pytest.mark.parametrize(
    ("records", "says"),
    [
        (1, "Run run-1 stopped before its first batch; resuming."),
        (5, "Run run-1: batch 1/3 was interrupted after 1 of 2 DMs; resuming."),
        (8, "Run run-1: 1 of 3 batches are done; resuming with batch 2/3."),
        (18, "Run run-1: every batch is done; finishing the run."),
    ],
)
def test_where_the_run_stands_is_said_in_a_sentence(records: int, says: str) -> None:
    events = _journal(stop_after=records)[:records]
    assert describe_position(fold(events)) == says


def test_a_pause_is_named_in_where_the_run_stands() -> None:
    events = _journal(stop_after=5)[:5]
    events.append(RunPaused(run="run-1", reason="captcha", seq=6))
    assert describe_position(fold(events)) == (
        "Run run-1: batch 1/3 was interrupted after 1 of 2 DMs (paused: captcha); resuming."
    )


def test_resume_after_a_run_with_failed_dms_retries_exactly_those_in_a_new_run(
    served: Served,
) -> None:
    carol = served.facts.readable_closed[0]
    served.server.set_faults(f"dce-crash={carol}x3")
    assert invoke(served, *served.run_args(batch_size=2)).exit_code == 4
    result = invoke(served, "resume", "--archive", str(served.archive.path))
    assert result.exit_code == 0, result.stderr
    first, retry = [e for e in served.archive.events() if isinstance(e, RunStarted)]
    assert retry.retries == first.run
    assert [entry.channel_id for entry in retry.plan] == [carol]
    lines = normalized(result.stdout, served).splitlines()
    assert lines[:4] == [
        "Run RUN finished with 1 failed DM; run RUN retries it: carol#0.",
        "Batch 1/1: 1 DM",
        "  [1/1] carol#0: exported (1 message)",
        "Batch 1/1 done: 1 exported, 0 skipped, 0 unreachable, 0 failed; 1/1 DMs",
    ]
    assert "Run RUN finished (it retried the failed DMs of run RUN): 1 DM planned" in lines
    assert set(served.archive.exported()) == set(served.facts.exports), "the archive is complete"
    again = invoke(served, "resume", "--archive", str(served.archive.path))
    assert (again.exit_code, again.stdout.startswith("Nothing to resume: run ")) == (0, True)
