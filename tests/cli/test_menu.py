"""Bare ``dmj``: the menu on a real pseudo-terminal (pexpect), the help anywhere else.

The pty test walks the menu's promise end to end against the sandbox: resume is listed but
unavailable, a run started from the menu is interrupted with Ctrl-C, the menu then shows the
interrupted batch, and resuming from the menu finishes the run. Another exports history from
an archive the history tests share (no sandbox needed): a query that cannot be read, then a
file that is what the printed command writes.
"""

from __future__ import annotations

import io
import os
import re
import shlex
from pathlib import Path

import pexpect
import pytest
from dmj.cli import app
from dmj.cli._history import OrderChoice
from dmj.cli._menu import ACTIONS
from dmj.cli._menu_actions import (
    MenuSession,
    _path,
    menu_status,
    nothing_to_resume,
    where_it_stands,
)
from dmj.cli._menu_export import export_history_menu, export_line
from dmj.journal import read_events
from dmj.machine.events import BatchFinished, BatchStarted, RunFinished
from dmj.machine.state import fold
from dmj.projections import replay_journal
from rich.console import Console
from typer.testing import CliRunner

from tests.e2e.support import DMJ, Served, wait_until
from tests.machine.test_retry import finished_with_every_verdict
from tests.projections.history.archives import two_run_archive
from tests.projections.story import first_run, mid_run, write_journal
from tests.promises import broken_promises

MENU = r"Choose \[[0-9/]+\] "


def start_menu(served: Served) -> pexpect.spawn[str]:
    """Bare ``dmj`` on a pseudo-terminal, with the sandbox's token and archive."""
    env = served.env(DMJ_ARCHIVE=str(served.archive.path))
    return pexpect.spawn(
        str(DMJ), env=env, encoding="utf-8", timeout=30, dimensions=(50, 120), echo=False
    )


def ctrl_c_at_the_prompt(menu: pexpect.spawn[str]) -> None:
    """Ctrl-C once the menu waits on the terminal. Sent earlier, it could land after the prompt
    is printed but before the read starts, where Python notices it only at the next keypress:
    the process must be asleep (state S) first."""
    stat = Path(f"/proc/{menu.pid}/stat")
    wait_until(lambda: stat.read_text().rsplit(")", 1)[1].split()[0] == "S", what="a blocking read")
    menu.sendintr()


def choose(menu: pexpect.spawn[str], key: str) -> None:
    menu.expect(MENU)
    menu.sendline(key)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_the_menu_resumes_a_run_interrupted_from_the_menu(served: Served) -> None:
    journal = served.archive.path / "journal.jsonl"
    menu = start_menu(served)
    menu.expect(r"2  Resume previous export  \(nothing to resume in ")
    choose(menu, "2")
    menu.sendline("")  # the archive: the remembered one
    menu.expect(r"Nothing to resume: no interrupted run in .*Choose 1 \(Export all")

    choose(menu, "1")
    menu.expect(re.escape("Data package (the .zip or its folder): "))
    ctrl_c_at_the_prompt(menu)  # in a prompt: back to the menu, nothing started
    menu.expect("Back to the menu")
    assert not journal.exists()

    served.server.set_faults("slow:messages=0.5")  # each export takes a while
    choose(menu, "1")
    for answer in (served.sandbox.package, served.dce, "", "2", "fast"):
        menu.expect(r"\]?: ")
        menu.sendline(str(answer))
    menu.expect(re.escape("$ dmj run --package "))
    wait_until(
        lambda: (
            journal.exists()
            and any(isinstance(e, BatchStarted) and e.batch == 1 for e in read_events(journal))
        ),
        what="the run's second batch to start",
    )
    menu.sendintr()
    menu.expect("exit code 130")
    menu.expect(MENU)
    state = replay_journal(journal)
    assert state.batch is not None, "the Ctrl-C interrupted the second batch"
    where = where_it_stands(state)
    assert where is not None
    assert (
        f"batch 2 of {state.run.started.total_batches if state.run else 0} was interrupted" in where
    )
    assert f"2  Resume previous export  ({where})" in str(menu.before)

    served.server.set_faults("")
    menu.sendline("2")
    menu.sendline("")
    menu.expect(re.escape(f"$ dmj resume --archive {served.archive.path}"))
    menu.expect(r"2  Resume previous export  \(nothing to resume in ", timeout=60)
    menu.expect(MENU)
    menu.sendline("4")  # what is missing: `dmj status --missing`
    menu.sendline("")
    menu.expect(re.escape(f"$ dmj status --missing --archive {served.archive.path}"))
    menu.expect(r"Conversations  \d+: \d+ archived, ")
    menu.expect(r"Your messages  \d+ of your \d+ messages archived")
    menu.expect(MENU)
    menu.sendline("6")  # browse the archive: `dmj view`, until Ctrl-C
    menu.sendline("")
    menu.expect(re.escape(f"$ dmj view --archive {served.archive.path}"))
    menu.expect(r"http://127\.0\.0\.1:\d+/\?key=")
    menu.sendintr()
    menu.expect("dmj view stopped")
    menu.expect(MENU)
    ctrl_c_at_the_prompt(menu)  # at the menu: quit
    menu.expect(pexpect.EOF)
    menu.close()
    assert menu.exitstatus == 0

    events = served.archive.events()
    assert isinstance(events[-1], RunFinished)
    assert broken_promises(events, served.facts) == []
    finished = [e.batch for e in events if isinstance(e, BatchFinished)]
    assert finished == sorted(set(finished)), "no batch finished twice"


