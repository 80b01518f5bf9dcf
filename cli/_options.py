"""Options shared by several commands, so each is spelled and explained once."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from ._hints import ArchiveSource

__all__ = [
    "DEFAULT_ARCHIVE",
    "DEFAULT_STALL_TIMEOUT",
    "ArchiveOption",
    "DceOption",
    "StallTimeoutOption",
    "archive_source",
]

DEFAULT_ARCHIVE = Path("dmj-archive")
DEFAULT_STALL_TIMEOUT = 300.0
"""DCE prints progress while it works; five silent minutes mean it hangs."""

ArchiveOption = Annotated[
    Path,
    typer.Option(
        "--archive",
        envvar="DMJ_ARCHIVE",
        help="The archive directory: journal, projections and exports live here.",
        show_default=True,
    ),
]

DceOption = Annotated[
    Path | None,
    typer.Option(
        "--dce",
        help="DiscordChatExporter.Cli: the program, or the folder holding it (default: look it "
        "up on PATH).",
        show_default=False,
    ),
]

StallTimeoutOption = Annotated[
    float,
    typer.Option(
        "--stall-timeout",
        envvar="DMJ_DCE_STALL_TIMEOUT",
        min=1,
        metavar="<seconds>",
        help="Seconds DiscordChatExporter may print nothing before dmj stops it and tries "
        "again (its --version check waits at most 60).",
    ),
]


def archive_source(ctx: typer.Context) -> ArchiveSource:
    """How the command got its ``--archive``: typed, from ``DMJ_ARCHIVE``, or the default."""
    from ._hints import ArchiveSource  # noqa: PLC0415 (loaded when a command runs)

    source = ctx.get_parameter_source("archive")  # click's ParameterSource, by name
    match source.name if source is not None else None:
        case "COMMANDLINE":
            return ArchiveSource.OPTION
        case "ENVIRONMENT":
            return ArchiveSource.ENVIRONMENT
        case _:
            return ArchiveSource.DEFAULT
