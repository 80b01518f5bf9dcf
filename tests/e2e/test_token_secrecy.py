"""The token never reaches a file under the archive, nor any child's command line."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from dmj.sandbox import Sandbox

from tests.e2e.support import serving

pytestmark = pytest.mark.slow


def spy_dce(folder: Path, dce: Path, log: Path) -> Path:
    """A DCE that notes its own command line (from /proc) before it becomes the stand-in."""
    folder.mkdir()
    spy = folder / "DiscordChatExporter.Cli"
    spy.write_text(
        "#!/bin/sh\n"
        f"tr '\\0' ' ' < /proc/$$/cmdline >> {shlex.quote(str(log))}\n"
        f"echo >> {shlex.quote(str(log))}\n"
        f'exec {shlex.quote(str(dce))} "$@"\n',
        encoding="utf-8",
    )
    spy.chmod(0o755)
    return spy


def test_after_a_run_with_faults_the_token_is_in_no_file_and_no_child_argv(
    small_world: Sandbox, tmp_path: Path
) -> None:
    token = small_world.world.token
    argv_log = tmp_path / "argv.log"
    spy = spy_dce(tmp_path / "spy", small_world.dce, argv_log)
    faults = "5xx:dmj@2x2,dce-crash=*x1,revoked@20"
    with serving(small_world, tmp_path / "archive", faults=faults, dce=spy) as served:
        paused = served.run()
        assert paused.returncode == 3, paused.stderr
        served.server.set_faults("")
        resumed = served.resume()
        assert resumed.returncode == 0, resumed.stderr
    for output in (paused.stdout, paused.stderr, resumed.stdout, resumed.stderr):
        assert token not in output
    files = [p for p in (tmp_path / "archive").rglob("*") if p.is_file()]
    assert any(p.suffix == ".log" for p in files)
    assert [p for p in files if token.encode() in p.read_bytes()] == []
    argv = argv_log.read_text(encoding="utf-8").splitlines()
    assert any(" export -c " in line for line in argv), "the spy saw DCE's exports"
    assert any(" --version" in line for line in argv)
    assert [line for line in argv if token in line] == []
