"""Options shared by several commands, so each is spelled and explained once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["DEFAULT_ARCHIVE", "ArchiveOption", "DceOption"]

DEFAULT_ARCHIVE = Path("dmj-archive")

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
