"""A parent for the death-signal tests: runs ``run_watched`` on asyncio, as dmj does.

Usage: parent.py PIDFILE COMMAND... It starts COMMAND through ``run_watched`` (the child is
expected to write its pid to PIDFILE) and waits for it; the test kills this parent.
"""

import sys

import anyio
from dmj.adapters._dce_process import run_watched


async def main(argv: list[str]) -> None:
    await run_watched(argv, env={}, token="", stall_timeout=600, kill_grace=1)


anyio.run(main, sys.argv[1:], backend="asyncio")
