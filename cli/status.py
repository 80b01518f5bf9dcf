"""``dmj status``: every conversation of the archive, where it stands, and what is missing.

The work is ``dmj.projections.history.check_archive`` (the index's conversations, and the data
package as a witness: every message you sent, looked up by id); this module parses, renders
(``_status_view``) and picks the exit code: 0, or 3 when something is missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._app import app
from ._errors import ExitCode
from ._hints import META_KEY, NextSteps
from ._options import DEFAULT_ARCHIVE, ArchiveOption, archive_source

__all__ = ["status", "status_command"]


@app.command()
def status(
    ctx: typer.Context,
    *,
    package: Annotated[
        Path | None,
        typer.Option(
            "--package",
            help="Compare with this data package (a newer one shows what no run has archived "
            "yet). Default: the package the last run read.",
            show_default=False,
        ),
    ] = None,
    missing: Annotated[
        bool,
        typer.Option(
            "--missing", help="Only what is not fully archived, each with what to do about it."
        ),
    ] = False,
    json: Annotated[
        bool, typer.Option("--json", help="Print the report as one JSON document (docs/status.md).")
    ] = False,
    archive: ArchiveOption = DEFAULT_ARCHIVE,
) -> None:
    """Every conversation and where it stands; exit 3 when something is missing."""
    steps = NextSteps(archive, archive_source(ctx), run_exists=True)
    ctx.meta[META_KEY] = steps
    raise typer.Exit(
        status_command(archive, package=package, missing=missing, json=json, steps=steps)
    )


def status_command(
    archive: Path, *, package: Path | None, missing: bool, json: bool, steps: NextSteps
) -> ExitCode:
    """Check ``archive`` (against ``package``, else the last run's), print the report (only
    what is missing with ``missing``), and return 0, or 3 when something is missing. The
    menu's "What is missing" calls it too."""
    import msgspec  # noqa: PLC0415 (loaded when the command runs: keeps dmj quick to start)
    from dmj.adapters import open_package  # noqa: PLC0415
    from dmj.projections.history import check_archive  # noqa: PLC0415
    from rich.console import Console  # noqa: PLC0415

    from ._archive import command_storage  # noqa: PLC0415
    from ._history import LocalTime, notice  # noqa: PLC0415
    from ._status_view import only_missing, render_status  # noqa: PLC0415

    report = check_archive(
        archive, package=package, notice=notice, packages=open_package, storage=command_storage()
    )
    if json:
        shown = only_missing(report) if missing else report
        typer.echo(msgspec.json.format(msgspec.json.encode(shown), indent=2).decode())
    else:
        console = Console(highlight=False, soft_wrap=True)
        render_status(console, report, missing=missing, fill=steps.fill, zone=LocalTime())
    return ExitCode.MISSING if report.something_missing else ExitCode.OK
