"""Started by dmj in DCE's place on Linux: tie the child's life to dmj's, then become DCE.

``python -I -S _lifeline.py DMJ_PID PROGRAM ARGS...`` asks the kernel to SIGKILL this process
when the thread that started it ends (``PR_SET_PDEATHSIG``, which ``execve`` keeps), checks
that dmj did not die before that took effect, then ``execvp``s PROGRAM: DCE keeps this pid,
its process group, its environment and the death signal. So a ``kill -9`` of dmj takes its DCE
with it instead of leaving it exporting under pid 1.

The standard library only, and nothing of the user's (``-I -S``): it runs before anything of
dmj could be imported. If PROGRAM cannot be started, one line ``EXEC_FAILED_MARK`` + errno +
text goes to stderr and the exit code is ``EXEC_FAILED``, which ``_dce_process`` turns back
into the ``OSError`` a direct start would have raised.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1
EXEC_FAILED = 127
EXEC_FAILED_MARK = "dmj-lifeline: cannot start: "


def main(argv: list[str]) -> None:
    parent, program = int(argv[1]), argv[2:]
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # dmj died before the death signal was armed
        os._exit(EXEC_FAILED)
    try:
        os.execvp(program[0], program)  # noqa: S606 (becoming DCE is the point)
    except OSError as exc:
        sys.stderr.write(f"{EXEC_FAILED_MARK}{exc.errno} {exc.strerror}\n")
        sys.stderr.flush()
        os._exit(EXEC_FAILED)


if __name__ == "__main__":
    main(sys.argv)
