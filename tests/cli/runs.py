"""Helpers for the ``dmj run`` / ``dmj resume`` CLI tests: a small served world, in-process
invocation through typer's runner, and a real terminal (pty) for the prompts."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import termios
import time

from dmj.cli import app
from typer.testing import CliRunner, Result

from tests.e2e.support import DMJ, Served

__all__ = ["in_terminal", "invoke", "normalized"]

runner = CliRunner()


def invoke(served: Served | None, *args: str, **env: str | None) -> Result:
    """``dmj ARGS`` in-process, with the served world's environment (stdin: no terminal)."""
    base: dict[str, str | None] = dict(served.env()) if served is not None else {}
    return runner.invoke(app, list(args), env={**base, **env})


def normalized(text: str, served: Served) -> str:
    """``text`` with this test's paths, run ids, times and ETAs made stable."""
    text = text.replace(str(served.archive.path), "ARCHIVE")
    text = re.sub(r"\d{8}-\d{6}-[0-9a-f]{4}", "RUN", text)
    text = re.sub(r"\d{8}T\d{6}Z-(run|resume)-\d+\.log", r"LOG-\1.log", text)
    text = re.sub(r", (about \d+:\d\d:\d\d|less than a minute) to go", "", text)
    text = re.sub(r"finished at \S+ \S+Z", "finished at TIME", text)
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def in_terminal(args: list[str], env: dict[str, str], answers: dict[str, str]) -> tuple[int, str]:
    """Run ``dmj ARGS`` on a pseudo-terminal, typing ``answers[prompt]`` when ``prompt`` shows
    (each once); the exit code and everything the terminal showed.

    A hidden prompt turns the terminal's echo off and discards what was typed before that, so
    an answer is typed only once the terminal is ready for it.
    """
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [str(DMJ), *args], stdin=follower, stdout=follower, stderr=follower, env=env
    )
    os.close(follower)
    shown, pending = b"", dict(answers)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the program ended and closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        for prompt in [p for p in pending if p.encode() in shown]:
            if "hidden" in prompt and termios.tcgetattr(leader)[3] & termios.ECHO:
                continue  # not reading yet
            os.write(leader, pending.pop(prompt).encode() + b"\n")
        if process.poll() is not None and not ready:
            break
    os.close(leader)
    code = process.wait(timeout=30)
    return code, shown.decode(errors="replace").replace("\r\n", "\n")