@pytest.mark.timeout(60)
def test_the_menu_exports_history_as_the_command_it_prints_would(tmp_path: Path) -> None:
    archive = two_run_archive(tmp_path / "archive")
    menu = pexpect.spawn(
        str(DMJ), env={**os.environ, "DMJ_ARCHIVE": str(archive)}, cwd=str(tmp_path),
        encoding="utf-8", timeout=30, dimensions=(50, 200), echo=False,
    )  # fmt: skip
    menu.expect(r"5  Export history")
    choose(menu, "5")
    for answer in ("", "md", "frm:alice"):  # the archive (remembered), the format, the query
        menu.expect(r"[\]\)]: ")
        menu.sendline(answer)
    menu.expect(re.escape("Error: The query cannot be read: frm: is not a key of the query."))
    menu.expect(re.escape("  frm:alice\r\n  ^^^^\r\nValid keys: from: in: has:"))
    menu.expect(re.escape("(exit code 2; back to the menu)"))

    choose(menu, "5")
    for answer in ("", "md", 'in:"Trip crew" -from:me', "channel"):
        menu.expect(r"[\]\)]: ")
        menu.sendline(answer)
    menu.expect(r"File name \[(export_dm-\d{8}-\d{6}\.md)\]: ")
    default = matched(menu)
    menu.sendline("")
    menu.expect(r"\$ (dmj export [^\r\n]*)\r\n")
    printed = shlex.split(matched(menu))
    assert printed == [
        "dmj", "export", "md", 'in:"Trip crew" -from:me', "--order", "channel",
        "--filename", default, "--archive", str(archive),
    ]  # fmt: skip
    menu.expect(re.escape(f"Exported 2 messages to {default}."))
    choose(menu, "7")
    menu.expect(pexpect.EOF)
    menu.close()
    assert menu.exitstatus == 0

    by_hand = CliRunner().invoke(app, [*printed[1:-4], "--filename", "by-hand.md", *printed[-2:]])
    assert by_hand.exit_code == 0, by_hand.output
    made, typed = ((tmp_path / n).read_text("utf-8").splitlines() for n in (default, "by-hand.md"))
    assert [line for line in made if "generatedAt" not in line] == [
        line for line in typed if "generatedAt" not in line
    ], "the menu's file is what the command it printed writes"
    assert '  "filterInput": "export md in:\\"Trip crew\\" -from:me --order channel",' in made


def matched(menu: pexpect.spawn[str]) -> str:
    """The first group of what ``menu`` last matched."""
    assert isinstance(menu.match, re.Match)
    return str(menu.match[1])


