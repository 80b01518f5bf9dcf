"""``dmj replay``: rebuild the projections from the journal, or audit it (``--inspect``)."""

from __future__ import annotations

from typing import Annotated

import typer

from ._app import app
from ._errors import ExitCode
from ._hints import META_KEY, NextSteps
from ._options import DEFAULT_ARCHIVE, ArchiveOption, archive_source

__all__ = ["replay"]


@app.command()
def replay(
    ctx: typer.Context,
    archive: ArchiveOption = DEFAULT_ARCHIVE,
    inspect: Annotated[
        bool,
        typer.Option(
            "--inspect",
            help="Audit the journal read-only (works while another dmj runs): integrity, "
            "runs, batches, the next step, the projections' freshness.",
        ),
    ] = False,
    json: Annotated[
        bool, typer.Option("--json", help="With --inspect: print the report as JSON.")
    ] = False,
) -> None:
    """Rebuild batch-state.json and id-history.json from the journal, or audit it."""
    if json and not inspect:
        raise typer.BadParameter(
            "--json goes with --inspect: run `dmj replay --inspect --json`.", param_hint="--json"
        )
    steps = NextSteps(archive, archive_source(ctx), run_exists=True)
    ctx.meta[META_KEY] = steps
    import msgspec  # noqa: PLC0415 (loaded when the command runs: keeps dmj quick to start)
    from dmj.projections import inspect_archive, rebuild_projections  # noqa: PLC0415
    from rich.console import Console  # noqa: PLC0415

    from ._replay_view import render_inspection, render_rebuild  # noqa: PLC0415

    console = Console(highlight=False, soft_wrap=True)
    if not inspect:
        render_rebuild(console, rebuild_projections(archive))
        return
    report = inspect_archive(archive)
    if json:
        typer.echo(msgspec.json.format(msgspec.json.encode(report), indent=2).decode())
    else:
        render_inspection(console, report, fill=steps.fill)
    if not report.healthy:
        raise typer.Exit(ExitCode.FAILURE)
