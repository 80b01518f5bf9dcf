"""``dmj export [json|md|txt] [QUERY]...``: the selected messages as a file (or stdout).

Formats: docs/export-format.md; queries: docs/index.md. The work is
``dmj.projections.history.export_history``, imported when the command runs.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from dmj.machine.errors import UsageError

from ._app import app, dmj_version
from ._history import HISTORY_COMMAND, LocalTime, OrderChoice, OrderOption, notice
from ._options import DEFAULT_ARCHIVE, ArchiveOption

if TYPE_CHECKING:
    from datetime import datetime

__all__ = ["FORMATS", "default_filename", "export", "export_command"]

FORMATS = ("json", "md", "txt")
_BARE_WORD = re.compile(r"[A-Za-z]+")


FormatAndQuery = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="[json|md|txt] [QUERY]...",
        help="The format (json when left out; a first plain word is always taken as the "
        "format), then the query in Discord's search syntax (see `dmj show --help`).",
        show_default=False,
    ),
]
FilenameOption = Annotated[
    str | None,
    typer.Option(
        "--filename",
        help="Write here, exactly this name (no extension is added); - writes to stdout. "
        "Default: export_dm-<local YYYYMMDD-HHMMSS>.<format> in the current folder.",
        show_default=False,
    ),
]
ForceOption = Annotated[bool, typer.Option("--force", help="Overwrite the file if it exists.")]


@app.command(context_settings=HISTORY_COMMAND)
def export(
    ctx: typer.Context,
    words: FormatAndQuery = None,
    *,
    order: OrderOption = OrderChoice.TIME,
    filename: FilenameOption = None,
    force: ForceOption = False,
    archive: ArchiveOption = DEFAULT_ARCHIVE,
) -> None:
    """Export the messages a query selects as JSON, Markdown or text."""
    fmt, query_words = _format_and_query(words or [])
    given = [fmt] if words and words[0].lower() == fmt else []
    ordered = ["--order", order.value] if _given(ctx, "order") else []
    export_command(
        archive, fmt, " ".join(query_words), order=order, filename=filename, force=force,
        filter_input=" ".join(["export", *given, *query_words, *ordered]),
    )  # fmt: skip


def export_command(
    archive: Path,
    fmt: str,
    query_text: str,
    *,
    order: OrderChoice,
    filename: str | None,
    force: bool,
    filter_input: str,
) -> None:
    """What ``dmj export`` does once its arguments are read (the menu's option 5 calls it
    too): select, write the file (``filename`` None: the default name; ``-``: stdout), and
    say where and how many. ``filter_input`` is the command line after ``dmj``, for the meta."""
    from datetime import UTC, datetime  # noqa: PLC0415 (loaded when the command runs)

    from dmj.adapters import open_package  # noqa: PLC0415
    from dmj.projections.history import (  # noqa: PLC0415
        ExportRequest,
        export_history,
        parse_query,
    )

    from ._archive import command_storage  # noqa: PLC0415

    query = parse_query(query_text)
    zone = LocalTime()
    now = datetime.now(UTC)
    name = filename or default_filename(fmt, now)
    request = ExportRequest(
        query=query, order=order.value, format=fmt,  # type: ignore[arg-type]
        target=None if name == "-" else Path(name), overwrite=force,
        app=f"dmj {dmj_version()}", generated_at=now, filter_input=filter_input,
    )  # fmt: skip
    done = export_history(
        archive, request, zone=zone, notice=notice, stream=sys.stdout.buffer,
        packages=open_package, storage=command_storage(),
    )  # fmt: skip
    (notice if done.path is None else typer.echo)(_summary(done.count, done.gaps, done.path))


def default_filename(fmt: str, now: datetime) -> str:
    """``export_dm-<local YYYYMMDD-HHMMSS>.<fmt>``: the file ``dmj export`` writes by default."""
    from dmj.projections.history import default_export_name  # noqa: PLC0415 (start-up)

    return default_export_name(fmt, now, LocalTime())


def _summary(count: int, gaps: int, path: str | None) -> str:
    """``Exported 7 messages and 3 conversations without messages to out.json.``"""
    text = f"Exported {count:,} message{'s' if count != 1 else ''}"
    if gaps:
        text += f" and {gaps} conversation{'s' if gaps != 1 else ''} without messages"
    return f"{text} to {path or 'stdout'}."


def _format_and_query(words: list[str]) -> tuple[str, list[str]]:
    """The format (the first word when it is a plain word) and the query's words."""
    if not words or not _BARE_WORD.fullmatch(words[0]):
        return "json", words
    first = words[0].lower()
    if first not in FORMATS:
        raise UsageError(
            f"{words[0]!r} is not an export format: use json, md or txt. A first plain word "
            f"is always the format; to search for it, name the format first: "
            f"`dmj export json {words[0]}`."
        )
    return first, words[1:]


def _given(ctx: typer.Context, name: str) -> bool:
    """Whether the option ``name`` came from the command line (not its default)."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name == "COMMANDLINE"
