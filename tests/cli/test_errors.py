"""dmj's errors become one rendered sentence and the exit code of their class."""

from __future__ import annotations

import re

import pytest
import typer
from dmj.cli._app import _DmjGroup
from dmj.cli._errors import ExitCode, exit_code_for
from dmj.machine.errors import (
    DmjError,
    ExporterError,
    JournalCorrupt,
    JournalLocked,
    PackageError,
    Paused,
    UsageError,
)
from typer.testing import CliRunner

from tests.support import REPO_ROOT

runner = CliRunner()


def app_raising(error: BaseException) -> typer.Typer:
    app = typer.Typer(cls=_DmjGroup)

    @app.command()
    def boom() -> None:
        raise error

    @app.command()
    def other() -> None:  # a second command keeps typer from collapsing to one
        pass

    return app


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (UsageError("--batch-size must be at least 1."), ExitCode.USAGE),
        (PackageError("package.zip is not a Discord data package."), ExitCode.USAGE),
        (Paused("Discord asked for a captcha."), ExitCode.PAUSED),
        (JournalCorrupt("journal.jsonl line 3 is corrupt."), ExitCode.FAILURE),
        (JournalLocked("another dmj (pid 42) is running.", pid=42), ExitCode.FAILURE),
        (ExporterError("DCE crashed."), ExitCode.FAILURE),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, DmjError) else str(int(v)),
)
def test_each_error_class_maps_to_its_exit_code(error: DmjError, code: ExitCode) -> None:
    assert exit_code_for(error) == code


def test_a_dmj_error_is_rendered_as_one_sentence_on_stderr() -> None:
    result = runner.invoke(app_raising(UsageError("--batch-size must be at least 1.")), ["boom"])
    assert result.exit_code == 2
    assert result.stderr == "Error: --batch-size must be at least 1.\n"
    assert result.stdout == ""


def test_a_pause_is_labelled_as_such_and_exits_3() -> None:
    result = runner.invoke(app_raising(Paused("Solve the captcha, then `dmj resume`.")), ["boom"])
    assert (result.exit_code, result.stderr) == (
        3,
        "Paused: Solve the captcha, then `dmj resume`.\n",
    )


def test_an_unexpected_exception_says_bug_and_hides_the_traceback() -> None:
    result = runner.invoke(app_raising(KeyError("x")), ["boom"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: this is a bug in dmj: KeyError: 'x'\n")
    assert "Traceback" not in result.stderr
    assert "DMJ_DEBUG=1" in result.stderr


def test_dmj_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DMJ_DEBUG", "1")
    result = runner.invoke(app_raising(KeyError("x")), ["boom"])
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr


def test_the_documented_exit_codes_are_the_ones_in_the_code() -> None:
    doc = (REPO_ROOT / "docs" / "exit-codes.md").read_text(encoding="utf-8")
    documented = {int(code) for code in re.findall(r"^\| (\d+) \|", doc, flags=re.MULTILINE)}
    assert documented == {int(code) for code in ExitCode}


def test_the_readme_troubleshooting_table_lists_exactly_the_exit_codes() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    troubleshooting = readme.split("## Troubleshooting", 1)[1].split("\n## ", 1)[0]
    listed = [int(code) for code in re.findall(r"^\| (\d+) \|", troubleshooting, re.MULTILINE)]
    assert listed == sorted({int(code) for code in ExitCode})
