"""The root command: version, help, and the console script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dmj.cli import app
from dmj.cli._app import dmj_version
from typer.testing import CliRunner

runner = CliRunner()


def test_version_prints_dmj_and_the_distribution_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"dmj {dmj_version()}\n"
    assert dmj_version().count(".") == 2


def test_help_describes_dmj_and_its_options() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "Usage: dmj [OPTIONS] COMMAND [ARGS]..." in result.output
    assert "archives every Discord DM you ever had" in result.output
    assert "--version" in result.output


def test_unknown_command_is_a_usage_error_with_exit_2() -> None:
    result = runner.invoke(app, ["frobnicate"])
    assert result.exit_code == 2
    assert "No such command 'frobnicate'" in result.output


def test_console_script_runs_as_a_real_process() -> None:
    dmj = Path(sys.executable).parent / "dmj"
    done = subprocess.run(
        [str(dmj), "--version"], capture_output=True, text=True, check=False, timeout=30
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, f"dmj {dmj_version()}\n", "")


def test_a_reader_that_leaves_early_is_not_reported_as_a_bug(tmp_path: Path) -> None:
    """`dmj sandbox world … | head -1`: the pipe closes before dmj writes; dmj stops quietly."""
    dmj = Path(sys.executable).parent / "dmj"
    argv = [str(dmj), "sandbox", "world", "--out", str(tmp_path / "w"), "--users", "3"]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as child:
        assert child.stdout is not None
        assert child.stderr is not None
        child.stdout.close()  # before dmj has even started up
        stderr = child.stderr.read().decode()
        code = child.wait(timeout=60)
    assert (code, stderr) == (1, "")
    assert (tmp_path / "w" / "world.json").is_file()
