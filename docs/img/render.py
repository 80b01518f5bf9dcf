"""Render the terminal screenshots in docs/img/ from real output, offline.

    .venv/bin/python docs/img/render.py

- ``demo.svg``: ``dmj demo`` as it prints (the story told on a recording console);
- ``run.svg``: ``dmj run`` on a small sandbox world, as it prints in a pipe or a log;
- ``menu.svg``: bare ``dmj`` on a pseudo-terminal: a run started from the menu, stopped with
  Ctrl-C, and resumed from the menu.

Nothing is edited by hand: each image is a rich ``Console(record=True)`` fed the real text.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pexpect
from dmj.cli.demo import demo_command
from dmj.sandbox import Emulator, FaultPlan, WorldSpec, create_sandbox, run_emulator
from rich.console import Console
from rich.text import Text

HERE = Path(__file__).parent
DMJ = Path(sys.executable).parent / "dmj"
WIDTH = 100
MENU = r"Choose \[[0-9/]+\] "


def recorder() -> Console:
    return Console(record=True, width=WIDTH, force_terminal=True, file=io.StringIO())


def render_demo(work: Path) -> None:
    console = recorder()
    demo_command(work / "demo", console)
    console.save_svg(str(HERE / "demo.svg"), title="make demo")


def render_run(work: Path) -> None:
    sandbox = create_sandbox(work / "sbx", WorldSpec.sized(12, seed=4, messages=12))
    with run_emulator(Emulator(sandbox.world)) as server:
        argv = [
            "run", "--package", str(sandbox.package), "--dce", str(sandbox.dce),
            "--archive", str(work / "archive"), "--pace", "fast", "--batch-size", "5",
        ]  # fmt: skip
        env = {**os.environ, "DMJ_API_BASE": server.base_url, "COLUMNS": str(WIDTH),
               "DISCORD_TOKEN": sandbox.world.token}  # fmt: skip
        done = subprocess.run(
            [str(DMJ), *argv], env=env, capture_output=True, text=True, check=True
        )
    console = recorder()
    console.print(Text("$ dmj " + " ".join(argv), style="bold"))
    console.print(Text(done.stdout + done.stderr))
    console.save_svg(str(HERE / "run.svg"), title="dmj run")


def render_menu(work: Path) -> None:
    spec = WorldSpec(users=3, groups=1, duplicates=0, empty=0, messages=3, seed=2)
    sandbox = create_sandbox(work / "menu-sbx", spec)
    emulator = Emulator(sandbox.world, faults=FaultPlan.parse("slow:messages=0.5"))
    with run_emulator(emulator) as server:
        env = {**os.environ, "TERM": "dumb", "NO_COLOR": "1", "COLUMNS": str(WIDTH),
               "DMJ_API_BASE": server.base_url, "DISCORD_TOKEN": sandbox.world.token,
               "DMJ_ARCHIVE": str(work / "menu-archive")}  # fmt: skip
        menu = pexpect.spawn(
            str(DMJ), env=env, encoding="utf-8", timeout=60, dimensions=(50, WIDTH)
        )
        transcript: list[str] = []
        menu.logfile_read = _Collect(transcript)
        menu.expect(MENU)
        menu.sendline("1")
        for answer in (sandbox.package, sandbox.dce, "", "2", "fast"):
            menu.expect(r"\]?: ")
            menu.sendline(str(answer))
        menu.expect("Batch 2/")
        menu.sendintr()
        menu.expect(MENU)
        server.set_faults("")
        menu.sendline("2")
        menu.sendline("")
        menu.expect("nothing to resume")
        menu.expect(MENU)
        menu.sendline("7")
        menu.expect(pexpect.EOF)
    console = recorder()
    console.print(Text("$ dmj\n" + "".join(transcript).replace("\r", "").strip("\n")))
    console.save_svg(str(HERE / "menu.svg"), title="dmj")


class _Collect:
    """A pexpect log file that keeps what the program printed."""

    def __init__(self, into: list[str]) -> None:
        self.into = into

    def write(self, text: str) -> None:
        self.into.append(text)

    def flush(self) -> None:
        pass


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="dmj-") as work:
        render_demo(Path(work))
        render_run(Path(work))
        render_menu(Path(work))
    print(f"wrote {', '.join(p.name for p in sorted(HERE.glob('*.svg')))} in {HERE}")


if __name__ == "__main__":
    main()
