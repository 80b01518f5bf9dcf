"""``dmj run``: what it checks before it starts, how it asks, and what it prints."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import shutil
import subprocess
import termios
import time
import zipfile
from pathlib import Path

import pytest
from dmj.adapters import CAREFUL
from dmj.cli._dry_run import estimate
from dmj.journal import JournalWriter
from dmj.machine.events import RunStarted, Strategy
from dmj.machine.plan import plan_dms
from dmj.sandbox import WorldSpec, create_sandbox

from tests.cli.runs import in_terminal, invoke, normalized
from tests.e2e.support import DMJ, Served, serving
from tests.machine.simulate import package_dm
from tests.projections.golden import assert_golden_text


def test_a_run_prints_its_progress_and_a_summary(served: Served) -> None:
    result = invoke(served, *served.run_args(batch_size=2))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert_golden_text("run-output.txt", normalized(result.stdout, served), area="cli")


def test_a_batch_size_below_one_is_a_usage_error(served: Served) -> None:
    result = invoke(served, *served.run_args(batch_size=0))
    assert result.exit_code == 2
    flat = " ".join(result.stderr.replace("│", " ").split())
    assert "Invalid value for '--batch-size': Input should be greater than or equal to 1" in flat
    assert not served.archive.path.exists()


def test_a_batch_size_above_40_needs_yes_when_no_one_can_be_asked(served: Served) -> None:
    result = invoke(served, *served.run_args(batch_size=41))
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: --batch-size 41 is above the recommended 40 and there is no terminal to ask; "
        "pass --yes to accept it, or choose a batch size of 40 or less.\n",
    )
    assert not served.archive.path.exists()


def test_yes_accepts_a_batch_size_above_40(served: Served) -> None:
    result = invoke(served, *served.run_args("--yes", batch_size=41))
    assert result.exit_code == 0, result.stderr
    assert "in 1 batch of up to 41" in result.stdout


@pytest.mark.parametrize(("answer", "code"), [("n", 2), ("y", 2)])
def test_a_batch_size_of_41_asks_first(served: Served, answer: str, code: int) -> None:
    args = served.run_args(batch_size=41, package="/no/such/package")  # stops after the question
    exit_code, shown = in_terminal(args, served.env(), {"(y/n)": answer})
    assert "Recommended batch size < 40. Proceed with batch size > 40? (y/n)" in shown
    assert exit_code == code
    if answer == "n":
        assert "Not started. Choose a batch size of 40 or less" in shown
    else:
        assert "/no/such/package" in shown, "it went on to read the package"


def test_a_batch_size_of_40_does_not_ask(served: Served) -> None:
    args = served.run_args(batch_size=40, package="/no/such/package")
    exit_code, shown = in_terminal(args, served.env(), {"(y/n)": "n"})
    assert "(y/n)" not in shown
    assert exit_code == 2
    assert "/no/such/package" in shown


def test_in_a_terminal_the_token_is_asked_for_without_echo(served: Served) -> None:
    env = {k: v for k, v in served.env().items() if k != "DISCORD_TOKEN"}
    token = served.sandbox.world.token
    exit_code, shown = in_terminal(served.run_args(), env, {"(input is hidden)": token})
    assert exit_code == 0, shown
    assert "Discord token (input is hidden): " in shown
    assert token not in shown
    assert "finished: 4 DMs planned" in shown


def test_ctrl_c_at_the_hidden_token_prompt_quits_at_once(served: Served) -> None:
    env = {k: v for k, v in served.env().items() if k != "DISCORD_TOKEN"}
    code, shown, seconds = ctrl_c_at_the_prompt(served.run_args(), env)
    assert code == 130, shown
    assert seconds < 5, "the first Ctrl-C is enough"
    assert "Interrupted: stopped by Ctrl-C." in shown
    assert not (served.archive.path / "journal.jsonl").exists()


def ctrl_c_at_the_prompt(args: list[str], env: dict[str, str]) -> tuple[int, str, float]:
    """Run ``dmj ARGS`` with a pseudo-terminal as its controlling terminal, press Ctrl-C once
    the hidden prompt reads (echo off); the exit code, what the terminal showed, and the
    seconds from Ctrl-C to exit."""
    leader, follower = pty.openpty()

    def take_the_terminal() -> None:  # in the child, after setsid: the pty becomes its tty
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    # The child makes one ioctl between fork and exec: preexec_fn's thread hazard is moot.
    process = subprocess.Popen(
        [str(DMJ), *args], stdin=follower, stdout=follower, stderr=follower, env=env,
        start_new_session=True, preexec_fn=take_the_terminal,  # noqa: PLW1509
    )  # fmt: skip
    os.close(follower)
    shown = b""
    try:
        deadline = time.monotonic() + 60
        while b"(input is hidden)" not in shown or termios.tcgetattr(leader)[3] & termios.ECHO:
            assert time.monotonic() < deadline, shown
            if select.select([leader], [], [], 0.1)[0]:
                shown += os.read(leader, 4096)
        os.write(leader, b"\x03")  # the terminal turns it into SIGINT for dmj
        pressed = time.monotonic()
        code = process.wait(timeout=30)
        seconds = time.monotonic() - pressed
        while select.select([leader], [], [], 0.1)[0]:
            try:
                shown += os.read(leader, 4096)
            except OSError:
                break
    finally:
        process.kill()
        process.wait()
        os.close(leader)
    return code, shown.decode(errors="replace").replace("\r\n", "\n"), seconds


def test_no_token_and_no_terminal_is_a_usage_error_and_nothing_is_journaled(
    served: Served,
) -> None:
    result = invoke(served, *served.run_args(), DISCORD_TOKEN=None)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: No Discord token: set the DISCORD_TOKEN")
    assert not (served.archive.path / "journal.jsonl").exists()


def test_the_token_must_belong_to_the_package_owner(served: Served, tmp_path: Path) -> None:
    other = create_sandbox(tmp_path / "other", WorldSpec(users=2, seed=99))
    result = invoke(served, *served.run_args(package=other.package))
    assert result.exit_code == 2
    me = served.sandbox.world.self_user
    assert (
        f"The token belongs to {me.global_name} (user {me.id}), but the data package "
        f"{other.package} belongs to user {other.world.self_user.id}."
    ) in result.stderr.replace("\n", " ")
    assert not (served.archive.path / "journal.jsonl").exists()


def test_a_rejected_token_is_a_usage_error(served: Served) -> None:
    served.server.set_faults("revoked")
    result = invoke(served, *served.run_args())
    assert result.exit_code == 2
    assert "Discord rejected the token (HTTP 401)" in result.stderr


def test_a_missing_package_or_dce_is_a_usage_error(served: Served) -> None:
    assert invoke(served, *served.run_args(package="/no/such/package")).exit_code == 2
    result = invoke(served, *served.run_args(dce="/no/such/dce"))
    assert result.exit_code == 2
    assert "--dce /no/such/dce is not DiscordChatExporter's command-line version" in (
        result.stderr.replace("\n", " ")
    )


def test_a_dce_that_is_not_executable_is_bad_input_with_the_chmod_fix(
    served: Served, tmp_path: Path
) -> None:
    dce = tmp_path / "DiscordChatExporter.Cli"
    dce.write_text("#!/bin/sh\necho v2.47.0\n")
    result = invoke(served, *served.run_args(dce=dce))
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert f"--dce: {dce} is not executable" in message
    assert f"make it executable with `chmod +x {dce}`" in message
    assert not served.archive.path.exists()


def test_a_dce_that_hangs_on_version_is_bad_input_after_the_stall_timeout(
    served: Served, tmp_path: Path
) -> None:
    dce = tmp_path / "DiscordChatExporter.Cli"
    dce.write_text("#!/bin/sh\nexec sleep 600\n")
    dce.chmod(0o755)
    result = invoke(served, *served.run_args("--stall-timeout", "1", dce=dce))
    assert result.exit_code == 2
    assert "printed nothing for 1 s after --version and was stopped: it hangs" in " ".join(
        result.stderr.split()
    )
    assert not served.archive.path.exists()


def test_a_stall_timeout_below_one_second_is_a_usage_error(served: Served) -> None:
    result = invoke(served, *served.run_args("--stall-timeout", "0"))
    assert result.exit_code == 2
    assert "Invalid value for '--stall-timeout'" in " ".join(
        result.stderr.replace("│", " ").split()
    )


def test_an_archive_that_is_a_file_is_refused(served: Served) -> None:
    served.archive.path.write_text("not a directory")
    result = invoke(served, *served.run_args())
    assert result.exit_code == 2
    assert "is a file, not a directory" in result.stderr


def test_an_unfinished_run_is_refused_with_the_command_that_resumes_it(served: Served) -> None:
    served.server.set_faults("captcha")
    assert invoke(served, *served.run_args()).exit_code == 3
    journal = (served.archive.path / "journal.jsonl").read_bytes()
    result = invoke(served, *served.run_args())
    assert result.exit_code == 2
    message = result.stderr.replace("\n", " ")
    assert "which has not finished." in message
    assert f"Continue it with `dmj resume --archive {served.archive.path}`" in message
    assert (served.archive.path / "journal.jsonl").read_bytes() == journal


def test_the_refusal_of_an_unfinished_run_reads_as_sentences_and_names_the_archive_as_given(
    served: Served,
) -> None:
    served.server.set_faults("captcha")
    args = [a for a in served.run_args() if a not in ("--archive", str(served.archive.path))]
    from_env = str(served.archive.path)
    assert invoke(served, *args, DMJ_ARCHIVE=from_env).exit_code == 3
    result = invoke(served, *args, DMJ_ARCHIVE=from_env)
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert re.search(
        r"which has not finished\. Run \S+: batch 1/1 was interrupted after \d of 4 DMs "
        rf"\(paused: captcha\)\. Continue it with `DMJ_ARCHIVE={re.escape(from_env)} dmj "
        r"resume`, or choose another --archive\.",
        message,
    ), message


def test_a_second_run_on_a_running_archive_says_it_is_running_and_by_which_pid(
    served: Served,
) -> None:
    served.server.set_faults("captcha")
    assert invoke(served, *served.run_args(batch_size=2)).exit_code == 3
    journal = served.archive.path / "journal.jsonl"
    before = journal.read_bytes()
    with JournalWriter.open(journal):  # the dmj running it, as far as the lock can tell
        result = invoke(served, *served.run_args(), DISCORD_TOKEN=None)
    assert result.exit_code == 1, result.stderr
    message = normalized(" ".join(result.stderr.split()), served)
    assert message == (
        f"Error: Run RUN in ARCHIVE is running (pid {os.getpid()}): batch 1/2, 0 of 2 DMs done. "
        f"Wait for it to finish, or stop it (Ctrl-C where it runs, or `kill {os.getpid()}`), "
        "then try again; `dmj replay --inspect --archive ARCHIVE` shows how far it got.\n"
    )
    assert journal.read_bytes() == before


def test_a_run_on_a_damaged_journal_names_dmj_repair(served: Served) -> None:
    served.server.set_faults("captcha")
    assert invoke(served, *served.run_args(batch_size=2)).exit_code == 3
    journal = served.archive.path / "journal.jsonl"
    data = bytearray(journal.read_bytes())
    data[len(data) // 2] ^= 0x01
    journal.write_bytes(bytes(data))
    result = invoke(served, *served.run_args())
    assert result.exit_code == 1
    message = " ".join(result.stderr.split())
    assert "is corrupt (checksum mismatch); nothing was changed." in message
    assert f"Run `dmj repair --archive {served.archive.path}` to see what a repair keeps" in message
    assert journal.read_bytes() == bytes(data)


def test_an_archive_of_another_account_is_refused(served: Served, tmp_path: Path) -> None:
    assert invoke(served, *served.run_args()).exit_code == 0
    other = create_sandbox(tmp_path / "other", WorldSpec(users=2, seed=99))
    with serving(other, served.archive.path) as elsewhere:
        result = invoke(elsewhere, *elsewhere.run_args())
    assert result.exit_code == 2
    assert "holds the DMs of user" in result.stderr


def test_a_pause_says_why_and_what_to_do_and_exits_3(served: Served) -> None:
    served.server.set_faults("captcha")
    result = invoke(served, *served.run_args())
    assert result.exit_code == 3
    lines = result.stderr.replace("\n", " ")
    assert lines.startswith("Paused: Discord asked for a captcha while reopening the DM")
    resume = f"`dmj resume --archive {served.archive.path}`"
    assert f"The run is paused (captcha); {resume} carries on." in lines
    assert f"then run {resume}." in lines, "the pause's own advice names the archive too"


def test_the_logs_have_every_request_and_step_and_are_private(served: Served) -> None:
    assert invoke(served, *served.run_args()).exit_code == 0
    (log,) = (served.archive.path / "logs").glob("*.log")
    text = log.read_text(encoding="utf-8")
    assert "GET /users/@me/channels -> 200" in text
    assert "journal seq 1: RunStarted" in text
    assert "exporting channel" in text
    assert oct(log.stat().st_mode & 0o777) == oct(0o600)
    assert os.umask(0o022) == 0o022, "dmj restores the umask it changed"


def test_a_run_that_finishes_with_failed_dms_exits_4_and_says_resume_retries_them(
    served: Served,
) -> None:
    carol = served.facts.readable_closed[0]
    served.server.set_faults(f"dce-crash={carol}x3")
    result = invoke(served, *served.run_args(batch_size=2))
    assert result.exit_code == 4, result.stderr
    out = normalized(result.stdout, served)
    assert "Batch 1/2 done: 1 exported, 0 skipped, 0 unreachable, 1 failed; 2/4 DMs" in out
    assert "failed       1    carol#0: DCE failed without a known reason (killed by SIGKILL)" in out
    assert result.stderr == (
        "Finished, but 1 DM failed for a reason that may pass (DCE, the disk, the network); "
        f"`dmj resume --archive {served.archive.path}` retries it.\n"
    )


def test_unreachable_dms_are_no_failure_of_the_run(served: Served) -> None:
    group = served.facts.group_dms[0]
    served.server.set_faults(f"dce-forbidden={group}")
    result = invoke(served, *served.run_args())
    assert result.exit_code == 0, result.stderr
    assert "unreachable  1    Trip crew: Discord forbids reading this channel" in result.stdout


@pytest.mark.parametrize(
    ("api_base", "says"),
    [
        ("http://127.0.0.1:9/api/v9", "Discord could not be reached while reading your account"),
        (None, "Discord answered reading your account (GET /users/@me) in a way dmj cannot"),
    ],
    ids=["unreachable", "wrong-base-404"],
)
def test_a_check_failing_before_the_run_advises_running_it_again_and_leaves_no_archive(
    served: Served, api_base: str | None, says: str
) -> None:
    base = api_base or served.server.base_url.replace("/api/v9", "/nope")
    result = invoke(served, *served.run_args(), DMJ_API_BASE=base)
    assert result.exit_code == 1
    message = result.stderr.replace("\n", " ")
    assert message.startswith(f"Error: {says}")
    assert message.rstrip().endswith("then run the same `dmj run` command.")
    assert "dmj resume" not in message
    assert not served.archive.path.exists(), "no empty archive folder is left behind"


def test_hints_name_the_archive_as_dmj_archive_when_that_is_how_it_came(served: Served) -> None:
    served.server.set_faults("captcha")
    args = [a for a in served.run_args() if a not in ("--archive", str(served.archive.path))]
    result = invoke(served, *args, DMJ_ARCHIVE=str(served.archive.path))
    assert result.exit_code == 3
    resume = f"`DMJ_ARCHIVE={served.archive.path} dmj resume`"
    assert result.stderr.replace("\n", " ").endswith(
        f"then run {resume}. The run is paused (captcha); {resume} carries on. "
    )


def test_an_archive_inside_the_data_package_is_refused(served: Served) -> None:
    inside = served.sandbox.package / "archive"
    result = invoke(served, *served.run_args(), "--archive", str(inside))
    assert result.exit_code == 2
    assert result.stderr.replace("\n", " ").startswith(
        f"Error: --archive {inside} is inside the data package {served.sandbox.package}, and "
        "dmj never writes into the package;"
    )
    assert not inside.exists()


def test_a_dry_run_prints_the_plan_and_touches_neither_discord_nor_the_archive(
    served: Served,
) -> None:
    result = invoke(served, *served.run_args("--dry-run", batch_size=2), DISCORD_TOKEN=None)
    assert result.exit_code == 0, result.stderr
    assert normalized(result.stdout, served) == (
        "Dry run: nothing was sent to Discord and nothing was written.\n"
        "Plan: 4 DMs in 2 batches of up to 2 (direct-first, fast pace), into ARCHIVE.\n"
        "kind          DMs  how they are exported\n"
        f"{'─' * 61}\n"
        "1-on-1        3    by channel id; reopened only if that fails\n"
        "group         1    by channel id; never reopened or closed\n"
        "deleted user  0    by channel id; cannot be reopened\n"
        "Batch 1/2: alice#0, carol#0\n"
        "Batch 2/2: Trip crew, bob#0\n"
        "Estimate at the fast pace: 0:00:20 to 0:00:35 (each DCE export counted as 5 s; long "
        "conversations take longer).\n"
        "To start it, run the same command without --dry-run.\n"
    )
    assert served.server.stats().requests == 0
    assert not served.archive.path.exists()


def test_a_dry_run_still_checks_dce(served: Served) -> None:
    result = invoke(served, *served.run_args("--dry-run", dce="/no/such/dce"))
    assert result.exit_code == 2
    assert "--dce /no/such/dce is not DiscordChatExporter's" in result.stderr.replace("\n", " ")


def test_only_limits_the_run_to_the_conversations_it_names(served: Served) -> None:
    group = served.facts.group_dms[0]
    result = invoke(served, *served.run_args("--only", "ALICE#0", "--only", group))
    assert result.exit_code == 0, result.stderr
    started = served.archive.events()[0]
    assert isinstance(started, RunStarted)
    assert [entry.name for entry in started.plan] == ["Direct Message with alice#0", "Trip crew"]
    assert set(served.archive.exported()) == {started.plan[0].channel_id, group}


def test_only_takes_a_name_as_discord_shows_it_without_the_usernames_hash_0(
    served: Served,
) -> None:
    result = invoke(served, *served.run_args("--only", "alice"))
    assert result.exit_code == 0, result.stderr
    started = served.archive.events()[0]
    assert isinstance(started, RunStarted)
    assert [entry.name for entry in started.plan] == ["Direct Message with alice#0"]
    first = normalized(result.stdout, served).splitlines()[0]
    assert first.startswith("Run RUN: 1 DM in 1 batch of up to 4"), first


def test_only_naming_no_conversation_is_a_usage_error_with_close_names(served: Served) -> None:
    result = invoke(served, *served.run_args("--only", "alcie"))
    assert result.exit_code == 2
    assert "--only 'alcie' matches no conversation in the data package" in result.stderr
    assert "Did you mean 'alice#0'?" in result.stderr
    assert not served.archive.path.exists()


def test_package_problems_are_noted_before_the_run_and_listed_in_its_summary(
    served: Served, tmp_path: Path
) -> None:
    package = tmp_path / "package"
    shutil.copytree(served.sandbox.package, package)
    (package / "Messages" / "c900000000000000001").mkdir()
    (package / "Messages" / "c900000000000000001" / "messages.json").write_text("[]")
    (package / "Messages" / "c900000000000000002").mkdir()
    (package / "Messages" / "c900000000000000002" / "channel.json").write_text("{")
    served.server.set_faults("captcha")
    paused = invoke(served, *served.run_args(package=package))
    assert paused.exit_code == 3
    notes = [line for line in paused.stderr.splitlines() if line.startswith("Note: ")]
    assert notes == [
        "Note: Messages/c900000000000000001/ has no channel.json, so its conversation is left "
        "out of the plan.",
        "Note: Messages/c900000000000000002/channel.json cannot be read (Input data was "
        "truncated), so its conversation is left out of the plan.",
    ]
    served.server.set_faults("")
    resumed = invoke(served, "resume", "--archive", str(served.archive.path))
    assert resumed.exit_code == 0, resumed.stderr
    listed = [line for line in resumed.stdout.splitlines() if line.startswith("Package problem")]
    assert listed == [note.replace("Note:", "Package problem:") for note in notes]


def test_a_zip_entry_that_does_not_unpack_is_a_package_error_not_a_bug(
    served: Served, tmp_path: Path
) -> None:
    damaged = tmp_path / "package.zip"
    shutil.make_archive(str(tmp_path / "package"), "zip", served.sandbox.package)
    with zipfile.ZipFile(damaged) as archive:
        info = archive.getinfo("Messages/index.json")
    data = bytearray(damaged.read_bytes())
    data[info.header_offset + 30 + len(info.filename) + len(info.extra) + 3] ^= 0x55
    damaged.write_bytes(bytes(data))
    result = invoke(served, *served.run_args(package=damaged))
    assert result.exit_code == 2
    assert result.stderr.replace("\n", " ").startswith(
        f"Error: The data package {damaged} is damaged: Messages/index.json inside it does not "
        "unpack ("
    )
    assert not served.archive.path.exists()


@pytest.mark.parametrize(
    ("strategy", "low", "high"),
    [("direct-first", 602.6, 3600.0), ("reopen", 3600.0, 3600.0)],
)
def test_the_dry_run_estimate_counts_dce_the_pace_and_the_hourly_cap_on_reopens(
    strategy: Strategy, low: float, high: float
) -> None:
    """120 closed 1-on-1 DMs at the careful pace: 5 s per DCE export, a 1 s gap per request,
    a 12.5 s pause every 45, at most 60 reopens an hour. Direct exports need two requests in
    all; reopening every DM needs 240 more and the cap makes that take an hour at least."""
    plan = plan_dms([package_dm(str(n)) for n in range(100, 220)])
    assert estimate(plan, strategy, CAREFUL) == pytest.approx((low, high), abs=0.1)
