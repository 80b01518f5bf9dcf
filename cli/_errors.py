"""How dmj's errors reach the user: one exit-code table and one renderer.

The table is the contract of ``docs/exit-codes.md``; ``tests/cli/test_errors.py`` checks that
the two agree. Nothing outside ``dmj.cli`` picks an exit code or calls ``sys.exit``.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from enum import IntEnum
from typing import TYPE_CHECKING

from dmj.machine.errors import DmjError, Paused, UsageError

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["ExitCode", "exit_code_for", "render_bug", "render_error", "stderr_console"]


class ExitCode(IntEnum):
    """dmj's exit codes (docs/exit-codes.md)."""

    OK = 0
    FAILURE = 1
    USAGE = 2
    PAUSED = 3
    MISSING = 3
    """``dmj status``: something is not fully archived (3 means paused for run and resume)."""
    FAILED_DMS = 4
    """The run finished, but some DMs failed for a passing reason; ``dmj resume`` retries."""
    INTERRUPTED = 130


_EXIT_CODES: tuple[tuple[type[DmjError], ExitCode], ...] = (
    (UsageError, ExitCode.USAGE),
    (Paused, ExitCode.PAUSED),
    (DmjError, ExitCode.FAILURE),
)
"""Most specific first: the first class the error is an instance of decides."""


def exit_code_for(error: DmjError) -> ExitCode:
    """The exit code for ``error``, by the most specific class in the table."""
    return next(code for cls, code in _EXIT_CODES if isinstance(error, cls))


def stderr_console() -> Console:
    """A console on stderr that never wraps a message in the middle of a path."""
    from rich.console import Console  # noqa: PLC0415 (rich loads only when there is output)

    return Console(stderr=True, highlight=False, soft_wrap=True)


def render_error(error: DmjError, *, fill: Callable[[str], str] | None = None) -> None:
    """Print ``error`` as dmj's one-paragraph message on stderr; ``fill`` names the archive
    in the commands it advises (``NextSteps.fill``)."""
    from rich.markup import escape  # noqa: PLC0415

    label = "Paused" if isinstance(error, Paused) else "Error"
    message = fill(str(error)) if fill is not None else str(error)
    stderr_console().print(f"[bold red]{label}:[/] {escape(message)}")


def render_bug(error: BaseException) -> None:
    """Say that an unexpected exception is a bug; the traceback only with ``DMJ_DEBUG=1``."""
    from rich.markup import escape  # noqa: PLC0415

    console = stderr_console()
    console.print(
        f"[bold red]Error:[/] this is a bug in dmj: {escape(type(error).__name__)}: "
        f"{escape(str(error))}"
    )
    if os.environ.get("DMJ_DEBUG") == "1":
        console.print(escape("".join(traceback.format_exception(error))))
    else:
        console.print(
            "Run again with DMJ_DEBUG=1 to see the traceback, and please report it. "
            "The journal is untouched by this message; `dmj replay --inspect` shows where "
            "things stand."
        )
