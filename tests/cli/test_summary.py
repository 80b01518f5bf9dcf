"""How a run ends on screen: the summary of a finished run, its exit code and next step."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from dmj.cli._archive import Archive
from dmj.cli._errors import ExitCode
from dmj.cli._hints import ArchiveSource, NextSteps
from dmj.cli._session import Ending, run_async
from dmj.cli._summary import render_ending
from dmj.journal import OsStorage
from dmj.machine.driver import RunEnd
from dmj.machine.events import PackageProblem
from dmj.machine.state import State
from msgspec.structs import replace
from rich.console import Console

from tests.machine.simulate import Simulation, World, package_dm, run_started, scripted

STEPS = NextSteps(Path("my archive"), ArchiveSource.OPTION, run_exists=True)


def finished(*answers: str, problems: tuple[PackageProblem, ...] = ()) -> State:
    """A run of two DMs both called "Unknown Participant", and a group, to the end."""
    dms = [
        package_dm("11", name="Unknown Participant"),
        package_dm("12", name="Unknown Participant"),
        package_dm("900", "group", name="Trip crew"),
    ]
    started = run_started(dms, batch_size=3)
    started = replace(started, package=replace(started.package, problems=problems))
    sim = Simulation(world=World(choose=scripted(*answers)))
    sim.start(started)
    return sim.run_to_end()


def shown(state: State) -> tuple[ExitCode, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = render_ending(
        Console(file=out, width=100, color_system=None),
        Console(file=err, width=200, color_system=None),
        Ending(end=RunEnd(kind="finished", state=state), log="LOG", storage=OsStorage()),
        Archive(Path("/a")),
        STEPS,
    )
    return code, out.getvalue(), err.getvalue()


def test_conversations_with_the_same_name_are_told_apart_by_channel_id() -> None:
    code, out, _ = shown(finished("transient", "transient", "transient", "exported", "permanent"))
    assert code == ExitCode.FAILED_DMS
    lines = [line.rstrip() for line in out.splitlines()]
    assert lines[3:7] == [
        "exported     1",
        "skipped      0",
        "unreachable  1    Trip crew: DCE said permanent",
        "failed       1    Unknown Participant (channel 111): DCE said transient",
    ]


def test_a_finished_run_without_failed_dms_exits_0_and_lists_package_problems() -> None:
    problem = PackageProblem(path="Messages/c5/channel.json", message="Messages/c5/ is odd.")
    code, out, err = shown(finished("exported", "exported", "exported", problems=(problem,)))
    assert (code, err) == (ExitCode.OK, "")
    assert "Package problem: Messages/c5/ is odd.\n" in out


def test_failed_dms_end_with_the_command_that_retries_them() -> None:
    _, _, err = shown(finished("transient", "transient", "transient", "exported", "exported"))
    assert err == (
        "Finished, but 1 DM failed for a reason that may pass (DCE, the disk, the network); "
        "`dmj resume --archive 'my archive'` retries it.\n"
    )


@pytest.mark.parametrize(
    ("run_exists", "says"),
    [
        (False, "No run had started, so nothing was journaled."),
        (True, "`dmj resume --archive 'my archive'` carries on where it stopped."),
    ],
)
def test_a_ctrl_c_before_the_driver_listens_says_whether_there_is_a_run_to_resume(
    run_exists: bool, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async def interrupted(request: None, steps: NextSteps) -> ExitCode:
        raise KeyboardInterrupt

    steps = NextSteps(Path("my archive"), ArchiveSource.OPTION, run_exists=run_exists)
    assert run_async(interrupted, None, steps) == ExitCode.INTERRUPTED
    assert capsys.readouterr().err == f"Interrupted: stopped by Ctrl-C. {says}\n"
