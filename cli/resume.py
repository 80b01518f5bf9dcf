"""``dmj resume``: carry on with an interrupted or paused run (docs/run.md).

The work lives in ``_resume_run`` and is imported only when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._app import app
from ._hints import META_KEY, NextSteps
from ._options import (
    DEFAULT_ARCHIVE,
    DEFAULT_STALL_TIMEOUT,
    ArchiveOption,
    StallTimeoutOption,
    archive_source,
)

__all__ = ["resume"]


@app.command()
def resume(
    ctx: typer.Context,
    *,
    archive: ArchiveOption = DEFAULT_ARCHIVE,
    dce: Annotated[
        Path | None,
        typer.Option(
            "--dce",
            help="DiscordChatExporter.Cli, or its folder (default: the one the run began with).",
            show_default=False,
        ),
    ] = None,
    stall_timeout: StallTimeoutOption = DEFAULT_STALL_TIMEOUT,
) -> None:
    """Carry on with the archive's interrupted or paused run, exactly where it stopped.

    A run that finished with failed DMs gets a new run that retries them. The token comes
    from DISCORD_TOKEN or a hidden prompt and must be the run's account.
    """
    from ._resume_run import ResumeRequest, resume_command  # noqa: PLC0415 (quick --help)

    steps = NextSteps(archive, archive_source(ctx), run_exists=True)
    ctx.meta[META_KEY] = steps
    request = ResumeRequest(archive=archive, dce=dce, stall_timeout=stall_timeout)
    raise typer.Exit(resume_command(request, steps))
