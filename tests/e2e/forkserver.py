"""A fork server for the real ``dmj``: one process imports dmj once and forks a child per
command, so a test that runs dmj hundreds of times pays for the imports once.

Each child is the console script in all but how it started: its own argv, environment and
working directory, stdin from ``/dev/null``, stdout and stderr captured, and its end reported
as ``subprocess`` reports one (a negative number for the signal that killed it). The server
itself is single-threaded, so forking it is safe; run it as ``python -m tests.e2e.forkserver``.
A child can also record its storage operations (``run(..., record=PATH)``): in a process of
its own, away from any event loop the test process may have running.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import pytest

from tests.storage_log import RecordingStorage

__all__ = ["ForkServer"]


class ForkServer:
    """The client: starts the server, runs commands through it, stops it."""

    def __init__(self, scratch: Path) -> None:
        self._scratch = scratch
        self._runs = 0
        self._server = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.forkserver"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).parents[2],
        )

    def run(
        self, argv: list[str], env: dict[str, str], *, record: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``dmj ARGV`` in a forked child with ``env``; waits for its end. ``record``: write
        the names of the child's storage operations there, one per line, as it exits
        (``tests.storage_log.RecordingStorage``)."""
        assert self._server.stdin is not None
        assert self._server.stdout is not None
        self._runs += 1
        out, err = self._scratch / f"{self._runs}.out", self._scratch / f"{self._runs}.err"
        request = {
            "argv": argv, "env": env, "stdout": str(out), "stderr": str(err),
            "record": str(record) if record is not None else None,
        }  # fmt: skip
        self._server.stdin.write(json.dumps(request) + "\n")
        self._server.stdin.flush()
        answer = self._server.stdout.readline()
        if not answer:
            raise AssertionError(f"the fork server died (exit {self._server.wait()})")
        code = json.loads(answer)
        return subprocess.CompletedProcess(
            ["dmj", *argv], code, out.read_text("utf-8"), err.read_text("utf-8")
        )

    def close(self) -> None:
        """Stop the server (it ends when its stdin closes) and close the pipes."""
        if self._server.stdin is not None:
            self._server.stdin.close()
        self._server.wait(timeout=30)
        if self._server.stdout is not None:
            self._server.stdout.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def serve() -> None:
    """The server: import dmj, then one forked child per request line on stdin."""
    from dmj.cli import (  # noqa: PLC0415 (the point: imported once, before any fork)
        _new_run,  # noqa: F401
        _resume_run,  # noqa: F401
        _session,  # noqa: F401
        main,
    )

    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request, main)
        _, status = os.waitpid(pid, 0)
        print(json.dumps(os.waitstatus_to_exitcode(status)), flush=True)


def _child(request: dict[str, Any], main: Callable[[], None]) -> None:
    """Become ``dmj ARGV`` and never return."""
    code = 1
    recorder = _recording() if request["record"] else None
    try:
        _redirect(0, os.devnull, os.O_RDONLY)
        _redirect(1, str(request["stdout"]), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        _redirect(2, str(request["stderr"]), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.environ.clear()
        os.environ.update(request["env"])
        time.tzset()
        sys.argv = ["dmj", *request["argv"]]
        main()
        code = 0
    except SystemExit as end:
        code = end.code if isinstance(end.code, int) else (0 if end.code is None else 1)
    except BaseException:  # reported like an uncaught exception, then exit 1
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        if recorder is not None:
            Path(request["record"]).write_text("".join(f"{op.name}\n" for op in recorder.ops))
        os._exit(code)


def _recording() -> RecordingStorage:
    """Make every storage the command builds this recorder (in this child only)."""
    from dmj.cli import _archive  # noqa: PLC0415

    recorder = RecordingStorage()
    pytest.MonkeyPatch().setattr(_archive, "OsStorage", lambda: recorder)  # never undone
    return recorder


def _redirect(fd: int, path: str, flags: int) -> None:
    target = os.open(path, flags, 0o600)
    os.dup2(target, fd)
    os.close(target)


if __name__ == "__main__":
    serve()