@pytest.mark.parametrize(
    ("query", "order", "force", "line"),
    [
        ("", OrderChoice.TIME, False, "dmj export md --filename f --archive a"),
        ("from:me  last:3", OrderChoice.TIME, False,
         "dmj export md from:me last:3 --filename f --archive a"),
        ('"a b" x', OrderChoice.CHANNEL, True,
         "dmj export md '\"a b\" x' --order channel --filename f --force --archive a"),
        ("-from:me", OrderChoice.TIME, False, "dmj export md -from:me --filename f --archive a"),
    ],
    ids=["everything", "words", "quoted-as-one-argument", "negation"],
)  # fmt: skip
def test_the_menu_prints_the_export_as_it_would_be_typed(
    query: str, order: OrderChoice, force: bool, line: str
) -> None:
    selection, argv = export_line(Path("a"), "md", query, order, "f", force=force)
    assert shlex.join(["dmj", *argv]) == line
    assert argv[: len(selection)] == selection
    assert " ".join(shlex.split(line)[1 : len(selection) + 1]) == " ".join(selection)


def test_declining_to_replace_a_file_keeps_it_and_exports_nothing(tmp_path: Path) -> None:
    archive = two_run_archive(tmp_path / "archive")
    Path("mine.md").write_text("precious", encoding="utf-8")
    said = io.StringIO()
    session = MenuSession(console=Console(file=said, width=200), archive=archive)
    answers = "\n".join(["", "md", "from:alice", "", "mine.md", "n", ""])
    with CliRunner().isolation(input=answers):  # what the user types at the prompts
        export_history_menu(session)
    assert Path("mine.md").read_text(encoding="utf-8") == "precious"
    assert said.getvalue() == "mine.md is left as it is; nothing was exported.\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive", "mine.md"]


def test_bare_dmj_without_a_terminal_prints_the_help() -> None:
    result = CliRunner().invoke(app, [], prog_name="dmj")
    assert result.exit_code == 0
    assert "Usage: dmj [OPTIONS] COMMAND [ARGS]..." in result.output


def test_the_menu_lists_resume_always_and_keeps_the_issue_s_numbers() -> None:
    listed = {action.key: action.label for action in ACTIONS}
    assert listed["1"] == "Export all direct messages"
    assert listed["2"] == "Resume previous export"
    assert listed["3"] == "Inspect the journal"
    assert listed["4"] == "What is missing"
    assert listed["5"] == "Export history"
    assert listed["6"] == "Browse the archive"
    assert listed["7"] == "Quit"


def test_where_an_interrupted_run_stands_names_the_batch_and_its_dms_done() -> None:
    state = fold(mid_run())  # run 1 stopped in batch 2 of 3, as alice's DM was reopened
    assert where_it_stands(state) == "run run-1: batch 2 of 3 was interrupted after 0 of 2 DMs"


def test_a_finished_run_has_nothing_to_resume_and_the_menu_says_to_choose_1(
    tmp_path: Path,
) -> None:
    state = fold(first_run())
    assert where_it_stands(state) is None
    said = nothing_to_resume(tmp_path, state)
    assert f"no interrupted run in {tmp_path}" in said
    assert "Choose 1 (Export all direct messages)" in said
    assert "no interrupted run in" in nothing_to_resume(tmp_path, None)


def test_the_menu_says_when_the_journal_cannot_be_read(tmp_path: Path) -> None:
    journal = write_journal(tmp_path, first_run())
    lines = journal.read_bytes().splitlines(keepends=True)
    lines[3] = lines[3].replace(b'"seq":4', b'"seq":5')  # a record changed by hand
    journal.write_bytes(b"".join(lines))
    assert menu_status(tmp_path) == "the journal cannot be read: choose 3 to see why"
    assert menu_status(tmp_path / "none") == f"nothing to resume in {tmp_path / 'none'}"


def test_a_path_typed_at_a_prompt_may_start_with_a_tilde(tmp_path: Path) -> None:
    assert _path(" ~/Downloads/package.zip ") == tmp_path / "Downloads" / "package.zip"


def test_a_run_that_finished_with_failed_dms_can_be_resumed_from_the_menu() -> None:
    state = finished_with_every_verdict().state  # one DM failed: resuming retries it
    assert where_it_stands(state) == "run run-1 finished with 1 failed DM"
