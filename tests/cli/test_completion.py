"""Shell completion (typer's): ``dmj --install-completion`` and a real bash completing dmj."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.support import DMJ


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_installed_bash_completion_completes_commands_and_options(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "PATH": f"{DMJ.parent}:{os.environ['PATH']}"}
    # typer installs for the shell dmj runs in (its parent); `; true` keeps bash from exec'ing
    installed = subprocess.run(
        ["bash", "--norc", "-c", "dmj --install-completion; true"], env=env,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    assert installed.stdout.startswith("bash completion installed in"), installed.stdout
    script = tmp_path / ".bash_completions" / "dmj.sh"
    assert f"source '{script}'" in (tmp_path / ".bashrc").read_text(encoding="utf-8")
    complete = (
        f"source {script}; "
        "COMP_WORDS=(dmj re); COMP_CWORD=1; _dmj_completion dmj; echo ${COMPREPLY[@]}; "
        "COMP_WORDS=(dmj run --pa); COMP_CWORD=2; _dmj_completion dmj; echo ${COMPREPLY[@]}"
    )
    done = subprocess.run(
        ["bash", "--norc", "-c", complete], env=env, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    commands, options = (line.split() for line in done.stdout.splitlines())
    assert {"replay", "resume"} <= set(commands)
    assert all(command.startswith("re") for command in commands)
    assert options == ["--package", "--pace"]
